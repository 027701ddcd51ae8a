import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import { cancelRefusal } from '../../domain/order-status';
import { ErrorCodes } from '../../domain/errors';
import { cancelOrderSignal, cancelShipmentSignal, cancelShipmentsUpdate, requestCancelUpdate, type ShipmentState } from '../../temporal-config/place-order';
import { cancellable } from './per-shipment';
import { record, type OrderRun } from './run';

/**
 * Takes cancels (the signal, and the update that answers whether it was
 * accepted) until the hand-over to the carrier. An accepted cancel cancels the
 * saga's steps; the main line then unwinds.
 */
export function acceptCancellations(run: OrderRun): void {
  if (run.perShipment) acceptShipmentCancellations(run);
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
  // per-shipment orders past their first hand-over: the cancel takes what is still in the warehouse
  if (run.perShipment && run.handingOver) {
    cancelShipments(run, cancellable(run), reason);
    return;
  }
  if (run.cancelReason !== undefined) return; // already cancelling: a second request changes nothing
  run.cancelReason = reason?.trim() || 'cancelled on request';
  run.state.cancellation = { requested: true, reason: run.cancelReason };
  run.steps.cancel();
}

// Per-shipment orders, once their shipments are planned: a cancel is taken while a shipment is
// still in the warehouse (even while the order waits for an operator about a payment step).
const refusal = (run: OrderRun): string | undefined =>
  run.perShipment && run.state.shipments && !run.failing
    ? cancellable(run).length > 0
      ? undefined
      : 'every shipment is with the carrier, being handed over, or cancelled; nothing is left to cancel'
    : cancelRefusal({
    status: run.state.status,
    handingOver: run.handingOver,
    failing: run.failing,
    failureCode: run.state.failure?.code,
    cancelling: run.cancelReason !== undefined,
  });

/**
 * Per-shipment orders: cancel chosen shipments still in the warehouse. Before
 * any hand-over, cancelling every shipment is a cancel of the whole order.
 */
function acceptShipmentCancellations(run: OrderRun): void {
  const chosen = (trackingNumbers: string[] | undefined) => {
    const open = cancellable(run);
    return trackingNumbers?.length ? open.filter((s) => trackingNumbers.includes(s.trackingNumber)) : open;
  };
  setHandler(cancelShipmentSignal, (trackingNumber, reason) => {
    const targets = chosen([trackingNumber]);
    if (targets.length === 0) {
      record(run, 'SHIPMENT_CANCEL_REFUSED', { trackingNumber, reason: 'not in the warehouse any more, or unknown' });
      return;
    }
    takeShipments(run, targets, reason);
  });
  setHandler(
    cancelShipmentsUpdate,
    async (request) => {
      if (!run.state.shipments) {
        // not planned yet: every shipment to come, i.e. the whole order
        cancel(run, request.reason);
        await condition(() => run.state.status === 'CANCELLED');
        return run.state;
      }
      const targets = chosen(request.trackingNumbers);
      takeShipments(run, targets, request.reason);
      await condition(() => run.state.status === 'CANCELLED' || targets.every((s) => s.status === 'CANCELLED'));
      return run.state;
    },
    {
      validator: (request: { trackingNumbers?: string[]; reason?: string } | undefined) => {
        const wanted: string[] = request?.trackingNumbers ?? [];
        if (!run.state.shipments) {
          const refused = wanted.length > 0 ? `order is ${run.state.status}; its shipments are not planned yet` : refusal(run);
          if (refused) throw ApplicationFailure.nonRetryable(refused, ErrorCodes.SHIPMENT_NOT_CANCELLABLE);
          return;
        }
        const targets = chosen(wanted);
        const missing = wanted.filter((t) => !targets.some((s) => s.trackingNumber === t));
        if (targets.length === 0 || missing.length > 0) {
          throw ApplicationFailure.nonRetryable(
            missing.length > 0 ? `cannot cancel ${missing.join(', ')}: not in the warehouse any more, or unknown` : 'no shipment is left to cancel',
            ErrorCodes.SHIPMENT_NOT_CANCELLABLE,
          );
        }
        if (run.failing && run.cancelReason === undefined) throw ApplicationFailure.nonRetryable(`order is already failing (${run.state.failure?.code ?? 'unknown'})`, ErrorCodes.SHIPMENT_NOT_CANCELLABLE);
      },
    },
  );
}

/** Every shipment still to go, before any hand-over: the whole order; otherwise just those. */
function takeShipments(run: OrderRun, targets: ShipmentState[], reason: string | undefined): void {
  const live = (run.state.shipments ?? []).filter((s) => s.status !== 'CANCELLED');
  if (!run.handingOver && targets.length === live.length) {
    cancel(run, reason);
    return;
  }
  cancelShipments(run, targets, reason);
}

function cancelShipments(run: OrderRun, targets: ShipmentState[], reason: string | undefined): void {
  const why = reason?.trim() || 'cancelled on request';
  for (const s of targets) run.perShipment!.cancelRequested.set(s.trackingNumber, why);
  run.state.cancellation = { requested: true, reason: why };
  record(run, 'SHIPMENTS_CANCEL_REQUESTED', { trackingNumbers: targets.map((s) => s.trackingNumber), reason: why });
}
