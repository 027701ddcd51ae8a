import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  metricMeter,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { createInventoryActivities } from '../activities/inventory';
import type { createOrdersActivities } from '../activities/orders';
import type { createPaymentsActivities } from '../activities/payments';
import type { createShippingActivities } from '../activities/shipping';
import type { createNotificationsActivities } from '../activities/notifications';
import type { NotificationKind } from '../domain/shipping';
import type { OrderStatus } from '../domain/order-status';
import { ErrorCodes } from '../domain/errors';
import { OrderCounters, orderCounterHelp } from './metrics';
import { CustomerIdKey, OrderStatusKey, PlaceOrderDefaults, TaskQueues, awaitOutcomeUpdate, daysToMs, notificationKey, cancelOrderSignal, chargeKey, getStatusQuery, markDeliveredSignal, refundKey, requestCancelUpdate, requestReturnUpdate, retryCompensationsSignal, returnReceivedSignal, returnRefundKey, type Compensation, type OrderState, type PlaceOrderInput, type SagaStep, type ShipmentState, type TimelineEvent } from '../temporal-config/place-order';

type InventoryActivities = ReturnType<typeof createInventoryActivities>;
type PaymentsActivities = ReturnType<typeof createPaymentsActivities>;
type OrdersActivities = ReturnType<typeof createOrdersActivities>;
type ShippingActivities = ReturnType<typeof createShippingActivities>;
type NotificationsActivities = ReturnType<typeof createNotificationsActivities>;

const DAY_MS = 24 * 60 * 60_000;
const DEFAULT_RESERVATION_TTL_MS = PlaceOrderDefaults.reservationTtlMs;
const DEFAULT_HANDLING_MS = PlaceOrderDefaults.handlingMs;
const DEFAULT_DELIVERY_GRACE_MS = daysToMs(PlaceOrderDefaults.deliveryGraceDays);
const DEFAULT_RETURN_WINDOW_MS = daysToMs(PlaceOrderDefaults.returnWindowDays);
const DEFAULT_RETURN_SHIPPING_MS = daysToMs(PlaceOrderDefaults.returnShippingDays);
/** Returns are refunded and restocked when the goods are received, not when asked for (runs without it refund at once). */
export const REFUND_ON_RECEIPT_PATCH = 'return-refund-on-receipt';

// Steps retry transient faults (lost DB connection, gateway 5xx) with backoff;
// business failures are non-retryable ApplicationFailures and stop at once.
const stepOptions: ActivityOptions = {
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
};
// Compensations retry for a bounded time; what still fails leaves the order in
// NEEDS_ATTENTION for an operator instead of retrying silently forever.
const compensationOptions: ActivityOptions = {
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
};

const inventory = proxyActivities<InventoryActivities>({ ...stepOptions, taskQueue: TaskQueues.inventory });
const payments = proxyActivities<PaymentsActivities>({
  ...stepOptions,
  taskQueue: TaskQueues.payments,
  // the slow test card and real gateways may take a while to answer; the
  // heartbeat lets a crashed worker's charge be retried within seconds
  startToCloseTimeout: '45s',
  heartbeatTimeout: '10s',
});
const orders = proxyActivities<OrdersActivities>({ ...stepOptions, taskQueue: TaskQueues.orders });
// The orders context's own writes, run by the worker that runs this workflow: no
// activity task, no dispatch, no started/completed transitions of their own; the
// result is recorded with the next workflow task (the benchmark's largest saving).
const ordersLocal = proxyLocalActivities<OrdersActivities>({ startToCloseTimeout: stepOptions.startToCloseTimeout, retry: stepOptions.retry });
const inventoryCompensation = proxyActivities<InventoryActivities>({ ...compensationOptions, taskQueue: TaskQueues.inventory });
const paymentsCompensation = proxyActivities<PaymentsActivities>({ ...compensationOptions, taskQueue: TaskQueues.payments });
const shipping = proxyActivities<ShippingActivities>({ ...stepOptions, taskQueue: TaskQueues.shipping });
const shippingCompensation = proxyActivities<ShippingActivities>({ ...compensationOptions, taskQueue: TaskQueues.shipping });
// A provider that is down for an hour still gets the message out (attempts
// spread over ~1.5 h); after that it is recorded as FAILED. Never blocks the order.
const notifications = proxyActivities<NotificationsActivities>({
  taskQueue: TaskQueues.notifications,
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1m', backoffCoefficient: 2, maximumInterval: '30m', maximumAttempts: 8 },
});
const notificationRecords = proxyActivities<NotificationsActivities>({ ...compensationOptions, taskQueue: TaskQueues.notifications });

