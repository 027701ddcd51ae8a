/**
 * The payments context's per-shipment money (authorise, partial captures,
 * partial voids, partial refunds) through the real activities and the
 * simulated provider on a real PostgreSQL: our payments rows and the
 * provider's ledger are read back and added up as a bookkeeper would, per
 * order and per line. Includes the races the provider's row lock exists for.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaymentsActivities } from '../../activities/payments';
import { GatewayUnavailableError, SimulatedGateway, type SimulatedGatewayOptions } from '../../activities/payments/gateway';
import { AuthorisationLifetimes, TestTokens } from '../../domain/payment';
import { createDb, type Db } from '../../prisma/client';
import type { LineAmount } from '../../temporal-config/place-order';
import { freshDatabase } from '../support/db';

let db: Db;
/** a client with room for every racer at once, so the races below really overlap in PostgreSQL */
let wide: Db;
const HOUR = 60 * 60_000;
const base: SimulatedGatewayOptions = { latencyMs: 0, slowMs: 0, declineRate: 0, transientFailures: 2 };

beforeAll(async () => {
  let url: string;
  ({ url, db } = await freshDatabase('payments'));
  wide = createDb(url, { poolSize: 25 });
});

afterAll(async () => {
  await db?.$disconnect();
  await wide?.$disconnect();
});

/** The activities with a provider of their own (its transient-failure counts and clock are per instance). */
const paymentsWith = (options: Partial<SimulatedGatewayOptions> = {}, client: Db = db) => createPaymentsActivities(client, new SimulatedGateway(client, { ...base, ...options }));

/** One order's keys and the inputs the workflow would pass. */
function anOrder(lines: LineAmount[], token: string = TestTokens.success) {
  const orderId = randomUUID();
  const wf = `order-${orderId}`;
  const amount = lines.reduce((s, l) => s + l.amount, 0);
  return {
    orderId,
    wf,
    authorisation: { orderId, idempotencyKey: `${wf}:authorise`, amount, currency: 'USD', token, lines },
    capture: (tracking: string, lines: LineAmount[], attempt = 1) => ({
      orderId,
      authorisationKey: `${wf}:authorise`,
      idempotencyKey: `${wf}:capture:${tracking}:${attempt}`,
      amount: lines.reduce((s, l) => s + l.amount, 0),
      currency: 'USD',
      lines,
      reference: tracking,
    }),
    refund: (captureKey: string, returnId: string, lines: LineAmount[], attempt = 1) => ({
      orderId,
      captureKey,
      idempotencyKey: `${wf}:refund:${returnId}:${captureKey.split(':')[2]}:${attempt}`,
      amount: lines.reduce((s, l) => s + l.amount, 0),
      currency: 'USD',
      lines,
      reference: returnId,
    }),
    void: (what: string, extra: { amount?: number; lines?: LineAmount[] } = {}) => ({
      orderId,
      authorisationKey: `${wf}:authorise`,
      idempotencyKey: `${wf}:void:${what}`,
      currency: 'USD',
      reference: what,
      ...extra,
    }),
  };
}

const ledger = (wf: string) => db.gatewayTransaction.findMany({ where: { idempotencyKey: { startsWith: wf } }, orderBy: { createdAt: 'asc' } });
const rows = (orderId: string) => db.payment.findMany({ where: { orderId }, orderBy: { createdAt: 'asc' } });

type Money = { authorised: number; captured: number; voided: number; refunded: number };
/** Per line and in total, what our SUCCEEDED rows say happened to the order's money. */
async function books(orderId: string): Promise<{ total: Money; lines: Record<string, Money> }> {
  const field = { AUTHORISATION: 'authorised', CAPTURE: 'captured', VOID: 'voided', REFUND: 'refunded' } as const;
  const zero = (): Money => ({ authorised: 0, captured: 0, voided: 0, refunded: 0 });
  const total = zero();
  const lines: Record<string, Money> = {};
  for (const row of await db.payment.findMany({ where: { orderId, status: 'SUCCEEDED' } })) {
    const f = field[row.kind as keyof typeof field];
    total[f] += row.amount;
    const rowLines = row.lines as unknown as LineAmount[];
    expect(rowLines.reduce((s, l) => s + l.amount, 0), `${row.kind} ${row.idempotencyKey}: lines add up to its amount`).toBe(row.amount);
    for (const l of rowLines) (lines[l.productId] ??= zero())[f] += l.amount;
  }
  return { total, lines };
}

