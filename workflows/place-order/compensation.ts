import { CancellationScope, condition, log, setHandler } from '@temporalio/workflow';
import { ErrorCodes } from '../../domain/errors';
import { retryCompensationsSignal } from '../../temporal-config/place-order';
import { rootMessage, type Outcome } from './failures';
import { count, moveTo, record, type OrderRun, type RegisteredCompensation } from './run';

/** Records why the saga stopped; answers the outcome the order ends with. */
export function startUnwinding(run: OrderRun, failure: Outcome): Outcome {
  const { state } = run;
  // A confirmed order cannot become FAILED (domain/order-status.ts): whatever
  // stops its fulfilment (say planShipments finds a product gone) cancels it,
  // with the same compensations and a refund; the failure still says why.
  const outcome: Outcome = failure.status === 'FAILED' && state.status !== 'PENDING' ? { ...failure, status: 'CANCELLED' } : failure;
  state.failure = { code: outcome.code, message: outcome.message, details: outcome.details };
  record(run, 'SAGA_FAILED', { code: outcome.code, message: outcome.message, details: outcome.details });
  const declineReason = outcome.details?.reason; // a DeclineReason (activities/payments)
  if (outcome.code === ErrorCodes.PAYMENT_DECLINED) count('paymentDeclined', { reason: typeof declineReason === 'string' ? declineReason : 'unknown' });
  if (outcome.code === ErrorCodes.RESERVATION_EXPIRED) count('reservationExpired');
  log.info('order saga unwinding', { orderId: run.input.orderId, code: outcome.code, compensations: run.compensations.length });
  return outcome;
}

/**
 * Runs the registered compensations in reverse order, in a scope nothing can
 * cancel, each with bounded retries; then the order is CANCELLED or FAILED.
 */
export async function compensate(run: OrderRun, outcome: Outcome): Promise<void> {
  const { state, compensations } = run;
  await CancellationScope.nonCancellable(async () => {
    let todo = [...compensations].reverse();
    for (;;) {
      const failed: RegisteredCompensation[] = [];
      for (const c of todo) {
        try {
          const result = await c.run();
          state.compensations.push({ name: c.name, outcome: 'done' });
          record(run, 'COMPENSATED', { compensation: c.name, result: result as Record<string, unknown> });
        } catch (err) {
          const message = rootMessage(err);
          state.compensations.push({ name: c.name, outcome: 'failed', error: message });
          record(run, 'COMPENSATION_FAILED', { compensation: c.name, error: message });
          failed.push(c);
        }
      }
      if (failed.length === 0) break;
      // Visible, never swallowed: an operator fixes the cause and signals retryCompensations.
      count('needsAttention');
      log.warn('compensation failed: the order needs an operator', { orderId: run.input.orderId, failed: failed.map((c) => c.name) });
      await moveTo(run, 'NEEDS_ATTENTION', {
        failure: {
          code: ErrorCodes.COMPENSATION_FAILED,
          message: `compensation failed: ${failed.map((c) => c.name).join(', ')}`,
          details: { original: state.failure },
        },
      });
      let retry = false;
      setHandler(retryCompensationsSignal, () => {
        retry = true;
      });
      await condition(() => retry);
      todo = failed;
    }
    await moveTo(run, outcome.status, {
      failure: state.failure,
      cancelReason: outcome.status === 'CANCELLED' ? run.cancelReason : undefined,
      notify: outcome.status === 'CANCELLED' ? 'ORDER_CANCELLED' : outcome.code === ErrorCodes.PAYMENT_DECLINED ? 'PAYMENT_FAILED' : 'ORDER_FAILED',
    });
    count(outcome.status === 'CANCELLED' ? 'cancelled' : 'failed');
    if (compensations.length > 0) count('compensated');
  });
}
