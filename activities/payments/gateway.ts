import { randomUUID } from 'node:crypto';
import type { Db } from '../../prisma/client';
import type { DeclineReason } from '../../domain/errors';
import { declineForToken, TestTokens } from '../../domain/payment';
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

/** What a real card provider would implement. Both calls are idempotent by key. */
export interface PaymentGateway {
  charge(req: ChargeRequest): Promise<ChargeResult>;
  refund(req: RefundRequest): Promise<RefundResult>;
}

/** The provider could not answer (timeout, 5xx): safe to retry with the same key. */
export class GatewayUnavailableError extends Error {
  override name = 'GatewayUnavailableError';
}
/** The charge key was voided by a refund that came first. */
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
  /** a simulated outage until `until` (epoch ms) */
  fault?: { mode: GatewayFault; until: number };
  random?: () => number;
}

/** The simulated provider as the worker's configuration describes it (PAYMENT_* settings). */
export const simulatedGatewayOptions = (config: WorkerConfig): SimulatedGatewayOptions => ({
  latencyMs: config.PAYMENT_LATENCY_MS,
  slowMs: config.PAYMENT_SLOW_MS,
  declineRate: config.PAYMENT_DECLINE_RATE,
  transientFailures: config.PAYMENT_TRANSIENT_FAILURES,
  timeoutMs: config.PAYMENT_TIMEOUT_MS,
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
 * a real provider dedupes it.
 */
export class SimulatedGateway implements PaymentGateway {
  private readonly transientSeen = new Map<string, number>();
  private readonly random: () => number;

  constructor(
    private readonly db: Db,
    private readonly options: SimulatedGatewayOptions,
  ) {
    this.random = options.random ?? Math.random;
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

  private async chargeNow(req: ChargeRequest): Promise<ChargeResult> {
    await sleep(this.options.latencyMs + (req.token === TestTokens.slow ? this.options.slowMs : 0));
    if (req.token === TestTokens.transient) {
      const seen = this.transientSeen.get(req.idempotencyKey) ?? 0;
      if (seen < this.options.transientFailures) {
        this.transientSeen.set(req.idempotencyKey, seen + 1);
        throw new GatewayUnavailableError(`gateway timeout (simulated, ${seen + 1}/${this.options.transientFailures})`);
      }
    }
    const previous = await this.replay(req.idempotencyKey);
    if (previous) return previous;

    const reason: DeclineReason | undefined =
      declineForToken[req.token] ??
      (req.token === TestTokens.success || req.token === TestTokens.transient || req.token === TestTokens.slow
        ? this.random() < this.options.declineRate
          ? 'card_declined'
          : undefined
        : 'card_declined');
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
}
