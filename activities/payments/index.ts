import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db, Prisma } from '../../prisma/client';
import { ErrorCodes, type ErrorCode } from '../../domain/errors';
import type { LineAmount } from '../../temporal-config/place-order';
import { ChargeVoidedError, type PaymentGateway, type VoidResult } from './gateway';

export interface ChargePaymentInput {
  orderId: string;
  /** derived from the workflow id: every retry of this charge reuses it */
  idempotencyKey: string;
  amount: number;
  currency: string;
  token: string;
}

export interface RefundPaymentInput {
  orderId: string;
  chargeKey: string;
  refundKey: string;
}

export interface AuthorisePaymentInput {
  orderId: string;
  idempotencyKey: string;
  amount: number;
  currency: string;
  token: string;
  /** per order line, summing to amount */
  lines: LineAmount[];
  /** the key of the authorisation this one renews */
  renews?: string;
}
export interface AuthorisePaymentResult {
  authorisationKey: string;
  providerRef: string;
  amount: number;
  /** ISO time the provider lets the authorisation lapse */
  expiresAt: string;
  /** how long from now it stays valid: the workflow counts it on its own clock, not the provider's */
  validForMs: number;
}

export interface CapturePaymentInput {
  orderId: string;
  authorisationKey: string;
  idempotencyKey: string;
  amount: number;
  currency: string;
  lines: LineAmount[];
  /** the shipment's tracking number */
  reference: string;
}

export interface VoidPaymentInput {
  orderId: string;
  authorisationKey: string;
  idempotencyKey: string;
  currency: string;
  /** omitted: the whole uncaptured remainder (or the sum of lines, when given) */
  amount?: number;
  /** omitted: spread over what our books say is uncaptured per line */
  lines?: LineAmount[];
  /** a tracking number, `auth-<n>` (a renewed authorisation) or `rest` */
  reference: string;
}

export interface RefundCaptureInput {
  orderId: string;
  captureKey: string;
  idempotencyKey: string;
  amount: number;
  currency: string;
  lines: LineAmount[];
  /** the return id */
  reference: string;
}

