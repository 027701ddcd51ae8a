/**
 * The payload codec on its own: what the worker and the client run around every payload.
 */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { sharedConfig } from '../../platform/config';
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  KEY_ID_METADATA,
  newPayloadCodecKey,
  parsePayloadCodecKeys,
  PayloadDecryptionError,
  temporalDataConverter,
} from '../../platform/payload-codec';

const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const address = { name: 'Zelda Quixotebury', line1: '742 Evergreen Terrace', city: 'Springfield', postalCode: '49007', country: 'US' };
const input = { orderId: 'o-1', shippingAddress: address, paymentMethod: { token: 'tok_visa_4242_secret' }, email: 'zelda@example.com' };
const plain = (): Payload => defaultPayloadConverter.toPayload(input);
const codecOf = (keys: string) => new EncryptionCodec(parsePayloadCodecKeys(keys));

describe('EncryptionCodec', () => {
  it('round trip: the encrypted payload names encoding and key id and holds none of the personal data', async () => {
    const codec = codecOf(newPayloadCodecKey('k1'));
    const [encrypted] = await codec.encode([plain()]);
    expect(text(encrypted.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted.metadata![KEY_ID_METADATA])).toBe('k1');
    const bytes = text(encrypted.data) + JSON.stringify(encrypted.metadata);
    for (const secret of ['Zelda', 'Evergreen', '49007', 'tok_visa', 'zelda@example.com', 'json/plain']) expect(bytes).not.toContain(secret);

    const [decoded] = await codec.decode([encrypted]);
    expect(text(decoded.metadata!.encoding)).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(input);
    // a fresh nonce per payload: the same value never gives the same bytes
    const [again] = await codec.encode([plain()]);
    expect(text(again.data)).not.toBe(text(encrypted.data));
  });

  it('passes payloads it did not encrypt through untouched (histories written in clear still replay)', async () => {
    const codec = codecOf(newPayloadCodecKey('k1'));
    const p = plain();
    expect(await codec.decode([p])).toEqual([p]);
  });

  it('tampering is detected: a flipped ciphertext bit or a swapped key id fails GCM authentication', async () => {
    const k1 = newPayloadCodecKey('k1');
    const k2 = newPayloadCodecKey('k2');
    const codec = codecOf(`${k1},${k2}`);
    const [encrypted] = await codec.encode([plain()]);
    const data = Buffer.from(encrypted.data!);
    data[20] ^= 1;
    await expect(codec.decode([{ ...encrypted, data }])).rejects.toThrow(/key id "k1" failed authentication/);
    const relabelled = { ...encrypted, metadata: { ...encrypted.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/key id "k2" failed authentication/);
    await expect(codec.decode([{ ...encrypted, data: Buffer.alloc(10) }])).rejects.toThrow(PayloadDecryptionError);
  });

  it('an unknown key id fails loudly, naming it', async () => {
    const [encrypted] = await codecOf(newPayloadCodecKey('retired-2025')).encode([plain()]);
    await expect(codecOf(newPayloadCodecKey('k2026')).decode([encrypted])).rejects.toThrow(
      'payload encrypted with key id "retired-2025", which PAYLOAD_CODEC_KEYS does not hold (it holds "k2026")',
    );
  });

  it('rotation: the new first key encrypts, the old key still decrypts what it encrypted', async () => {
    const old = newPayloadCodecKey('old');
    const [before] = await codecOf(old).encode([plain()]);
    const rotated = codecOf(`${newPayloadCodecKey('new')},${old}`);
    expect(rotated.keyId).toBe('new');
    const [after] = await rotated.encode([plain()]);
    expect(text(after.metadata![KEY_ID_METADATA])).toBe('new');
    const decoded = await rotated.decode([before, after]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([input, input]);
  });
});

describe('PAYLOAD_CODEC_KEYS', () => {
  const b64 = randomBytes(32).toString('base64');
  it('parses comma-separated <keyId>:<base64 of 32 bytes>, first one first', () => {
    const keys = parsePayloadCodecKeys(` k2:${b64} , k1:${randomBytes(32).toString('base64')}`);
    expect(keys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(keys[0].key).toEqual(Buffer.from(b64, 'base64'));
  });

  it.each([
    ['', /is empty/],
    [b64, /entry 1: expected <keyId>:<base64/],
    [`bad id:${b64}`, /entry 1: the key id must be/],
    [`k1:${randomBytes(16).toString('base64')}`, /entry 1 \(key id "k1"\): the key must be standard base64 of exactly 32 bytes/],
    [`k1:${b64.slice(0, -2)}!!`, /exactly 32 bytes/],
    [`k1:${b64},k1:${randomBytes(32).toString('base64')}`, /entry 2: key id "k1" appears twice/],
    [`k1:${b64},`, /entry 2: expected/],
  ])('refuses %j', (value, message) => {
    expect(() => parsePayloadCodecKeys(value)).toThrow(message);
    // the configuration refuses it too, and never repeats key material
    const parsed = sharedConfig.safeParse({ PAYLOAD_CODEC_KEYS: value });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error!.issues)).not.toContain(b64);
  });

  it('unset: no codec, payloads stay as the default converter makes them', () => {
    expect(sharedConfig.parse({}).PAYLOAD_CODEC_KEYS).toBeUndefined();
    expect(temporalDataConverter({}).payloadCodecs).toBeUndefined();
    expect(temporalDataConverter({ PAYLOAD_CODEC_KEYS: newPayloadCodecKey('k1') }).payloadCodecs).toHaveLength(1);
  });
});
