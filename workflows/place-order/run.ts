import { CancellationScope, log, metricMeter, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { OrderStatus } from '../../domain/order-status';
import { OrderCounters, orderCounterHelp } from '../metrics';
import {
  OrderStatusKey,
  PlaceOrderDefaults,
  daysToMs,
  type Compensation,
  type InspectedLine,
  type OrderState,
  type PlaceOrderInput,
  type ReturnState,
  type SagaStep,
  type TimelineEvent,
} from '../../temporal-config/place-order';
import type { NotificationKind } from '../../domain/shipping';
import { chooseConfirmAtPayment, chooseNotifications, chooseOrderWrites, choosePaymentFlow, type OrdersActivities } from './activities';
import { notify } from './notifications';
import { flush, now, record } from './timeline';

export { flush, now, record } from './timeline';

export interface RegisteredCompensation {
  name: Compensation;
  run: () => Promise<unknown>;
}

/**
 * One order's run: everything its stages share. The message handlers set the
 * flags at any time; the main line acts on them.
 */
export interface OrderRun {
  readonly input: PlaceOrderInput;
  readonly workflowId: string;
  /** what getStatus answers */
  readonly state: OrderState;
  /** the orders context's writes, as local activities or on the orders task queue (activities.ts) */
  readonly orderWrites: OrdersActivities;
  readonly localWrites: boolean;
  readonly timings: Timings;

  // Timeline events wait here until the next orders-context write flushes them.
  pending: TimelineEvent[];
  seq: number;

  // ---- the saga ----
  /** the saga's steps run in it; an accepted cancel cancels it */
  readonly steps: CancellationScope;
  /** registered before each step runs, run in reverse on failure or cancel */
  readonly compensations: RegisteredCompensation[];
  /** past the point of no return: the parcels are being handed to the carrier */
  handingOver: boolean;
  /** unwinding because a step failed or a cancel was accepted */
  failing: boolean;
  /** set once a cancel is accepted */
  cancelReason?: string;

  // ---- fulfilment: queued by the handlers, acted on by the main line ----
  /** carrier confirmations (a tracking number, or undefined = every parcel) */
  readonly deliveries: (string | undefined)[];
  returnWindowOpen: boolean;
  returnReason?: string;
  awaitingReturn: boolean;
  returnReceipt?: { note?: string; at: string };

  /**
   * The customer hears of status changes from the order event feed: moveTo puts the kind in
   * its STATUS_CHANGED event's detail (`{ notify: kind }`) and no notification activity runs.
   * false in runs that send them beside the order (notifications.ts): every history from before.
   */
  readonly notifyOnFeed: boolean;
  /** notifications in flight beside the order (notifications.ts); always empty when notifyOnFeed */
  readonly notificationsSent: Promise<void>[];

  /** CONFIRMED once the payment is secured, then stock committed and shipments planned side by side (saga.ts); false in runs from before */
  readonly confirmAtPayment: boolean;

  /** authorise at checkout and capture per shipment (per-shipment.ts); undefined in runs that charge at checkout */
  readonly perShipment?: PerShipmentRun;
}

/** What the per-shipment flow's handlers and stages share. */
export interface PerShipmentRun {
  /** shipments a cancel asked for (tracking number → reason), acted on by their stage */
  readonly cancelRequested: Map<string, string>;
  /** shipments being captured and handed over now: a cancel can no longer take them */
  readonly handing: Set<string>;
  /** parcels the carrier says it delivered */
  readonly deliveredMarks: Set<string>;
  /** why the order waits for an operator, by what waits (NEEDS_ATTENTION while not empty) */
  readonly attention: Map<string, { code: string; reason: string }>;
  /** retryPayment signals received so far */
  retries: number;
  /** one gateway call at a time, so a capture never races a renewal of its authorisation */
  paymentBusy: boolean;
  readonly returns: ReturnRun[];
  /** the order's local-activity writes (status, timeline, returns), one after another in the order asked for */
  writes: Promise<void>;
  /** renewals of the authorisation tried so far (each under its own key) */
  renewals: number;
  /** notification kinds already sent */
  readonly announced: Set<string>;
  /** the returns' stages, awaited before the order ends */
  readonly returnStages: Promise<void>[];
}

export interface ReturnRun {
  readonly state: ReturnState;
  receipt?: { note?: string; at: string };
  inspection?: InspectedLine[];
  /** its REQUESTED row is in PostgreSQL */
  recorded: boolean;
}

export interface Timings {
  reservationTtlMs: number;
  handlingMs: number;
  deliveryGraceMs: number;
  returnWindowMs: number;
  returnShippingMs: number;
}

/** The run's state, before any command but the patch markers of the choices it makes once. */
export function startRun(input: PlaceOrderInput): OrderRun {
  const { workflowId } = workflowInfo();
  const { local, writes } = chooseOrderWrites(input);
  const perShipment = choosePaymentFlow(input);
  const notifyOnFeed = chooseNotifications(input);
  const confirmAtPayment = chooseConfirmAtPayment(input);
  return {
    input,
    workflowId,
    state: { orderId: input.orderId, status: 'PENDING', completedSteps: [], compensations: [], timestamps: { placed: now() } },
    orderWrites: writes,
    localWrites: local,
    timings: {
      reservationTtlMs: input.reservationTtlMs ?? PlaceOrderDefaults.reservationTtlMs,
      handlingMs: input.fulfilment?.handlingMs ?? PlaceOrderDefaults.handlingMs,
      deliveryGraceMs: input.fulfilment?.deliveryGraceMs ?? daysToMs(PlaceOrderDefaults.deliveryGraceDays),
      returnWindowMs: input.fulfilment?.returnWindowMs ?? daysToMs(PlaceOrderDefaults.returnWindowDays),
      returnShippingMs: input.fulfilment?.returnShippingMs ?? daysToMs(PlaceOrderDefaults.returnShippingDays),
    },
    pending: [],
    seq: 0,
    steps: new CancellationScope(),
    compensations: [],
    handingOver: false,
    failing: false,
    deliveries: [],
    returnWindowOpen: false,
    awaitingReturn: false,
    notifyOnFeed,
    notificationsSent: [],
    confirmAtPayment,
    perShipment: perShipment
      ? { cancelRequested: new Map(), handing: new Set(), deliveredMarks: new Set(), attention: new Map(), retries: 0, paymentBusy: false, returns: [], writes: Promise.resolve(), renewals: 0, announced: new Set(), returnStages: [] }
      : undefined,
  };
}

export function step(run: OrderRun, name: SagaStep, detail?: Record<string, unknown>): void {
  run.state.completedSteps.push(name);
  record(run, name, detail);
}

// The database is written first; only then does the workflow (its query,
// its search attribute, the API waiting on awaitOutcome) show the new
// status, so whoever sees it can read the same from PostgreSQL.
// A status write always completes once begun: cancelling it halfway would
// leave the database and the workflow disagreeing.
//
// notify: what the customer is told of this change. On the feed (run.notifyOnFeed)
// it is the STATUS_CHANGED event's detail, written in this same write, and the
// feed's notifications dispatcher sends it. Otherwise it is sent beside the order
// (notify() in notifications.ts) once the write is done, as before the feed.
export async function moveTo(
  run: OrderRun,
  status: OrderStatus,
  extra?: { failure?: OrderState['failure']; cancelReason?: string; notify?: NotificationKind },
): Promise<void> {
  const { notify: kind, ...written } = extra ?? {};
  const at = now();
  record(run, 'STATUS_CHANGED', kind && run.notifyOnFeed ? { notify: kind } : undefined, status);
  const events = flush(run);
  await CancellationScope.nonCancellable(() => run.orderWrites.recordOrderStatus({ orderId: run.input.orderId, status, events, ...written }));
  run.state.status = status;
  run.state.timestamps[status] = at;
  upsertSearchAttributes([{ key: OrderStatusKey, value: status }]);
  log.info('order status changed', { orderId: run.input.orderId, status });
  if (kind && !run.notifyOnFeed) {
    // Sent one microtask later, right before the caller's code after `await moveTo(...)`
    // runs: where the callers called notify() themselves, after their await. Its command
    // then comes after any other coroutine's woken in the same activation, as it did, so
    // runs (and histories) from before the feed issue the very same commands.
    void Promise.resolve().then(() => notify(run, kind));
  }
}

/**
 * Adds one to a business counter (workflows/metrics.ts). Metrics and logs
 * issue no commands: the histories replay unchanged, and the SDK skips both
 * while replaying, so each order is counted once.
 */
export function count(counter: keyof typeof OrderCounters, tags: Record<string, string> = {}): void {
  metricMeter.createCounter(OrderCounters[counter], 'orders', orderCounterHelp[counter]).add(1, tags);
}

/**
 * Waits for the notifications still in flight, then writes their timeline events
 * (and any other event recorded since the last write). On the feed there are none
 * in flight: it writes only what a handler recorded after the last status write,
 * which is usually nothing (no command).
 */
export async function settleNotifications(run: OrderRun): Promise<void> {
  await Promise.all(run.notificationsSent);
  if (run.pending.length > 0) {
    const events = flush(run);
    await CancellationScope.nonCancellable(() => run.orderWrites.recordOrderStatus({ orderId: run.input.orderId, status: run.state.status, events }));
  }
}
