import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../../prisma/client';
import { ErrorCodes } from '../../domain/errors';
import { ChargeVoidedError, type PaymentGateway } from './gateway';

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
  };
}
