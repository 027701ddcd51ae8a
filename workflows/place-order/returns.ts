import { ApplicationFailure, condition, patched, setHandler } from '@temporalio/workflow';
import { ErrorCodes } from '../../domain/errors';
import { chargeKey, requestReturnUpdate, returnReceivedSignal, returnRefundKey } from '../../temporal-config/place-order';
import { inventory, payments } from './activities';
import { acceptLineReturns } from './line-returns';
import { Patches } from './patches';
import { moveTo, now, record, step, type OrderRun } from './run';

/**
 * Return requests may arrive at any time, and so may the warehouse's receipt;
 * they are refused or queued here and acted on by takeReturn().
 */
export function acceptReturns(run: OrderRun): void {
  if (run.perShipment) {
    acceptLineReturns(run);
    return;
  }
  const { state } = run;
  setHandler(
    requestReturnUpdate,
    async (reason) => {
      run.returnReason = reason.trim() || 'returned by customer';
      // Answer once RETURN_REQUESTED is in PostgreSQL, so the caller (and the
      // warehouse after it) reads the same. Runs that took a return before the
      // refund-on-receipt rule answered at once.
      if (patched(Patches.refundOnReceipt)) await condition(() => state.status !== 'DELIVERED');
      return state;
    },
    {
      validator: (_reason: string) => {
        if (run.returnReason !== undefined) throw ApplicationFailure.nonRetryable('a return is already under way', ErrorCodes.ORDER_NOT_RETURNABLE);
        if (state.status !== 'DELIVERED') {
          throw ApplicationFailure.nonRetryable(`order is ${state.status}; only a delivered order can be returned`, ErrorCodes.ORDER_NOT_RETURNABLE);
        }
        if (!run.returnWindowOpen || Date.now() > Date.parse(state.returnDeadline ?? '')) {
          throw ApplicationFailure.nonRetryable(`the return window closed at ${state.returnDeadline}`, ErrorCodes.RETURN_WINDOW_CLOSED);
        }
      },
    },
  );

  // The warehouse has the goods back: acted on only while a return awaits them.
  setHandler(returnReceivedSignal, (note) => {
    const trimmed = (typeof note === 'string' ? note : note?.note)?.trim() || undefined;
    if (run.awaitingReturn && !run.returnReceipt) run.returnReceipt = { note: trimmed, at: now() };
    else record(run, 'RETURN_RECEIPT_IGNORED', { note: trimmed, reason: run.returnReceipt ? 'already received' : `order is ${state.status}; no return awaits the goods` });
  });
}

/** Opens the return window as the order is delivered. */
export function openReturnWindow(run: OrderRun): void {
  run.state.returnDeadline = new Date(Date.now() + run.timings.returnWindowMs).toISOString();
  run.returnWindowOpen = true;
}

/** Waits out the return window for a return request, then takes the return. */
export async function takeReturn(run: OrderRun): Promise<void> {
  const { input, state } = run;
  await condition(() => run.returnReason !== undefined, Math.max(1, Date.parse(state.returnDeadline ?? '') - Date.now()));
  run.returnWindowOpen = false;
  const reason = run.returnReason;
  if (reason !== undefined && patched(Patches.refundOnReceipt)) {
    await returnOnReceipt(run, reason);
  } else if (reason !== undefined) {
    // runs that took the return before the refund-on-receipt rule: refund and restock at once
    record(run, 'RETURN_REQUESTED', { reason });
    const restock = await inventory.restockReturn({ orderId: input.orderId });
    const refund = await payments.refundPayment({ orderId: input.orderId, chargeKey: chargeKey(run.workflowId), refundKey: returnRefundKey(run.workflowId) });
    step(run, 'RETURNED', { restocked: restock.restocked, refunded: refund.amount, currency: input.currency });
    await moveTo(run, 'RETURNED', { notify: 'ORDER_REFUNDED' });
  }
}

/**
 * RETURN_REQUESTED until the warehouse records the goods as received
 * (returnReceived): then restock, refund under the return's own key, RETURNED.
 * Nothing received within the return shipping time: the return lapses, the
 * order is DELIVERED again and the charge stands.
 */
async function returnOnReceipt(run: OrderRun, reason: string): Promise<void> {
  const { input, state } = run;
  const requestedAt = now();
  const receiveBy = new Date(Date.now() + run.timings.returnShippingMs).toISOString();
  state.returnRequest = { reason, requestedAt, receiveBy };
  run.awaitingReturn = true;
  record(run, 'RETURN_REQUESTED', { reason, receiveBy });
  await moveTo(run, 'RETURN_REQUESTED');

  await condition(() => run.returnReceipt !== undefined, Math.max(1, Date.parse(receiveBy) - Date.now()));
  run.awaitingReturn = false;
  const receipt = run.returnReceipt;
  if (!receipt) {
    state.returnRequest.lapsedAt = now();
    record(run, 'RETURN_LAPSED', { reason, receiveBy });
    // the order was delivered when it was; the lapse has its own time in returnRequest
    const deliveredAt = state.timestamps.DELIVERED;
    await moveTo(run, 'DELIVERED');
    state.timestamps.DELIVERED = deliveredAt;
    return;
  }
  state.returnRequest.receivedAt = receipt.at;
  state.returnRequest.note = receipt.note;
  record(run, 'RETURN_RECEIVED', receipt.note ? { note: receipt.note } : undefined);
  const restock = await inventory.restockReturn({ orderId: input.orderId });
  const refund = await payments.refundPayment({ orderId: input.orderId, chargeKey: chargeKey(run.workflowId), refundKey: returnRefundKey(run.workflowId) });
  step(run, 'RETURNED', { restocked: restock.restocked, refunded: refund.amount, currency: input.currency });
  await moveTo(run, 'RETURNED', { notify: 'ORDER_REFUNDED' });
}
