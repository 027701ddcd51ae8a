import { randomUUID } from 'node:crypto';
import type { Db, Prisma } from '../../prisma/client';
import type { DeclineReason } from '../../domain/errors';
import { AuthorisationLifetimes, declineForToken, isKnownToken, TestTokens } from '../../domain/payment';
import type { WorkerConfig } from '../../platform/config';

export interface ChargeRequest {
  idempotencyKey: string;
  amount: number;
  currency: string;
  token: string;
}
export type ChargeResult = { status: 'succeeded'; chargeId: string } | { status: 'declined'; reason: DeclineReason };

export interface RefundRequest {
  chargeKey: string;
  idempotencyKey: string;
}
export type RefundResult =
  | { status: 'refunded'; refundId: string; amount: number; currency: string }
  /** no charge existed: the charge key is now void and a late charge with it is refused */
  | { status: 'voided' }
  /** the charge was declined or voided: nothing to give back */
  | { status: 'nothing_to_refund' };

export interface AuthoriseRequest {
  idempotencyKey: string;
  amount: number;
  currency: string;
  token: string;
  /** the key of the authorisation this one renews (the uncaptured remainder authorised again) */
  renews?: string;
}
export type AuthoriseResult =
  | { status: 'authorised'; authorisationId: string; amount: number; expiresAt: Date }
  | { status: 'declined'; reason: DeclineReason };

/** Why the provider would not move money it was asked to move (a capture or a partial refund). */
export type RefusalReason =
  /** captures + voids would exceed what was authorised */
  | 'exceeds_authorisation'
  /** the authorisation's hold has lapsed */
  | 'authorisation_expired'
  /** refunds would exceed what was captured */
  | 'exceeds_capture'
  /** the issuer said no (tok_captureRefused, tok_refundRefused) */
  | 'issuer_refused'
  /** no authorisation (or capture) has that key: declined, voided before it was made, or never asked for */
  | 'unknown_authorisation'
  | 'unknown_capture'
  /** not a positive whole number of minor units */
  | 'invalid_amount';

export interface CaptureRequest {
  authorisationKey: string;
  idempotencyKey: string;
  amount: number;
}
export type CaptureResult = { status: 'captured'; captureId: string; amount: number } | { status: 'refused'; reason: RefusalReason };

export interface VoidRequest {
  authorisationKey: string;
  idempotencyKey: string;
  /** omitted: whatever is not captured or voided yet; more than that voids only that */
  amount?: number;
}
/** amount 0 when nothing was left, or when no authorisation existed (its key is then void: a later authorise with it is refused) */
export type VoidResult = {
  status: 'voided';
  voidId: string;
  amount: number;
  /** what the void found under the authorisation key: the authorisation granted (its id and expiry), or none (declined, or tombstoned by this void) */
  authorisation?: { id: string; expiresAt: Date | null } | null;
};

export interface CaptureRefundRequest {
  /** a capture's key, or a legacy charge's */
  captureKey: string;
  idempotencyKey: string;
  amount: number;
}
export type CaptureRefundResult = { status: 'refunded'; refundId: string; amount: number } | { status: 'refused'; reason: RefusalReason };

/**
 * What a real card provider would implement. Every call is idempotent by key:
 * the same key answers what it answered the first time. charge/refund are the
 * charge-at-checkout flow; authorise/capture/void/refundCapture the per-shipment one.
 */
export interface PaymentGateway {
  charge(req: ChargeRequest): Promise<ChargeResult>;
  refund(req: RefundRequest): Promise<RefundResult>;
  authorise(req: AuthoriseRequest): Promise<AuthoriseResult>;
  /** a partial capture: several per authorisation, together never more than it (less what was voided) */
  capture(req: CaptureRequest): Promise<CaptureResult>;
  /** gives back (part of) what an authorisation holds and nobody captured */
  void(req: VoidRequest): Promise<VoidResult>;
  /** a partial refund: several per capture, together never more than it */
  refundCapture(req: CaptureRefundRequest): Promise<CaptureRefundResult>;
}

