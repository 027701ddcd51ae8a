import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How a carrier signs a webhook delivery (modelled on Stripe's scheme), in one
 * place for the API, the tests and any carrier simulator:
 *
 *   X-Carrier-Timestamp: <unix seconds>
 *   X-Carrier-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body bytes>")>
 *
 * The timestamp is inside the MAC, so an old delivery cannot be re-dated; a
 * delivery older or newer than the tolerance is refused, and within it the
 * API refuses a signature it has seen before (carrier_deliveries).
 */
export const CARRIER_TIMESTAMP_HEADER = 'x-carrier-timestamp';
export const CARRIER_SIGNATURE_HEADER = 'x-carrier-signature';
/** How far a delivery's timestamp may be from the API's clock, either way. */
export const CARRIER_SIGNATURE_TOLERANCE_SECONDS = 300;

export const CARRIER_TIMESTAMP_FORMAT = /^[0-9]{1,12}$/;
export const CARRIER_SIGNATURE_FORMAT = /^v1=([0-9a-fA-F]{64})$/;

const mac = (secret: string, timestamp: string, body: Uint8Array | string) =>
  createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();

/** The X-Carrier-Signature value for this body at this timestamp (unix seconds). */
export function signCarrierDelivery(secret: string, timestamp: number | string, body: Uint8Array | string): string {
  return `v1=${mac(secret, String(timestamp), body).toString('hex')}`;
}

/** Both headers of a delivery signed now (or at `at`, unix seconds). */
export function carrierSignatureHeaders(secret: string, body: Uint8Array | string, at = Math.floor(Date.now() / 1000)): Record<string, string> {
  return { [CARRIER_TIMESTAMP_HEADER]: String(at), [CARRIER_SIGNATURE_HEADER]: signCarrierDelivery(secret, at, body) };
}

export type CarrierVerification = { ok: true; deliveryId: string } | { ok: false; reason: string };

/**
 * Checks a delivery: well-formed headers, the MAC over the raw body (compared
 * in constant time), then the timestamp's age. On success, deliveryId is the
 * SHA-256 of the signature's bytes: the same for a replay, whatever case its hex is in.
 */
export function verifyCarrierDelivery(input: {
  secret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  body: Uint8Array;
  nowSeconds?: number;
}): CarrierVerification {
  const given = CARRIER_SIGNATURE_FORMAT.exec(input.signature ?? '')?.[1];
  if (!given || !input.timestamp || !CARRIER_TIMESTAMP_FORMAT.test(input.timestamp)) {
    return { ok: false, reason: 'send X-Carrier-Timestamp (unix seconds) and X-Carrier-Signature (v1=<hex HMAC-SHA256>)' };
  }
  const theirs = Buffer.from(given, 'hex');
  if (!timingSafeEqual(theirs, mac(input.secret, input.timestamp, input.body))) return { ok: false, reason: 'wrong carrier signature' };
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(input.timestamp)) > CARRIER_SIGNATURE_TOLERANCE_SECONDS) {
    return { ok: false, reason: `carrier timestamp is more than ${CARRIER_SIGNATURE_TOLERANCE_SECONDS} s from the server's clock` };
  }
  return { ok: true, deliveryId: createHash('sha256').update(theirs).digest('hex') };
}
