import { condition, log, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { CustomerIdKey, OrderStatusKey, awaitOutcomeUpdate, getStatusQuery, type OrderState, type PlaceOrderInput } from '../../temporal-config/place-order';
import { acceptCancellations } from './cancellation';
import { compensate, startUnwinding } from './compensation';
import { classify, type Outcome } from './failures';
import { acceptDeliveries, deliver } from './fulfilment';
import { takeLineReturns } from './line-returns';
import { acceptPaymentRetries } from './per-shipment';
import { acceptReturns, takeReturn } from './returns';
import { count, settleNotifications, startRun } from './run';
import { endIfAnotherSagasOrder, runSaga, stampsPlacement } from './saga';

/**
 * One order's whole life. The saga (saga.ts) reserves stock, charges the
 * payment, confirms the order and hands the parcels to the carrier. On failure
 * or cancellation the compensations run in reverse order (compensation.ts).
 * Handing the parcels to the carrier is the point of no return; then the order
 * is tracked to delivery (fulfilment.ts) and may be returned within the return
 * window (returns.ts).
 *
 * Replay: the commands this issues, their order and the patched() calls
 * (patches.ts) are in every recorded history (tests/workflows/replay.test.ts).
 * Handlers are registered before the first activity is scheduled, in this order.
 */
export async function placeOrder(input: PlaceOrderInput): Promise<OrderState> {
  const run = startRun(input);
  const { state } = run;

  // The API starts the saga with both attributes set; a start without them (a test, the CLI) gets them here.
  // (Histories from before local order writes, and sagas run with ORDER_WRITES=task-queue, always upsert them.)
  const started = workflowInfo().typedSearchAttributes;
  const attributesSetAtStart = started.get(OrderStatusKey) === state.status && started.get(CustomerIdKey) === input.customerId;
  if (!run.localWrites || !attributesSetAtStart) {
    upsertSearchAttributes([
      { key: OrderStatusKey, value: state.status },
      { key: CustomerIdKey, value: input.customerId },
    ]);
  }
  count('placed');
  log.info('order placed', { orderId: input.orderId, items: input.items.length, totalAmount: input.totalAmount, currency: input.currency });

  setHandler(getStatusQuery, () => state);
  setHandler(awaitOutcomeUpdate, async () => {
    await condition(() => state.status !== 'PENDING');
    return state;
  });
  acceptCancellations(run);
  acceptDeliveries(run);
  acceptReturns(run);
  acceptPaymentRetries(run);

  const stampedPlacement = stampsPlacement();
  let outcome: Outcome | undefined;
  try {
    await run.steps.run(() => runSaga(run, stampedPlacement));
  } catch (err) {
    run.failing = true;
    const failure = classify(err, run.cancelReason);
    if (endIfAnotherSagasOrder(run, stampedPlacement, failure)) return state;
    outcome = startUnwinding(run, failure);
  }

  if (outcome) {
    await compensate(run, outcome);
  } else if (run.perShipment) {
    // every shipment delivered or cancelled (per-shipment.ts); returns of some lines may follow
    if (state.status !== 'CANCELLED') await takeLineReturns(run);
  } else {
    await deliver(run);
    await takeReturn(run);
  }
  await settleNotifications(run);
  return state;
}