/** The provider could not answer (timeout, 5xx): safe to retry with the same key. */
export class GatewayUnavailableError extends Error {
  override name = 'GatewayUnavailableError';
}
/** The charge (or authorisation) key was voided by a refund (or void) that came first. */
export class ChargeVoidedError extends Error {
  override name = 'ChargeVoidedError';
}

export interface SimulatedGatewayOptions {
  /** added to every call (ms) */
  latencyMs: number;
  /** how long tok_slow takes (ms) */
  slowMs: number;
  /** 0..1: share of otherwise good charges declined as card_declined */
  declineRate: number;
  /** how many times tok_transientFailure fails before it succeeds */
  transientFailures: number;
  /** how long the client waits for an answer before giving up (ms) */
  timeoutMs?: number;
  /** how long an authorisation lasts (ms); default AuthorisationLifetimes.usualMs */
  authLifetimeMs?: number;
  /** ... with tok_authExpiresEarly and tok_reauthDeclined (ms); default AuthorisationLifetimes.shortMs */
  shortAuthLifetimeMs?: number;
  /** a simulated outage until `until` (epoch ms) */
  fault?: { mode: GatewayFault; until: number };
  random?: () => number;
  /** the provider's clock (epoch ms), which decides expiries; default Date.now */
  now?: () => number;
}

/** The simulated provider as the worker's configuration describes it (PAYMENT_* settings). */
export const simulatedGatewayOptions = (config: WorkerConfig): SimulatedGatewayOptions => ({
  latencyMs: config.PAYMENT_LATENCY_MS,
  slowMs: config.PAYMENT_SLOW_MS,
  declineRate: config.PAYMENT_DECLINE_RATE,
  transientFailures: config.PAYMENT_TRANSIENT_FAILURES,
  timeoutMs: config.PAYMENT_TIMEOUT_MS,
  authLifetimeMs: config.PAYMENT_AUTH_LIFETIME_MS,
  shortAuthLifetimeMs: config.PAYMENT_SHORT_AUTH_LIFETIME_MS,
});

/**
 * error: the provider answers 5xx; timeout: no answer within timeoutMs;
 * slow: answers, after slowMs; lost_response: does the work, then the
 * connection drops before the answer arrives (the case idempotency keys exist for).
 */
export type GatewayFault = 'error' | 'timeout' | 'slow' | 'lost_response';

const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/**
 * A card provider simulated in-process, keeping its ledger in the
 * gateway_transactions table, where the idempotency key is unique exactly as
 * a real provider dedupes it. Captures, voids and partial refunds take from a
 * parent (an authorisation, a capture) under a row lock on the root of that
 * tree (the authorisation, or a legacy charge), so concurrent calls never take
 * more than it holds; refusals are booked too (kind REFUSED), so a key answers
 * its refusal again.
 */