/**
 * Adds one to a business counter (workflows/metrics.ts). Metrics and logs
 * issue no commands: the histories replay unchanged, and the SDK skips both
 * while replaying, so each order is counted once.
 */
function count(counter: keyof typeof OrderCounters, tags: Record<string, string> = {}): void {
  metricMeter.createCounter(OrderCounters[counter], 'orders', orderCounterHelp[counter]).add(1, tags);
}

interface RegisteredCompensation {
  name: Compensation;
  run: () => Promise<unknown>;
}

interface Outcome {
  status: Extract<OrderStatus, 'CANCELLED' | 'FAILED'>;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * One order's whole life. The saga: reserve stock → charge payment → commit
 * stock → confirm → plan shipments → (warehouse handling) → hand to carrier.
 * Each compensation is registered before its step runs, because a step that
 * timed out may still have taken effect; on failure or cancellation they run
 * in reverse order, in a scope nothing can cancel. Handing the parcels to the
 * carrier is the point of no return; then the order is tracked to delivery
 * (or DELIVERY_OVERDUE) and may be returned within the return window.
 */
export async function placeOrder(input: PlaceOrderInput): Promise<OrderState> {
  const { workflowId } = workflowInfo();
  const now = () => new Date(Date.now()).toISOString();
  // Histories recorded before local order writes replay with activities on the orders task queue.
  const localWrites = patched('order-writes-local-activities') && input.orderWrites !== 'task-queue';
  const orderWrites = localWrites ? ordersLocal : orders;
  const state: OrderState = {
    orderId: input.orderId,
    status: 'PENDING',
    completedSteps: [],
    compensations: [],
    timestamps: { placed: now() },
  };

  // Timeline events wait here until the next orders-context write flushes them.
  let pending: TimelineEvent[] = [];
  let seq = 0;
  const record = (type: string, detail?: Record<string, unknown>, status?: OrderStatus) => {
    seq += 1;
    pending.push({ key: `${String(seq).padStart(3, '0')}-${type}`, type, detail, status, occurredAt: now() });
  };
  const flush = () => {
    const out = pending;
    pending = [];
    return out;
  };
  const step = (name: SagaStep, detail?: Record<string, unknown>) => {
    state.completedSteps.push(name);
    record(name, detail);
  };
  // The database is written first; only then does the workflow (its query,
  // its search attribute, the API waiting on awaitOutcome) show the new
  // status, so whoever sees it can read the same from PostgreSQL.
  // A status write always completes once begun: cancelling it halfway would
  // leave the database and the workflow disagreeing.
  const moveTo = async (status: OrderStatus, extra?: { failure?: OrderState['failure']; cancelReason?: string }) => {
    const at = now();
    record('STATUS_CHANGED', undefined, status);
    const events = flush();
    await CancellationScope.nonCancellable(() => orderWrites.recordOrderStatus({ orderId: input.orderId, status, events, ...extra }));
    state.status = status;
    state.timestamps[status] = at;
    upsertSearchAttributes([{ key: OrderStatusKey, value: status }]);
    log.info('order status changed', { orderId: input.orderId, status });
  };

  // The API starts the saga with both attributes set; a start without them (a test, the CLI) gets them here.
  // (Histories from before local order writes, and sagas run with ORDER_WRITES=task-queue, always upsert them.)
  const started = workflowInfo().typedSearchAttributes;
  const attributesSetAtStart = started.get(OrderStatusKey) === state.status && started.get(CustomerIdKey) === input.customerId;
  if (!localWrites || !attributesSetAtStart) {
    upsertSearchAttributes([
      { key: OrderStatusKey, value: state.status },
      { key: CustomerIdKey, value: input.customerId },
    ]);
  }
  count('placed');
  log.info('order placed', { orderId: input.orderId, items: input.items.length, totalAmount: input.totalAmount, currency: input.currency });

  // Notifications run beside the order and never block or fail it.
  const notificationsSent: Promise<void>[] = [];
  const notify = (kind: NotificationKind) => {
    const args = { orderId: input.orderId, customerId: input.customerId, kind, idempotencyKey: notificationKey(workflowId, kind) };
    notificationsSent.push(
      CancellationScope.nonCancellable(async () => {
        try {
          await notifications.sendNotification(args);
          record('NOTIFIED', { kind });
        } catch (err) {
          record('NOTIFICATION_FAILED', { kind, error: rootMessage(err) });
          await notificationRecords.recordNotificationFailure({ ...args, error: rootMessage(err) }).catch(() => undefined);
        }
      }),
    );
  };
  const timings = {
    handlingMs: input.fulfilment?.handlingMs ?? DEFAULT_HANDLING_MS,
    deliveryGraceMs: input.fulfilment?.deliveryGraceMs ?? DEFAULT_DELIVERY_GRACE_MS,
    returnWindowMs: input.fulfilment?.returnWindowMs ?? DEFAULT_RETURN_WINDOW_MS,
    returnShippingMs: input.fulfilment?.returnShippingMs ?? DEFAULT_RETURN_SHIPPING_MS,
  };

  // ---- cancellation ----
  const steps = new CancellationScope();
  let pointOfNoReturn = false;
  let failing = false;
  let cancelReason: string | undefined;
  const refusal = (): string | undefined => {
    if (pointOfNoReturn) return `order is ${state.status === 'PROCESSING' ? 'being handed to the carrier' : state.status}; it can no longer be cancelled`;
    if (failing && cancelReason === undefined) return `order is already failing (${state.failure?.code ?? 'unknown'})`;
    return undefined;
  };
  const cancel = (reason: string | undefined): void => {
    const refused = refusal();
    if (refused) {
      state.cancellation = { requested: true, reason, refused };
      return;
    }
    if (cancelReason !== undefined) return; // already cancelling: a second request changes nothing
    cancelReason = reason?.trim() || 'cancelled on request';
    state.cancellation = { requested: true, reason: cancelReason };
    steps.cancel();
  };
  setHandler(getStatusQuery, () => state);
  setHandler(awaitOutcomeUpdate, async () => {
    await condition(() => state.status !== 'PENDING');
    return state;
  });
  setHandler(cancelOrderSignal, (reason) => cancel(reason));
  setHandler(
    requestCancelUpdate,
    (reason) => {
      cancel(reason);
      return state;
    },
    {
      validator: (_reason: string) => {
        const refused = refusal();
        if (refused) throw ApplicationFailure.nonRetryable(refused, ErrorCodes.ORDER_NOT_CANCELLABLE);
      },
    },
  );

  // Delivery confirmations and return requests may arrive at any time; they
  // are queued or refused here and acted on by the main line below.
  const deliveries: (string | undefined)[] = [];
  setHandler(markDeliveredSignal, (trackingNumber) => {
    deliveries.push(trackingNumber?.trim() || undefined);
  });
  let returnReason: string | undefined;
  let returnWindowOpen = false;
  setHandler(
    requestReturnUpdate,
    async (reason) => {
      returnReason = reason.trim() || 'returned by customer';
      // Answer once RETURN_REQUESTED is in PostgreSQL, so the caller (and the
      // warehouse after it) reads the same. Runs that took a return before the
      // refund-on-receipt rule answered at once.
      if (patched(REFUND_ON_RECEIPT_PATCH)) await condition(() => state.status !== 'DELIVERED');
      return state;
    },
    {
      validator: (_reason: string) => {
        if (returnReason !== undefined) throw ApplicationFailure.nonRetryable('a return is already under way', ErrorCodes.ORDER_NOT_RETURNABLE);
        if (state.status !== 'DELIVERED') {
          throw ApplicationFailure.nonRetryable(`order is ${state.status}; only a delivered order can be returned`, ErrorCodes.ORDER_NOT_RETURNABLE);
        }
        if (!returnWindowOpen || Date.now() > Date.parse(state.returnDeadline ?? '')) {
          throw ApplicationFailure.nonRetryable(`the return window closed at ${state.returnDeadline}`, ErrorCodes.RETURN_WINDOW_CLOSED);
        }
      },
    },
  );

  // The warehouse has the goods back: acted on only while a return awaits them.
  let awaitingReturn = false;
  let returnReceipt: { note?: string; at: string } | undefined;
  setHandler(returnReceivedSignal, (note) => {
    const trimmed = note?.trim() || undefined;
    if (awaitingReturn && !returnReceipt) returnReceipt = { note: trimmed, at: now() };
    else record('RETURN_RECEIPT_IGNORED', { note: trimmed, reason: returnReceipt ? 'already received' : `order is ${state.status}; no return awaits the goods` });
  });

  // ---- the saga ----
  const compensations: RegisteredCompensation[] = [];
  const chargeIdempotencyKey = chargeKey(workflowId);

  // The order row is stamped with the saga chain that placed it (its first run
  // id, which retries and resets keep); a row another saga placed is refused
  // with ORDER_ALREADY_EXISTS, and this saga then ends without touching it.
  // Not cancellable once begun: whether the row is ours must be known.
  const stampedPlacement = patched('order-placed-by-run');
  const runSteps = async () => {
    if (stampedPlacement) {
      const placement = { placedByRun: workflowInfo().firstExecutionRunId || workflowInfo().runId };
      await CancellationScope.nonCancellable(() => orderWrites.createOrder(input, placement));
    } else {
      await orderWrites.createOrder(input);
    }
    step('ORDER_CREATED');

    const ttlMs = input.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
    const expiresAt = Date.now() + ttlMs;
    const lines = input.items.map(({ productId, quantity }) => ({ productId, quantity }));
    compensations.push({
      name: 'releaseStock',
      run: () => inventoryCompensation.releaseStock({ orderId: input.orderId, items: lines }),
    });
    const reserved = await inventory.reserveStock({
      orderId: input.orderId,
      items: lines,
      expiresAt: new Date(expiresAt).toISOString(),
    });
    step('STOCK_RESERVED', { items: reserved.items, expiresAt: new Date(expiresAt).toISOString() });

    compensations.push({
      name: 'refundPayment',
      run: () =>
        paymentsCompensation.refundPayment({
          orderId: input.orderId,
          chargeKey: chargeIdempotencyKey,
          refundKey: refundKey(workflowId),
        }),
    });
    const charge = await chargeBefore(expiresAt, () =>
      payments.chargePayment({
        orderId: input.orderId,
        idempotencyKey: chargeIdempotencyKey,
        amount: input.totalAmount,
        currency: input.currency,
        token: input.paymentMethod.token,
      }),
    );
    step('PAYMENT_CHARGED', { paymentId: charge.paymentId, amount: input.totalAmount, currency: input.currency });

    await inventory.commitStock({ orderId: input.orderId });
    step('STOCK_COMMITTED');

    step('ORDER_CONFIRMED');
    await moveTo('CONFIRMED');
    count('confirmed');
    notify('ORDER_CONFIRMED');

    // Fulfilment: still cancellable until the carrier has the parcels.
    compensations.push({ name: 'cancelShipments', run: () => shippingCompensation.cancelShipments({ orderId: input.orderId }) });
    // Short and idempotent: once begun, let it finish even when a cancel
    // arrives, so cancelShipments always sees the rows it has to cancel.
    if (CancellationScope.current().consideredCancelled) await CancellationScope.current().cancelRequested;
    const plans = await CancellationScope.nonCancellable(() =>
      shipping.planShipments({ orderId: input.orderId, lines, country: input.shippingAddress.country }),
    );
    state.shipments = plans.map((p) => ({
      trackingNumber: p.trackingNumber,
      carrier: p.carrier,
      warehouse: p.warehouse,
      estimatedDeliveryDays: p.estimatedDeliveryDays,
      status: 'CREATED',
    }));
    step('SHIPMENTS_PLANNED', { shipments: plans });
    await moveTo('PROCESSING');
    await sleep(timings.handlingMs);
    // A cancel accepted in the same activation as the timer firing must win:
    // it was told "accepted", so the parcels may not go. (Histories recorded
    // before this check replay without it.)
    if (patched('cancel-accepted-at-hand-over') && CancellationScope.current().consideredCancelled) {
      await CancellationScope.current().cancelRequested;
    }
    // From here the parcels may be with the carrier: refuse every cancel, and
    // let nothing cancel the hand-over itself.
    pointOfNoReturn = true;
    await CancellationScope.nonCancellable(() => shipping.handToCarrier({ orderId: input.orderId }));
    for (const s of state.shipments) s.status = 'HANDED_TO_CARRIER';
    step('HANDED_TO_CARRIER');
  };

  let outcome: Outcome | undefined;
  try {
    await steps.run(runSteps);
  } catch (err) {
    failing = true;
    outcome = classify(err, cancelReason);
    if (stampedPlacement && outcome.code === ErrorCodes.ORDER_ALREADY_EXISTS && state.completedSteps.length === 0) {
      // Another saga's order (an id reused after Temporal forgot that run): its
      // rows, stock and money are not this saga's to write, compensate or notify.
      state.status = 'FAILED';
      state.failure = { code: outcome.code, message: outcome.message };
      count('failed');
      log.warn('order id already placed by another saga; ending without effects', { orderId: input.orderId });
      return state;
    }
    // A confirmed order cannot become FAILED (domain/order-status.ts): whatever
    // stops its fulfilment (say planShipments finds a product gone) cancels it,
    // with the same compensations and a refund; the failure still says why.
    if (outcome.status === 'FAILED' && state.status !== 'PENDING') outcome = { ...outcome, status: 'CANCELLED' };
    state.failure = { code: outcome.code, message: outcome.message, details: outcome.details };
    record('SAGA_FAILED', { code: outcome.code, message: outcome.message, details: outcome.details });
    if (outcome.code === ErrorCodes.PAYMENT_DECLINED) count('paymentDeclined', { reason: String(outcome.details?.reason ?? 'unknown') });
    if (outcome.code === ErrorCodes.RESERVATION_EXPIRED) count('reservationExpired');
    log.info('order saga unwinding', { orderId: input.orderId, code: outcome.code, compensations: compensations.length });
  }
  if (!outcome) {
    await afterHandOver();
    return state;
  }

  // ---- compensation: reverse order, not cancellable, bounded retries ----
  await CancellationScope.nonCancellable(async () => {
    let todo = [...compensations].reverse();
    for (;;) {
      const failed: RegisteredCompensation[] = [];
      for (const c of todo) {
        try {
          const result = await c.run();
          state.compensations.push({ name: c.name, outcome: 'done' });
          record('COMPENSATED', { compensation: c.name, result: result as Record<string, unknown> });
        } catch (err) {
          const message = rootMessage(err);
          state.compensations.push({ name: c.name, outcome: 'failed', error: message });
          record('COMPENSATION_FAILED', { compensation: c.name, error: message });
          failed.push(c);
        }
      }
      if (failed.length === 0) break;
      // Visible, never swallowed: an operator fixes the cause and signals retryCompensations.
      count('needsAttention');
      log.warn('compensation failed: the order needs an operator', { orderId: input.orderId, failed: failed.map((c) => c.name) });
      await moveTo('NEEDS_ATTENTION', {
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
    await moveTo(outcome.status, { failure: state.failure, cancelReason: outcome.status === 'CANCELLED' ? cancelReason : undefined });
    count(outcome.status === 'CANCELLED' ? 'cancelled' : 'failed');
    if (compensations.length > 0) count('compensated');
    notify(outcome.status === 'CANCELLED' ? 'ORDER_CANCELLED' : outcome.code === ErrorCodes.PAYMENT_DECLINED ? 'PAYMENT_FAILED' : 'ORDER_FAILED');
  });
  await settleNotifications();
  return state;

  // ---- past the point of no return: tracking, delivery, returns ----
  async function afterHandOver(): Promise<void> {
    await moveTo('SHIPPED');
    notify('ORDER_SHIPPED');
    const shipments = state.shipments ?? [];
    const byTracking = new Map<string, ShipmentState>(shipments.map((s) => [s.trackingNumber, s]));
    const slowest = Math.max(0, ...shipments.map((s) => s.estimatedDeliveryDays));
    const overdueAt = Date.now() + slowest * DAY_MS + timings.deliveryGraceMs;
    const undelivered = () => shipments.filter((s) => s.status !== 'DELIVERED');

    while (undelivered().length > 0) {
      const heard =
        state.status === 'DELIVERY_OVERDUE'
          ? (await condition(() => deliveries.length > 0), true)
          : await condition(() => deliveries.length > 0, Math.max(1, overdueAt - Date.now()));
      if (!heard) {
        // The carrier never confirmed: an operator has to look.
        const late = undelivered().map((s) => s.trackingNumber);
        await shipping.markOverdue({ orderId: input.orderId, trackingNumbers: late });
        for (const s of undelivered()) s.status = 'OVERDUE';
        record('DELIVERY_OVERDUE', { trackingNumbers: late });
        await moveTo('DELIVERY_OVERDUE');
        notify('DELIVERY_OVERDUE');
        continue;
      }
      while (deliveries.length > 0) {
        const trackingNumber = deliveries.shift();
        const targets = trackingNumber === undefined ? undelivered() : [byTracking.get(trackingNumber)].filter((s) => s && s.status !== 'DELIVERED');
        if (targets.length === 0) record('DELIVERY_IGNORED', { trackingNumber, reason: 'unknown or already delivered' });
        for (const s of targets as ShipmentState[]) {
          await shipping.recordDelivery({ orderId: input.orderId, trackingNumber: s.trackingNumber });
          s.status = 'DELIVERED';
          record('SHIPMENT_DELIVERED', { trackingNumber: s.trackingNumber, carrier: s.carrier });
        }
      }
    }
    state.returnDeadline = new Date(Date.now() + timings.returnWindowMs).toISOString();
    returnWindowOpen = true;
    step('DELIVERED');
    await moveTo('DELIVERED');
    notify('ORDER_DELIVERED');

    await condition(() => returnReason !== undefined, Math.max(1, Date.parse(state.returnDeadline) - Date.now()));
    returnWindowOpen = false;
    if (returnReason !== undefined && patched(REFUND_ON_RECEIPT_PATCH)) {
      await returnOnReceipt(returnReason);
    } else if (returnReason !== undefined) {
      // runs that took the return before the refund-on-receipt rule: refund and restock at once
      record('RETURN_REQUESTED', { reason: returnReason });
      const restock = await inventory.restockReturn({ orderId: input.orderId });
      const refund = await payments.refundPayment({ orderId: input.orderId, chargeKey: chargeIdempotencyKey, refundKey: returnRefundKey(workflowId) });
      step('RETURNED', { restocked: restock.restocked, refunded: refund.amount, currency: input.currency });
      await moveTo('RETURNED');
      notify('ORDER_REFUNDED');
    }
    await settleNotifications();
  }

  /**
   * RETURN_REQUESTED until the warehouse records the goods as received
   * (returnReceived): then restock, refund under the return's own key, RETURNED.
   * Nothing received within the return shipping time: the return lapses, the
   * order is DELIVERED again and the charge stands.
   */
  async function returnOnReceipt(reason: string): Promise<void> {
    const requestedAt = now();
    const receiveBy = new Date(Date.now() + timings.returnShippingMs).toISOString();
    state.returnRequest = { reason, requestedAt, receiveBy };
    awaitingReturn = true;
    record('RETURN_REQUESTED', { reason, receiveBy });
    await moveTo('RETURN_REQUESTED');

    await condition(() => returnReceipt !== undefined, Math.max(1, Date.parse(receiveBy) - Date.now()));
    awaitingReturn = false;
    const receipt = returnReceipt;
    if (!receipt) {
      state.returnRequest.lapsedAt = now();
      record('RETURN_LAPSED', { reason, receiveBy });
      // the order was delivered when it was; the lapse has its own time in returnRequest
      const deliveredAt = state.timestamps.DELIVERED;
      await moveTo('DELIVERED');
      state.timestamps.DELIVERED = deliveredAt;
      return;
    }
    state.returnRequest.receivedAt = receipt.at;
    state.returnRequest.note = receipt.note;
    record('RETURN_RECEIVED', receipt.note ? { note: receipt.note } : undefined);
    const restock = await inventory.restockReturn({ orderId: input.orderId });
    const refund = await payments.refundPayment({ orderId: input.orderId, chargeKey: chargeIdempotencyKey, refundKey: returnRefundKey(workflowId) });
    step('RETURNED', { restocked: restock.restocked, refunded: refund.amount, currency: input.currency });
    await moveTo('RETURNED');
    notify('ORDER_REFUNDED');
  }

  /** Waits for the notifications still in flight, then writes their timeline events. */
  async function settleNotifications(): Promise<void> {
    await Promise.all(notificationsSent);
    if (pending.length > 0) {
      const events = flush();
      await CancellationScope.nonCancellable(() => orderWrites.recordOrderStatus({ orderId: input.orderId, status: state.status, events }));
    }
  }
}

/** Runs the charge, but gives up (and cancels it) when the reservation expires. */
async function chargeBefore<T>(expiresAt: number, charge: () => Promise<T>): Promise<T> {
  const chargeScope = new CancellationScope();
  const timerScope = new CancellationScope();
  const expired = Symbol('expired');
  const timer = timerScope
    .run(() => sleep(Math.max(0, expiresAt - Date.now())))
    // a cancelled timer never settles: the race then waits for the charge itself
    .then(() => expired, () => new Promise<never>(() => undefined));
  const result = await Promise.race([chargeScope.run(charge), timer]);
  if (result !== expired) {
    timerScope.cancel();
    return result as T;
  }
  chargeScope.cancel();
  throw ApplicationFailure.nonRetryable(
    'stock reservation expired before the payment succeeded',
    ErrorCodes.RESERVATION_EXPIRED,
    { expiresAt: new Date(expiresAt).toISOString() },
  );
}

function classify(err: unknown, cancelReason: string | undefined): Outcome {
  if (isCancellation(err)) {
    return { status: 'CANCELLED', code: ErrorCodes.ORDER_CANCELLED, message: cancelReason ?? 'workflow cancelled' };
  }
  const app = findApplicationFailure(err);
  if (app?.type) {
    const details = app.details?.[0];
    return {
      status: 'FAILED',
      code: app.type,
      message: app.message,
      details: details && typeof details === 'object' ? (details as Record<string, unknown>) : undefined,
    };
  }
  return { status: 'FAILED', code: ErrorCodes.INTERNAL, message: rootMessage(err) };
}

function findApplicationFailure(err: unknown): ApplicationFailure | undefined {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof ApplicationFailure) return e;
  }
  return undefined;
}

function rootMessage(err: unknown): string {
  let e: unknown = err;
  while ((e as { cause?: unknown })?.cause) e = (e as { cause: unknown }).cause;
  return e instanceof Error ? e.message : String(e);
}