/** Heartbeats while a slow call runs, so a dead worker is noticed in seconds. */
async function heartbeating<T>(fn: () => Promise<T>): Promise<T> {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return fn(); // called directly, outside a worker (unit and integration tests)
  }
  const timer = setInterval(() => ctx.heartbeat(), 1_000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

type PaymentRow = Awaited<ReturnType<Db['payment']['upsert']>>;

/**
 * Our row of an operation, written before the gateway hears of it (PENDING),
 * or counted once more when a retry finds it.
 */
function begin(
  db: Db,
  row: { orderId: string; kind: 'AUTHORISATION' | 'CAPTURE' | 'VOID' | 'REFUND'; idempotencyKey: string; amount: number; currency: string; lines: LineAmount[]; parentKey?: string; reference?: string },
): Promise<PaymentRow> {
  return db.payment.upsert({
    where: { idempotencyKey: row.idempotencyKey },
    create: { ...row, lines: jsonLines(row.lines), attempts: 1 },
    update: { attempts: { increment: 1 } },
  });
}

const succeeded = (db: Db, row: PaymentRow, data: { providerRef: string; amount?: number; lines?: LineAmount[]; expiresAt?: Date }) =>
  db.payment.update({ where: { id: row.id }, data: { ...data, lines: data.lines && jsonLines(data.lines), status: 'SUCCEEDED' } });

/**
 * A void is the last word on an authorisation a cancel overtook: if our row of
 * it is still PENDING (the authorise activity was abandoned, or its worker died
 * before recording the answer), it takes what the provider says now — granted
 * (SUCCEEDED: the void gives it back), or never made (FAILED, key voided) — so
 * the books balance as soon as the order is CANCELLED.
 */
async function settleAuthorisation(db: Db, authorisationKey: string, found: VoidResult['authorisation']): Promise<void> {
  if (found === undefined) return;
  await db.payment.updateMany({
    where: { idempotencyKey: authorisationKey, kind: 'AUTHORISATION', status: 'PENDING' },
    data: found ? { status: 'SUCCEEDED', providerRef: found.id, expiresAt: found.expiresAt } : { status: 'FAILED', declineCode: 'voided' },
  });
}

/** Marks our row FAILED with the provider's reason and fails the activity for good: retrying would get the same answer. */
async function refused(db: Db, row: PaymentRow, code: ErrorCode, reason: string, message: string): Promise<never> {
  await db.payment.update({ where: { id: row.id }, data: { status: 'FAILED', declineCode: reason } });
  throw ApplicationFailure.create({ type: code, message, nonRetryable: true, details: [{ reason }] });
}

const jsonLines = (lines: LineAmount[]): Prisma.InputJsonArray => lines.map(({ productId, amount }) => ({ productId, amount }));
const linesOf = (json: Prisma.JsonValue): LineAmount[] => (Array.isArray(json) ? (json as unknown as LineAmount[]) : []);
const sum = (lines: LineAmount[]) => lines.reduce((s, l) => s + l.amount, 0);

/** The books hold money per line: lines that do not add up to the amount are the caller's bug, caught before any money moves. */
function checkLines(lines: LineAmount[], amount: number): void {
  if (lines.every((l) => Number.isInteger(l.amount) && l.amount >= 0) && sum(lines) === amount) return;
  throw ApplicationFailure.create({ type: ErrorCodes.INTERNAL, message: `lines ${JSON.stringify(lines)} do not add up to ${amount}`, nonRetryable: true });
}

/**
 * amount spread over order lines, each line taking up to its cap: the first
 * list's caps first, then the next list's (caps per product, in total).
 */
function allocate(amount: number, ...capLists: LineAmount[][]): LineAmount[] {
  const given = new Map<string, number>();
  let left = amount;
  for (const cap of capLists.flat()) {
    const take = Math.min(left, cap.amount - (given.get(cap.productId) ?? 0));
    if (take <= 0) continue;
    given.set(cap.productId, (given.get(cap.productId) ?? 0) + take);
    left -= take;
  }
  if (left > 0) throw ApplicationFailure.create({ type: ErrorCodes.INTERNAL, message: `${left} of ${amount} belongs to no line`, nonRetryable: true });
  return [...given].map(([productId, amount]) => ({ productId, amount }));
}

/**
 * Per line, what an authorisation holds that no capture or void of ours has
 * taken (SUCCEEDED). The authorisation counts whatever its status: its row is
 * written before the provider is asked, so a void racing it still knows its
 * lines, and the provider's answer says whether it holds anything.
 */
async function uncaptured(db: Db, authorisationKey: string): Promise<LineAmount[]> {
  const rows = await db.payment.findMany({
    where: {
      OR: [
        { idempotencyKey: authorisationKey, kind: 'AUTHORISATION' },
        { parentKey: authorisationKey, kind: { in: ['CAPTURE', 'VOID'] }, status: 'SUCCEEDED' },
      ],
    },
  });
  const left = new Map<string, number>();
  const first = (row: { kind: string }) => Number(row.kind !== 'AUTHORISATION'); // its lines' order is the answer's
  for (const row of rows.sort((a, b) => first(a) - first(b))) {
    const sign = row.kind === 'AUTHORISATION' ? 1 : -1;
    for (const l of linesOf(row.lines)) left.set(l.productId, (left.get(l.productId) ?? 0) + sign * l.amount);
  }
  return [...left].filter(([, amount]) => amount > 0).map(([productId, amount]) => ({ productId, amount }));
}

/** Each line at most its cap in caps (0 for a product caps does not name). */
const clip = (lines: LineAmount[], caps: LineAmount[]): LineAmount[] =>
  lines.map((l) => ({ productId: l.productId, amount: Math.min(l.amount, caps.find((c) => c.productId === l.productId)?.amount ?? 0) }));

/**
 * Payments context: touches only the payments table and the gateway. Our own
 * row is written before the gateway call, so a crash between "charged" and
 * "activity completed" leaves a PENDING row, and the retry asks the gateway
 * again with the same key, which answers with the first charge.
 */
export function createPaymentsActivities(db: Db, gateway: PaymentGateway) {
  return {
    async chargePayment(input: ChargePaymentInput): Promise<{ paymentId: string; providerRef: string }> {
      const payment = await db.payment.upsert({
        where: { idempotencyKey: input.idempotencyKey },
        create: {
          orderId: input.orderId,
          kind: 'CHARGE',
          idempotencyKey: input.idempotencyKey,
          amount: input.amount,
          currency: input.currency,
          attempts: 1,
        },
        update: { attempts: { increment: 1 } },
      });
      if (payment.status === 'SUCCEEDED' && payment.providerRef) return { paymentId: payment.id, providerRef: payment.providerRef };

      let result;
      try {
        result = await heartbeating(() => gateway.charge(input));
      } catch (err) {
        if (err instanceof ChargeVoidedError) {
          await db.payment.update({ where: { id: payment.id }, data: { status: 'FAILED', declineCode: 'voided' } });
          throw ApplicationFailure.create({ type: ErrorCodes.PAYMENT_VOIDED, message: err.message, nonRetryable: true });
        }
        throw err; // transient: Temporal retries with backoff
      }
      if (result.status === 'declined') {
        await db.payment.update({ where: { id: payment.id }, data: { status: 'FAILED', declineCode: result.reason } });
        throw ApplicationFailure.create({
          type: ErrorCodes.PAYMENT_DECLINED,
          message: `payment declined: ${result.reason}`,
          nonRetryable: true,
          details: [{ reason: result.reason }],
        });
      }
      await db.payment.update({ where: { id: payment.id }, data: { status: 'SUCCEEDED', providerRef: result.chargeId } });
      return { paymentId: payment.id, providerRef: result.chargeId };
    },

    /** Compensation: refunds the charge if there was one, voids its key if not. */
    async refundPayment(input: RefundPaymentInput): Promise<{ refunded: boolean; amount: number }> {
      const result = await gateway.refund({ chargeKey: input.chargeKey, idempotencyKey: input.refundKey });
      if (result.status !== 'refunded') {
        await db.payment.updateMany({ where: { idempotencyKey: input.chargeKey, status: 'PENDING' }, data: { status: 'FAILED', declineCode: result.status } });
        return { refunded: false, amount: 0 };
      }
      await db.payment.upsert({
        where: { idempotencyKey: input.refundKey },
        create: {
          orderId: input.orderId,
          kind: 'REFUND',
          idempotencyKey: input.refundKey,
          amount: result.amount,
          currency: result.currency,
          status: 'SUCCEEDED',
          providerRef: result.refundId,
          attempts: 1,
        },
        update: {},
      });
      return { refunded: true, amount: result.amount };
    },

    /** Checkout (and each renewal): a hold on the card for amount, which the provider lets lapse at expiresAt. */
    async authorisePayment(input: AuthorisePaymentInput): Promise<AuthorisePaymentResult> {
      checkLines(input.lines, input.amount);
      const row = await begin(db, { orderId: input.orderId, kind: 'AUTHORISATION', idempotencyKey: input.idempotencyKey, amount: input.amount, currency: input.currency, lines: input.lines, parentKey: input.renews });
      const answer = (providerRef: string, expiresAt: Date) => ({
        authorisationKey: input.idempotencyKey,
        providerRef,
        amount: row.amount,
        expiresAt: expiresAt.toISOString(),
        validForMs: Math.max(0, expiresAt.getTime() - Date.now()),
      });
      if (row.status === 'SUCCEEDED' && row.providerRef && row.expiresAt) return answer(row.providerRef, row.expiresAt);

      let result;
      try {
        result = await heartbeating(() => gateway.authorise({ idempotencyKey: input.idempotencyKey, amount: input.amount, currency: input.currency, token: input.token, renews: input.renews }));
      } catch (err) {
        if (err instanceof ChargeVoidedError) return refused(db, row, ErrorCodes.PAYMENT_VOIDED, 'voided', err.message);
        throw err; // transient: Temporal retries with backoff
      }
      if (result.status === 'declined') return refused(db, row, ErrorCodes.PAYMENT_DECLINED, result.reason, `payment declined: ${result.reason}`);
      await succeeded(db, row, { providerRef: result.authorisationId, expiresAt: result.expiresAt });
      return answer(result.authorisationId, result.expiresAt);
    },

    /** A shipment's share of an authorisation, taken as it is handed over. */
    async capturePayment(input: CapturePaymentInput): Promise<{ captureKey: string; providerRef: string; amount: number }> {
      checkLines(input.lines, input.amount);
      const row = await begin(db, { orderId: input.orderId, kind: 'CAPTURE', idempotencyKey: input.idempotencyKey, amount: input.amount, currency: input.currency, lines: input.lines, parentKey: input.authorisationKey, reference: input.reference });
      if (row.status === 'SUCCEEDED' && row.providerRef) return { captureKey: input.idempotencyKey, providerRef: row.providerRef, amount: row.amount };

      const result = await heartbeating(() => gateway.capture({ authorisationKey: input.authorisationKey, idempotencyKey: input.idempotencyKey, amount: input.amount }));
      if (result.status === 'refused') {
        const code = result.reason === 'authorisation_expired' ? ErrorCodes.AUTHORISATION_EXPIRED : ErrorCodes.CAPTURE_REFUSED;
        return refused(db, row, code, result.reason, `capture of ${input.amount} refused: ${result.reason}`);
      }
      await succeeded(db, row, { providerRef: result.captureId });
      return { captureKey: input.idempotencyKey, providerRef: result.captureId, amount: result.amount };
    },

    /**
     * Gives back what a cancelled shipment (or the rest of an order, or a
     * renewed authorisation) no longer needs. Never refused: the provider
     * voids what is left, up to the amount asked, and our row records what it
     * voided, per line. With no authorisation yet, the key is made void, so a
     * late authorise with it is refused (PAYMENT_VOIDED).
     */
    async voidPayment(input: VoidPaymentInput): Promise<{ voided: number }> {
      const remainder = await uncaptured(db, input.authorisationKey);
      const asked = input.lines ?? (input.amount === undefined ? remainder : allocate(input.amount, remainder));
      const amount = input.amount ?? sum(asked);
      checkLines(asked, amount);
      const row = await begin(db, { orderId: input.orderId, kind: 'VOID', idempotencyKey: input.idempotencyKey, amount, currency: input.currency, lines: asked, parentKey: input.authorisationKey, reference: input.reference });
      if (row.status === 'SUCCEEDED') return { voided: row.amount };

      const wholeRest = input.amount === undefined && input.lines === undefined;
      const result = await heartbeating(() => gateway.void({ authorisationKey: input.authorisationKey, idempotencyKey: input.idempotencyKey, amount: wholeRest ? undefined : amount }));
      await settleAuthorisation(db, input.authorisationKey, result.authorisation);
      // the provider had another amount left than our books said (a capture or the authorisation in flight meanwhile): put it on the lines that have it now
      const now = result.amount === amount ? [] : await uncaptured(db, input.authorisationKey);
      const lines = result.amount === amount ? asked : allocate(result.amount, clip(asked, now), asked, now);
      await succeeded(db, row, { providerRef: result.voidId, amount: result.amount, lines });
      return { voided: result.amount };
    },

    /** A return's partial refund of one capture (one shipment's lines). */
    async refundCapture(input: RefundCaptureInput): Promise<{ refundKey: string; providerRef: string; amount: number }> {
      checkLines(input.lines, input.amount);
      const row = await begin(db, { orderId: input.orderId, kind: 'REFUND', idempotencyKey: input.idempotencyKey, amount: input.amount, currency: input.currency, lines: input.lines, parentKey: input.captureKey, reference: input.reference });
      if (row.status === 'SUCCEEDED' && row.providerRef) return { refundKey: input.idempotencyKey, providerRef: row.providerRef, amount: row.amount };

      const result = await heartbeating(() => gateway.refundCapture({ captureKey: input.captureKey, idempotencyKey: input.idempotencyKey, amount: input.amount }));
      if (result.status === 'refused') return refused(db, row, ErrorCodes.REFUND_REFUSED, result.reason, `refund of ${input.amount} refused: ${result.reason}`);
      await succeeded(db, row, { providerRef: result.refundId });
      return { refundKey: input.idempotencyKey, providerRef: result.refundId, amount: result.amount };
    },
  };
}