export class SimulatedGateway implements PaymentGateway {
  private readonly transientSeen = new Map<string, number>();
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(
    private readonly db: Db,
    private readonly options: SimulatedGatewayOptions,
  ) {
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /** Runs one provider call through the configured outage, if one is on now. */
  private async call<T>(work: () => Promise<T>): Promise<T> {
    const fault = this.options.fault && Date.now() < this.options.fault.until ? this.options.fault.mode : undefined;
    if (fault === 'error') throw new GatewayUnavailableError('gateway answered 503 Service Unavailable (simulated outage)');
    if (fault === 'timeout') {
      await sleep(this.options.timeoutMs ?? 5_000);
      throw new GatewayUnavailableError(`gateway did not answer within ${this.options.timeoutMs ?? 5_000} ms (simulated outage)`);
    }
    if (fault === 'slow') await sleep(this.options.slowMs);
    const result = await work();
    if (fault === 'lost_response') throw new GatewayUnavailableError('connection reset before the gateway answered (simulated; the call took effect)');
    return result;
  }

  charge(req: ChargeRequest): Promise<ChargeResult> {
    return this.call(() => this.chargeNow(req));
  }

  refund(req: RefundRequest): Promise<RefundResult> {
    return this.call(() => this.refundNow(req));
  }

  authorise(req: AuthoriseRequest): Promise<AuthoriseResult> {
    return this.call(() => this.authoriseNow(req));
  }

  capture(req: CaptureRequest): Promise<CaptureResult> {
    return this.call(() => this.captureNow(req));
  }

  void(req: VoidRequest): Promise<VoidResult> {
    return this.call(() => this.voidNow(req));
  }

  refundCapture(req: CaptureRefundRequest): Promise<CaptureRefundResult> {
    return this.call(() => this.refundCaptureNow(req));
  }

  /** tok_transientFailure, tok_captureTransient: the first calls with a key time out, transientFailures of them. */
  private failTransiently(idempotencyKey: string): void {
    const seen = this.transientSeen.get(idempotencyKey) ?? 0;
    if (seen < this.options.transientFailures) {
      this.transientSeen.set(idempotencyKey, seen + 1);
      throw new GatewayUnavailableError(`gateway timeout (simulated, ${seen + 1}/${this.options.transientFailures})`);
    }
  }

  /** What the card network says to a new charge or authorisation with this token: a decline reason, or nothing. */
  private declineFor(token: string): DeclineReason | undefined {
    const reason = declineForToken[token];
    if (reason) return reason;
    if (!isKnownToken(token)) return 'card_declined';
    return this.random() < this.options.declineRate ? 'card_declined' : undefined;
  }

  private async chargeNow(req: ChargeRequest): Promise<ChargeResult> {
    await sleep(this.options.latencyMs + (req.token === TestTokens.slow ? this.options.slowMs : 0));
    if (req.token === TestTokens.transient) this.failTransiently(req.idempotencyKey);
    const previous = await this.replay(req.idempotencyKey);
    if (previous) return previous;

    const reason = this.declineFor(req.token);
    const id = `${reason ? 'dc' : 'ch'}_${randomUUID()}`;
    const inserted = await this.db.gatewayTransaction.createMany({
      data: [{ id, idempotencyKey: req.idempotencyKey, kind: reason ? 'DECLINE' : 'CHARGE', amount: req.amount, currency: req.currency, declineCode: reason ?? null }],
      skipDuplicates: true,
    });
    if (inserted.count === 0) {
      // a concurrent call with the same key won: answer what it answered
      const raced = await this.replay(req.idempotencyKey);
      if (raced) return raced;
    }
    return reason ? { status: 'declined', reason } : { status: 'succeeded', chargeId: id };
  }

  private async refundNow(req: RefundRequest): Promise<RefundResult> {
    await sleep(this.options.latencyMs);
    const done = await this.db.gatewayTransaction.findUnique({ where: { idempotencyKey: req.idempotencyKey } });
    if (done) return { status: 'refunded', refundId: done.id, amount: done.amount, currency: done.currency };

    let charge = await this.db.gatewayTransaction.findUnique({ where: { idempotencyKey: req.chargeKey } });
    if (!charge) {
      const voided = await this.db.gatewayTransaction.createMany({
        data: [{ id: `vo_${randomUUID()}`, idempotencyKey: req.chargeKey, kind: 'VOID', amount: 0, currency: 'XXX' }],
        skipDuplicates: true,
      });
      if (voided.count === 1) return { status: 'voided' };
      charge = await this.db.gatewayTransaction.findUnique({ where: { idempotencyKey: req.chargeKey } });
    }
    if (!charge || charge.kind !== 'CHARGE') return { status: charge?.kind === 'VOID' ? 'voided' : 'nothing_to_refund' };

    const id = `re_${randomUUID()}`;
    await this.db.gatewayTransaction.createMany({
      data: [{ id, idempotencyKey: req.idempotencyKey, kind: 'REFUND', amount: charge.amount, currency: charge.currency, chargeId: charge.id }],
      skipDuplicates: true,
    });
    const refund = await this.db.gatewayTransaction.findUniqueOrThrow({ where: { idempotencyKey: req.idempotencyKey } });
    return { status: 'refunded', refundId: refund.id, amount: refund.amount, currency: refund.currency };
  }

  private async replay(idempotencyKey: string): Promise<ChargeResult | undefined> {
    const row = await this.db.gatewayTransaction.findUnique({ where: { idempotencyKey } });
    if (!row) return undefined;
    if (row.kind === 'VOID') throw new ChargeVoidedError('the charge was voided before it was made');
    if (row.kind === 'DECLINE') return { status: 'declined', reason: (row.declineCode ?? 'card_declined') as DeclineReason };
    return { status: 'succeeded', chargeId: row.id };
  }

  /**
   * A hold on the card for amount, living the token's lifetime. tok_reauthDeclined
   * declines renewals; a key a void tombstoned first is refused (ChargeVoidedError).
   */
  private async authoriseNow(req: AuthoriseRequest): Promise<AuthoriseResult> {
    await sleep(this.options.latencyMs + (req.token === TestTokens.slow ? this.options.slowMs : 0));
    if (req.token === TestTokens.transient) this.failTransiently(req.idempotencyKey);
    const previous = await this.replayAuthorisation(req.idempotencyKey);
    if (previous) return previous;

    const reason = req.renews && req.token === TestTokens.reauthDeclined ? 'card_declined' : this.declineFor(req.token);
    const short = req.token === TestTokens.authExpiresEarly || req.token === TestTokens.reauthDeclined;
    const lifetime = short ? (this.options.shortAuthLifetimeMs ?? AuthorisationLifetimes.shortMs) : (this.options.authLifetimeMs ?? AuthorisationLifetimes.usualMs);
    const expiresAt = new Date(this.now() + lifetime);
    const id = `${reason ? 'dc' : 'au'}_${randomUUID()}`;
    const inserted = await this.db.gatewayTransaction.createMany({
      data: [
        {
          id,
          idempotencyKey: req.idempotencyKey,
          kind: reason ? 'DECLINE' : 'AUTHORISATION',
          amount: req.amount,
          currency: req.currency,
          declineCode: reason ?? null,
          expiresAt: reason ? null : expiresAt,
          token: req.token,
        },
      ],
      skipDuplicates: true,
    });
    if (inserted.count === 0) {
      const raced = await this.replayAuthorisation(req.idempotencyKey);
      if (raced) return raced;
    }
    return reason ? { status: 'declined', reason } : { status: 'authorised', authorisationId: id, amount: req.amount, expiresAt };
  }

  private async replayAuthorisation(idempotencyKey: string): Promise<AuthoriseResult | undefined> {
    const row = await this.db.gatewayTransaction.findUnique({ where: { idempotencyKey } });
    if (!row) return undefined;
    if (row.kind === 'VOID') throw new ChargeVoidedError('the authorisation was voided before it was made');
    if (row.kind === 'DECLINE') return { status: 'declined', reason: (row.declineCode ?? 'card_declined') as DeclineReason };
    if (row.kind !== 'AUTHORISATION' || !row.expiresAt) throw new Error(`idempotency key ${idempotencyKey} names a ${row.kind}, not an authorisation`);
    return { status: 'authorised', authorisationId: row.id, amount: row.amount, expiresAt: row.expiresAt };
  }

  /** Takes amount from an unexpired authorisation, within what captures and voids left of it. */
  private async captureNow(req: CaptureRequest): Promise<CaptureResult> {
    await sleep(this.options.latencyMs);
    const auth = await this.parent(req.authorisationKey, ['AUTHORISATION']);
    if (auth?.token === TestTokens.captureTransient) this.failTransiently(req.idempotencyKey);
    const result = await this.take(req, 'CAPTURE', auth && { root: auth, parent: auth }, async (tx) => {
      if (!auth) return 'unknown_authorisation';
      if (auth.expiresAt && auth.expiresAt.getTime() <= this.now()) return 'authorisation_expired';
      const taken = await totals(tx, [auth.id]);
      if (auth.token === TestTokens.captureRefused && taken.CAPTURE.count + taken.REFUSED.count === 0) return 'issuer_refused';
      if (taken.CAPTURE.amount + taken.VOID.amount + req.amount > auth.amount) return 'exceeds_authorisation';
      return undefined;
    });
    return result.status === 'taken' ? { status: 'captured', captureId: result.id, amount: result.amount } : result;
  }

  /** Gives back amount (or all that is left) of an authorisation, at any time, even after it expired. */
  private async voidNow(req: VoidRequest): Promise<VoidResult> {
    await sleep(this.options.latencyMs);
    const done = await this.db.gatewayTransaction.findUnique({ where: { idempotencyKey: req.idempotencyKey } });
    if (done) {
      const found = await this.db.gatewayTransaction.findUnique({ where: { idempotencyKey: req.authorisationKey } });
      return { ...voided(done, req.idempotencyKey), authorisation: found?.kind === 'AUTHORISATION' ? { id: found.id, expiresAt: found.expiresAt } : null };
    }

    const auth = await this.authorisationOrTombstone(req.authorisationKey);
    // declined, or voided before it was made: nothing is held, and the key is void already
    if (auth.kind !== 'AUTHORISATION') return { status: 'voided', voidId: auth.id, amount: 0, authorisation: null };
    const found = { id: auth.id, expiresAt: auth.expiresAt };
    if (req.amount !== undefined && !(Number.isInteger(req.amount) && req.amount >= 0)) throw new Error(`void of ${req.amount}: not a whole number of minor units`);
    return this.db.$transaction(
      async (tx) => {
        await lock(tx, auth.id);
        const raced = await tx.gatewayTransaction.findUnique({ where: { idempotencyKey: req.idempotencyKey } });
        if (raced) return { ...voided(raced, req.idempotencyKey), authorisation: found };
        const taken = await totals(tx, [auth.id]);
        const left = auth.amount - taken.CAPTURE.amount - taken.VOID.amount;
        const row = await tx.gatewayTransaction.create({
          data: { id: `vo_${randomUUID()}`, idempotencyKey: req.idempotencyKey, kind: 'VOID', amount: Math.min(req.amount ?? left, left), currency: auth.currency, chargeId: auth.id },
        });
        return { ...voided(row, req.idempotencyKey), authorisation: found };
      },
      TX_OPTIONS,
    );
  }

  /** The authorisation under key, or the tombstone this call leaves there when there is none (a later authorise with the key is refused). */
  private async authorisationOrTombstone(key: string): Promise<GatewayTransaction> {
    const tombstone = { id: `vo_${randomUUID()}`, idempotencyKey: key, kind: 'VOID', amount: 0, currency: 'XXX' };
    await this.db.gatewayTransaction.createMany({ data: [tombstone], skipDuplicates: true });
    return this.db.gatewayTransaction.findUniqueOrThrow({ where: { idempotencyKey: key } });
  }

  /** Gives back amount of a capture (or of a legacy charge), within what earlier refunds left of it. */
  private async refundCaptureNow(req: CaptureRefundRequest): Promise<CaptureRefundResult> {
    await sleep(this.options.latencyMs);
    const capture = await this.parent(req.captureKey, ['CAPTURE', 'CHARGE']);
    const auth = capture?.chargeId ? await this.db.gatewayTransaction.findUnique({ where: { id: capture.chargeId } }) : null;
    const result = await this.take(req, 'REFUND', capture && { root: auth ?? capture, parent: capture }, async (tx) => {
      if (!capture) return 'unknown_capture';
      if (auth?.token === TestTokens.refundRefused) {
        const siblings = await tx.gatewayTransaction.findMany({ where: { chargeId: auth.id, kind: 'CAPTURE' }, select: { id: true } });
        const earlier = await totals(tx, siblings.map((s) => s.id));
        if (earlier.REFUND.count + earlier.REFUSED.count === 0) return 'issuer_refused';
      }
      const refunded = await totals(tx, [capture.id]);
      if (refunded.REFUND.amount + req.amount > capture.amount) return 'exceeds_capture';
      return undefined;
    });
    return result.status === 'taken' ? { status: 'refunded', refundId: result.id, amount: result.amount } : result;
  }

  /** The row under key if it is one of kinds (a declined, voided or unknown parent is none). */
  private async parent(key: string, kinds: string[]): Promise<GatewayTransaction | null> {
    const row = await this.db.gatewayTransaction.findUnique({ where: { idempotencyKey: key } });
    return row && kinds.includes(row.kind) ? row : null;
  }

  /**
   * Books a capture or refund of req.amount from parent, once per key: under a
   * lock on the root's row (every take and void of one authorisation queues
   * there), it answers a key already booked as it did, else books what
   * refuse() allows, or a REFUSED row with the reason.
   */
  private take(
    req: { idempotencyKey: string; amount: number },
    kind: 'CAPTURE' | 'REFUND',
    tree: { root: GatewayTransaction; parent: GatewayTransaction } | null,
    refuse: (tx: Prisma.TransactionClient) => Promise<RefusalReason | undefined>,
  ): Promise<{ status: 'taken'; id: string; amount: number } | { status: 'refused'; reason: RefusalReason }> {
    return this.db.$transaction(
      async (tx) => {
        if (tree) await lock(tx, tree.root.id);
        const reason = (await booked(tx, req.idempotencyKey)) ? undefined : Number.isInteger(req.amount) && req.amount > 0 ? await refuse(tx) : 'invalid_amount';
        await tx.gatewayTransaction.createMany({
          data: [
            {
              id: `${reason ? 'rf' : kind === 'CAPTURE' ? 'cp' : 're'}_${randomUUID()}`,
              idempotencyKey: req.idempotencyKey,
              kind: reason ? 'REFUSED' : kind,
              amount: req.amount,
              currency: tree?.parent.currency ?? 'XXX',
              chargeId: tree?.parent.id ?? null,
              declineCode: reason ?? null,
            },
          ],
          skipDuplicates: true, // booked already (by an earlier call, or a racing one without a parent to lock): keep the first
        });
        const row = await tx.gatewayTransaction.findUniqueOrThrow({ where: { idempotencyKey: req.idempotencyKey } });
        if (row.kind === 'REFUSED') return { status: 'refused' as const, reason: row.declineCode as RefusalReason };
        if (row.kind !== kind) throw new Error(`idempotency key ${req.idempotencyKey} names a ${row.kind}, not a ${kind}`);
        return { status: 'taken' as const, id: row.id, amount: row.amount };
      },
      TX_OPTIONS,
    );
  }
}

type GatewayTransaction = NonNullable<Awaited<ReturnType<Db['gatewayTransaction']['findUnique']>>>;

/** Room for a queue of calls on one authorisation's lock (a real provider would answer 409 and let the client retry). */
const TX_OPTIONS = { maxWait: 10_000, timeout: 20_000 };

/** Holds the row until the transaction ends: the serialisation point of everything taken from it. */
const lock = (tx: Prisma.TransactionClient, id: string) => tx.$queryRaw`SELECT id FROM gateway_transactions WHERE id = ${id} FOR UPDATE`;

const booked = async (tx: Prisma.TransactionClient, idempotencyKey: string) => (await tx.gatewayTransaction.count({ where: { idempotencyKey } })) > 0;

/** Amount and count per kind of what was booked against these parents. */
async function totals(tx: Prisma.TransactionClient, parentIds: string[]): Promise<Record<'CAPTURE' | 'VOID' | 'REFUND' | 'REFUSED', { amount: number; count: number }>> {
  const rows = parentIds.length
    ? await tx.gatewayTransaction.groupBy({ by: ['kind'], where: { chargeId: { in: parentIds } }, _sum: { amount: true }, _count: { _all: true } })
    : [];
  const of = (kind: string) => {
    const row = rows.find((r) => r.kind === kind);
    return { amount: row?._sum.amount ?? 0, count: row?._count._all ?? 0 };
  };
  return { CAPTURE: of('CAPTURE'), VOID: of('VOID'), REFUND: of('REFUND'), REFUSED: of('REFUSED') };
}

function voided(row: GatewayTransaction, idempotencyKey: string): VoidResult {
  if (row.kind !== 'VOID') throw new Error(`idempotency key ${idempotencyKey} names a ${row.kind}, not a VOID`);
  return { status: 'voided', voidId: row.id, amount: row.amount };
}