/** refunded ≤ captured ≤ authorised, per line and in total; at the end of the order's life captured + voided = authorised too. */
function expectBalanced(b: { total: Money; lines: Record<string, Money> }, ended: boolean) {
  for (const [what, m] of [['total', b.total], ...Object.entries(b.lines)] as [string, Money][]) {
    expect(m.refunded, what).toBeLessThanOrEqual(m.captured);
    expect(m.captured + m.voided, what).toBeLessThanOrEqual(m.authorised);
    if (ended) expect(m.captured + m.voided, what).toBe(m.authorised);
  }
}

const mug = (amount: number) => ({ productId: 'prod_mug', amount });
const kettle = (amount: number) => ({ productId: 'prod_kettle', amount });
const lamp = (amount: number) => ({ productId: 'prod_lamp', amount });

describe('authorise, capture per shipment, void the rest, refund per line', () => {
  it('two partial captures, the rest voided, partial refunds: every cent accounted for per line, in our rows and in the ledger', async () => {
    const payments = paymentsWith();
    const o = anOrder([mug(2500), kettle(6900), lamp(3499)]);

    const before = Date.now();
    const auth = await payments.authorisePayment(o.authorisation);
    expect(auth).toMatchObject({ authorisationKey: `${o.wf}:authorise`, amount: 12899, providerRef: expect.stringMatching(/^au_/) });
    const lifetime = Date.parse(auth.expiresAt) - before;
    expect(lifetime).toBeGreaterThanOrEqual(AuthorisationLifetimes.usualMs - 1000);
    expect(lifetime).toBeLessThanOrEqual(AuthorisationLifetimes.usualMs + 5000);

    const first = await payments.capturePayment(o.capture('SS1', [mug(2500)]));
    const second = await payments.capturePayment(o.capture('SS2', [lamp(3499)]));
    expect([first.amount, second.amount]).toEqual([2500, 3499]);
    expectBalanced(await books(o.orderId), false);

    // the kettle's shipment is cancelled with the rest of the order: what is left is voided, per line from our books
    expect(await payments.voidPayment(o.void('rest'))).toEqual({ voided: 6900 });
    expect(await payments.voidPayment(o.void('again'))).toEqual({ voided: 0 }); // nothing is left to void

    // a return of one mug of the first parcel, then of the other, then a cent too many
    const r1 = await payments.refundCapture(o.refund(first.captureKey, 'ret1', [mug(1250)]));
    const r2 = await payments.refundCapture(o.refund(first.captureKey, 'ret2', [mug(1250)]));
    expect([r1.amount, r2.amount]).toEqual([1250, 1250]);
    await expect(payments.refundCapture(o.refund(first.captureKey, 'ret3', [mug(1)]))).rejects.toMatchObject({
      type: 'REFUND_REFUSED',
      nonRetryable: true,
      details: [{ reason: 'exceeds_capture' }],
    });
    await payments.refundCapture(o.refund(second.captureKey, 'ret3', [lamp(3000)]));

    const b = await books(o.orderId);
    expect(b.total).toEqual({ authorised: 12899, captured: 5999, voided: 6900, refunded: 5500 });
    expect(b.lines).toEqual({
      prod_mug: { authorised: 2500, captured: 2500, voided: 0, refunded: 2500 },
      prod_kettle: { authorised: 6900, captured: 0, voided: 6900, refunded: 0 },
      prod_lamp: { authorised: 3499, captured: 3499, voided: 0, refunded: 3000 },
    });
    expectBalanced(b, true);

    expect((await rows(o.orderId)).map((r) => [r.kind, r.status, r.amount, r.parentKey, r.reference, r.declineCode])).toEqual([
      ['AUTHORISATION', 'SUCCEEDED', 12899, null, null, null],
      ['CAPTURE', 'SUCCEEDED', 2500, `${o.wf}:authorise`, 'SS1', null],
      ['CAPTURE', 'SUCCEEDED', 3499, `${o.wf}:authorise`, 'SS2', null],
      ['VOID', 'SUCCEEDED', 6900, `${o.wf}:authorise`, 'rest', null],
      ['VOID', 'SUCCEEDED', 0, `${o.wf}:authorise`, 'again', null],
      ['REFUND', 'SUCCEEDED', 1250, first.captureKey, 'ret1', null],
      ['REFUND', 'SUCCEEDED', 1250, first.captureKey, 'ret2', null],
      ['REFUND', 'FAILED', 1, first.captureKey, 'ret3', 'exceeds_capture'],
      ['REFUND', 'SUCCEEDED', 3000, second.captureKey, 'ret3', null],
    ]);
    expect((await rows(o.orderId))[0].expiresAt?.toISOString()).toBe(auth.expiresAt);

    // the provider's own books: every capture and void hangs off the authorisation, every refund off its capture
    const l = await ledger(o.wf);
    expect(l.map((t) => [t.kind, t.amount, t.chargeId, t.declineCode])).toEqual([
      ['AUTHORISATION', 12899, null, null],
      ['CAPTURE', 2500, auth.providerRef, null],
      ['CAPTURE', 3499, auth.providerRef, null],
      ['VOID', 6900, auth.providerRef, null],
      ['VOID', 0, auth.providerRef, null],
      ['REFUND', 1250, first.providerRef, null],
      ['REFUND', 1250, first.providerRef, null],
      ['REFUSED', 1, first.providerRef, 'exceeds_capture'],
      ['REFUND', 3000, second.providerRef, null],
    ]);
    expect(l[0]).toMatchObject({ token: TestTokens.success, expiresAt: new Date(auth.expiresAt) });
  });

  it('a void of one shipment\'s lines voids just those; a void of more than is left voids what is left, on the lines that had it', async () => {
    const payments = paymentsWith();
    const o = anOrder([mug(2500), kettle(6900)]);
    await payments.authorisePayment(o.authorisation);
    expect(await payments.voidPayment(o.void('SS2', { amount: 6900, lines: [kettle(6900)] }))).toEqual({ voided: 6900 });
    await payments.capturePayment(o.capture('SS1', [mug(2000)]));
    // asked for the whole mug line again: only 500 of it is left
    expect(await payments.voidPayment(o.void('SS1', { lines: [mug(2500)] }))).toEqual({ voided: 500 });
    const b = await books(o.orderId);
    expect(b.lines).toEqual({
      prod_mug: { authorised: 2500, captured: 2000, voided: 500, refunded: 0 },
      prod_kettle: { authorised: 6900, captured: 0, voided: 6900, refunded: 0 },
    });
    expectBalanced(b, true);
    await expect(payments.capturePayment(o.capture('SS1', [mug(1)], 2))).rejects.toMatchObject({ type: 'CAPTURE_REFUSED', details: [{ reason: 'exceeds_authorisation' }] });
  });

  it('replays answer the first answer and write nothing twice, one after another and all at once', async () => {
    const payments = paymentsWith();
    const o = anOrder([mug(1000), kettle(2000)]);
    // an authorisation's validForMs is how long it has left when asked: the one part that changes
    const same = (x: object) => ('validForMs' in x ? { ...x, validForMs: expect.any(Number) as number } : x);
    const twice = async <T extends object>(call: () => Promise<T>): Promise<T> => {
      const [a, b, c] = await Promise.all([call(), call(), call()]);
      expect(b).toEqual(same(a));
      expect(c).toEqual(same(a));
      expect(await call()).toEqual(same(a));
      return a;
    };
    const auth = await twice(() => payments.authorisePayment(o.authorisation));
    const cap = await twice(() => payments.capturePayment(o.capture('SS1', [mug(1000)])));
    expect(await twice(() => payments.voidPayment(o.void('rest')))).toEqual({ voided: 2000 });
    const ref = await twice(() => payments.refundCapture(o.refund(cap.captureKey, 'ret1', [mug(400)])));
    expect(ref.amount).toBe(400);

    expect((await ledger(o.wf)).map((t) => [t.kind, t.amount])).toEqual([['AUTHORISATION', 3000], ['CAPTURE', 1000], ['VOID', 2000], ['REFUND', 400]]);
    const ours = await rows(o.orderId);
    expect(ours.map((r) => [r.kind, r.status, r.amount])).toEqual([['AUTHORISATION', 'SUCCEEDED', 3000], ['CAPTURE', 'SUCCEEDED', 1000], ['VOID', 'SUCCEEDED', 2000], ['REFUND', 'SUCCEEDED', 400]]);
    expect(ours.map((r) => r.providerRef)).toEqual([auth.providerRef, cap.providerRef, expect.stringMatching(/^vo_/), ref.providerRef]);
    expect(ours.every((r) => r.attempts === 4)).toBe(true);
    expect((await books(o.orderId)).total).toEqual({ authorised: 3000, captured: 1000, voided: 2000, refunded: 400 });
  });

  it('a capture whose answer was lost is found on retry: captured once', async () => {
    const o = anOrder([mug(1500)]);
    await paymentsWith().authorisePayment(o.authorisation);
    const lost = paymentsWith({ fault: { mode: 'lost_response', until: Infinity } });
    await expect(lost.capturePayment(o.capture('SS1', [mug(1500)]))).rejects.toBeInstanceOf(GatewayUnavailableError);
    expect((await rows(o.orderId))[1]).toMatchObject({ kind: 'CAPTURE', status: 'PENDING' });

    const down = paymentsWith({ fault: { mode: 'error', until: Infinity } });
    await expect(down.voidPayment(o.void('rest'))).rejects.toBeInstanceOf(GatewayUnavailableError);
    await expect(down.authorisePayment({ ...o.authorisation, idempotencyKey: `${o.wf}:authorise:1` })).rejects.toBeInstanceOf(GatewayUnavailableError);

    const cap = await paymentsWith().capturePayment(o.capture('SS1', [mug(1500)]));
    expect((await ledger(o.wf)).map((t) => [t.kind, t.amount, t.id])).toEqual([['AUTHORISATION', 1500, expect.any(String)], ['CAPTURE', 1500, cap.providerRef]]);
    expect(await paymentsWith().voidPayment(o.void('rest'))).toEqual({ voided: 0 });
    expectBalanced(await books(o.orderId), true);
  });
});

