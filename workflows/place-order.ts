import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { createInventoryActivities } from '../activities/inventory';
import type { createOrdersActivities } from '../activities/orders';
import type { createPaymentsActivities } from '../activities/payments';
import type { Compensation, OrderState, PlaceOrderInput, SagaStep, TimelineEvent } from '../domain/order';
import type { OrderStatus } from '../domain/order-status';
import { ErrorCodes } from '../domain/errors';
import { chargeKey, refundKey } from '../domain/payment';
import { TaskQueues } from '../temporal-config/task-queues';
import { CustomerIdKey, OrderStatusKey } from '../temporal-config/search-attributes';
import { awaitOutcomeUpdate, cancelOrderSignal, getStatusQuery, requestCancelUpdate, retryCompensationsSignal } from './messages';

type InventoryActivities = ReturnType<typeof createInventoryActivities>;
type PaymentsActivities = ReturnType<typeof createPaymentsActivities>;
type OrdersActivities = ReturnType<typeof createOrdersActivities>;

export const DEFAULT_RESERVATION_TTL_MS = 15 * 60_000;

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
const inventoryCompensation = proxyActivities<InventoryActivities>({ ...compensationOptions, taskQueue: TaskQueues.inventory });
const paymentsCompensation = proxyActivities<PaymentsActivities>({ ...compensationOptions, taskQueue: TaskQueues.payments });

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
 * PlaceOrder saga: reserve stock → charge payment → commit stock → confirm.
 * Each compensation is registered before its step runs, because a step that
 * timed out may still have taken effect; on failure or cancellation they run
 * in reverse order, in a scope nothing can cancel.
 */
export async function placeOrder(input: PlaceOrderInput): Promise<OrderState> {
  const { workflowId } = workflowInfo();
  const now = () => new Date(Date.now()).toISOString();
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
  const moveTo = async (status: OrderStatus, extra?: { failure?: OrderState['failure']; cancelReason?: string }) => {
    const at = now();
    record('STATUS_CHANGED', undefined, status);
    await orders.recordOrderStatus({ orderId: input.orderId, status, events: flush(), ...extra });
    state.status = status;
    state.timestamps[status] = at;
    upsertSearchAttributes([{ key: OrderStatusKey, value: status }]);
  };

  upsertSearchAttributes([
    { key: OrderStatusKey, value: state.status },
    { key: CustomerIdKey, value: input.customerId },
  ]);

  // ---- cancellation ----
  const steps = new CancellationScope();
  let pointOfNoReturn = false;
  let failing = false;
  let cancelReason: string | undefined;
  const refusal = (): string | undefined => {
    if (pointOfNoReturn) return 'order is CONFIRMED; it can no longer be cancelled';
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

  // ---- the saga ----
  const compensations: RegisteredCompensation[] = [];
  const chargeIdempotencyKey = chargeKey(workflowId);

  const runSteps = async () => {
    await orders.createOrder(input);
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
    // Until fulfilment hands the parcel to a carrier, a confirmed order is
    // final: this saga ends here and nothing is left to cancel. Refuse cancels
    // from before the confirmation is written, or one arriving mid-write would
    // cancel that write and refund an order the database already shows CONFIRMED.
    pointOfNoReturn = true;
    await moveTo('CONFIRMED');
  };

  let outcome: Outcome | undefined;
  try {
    await steps.run(runSteps);
  } catch (err) {
    failing = true;
    outcome = classify(err, cancelReason);
    state.failure = { code: outcome.code, message: outcome.message, details: outcome.details };
    record('SAGA_FAILED', { code: outcome.code, message: outcome.message, details: outcome.details });
  }
  if (!outcome) return state;

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
  });
  return state;
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
