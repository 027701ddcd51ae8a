import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { cancelRefusal } from '../../domain/order-status';
import { ErrorCodes } from '../../domain/errors';
import { cancelOrderSignal, requestCancelUpdate } from '../../temporal-config/place-order';
import type { OrderRun } from './run';

/**
 * Takes cancels (the signal, and the update that answers whether it was
 * accepted) until the hand-over to the carrier. An accepted cancel cancels the
 * saga's steps; the main line then unwinds.
 */
export function acceptCancellations(run: OrderRun): void {
  setHandler(cancelOrderSignal, (reason) => cancel(run, reason));
  setHandler(
    requestCancelUpdate,
    (reason) => {
      cancel(run, reason);
      return run.state;
    },
    {
      validator: (_reason: string) => {
        const refused = refusal(run);
        if (refused) throw ApplicationFailure.nonRetryable(refused, ErrorCodes.ORDER_NOT_CANCELLABLE);
      },
    },
  );
}

function cancel(run: OrderRun, reason: string | undefined): void {
  const refused = refusal(run);
  if (refused) {
    run.state.cancellation = { requested: true, reason, refused };
    return;
  }
  if (run.cancelReason !== undefined) return; // already cancelling: a second request changes nothing
  run.cancelReason = reason?.trim() || 'cancelled on request';
  run.state.cancellation = { requested: true, reason: run.cancelReason };
  run.steps.cancel();
}

const refusal = (run: OrderRun): string | undefined =>
  cancelRefusal({
    status: run.state.status,
    handingOver: run.handingOver,
    failing: run.failing,
    failureCode: run.state.failure?.code,
    cancelling: run.cancelReason !== undefined,
  });