describe('the simulated provider\'s test tokens', () => {
  it('tok_authExpiresEarly: a short hold; a capture after it lapses is AUTHORISATION_EXPIRED, and the void still gives it all back', async () => {
    let clock = Date.now();
    const payments = paymentsWith({ now: () => clock, shortAuthLifetimeMs: 2 * HOUR });
    const o = anOrder([mug(2500), kettle(6900)], TestTokens.authExpiresEarly);
    const auth = await payments.authorisePayment(o.authorisation);
    expect(Date.parse(auth.expiresAt)).toBe(clock + 2 * HOUR);
    expect(await db.gatewayTransaction.findFirstOrThrow({ where: { idempotencyKey: auth.authorisationKey } })).toMatchObject({ token: TestTokens.authExpiresEarly });

    clock += HOUR;
    await payments.capturePayment(o.capture('SS1', [mug(2500)]));
    clock += HOUR; // exactly at expiry: lapsed
    await expect(payments.capturePayment(o.capture('SS2', [kettle(6900)]))).rejects.toMatchObject({
      type: 'AUTHORISATION_EXPIRED',
      nonRetryable: true,
      details: [{ reason: 'authorisation_expired' }],
    });
    expect(await payments.voidPayment(o.void('rest'))).toEqual({ voided: 6900 });
    expect((await ledger(o.wf)).map((t) => [t.kind, t.amount, t.declineCode])).toEqual([
      ['AUTHORISATION', 9400, null],
      ['CAPTURE', 2500, null],
      ['REFUSED', 6900, 'authorisation_expired'],
      ['VOID', 6900, null],
    ]);
    expectBalanced(await books(o.orderId), true);
  });

  it('the usual lifetime comes from the options (PAYMENT_AUTH_LIFETIME_MS)', async () => {
    const clock = Date.now();
    const o = anOrder([mug(100)]);
    const auth = await paymentsWith({ now: () => clock, authLifetimeMs: 3 * HOUR }).authorisePayment(o.authorisation);
    expect(Date.parse(auth.expiresAt)).toBe(clock + 3 * HOUR);
  });

  it('tok_reauthDeclined: the first authorisation holds (briefly); its renewal is declined', async () => {
    const clock = Date.now();
    const payments = paymentsWith({ now: () => clock });
    const o = anOrder([mug(2500), kettle(6900)], TestTokens.reauthDeclined);
    const auth = await payments.authorisePayment(o.authorisation);
    expect(Date.parse(auth.expiresAt)).toBe(clock + AuthorisationLifetimes.shortMs);
    await payments.capturePayment(o.capture('SS1', [mug(2500)]));

    const renewal = { ...o.authorisation, idempotencyKey: `${o.wf}:authorise:1`, amount: 6900, lines: [kettle(6900)], renews: auth.authorisationKey };
    await expect(payments.authorisePayment(renewal)).rejects.toMatchObject({ type: 'PAYMENT_DECLINED', nonRetryable: true, details: [{ reason: 'card_declined' }] });
    await expect(payments.authorisePayment(renewal)).rejects.toMatchObject({ type: 'PAYMENT_DECLINED' }); // replayed, not asked again
    expect((await rows(o.orderId)).find((r) => r.idempotencyKey === renewal.idempotencyKey)).toMatchObject({ kind: 'AUTHORISATION', status: 'FAILED', declineCode: 'card_declined', parentKey: auth.authorisationKey, attempts: 2 });
    expect((await ledger(o.wf)).map((t) => t.kind)).toEqual(['AUTHORISATION', 'CAPTURE', 'DECLINE']);
    // a void of the declined renewal gives back nothing: it held nothing
    expect(await payments.voidPayment({ ...o.void('auth-1'), authorisationKey: renewal.idempotencyKey })).toEqual({ voided: 0 });
  });

  it('tok_captureTransient: each capture key times out transientFailures times, then captures once', async () => {
    const payments = paymentsWith({ transientFailures: 2 });
    const o = anOrder([mug(2500), kettle(6900)], TestTokens.captureTransient);
    await payments.authorisePayment(o.authorisation); // authorising is not affected
    for (const tracking of ['SS1', 'SS2']) {
      const lines = tracking === 'SS1' ? [mug(2500)] : [kettle(6900)];
      await expect(payments.capturePayment(o.capture(tracking, lines))).rejects.toBeInstanceOf(GatewayUnavailableError);
      await expect(payments.capturePayment(o.capture(tracking, lines))).rejects.toBeInstanceOf(GatewayUnavailableError);
      await payments.capturePayment(o.capture(tracking, lines));
    }
    expect((await rows(o.orderId)).map((r) => [r.kind, r.status, r.attempts])).toEqual([['AUTHORISATION', 'SUCCEEDED', 1], ['CAPTURE', 'SUCCEEDED', 3], ['CAPTURE', 'SUCCEEDED', 3]]);
    expect((await ledger(o.wf)).map((t) => [t.kind, t.amount])).toEqual([['AUTHORISATION', 9400], ['CAPTURE', 2500], ['CAPTURE', 6900]]);
    expectBalanced(await books(o.orderId), true);
  });

  it('tok_transientFailure: an authorisation times out twice, then holds once', async () => {
    const payments = paymentsWith({ transientFailures: 2 });
    const o = anOrder([mug(2500)], TestTokens.transient);
    await expect(payments.authorisePayment(o.authorisation)).rejects.toBeInstanceOf(GatewayUnavailableError);
    await expect(payments.authorisePayment(o.authorisation)).rejects.toBeInstanceOf(GatewayUnavailableError);
    await payments.authorisePayment(o.authorisation);
    expect((await ledger(o.wf)).map((t) => t.kind)).toEqual(['AUTHORISATION']);
    expect((await rows(o.orderId))[0]).toMatchObject({ status: 'SUCCEEDED', attempts: 3 });
  });

  it('tok_captureRefused: the first capture is refused (replayed as refused), an operator retry under a new key captures', async () => {
    const payments = paymentsWith();
    const o = anOrder([mug(2500), kettle(6900)], TestTokens.captureRefused);
    await payments.authorisePayment(o.authorisation);
    for (let i = 0; i < 2; i++) {
      await expect(payments.capturePayment(o.capture('SS1', [mug(2500)]))).rejects.toMatchObject({
        type: 'CAPTURE_REFUSED',
        nonRetryable: true,
        details: [{ reason: 'issuer_refused' }],
      });
    }
    await payments.capturePayment(o.capture('SS1', [mug(2500)], 2));
    await payments.capturePayment(o.capture('SS2', [kettle(6900)]));
    expect((await rows(o.orderId)).map((r) => [r.kind, r.reference, r.status, r.declineCode])).toEqual([
      ['AUTHORISATION', null, 'SUCCEEDED', null],
      ['CAPTURE', 'SS1', 'FAILED', 'issuer_refused'],
      ['CAPTURE', 'SS1', 'SUCCEEDED', null],
      ['CAPTURE', 'SS2', 'SUCCEEDED', null],
    ]);
    expect((await ledger(o.wf)).map((t) => [t.kind, t.amount])).toEqual([['AUTHORISATION', 9400], ['REFUSED', 2500], ['CAPTURE', 2500], ['CAPTURE', 6900]]);
    expect((await books(o.orderId)).total).toEqual({ authorised: 9400, captured: 9400, voided: 0, refunded: 0 });
  });

  it('tok_refundRefused: the first refund under the authorisation\'s captures is refused; later ones, on any capture, go through', async () => {
    const payments = paymentsWith();
    const o = anOrder([mug(2500), kettle(6900)], TestTokens.refundRefused);
    await payments.authorisePayment(o.authorisation);
    const c1 = await payments.capturePayment(o.capture('SS1', [mug(2500)]));
    const c2 = await payments.capturePayment(o.capture('SS2', [kettle(6900)]));
    await expect(payments.refundCapture(o.refund(c2.captureKey, 'ret1', [kettle(6900)]))).rejects.toMatchObject({
      type: 'REFUND_REFUSED',
      nonRetryable: true,
      details: [{ reason: 'issuer_refused' }],
    });
    await payments.refundCapture(o.refund(c2.captureKey, 'ret1', [kettle(6900)], 2));
    await payments.refundCapture(o.refund(c1.captureKey, 'ret2', [mug(2500)]));
    expect((await ledger(o.wf)).filter((t) => t.kind !== 'AUTHORISATION' && t.kind !== 'CAPTURE').map((t) => [t.kind, t.amount, t.chargeId])).toEqual([
      ['REFUSED', 6900, c2.providerRef],
      ['REFUND', 6900, c2.providerRef],
      ['REFUND', 2500, c1.providerRef],
    ]);
    expect((await books(o.orderId)).total).toEqual({ authorised: 9400, captured: 9400, voided: 0, refunded: 9400 });
  });

  it.each([
    [TestTokens.declined, 'card_declined'],
    [TestTokens.insufficientFunds, 'insufficient_funds'],
    [TestTokens.expired, 'expired_card'],
    [TestTokens.invalidCvc, 'invalid_cvc'],
    ['tok_unknown', 'card_declined'],
  ])('%s: the authorisation is declined (%s); nothing to capture, nothing held to void', async (token, reason) => {
    const payments = paymentsWith();
    const o = anOrder([mug(2500)], token);
    await expect(payments.authorisePayment(o.authorisation)).rejects.toMatchObject({ type: 'PAYMENT_DECLINED', nonRetryable: true, details: [{ reason }] });
    await expect(payments.capturePayment(o.capture('SS1', [mug(2500)]))).rejects.toMatchObject({ type: 'CAPTURE_REFUSED', details: [{ reason: 'unknown_authorisation' }] });
    expect(await payments.voidPayment(o.void('rest'))).toEqual({ voided: 0 });
    expect((await ledger(o.wf)).map((t) => [t.kind, t.declineCode])).toEqual([['DECLINE', reason], ['REFUSED', 'unknown_authorisation']]);
    expect((await books(o.orderId)).total).toEqual({ authorised: 0, captured: 0, voided: 0, refunded: 0 });
  });

  it('tok_slow answers after the slow delay', async () => {
    const o = anOrder([mug(100)], TestTokens.slow);
    const started = Date.now();
    await paymentsWith({ slowMs: 300 }).authorisePayment(o.authorisation);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});

describe('a void before the authorisation', () => {
  it('tombstones the authorisation key: a late authorise is PAYMENT_VOIDED, a capture under it is refused', async () => {
    const payments = paymentsWith();
    const o = anOrder([mug(2500)]);
    expect(await payments.voidPayment(o.void('rest'))).toEqual({ voided: 0 });
    expect(await payments.voidPayment(o.void('rest'))).toEqual({ voided: 0 });
    expect(await db.gatewayTransaction.findUniqueOrThrow({ where: { idempotencyKey: o.authorisation.idempotencyKey } })).toMatchObject({ kind: 'VOID', amount: 0, chargeId: null });

    await expect(payments.authorisePayment(o.authorisation)).rejects.toMatchObject({ type: 'PAYMENT_VOIDED', nonRetryable: true });
    await expect(payments.capturePayment(o.capture('SS1', [mug(2500)]))).rejects.toMatchObject({ type: 'CAPTURE_REFUSED', details: [{ reason: 'unknown_authorisation' }] });
    expect((await ledger(o.wf)).map((t) => [t.kind, t.amount, t.chargeId])).toEqual([['VOID', 0, null], ['REFUSED', 2500, null]]);
    expect((await rows(o.orderId)).map((r) => [r.kind, r.status, r.amount, r.declineCode])).toEqual([
      ['VOID', 'SUCCEEDED', 0, null],
      ['AUTHORISATION', 'FAILED', 2500, 'voided'],
      ['CAPTURE', 'FAILED', 2500, 'unknown_authorisation'],
    ]);
    expect((await books(o.orderId)).total).toEqual({ authorised: 0, captured: 0, voided: 0, refunded: 0 });
  });

  it('raced against the authorisation, either one wins, and nothing stays held', async () => {
    const payments = paymentsWith({}, wide);
    for (let i = 0; i < 10; i++) {
      const o = anOrder([mug(2500), kettle(500)]);
      const [auth, voided] = await Promise.allSettled([payments.authorisePayment(o.authorisation), payments.voidPayment(o.void('rest'))]);
      expect(voided).toMatchObject({ status: 'fulfilled' });
      if (auth.status === 'rejected') {
        expect(auth.reason).toMatchObject({ type: 'PAYMENT_VOIDED' });
        continue;
      }
      // authorised first: the void gave it all back (or, if it read our books before the row was written, gives it back when run again)
      const again = await payments.voidPayment(o.void('rest-2'));
      const l = await ledger(o.wf);
      expect(l.filter((t) => t.kind === 'VOID').reduce((s, t) => s + t.amount, 0)).toBe(3000);
      expect((voided as PromiseFulfilledResult<{ voided: number }>).value.voided + again.voided).toBe(3000);
      expectBalanced(await books(o.orderId), true);
    }
  });
});

describe('the provider\'s limits hold under concurrency (row lock on the authorisation)', () => {
  it('20 captures of 30 at once against 100 authorised: exactly 3 succeed, 17 exceed the authorisation', async () => {
    const payments = paymentsWith({}, wide);
    const o = anOrder([mug(100)]);
    const auth = await payments.authorisePayment(o.authorisation);
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => payments.capturePayment(o.capture(`SS${i}`, [mug(30)]))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    const refusals = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => [r.reason.type, r.reason.details[0].reason]);
    expect(refusals).toEqual(Array(17).fill(['CAPTURE_REFUSED', 'exceeds_authorisation']));

    const captures = await db.gatewayTransaction.findMany({ where: { chargeId: auth.providerRef, kind: 'CAPTURE' } });
    expect(captures.map((t) => t.amount)).toEqual([30, 30, 30]);
    expect(await db.gatewayTransaction.count({ where: { chargeId: auth.providerRef, kind: 'REFUSED' } })).toBe(17);
    expect((await books(o.orderId)).total).toEqual({ authorised: 100, captured: 90, voided: 0, refunded: 0 });
    expect(await payments.voidPayment(o.void('rest'))).toEqual({ voided: 10 });
    expectBalanced(await books(o.orderId), true);
  });

  it('20 refunds of 30 at once against a capture of 100: exactly 3 succeed, 17 exceed the capture', async () => {
    const payments = paymentsWith({}, wide);
    const o = anOrder([mug(100)]);
    await payments.authorisePayment(o.authorisation);
    const cap = await payments.capturePayment(o.capture('SS1', [mug(100)]));
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => payments.refundCapture(o.refund(cap.captureKey, `ret${i}`, [mug(30)]))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    const refusals = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => [r.reason.type, r.reason.details[0].reason]);
    expect(refusals).toEqual(Array(17).fill(['REFUND_REFUSED', 'exceeds_capture']));
    const refunds = await db.gatewayTransaction.findMany({ where: { chargeId: cap.providerRef, kind: 'REFUND' } });
    expect(refunds.reduce((s, t) => s + t.amount, 0)).toBe(90);
    expect((await books(o.orderId)).total).toEqual({ authorised: 100, captured: 100, voided: 0, refunded: 90 });
  });

  it('captures racing partial voids and a void of the rest never take more than was authorised', async () => {
    const payments = paymentsWith({}, wide);
    const o = anOrder([mug(200), kettle(200)]);
    const auth = await payments.authorisePayment(o.authorisation);
    await Promise.allSettled([
      ...Array.from({ length: 10 }, (_, i) => payments.capturePayment(o.capture(`SS${i}`, [mug(25), kettle(25)]))),
      ...Array.from({ length: 5 }, (_, i) => payments.voidPayment(o.void(`part${i}`, { lines: [mug(30)] }))),
      payments.voidPayment(o.void('rest')),
    ]);
    await payments.voidPayment(o.void('rest-after')); // whatever the race left
    const l = await db.gatewayTransaction.findMany({ where: { chargeId: auth.providerRef } });
    const taken = l.filter((t) => t.kind === 'CAPTURE' || t.kind === 'VOID').reduce((s, t) => s + t.amount, 0);
    expect(taken).toBe(400);
    const b = await books(o.orderId);
    expect(b.total.captured + b.total.voided).toBe(400);
    expect(b.total.captured).toBe(l.filter((t) => t.kind === 'CAPTURE').reduce((s, t) => s + t.amount, 0));
    // Per line this race proves nothing: its callers ask for more of the mug (10 × 25 captured, 5 × 30
    // voided) than the mug has, and the provider holds only the authorisation's total. The saga never
    // does that (each shipment's lines are captured or voided once, one payment call per order at a
    // time); per-line books are checked in every other test here and in per-shipment.test.ts.
    expect(b.total.captured + b.total.voided).toBeLessThanOrEqual(b.total.authorised);
  });

  it('ten captures with one key at once capture once and all answer the same', async () => {
    const payments = paymentsWith({}, wide);
    const o = anOrder([mug(100)]);
    await payments.authorisePayment(o.authorisation);
    const results = await Promise.all(Array.from({ length: 10 }, () => payments.capturePayment(o.capture('SS1', [mug(60)]))));
    expect(new Set(results.map((r) => r.providerRef)).size).toBe(1);
    expect((await ledger(o.wf)).map((t) => [t.kind, t.amount])).toEqual([['AUTHORISATION', 100], ['CAPTURE', 60]]);
  });
});

describe('the charge-at-checkout flow', () => {
  it('a legacy charge can be refunded in part through refundCapture, never beyond it', async () => {
    const payments = paymentsWith();
    const orderId = randomUUID();
    const chargeKey = `order-${orderId}:charge`;
    const charge = await payments.chargePayment({ orderId, idempotencyKey: chargeKey, amount: 500, currency: 'USD', token: TestTokens.success });
    const refund = (n: number, amount: number) => ({ orderId, captureKey: chargeKey, idempotencyKey: `order-${orderId}:refund:r${n}`, amount, currency: 'USD', lines: [mug(amount)], reference: `r${n}` });
    await payments.refundCapture(refund(1, 300));
    await expect(payments.refundCapture(refund(2, 201))).rejects.toMatchObject({ type: 'REFUND_REFUSED', details: [{ reason: 'exceeds_capture' }] });
    expect((await ledger(`order-${orderId}`)).map((t) => [t.kind, t.amount, t.chargeId])).toEqual([['CHARGE', 500, null], ['REFUND', 300, charge.providerRef], ['REFUSED', 201, charge.providerRef]]);
  });
});
