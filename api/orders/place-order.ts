import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { OrderLine } from '../../domain/order';
import { orderTotal } from '../../domain/order';
import { ErrorCodes, type ErrorCode } from '../../domain/errors';
import type { Db } from '../../prisma/client';
import type { placeOrder } from '../../workflows/place-order';
import { ApiError, isUnavailable } from '../errors';
import type { DirectCheckout } from './direct-checkout';
import { CustomerIdKey, OrderStatusKey, TaskQueues, awaitOutcomeUpdate, getStatusQuery, orderWorkflowId, type FulfilmentTimings, type OrderState, type OrderWrites, type PlaceOrderInput } from '../../temporal-config/place-order';

export interface OrderDeps {
  db: Db;
  temporal: Client;
  /** how long a request waits for the payment outcome before answering 202 */
  outcomeWaitMs: number;
  reservationTtlMs: number;
  /** handed to each new saga: how it runs the orders context's writes (default local) */
  orderWrites?: OrderWrites;
  /** warehouse, delivery and return windows handed to each new saga; the workflow's defaults when absent */
  fulfilment?: FulfilmentTimings;
  /** the benchmark's baseline (CHECKOUT_ENGINE=direct-baseline): POST /api/v1/orders in one transaction, no saga */
  directCheckout?: DirectCheckout;
}

export interface PricedLines {
  currency: string;
  items: OrderLine[];
  totalAmount: number;
}

/** The largest amount (minor units) the database's integer columns hold. */
const MAX_AMOUNT = 2_147_483_647;

/**
 * Snapshots prices from the catalog: the order keeps what the customer saw.
 * Every product must exist, be for sale and share one currency.
 */
export async function priceLines(
  db: Db,
  lines: readonly { productId: string; quantity: number }[],
  mixedCurrencyCode: ErrorCode = ErrorCodes.VALIDATION_FAILED,
): Promise<PricedLines> {
  const ids = lines.map((i) => i.productId);
  const products = await db.product.findMany({ where: { id: { in: ids } } });
  const byId = new Map(products.map((p) => [p.id, p]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length) throw new ApiError(ErrorCodes.PRODUCT_NOT_FOUND, `unknown product: ${missing.join(', ')}`, { productIds: missing });
  const inactive = products.filter((p) => !p.active).map((p) => p.id);
  if (inactive.length) throw new ApiError(ErrorCodes.PRODUCT_INACTIVE, `product not for sale: ${inactive.join(', ')}`, { productIds: inactive });
  const currencies = new Set(products.map((p) => p.currency));
  if (currencies.size > 1) throw new ApiError(mixedCurrencyCode, 'all items of an order must share one currency', { currencies: [...currencies] });

  const items = lines.map((i) => {
    const p = byId.get(i.productId)!;
    return { productId: p.id, sku: p.sku, name: p.name, quantity: i.quantity, unitPriceAmount: p.priceAmount };
  });
  const totalAmount = orderTotal(items);
  // amounts are PostgreSQL integers: a larger total could never be written, and the saga would retry forever
  if (totalAmount > MAX_AMOUNT) {
    throw new ApiError(ErrorCodes.VALIDATION_FAILED, `invalid request: the order total ${totalAmount} exceeds ${MAX_AMOUNT} minor units`, {
      fields: [{ path: 'items', message: `order total must not exceed ${MAX_AMOUNT} minor units` }],
    });
  }
  return { currency: products[0]!.currency, items, totalAmount };
}

const START_TIMEOUT_MS = 5_000;
export const timeout = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(resolve, ms, value).unref());

/**
 * Starts the PlaceOrder saga and waits (bounded) for the payment outcome.
 * The id is the business key; a running saga is joined (USE_EXISTING), a
 * finished one is never started again (REJECT_DUPLICATE) and its outcome is
 * read back instead.
 *
 * A plain start, then the awaitOutcome update, rather than update-with-start:
 * the server answers update-with-start only once the update reaches the
 * requested stage, so "Temporal has durably started the saga" could not be
 * told apart from "a worker has run it", and a cold or busy worker (or a slow
 * payment) turned into a 503 instead of a 202.
 */
export async function placeOrderAndWait(deps: OrderDeps, input: PlaceOrderInput): Promise<OrderState | 'pending'> {
  const workflowId = orderWorkflowId(input.orderId);
  const deadline = Date.now() + deps.outcomeWaitMs;
  // The deadline also stops the client's own retries once we have answered 503.
  const started = deps.temporal
    .withDeadline(Date.now() + START_TIMEOUT_MS, () => deps.temporal.workflow.start<typeof placeOrder>('placeOrder', {
      workflowId,
      taskQueue: TaskQueues.orders,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: OrderStatusKey, value: 'PENDING' },
        { key: CustomerIdKey, value: input.customerId },
      ],
    }))
    .then(
      () => 'running' as const,
      (err: unknown) => {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return 'finished' as const;
        throw err;
      },
    );
  started.catch(() => undefined);
  // 202 promises the order exists: never answer it before Temporal has
  // durably started the saga. If it cannot, the caller gets a 503 and may
  // retry with the same orderId safely.
  // The 503 carries the orderId: when the server chose it, the client learns it only here.
  const unavailable = () =>
    new ApiError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the order service (Temporal) did not accept the order in time; retry with the same orderId', {
      orderId: input.orderId,
    });
  const run = await Promise.race([started, timeout(START_TIMEOUT_MS, 'timeout' as const)]).catch((err: unknown) => {
    throw isUnavailable(err) ? unavailable() : err;
  });
  if (run === 'timeout') throw unavailable();
  const outcome = run === 'finished' ? deps.temporal.workflow.getHandle(workflowId).query(getStatusQuery) : awaitOutcome(deps.temporal, input.orderId);
  outcome.catch(() => undefined); // the caller may stop listening after 'pending'
  return Promise.race([outcome, timeout(Math.max(0, deadline - Date.now()), 'pending' as const)]);
}

/** The outcome of a saga that is already running or finished, however long it takes. */
export async function awaitOutcome(temporal: Client, orderId: string): Promise<OrderState> {
  const handle = temporal.workflow.getHandle(orderWorkflowId(orderId));
  try {
    return await handle.executeUpdate(awaitOutcomeUpdate);
  } catch {
    // a completed workflow takes no updates; its last state still answers queries
    return handle.query(getStatusQuery);
  }
}
