/**
 * Encryption of every Temporal payload (workflow and activity inputs and results, signals,
 * updates, queries, memos, failure details) with AES-256-GCM before it leaves the process: the
 * history Temporal stores and shows holds ciphertext, not names, addresses or payment tokens.
 * Operators read it through the codec endpoint (api/codec-server.ts), which holds the keys.
 *
 * Wire format of an encrypted payload:
 *   metadata.encoding          = "binary/encrypted"
 *   metadata.encryption-key-id = the id of the key that encrypted it
 *   data = 12-byte nonce | AES-256-GCM(serialized original Payload, metadata included) | 16-byte tag
 * The key id is the GCM additional data, so moving a payload under another id fails authentication.
 *
 * Payloads without that encoding pass through untouched: histories written before encryption (and
 * the committed test histories) still replay.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
// a CommonJS module: under plain Node its namespace comes as the default export
import proto from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
/** the configuration variable the keys come from, named in every error */
export const KEYS_VARIABLE = 'PAYLOAD_CODEC_KEYS';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** a key id goes into every payload's metadata and into error messages: short and plain */
const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const ProtoPayload = proto.temporal.api.common.v1.Payload;

export interface CodecKey {
  id: string;
  key: Buffer;
}

export class PayloadCodecKeysError extends Error {}

/**
 * Parses PAYLOAD_CODEC_KEYS: comma-separated `<keyId>:<base64 of 32 random bytes>`. The first
 * key encrypts, every key decrypts: rotate by putting a new key first and keeping the old ones
 * until no history encrypted with them is still needed. Errors name the entry, never its key.
 */
export function parsePayloadCodecKeys(text: string): CodecKey[] {
  const entries = text.split(',').map((e) => e.trim());
  if (entries.length === 1 && entries[0] === '') throw new PayloadCodecKeysError(`${KEYS_VARIABLE} is empty: give at least one <keyId>:<base64 of 32 bytes>`);
  const keys: CodecKey[] = [];
  for (const [i, entry] of entries.entries()) {
    const where = `${KEYS_VARIABLE} entry ${i + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0) throw new PayloadCodecKeysError(`${where}: expected <keyId>:<base64 of 32 bytes>`);
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!KEY_ID.test(id)) throw new PayloadCodecKeysError(`${where}: the key id must be 1-64 of A-Z a-z 0-9 _ . -`);
    const key = Buffer.from(encoded, 'base64');
    // Buffer.from skips what is not base64: re-encoding tells a clean value from a mangled one
    if (key.length !== KEY_BYTES || key.toString('base64') !== encoded) {
      throw new PayloadCodecKeysError(`${where} (key id "${id}"): the key must be standard base64 of exactly ${KEY_BYTES} bytes (e.g. openssl rand -base64 32)`);
    }
    if (keys.some((k) => k.id === id)) throw new PayloadCodecKeysError(`${where}: key id "${id}" appears twice`);
    keys.push({ id, key });
  }
  return keys;
}

/** A fresh `<keyId>:<base64>` entry, for whoever generates PAYLOAD_CODEC_KEYS. */
export const newPayloadCodecKey = (id: string): string => {
  if (!KEY_ID.test(id)) throw new PayloadCodecKeysError('the key id must be 1-64 of A-Z a-z 0-9 _ . -');
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
};

const metadataText = (p: Payload, key: string): string | undefined => {
  const value = p.metadata?.[key];
  return value ? fromUtf8.decode(value) : undefined;
};

/** Decryption failed: unknown key id, a damaged or tampered payload. */
export class PayloadDecryptionError extends Error {}

/**
 * AES-256-GCM PayloadCodec. A random 96-bit nonce per payload: safe for far more payloads than
 * one key should ever see (about 2^32), and rotation starts a new key long before that.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly current: CodecKey;

  constructor(keys: readonly CodecKey[]) {
    if (keys.length === 0) throw new PayloadCodecKeysError(`${KEYS_VARIABLE}: at least one key is needed`);
    this.current = keys[0]!;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** the id new payloads are encrypted under */
  get keyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (metadataText(payload, METADATA_ENCODING_KEY) === ENCRYPTED_ENCODING ? this.decrypt(payload) : payload));
  }

  private encrypt(payload: Payload): Payload {
    const { id, key } = this.current;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, nonce);
    cipher.setAAD(utf8.encode(id));
    const plain = ProtoPayload.encode(payload).finish();
    const data = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { [METADATA_ENCODING_KEY]: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(id) },
      data,
    };
  }

  private decrypt(payload: Payload): Payload {
    const id = metadataText(payload, KEY_ID_METADATA);
    if (id === undefined) throw new PayloadDecryptionError(`encrypted payload without ${KEY_ID_METADATA} metadata`);
    const key = this.byId.get(id);
    if (!key) {
      throw new PayloadDecryptionError(`payload encrypted with key id "${id}", which ${KEYS_VARIABLE} does not hold (it holds ${[...this.byId.keys()].map((k) => `"${k}"`).join(', ')})`);
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < NONCE_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`payload encrypted with key id "${id}" is truncated`);
    const decipher = createDecipheriv(ALGORITHM, key, data.subarray(0, NONCE_BYTES));
    decipher.setAAD(utf8.encode(id));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(`payload encrypted with key id "${id}" failed authentication: it was altered, or another key carries that id`);
    }
    const inner = ProtoPayload.decode(plain);
    return { metadata: inner.metadata, data: inner.data };
  }
}

/** The codec for PAYLOAD_CODEC_KEYS, or none when it is unset (payloads then travel in clear). */
export const payloadCodecFrom = (config: { PAYLOAD_CODEC_KEYS?: string }): EncryptionCodec | undefined =>
  config.PAYLOAD_CODEC_KEYS ? new EncryptionCodec(parsePayloadCodecKeys(config.PAYLOAD_CODEC_KEYS)) : undefined;

/**
 * The data converter of every Temporal client and worker of the system. The codec runs outside
 * the workflow sandbox (the worker encodes and decodes around it), so workflow code and the
 * workflow bundle are unchanged.
 */
export function temporalDataConverter(config: { PAYLOAD_CODEC_KEYS?: string }): DataConverter {
  const codec = payloadCodecFrom(config);
  return codec ? { payloadCodecs: [codec] } : {};
}
