import { randomUUID } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { OrderState, PlaceOrderInput } from '../domain/order';
import { orderTotal } from '../domain/order';
import { isCancellable } from '../domain/order-status';
import { ErrorCodes } from '../domain/errors';
import type { Db } from '../prisma/client';
import { CustomerIdKey, OrderStatusKey } from '../temporal-config/search-attributes';
import { TaskQueues } from '../temporal-config/task-queues';
import { orderWorkflowId } from '../temporal-config/workflow-ids';
import { awaitOutcomeUpdate, getStatusQuery, requestCancelUpdate } from '../workflows/messages';
import type { placeOrder } from '../workflows/place-order';
import { ApiError, errorResponse } from './errors';
import { ErrorSchema, OrderOutcomeSchema, OrderRequestSchema, OrderSchema } from './schemas';
import type { AppEnv } from './types';

export interface OrderDeps {
  db: Db;
  temporal: Client;
  /** how long a request waits for the payment outcome before answering 202 */
  outcomeWaitMs: number;
  reservationTtlMs: number;
}

type OrderRequest = z.infer<typeof OrderRequestSchema>;

/** Snapshots prices from the catalog: the order keeps what the customer saw. */
async function buildOrderInput(db: Db, req: OrderRequest, reservationTtlMs: number): Promise<PlaceOrderInput> {
  const ids = req.items.map((i) => i.productId);
  const products = await db.product.findMany({ where: { id: { in: ids } } });
  const byId = new Map(products.map((p) => [p.id, p]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length) throw new ApiError(ErrorCodes.PRODUCT_NOT_FOUND, `unknown product: ${missing.join(', ')}`, { productIds: missing });
  const inactive = products.filter((p) => !p.active).map((p) => p.id);
  if (inactive.length) throw new ApiError(ErrorCodes.PRODUCT_INACTIVE, `product not for sale: ${inactive.join(', ')}`, { productIds: inactive });
  const currencies = new Set(products.map((p) => p.currency));
  if (currencies.size > 1) throw new ApiError(ErrorCodes.VALIDATION_FAILED, 'all items of an order must share one currency', { currencies: [...currencies] });

  const items = req.items.map((i) => {
    const p = byId.get(i.productId)!;
    return { productId: p.id, sku: p.sku, name: p.name, quantity: i.quantity, unitPriceAmount: p.priceAmount };
  });
  return {
    orderId: req.orderId ?? randomUUID(),
    customerId: req.customerId,
    currency: products[0]!.currency,
    items,
    totalAmount: orderTotal(items),
    shippingAddress: req.shippingAddress,
    paymentMethod: req.paymentMethod,
    reservationTtlMs,
  };
}

const START_TIMEOUT_MS = 5_000;
const timeout = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(resolve, ms, value).unref());

/**
 * Starts the PlaceOrder saga and waits (bounded) for the payment outcome, in
 * one update-with-start call. The id is the business key; a running saga is
 * joined (USE_EXISTING), a finished one is never started again
 * (REJECT_DUPLICATE) and its outcome is read back instead.
 */
export async function placeOrderAndWait(deps: OrderDeps, input: PlaceOrderInput): Promise<OrderState | 'pending'> {
  const workflowId = orderWorkflowId(input.orderId);
  const start = new WithStartWorkflowOperation<typeof placeOrder>('placeOrder', {
    workflowId,
    taskQueue: TaskQueues.orders,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: [
      { key: OrderStatusKey, value: 'PENDING' },
      { key: CustomerIdKey, value: input.customerId },
    ],
  });
  const deadline = Date.now() + deps.outcomeWaitMs;
  const outcome = deps.temporal.workflow
    .executeUpdateWithStart(awaitOutcomeUpdate, { startWorkflowOperation: start })
    .catch(async (err: unknown) => {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        return deps.temporal.workflow.getHandle(workflowId).query(getStatusQuery);
      }
      throw err;
    });
  // 202 promises the order exists: never answer it before Temporal has
  // durably started the saga. If it cannot, the caller gets a 503 and may
  // retry with the same orderId safely.
  const started = await Promise.race([
    start.workflowHandle().then(() => 'started' as const, () => outcome.then(() => 'started' as const)),
    outcome.then(() => 'started' as const),
    timeout(Math.min(deps.outcomeWaitMs, START_TIMEOUT_MS), 'timeout' as const),
  ]);
  if (started === 'timeout') {
    outcome.catch(() => undefined);
    throw new ApiError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the order service (Temporal) did not accept the order in time; retry with the same orderId');
  }
  return Promise.race([outcome, timeout(Math.max(0, deadline - Date.now()), 'pending' as const)]);
}

const total = (o: { totalAmount: number; currency: string }) => ({ amount: o.totalAmount, currency: o.currency });

async function loadOrder(db: Db, id: string) {
  const order = await db.order.findUnique({
    where: { id },
    include: { items: { orderBy: { id: 'asc' } }, timeline: { orderBy: { id: 'asc' } } },
  });
  if (!order) return undefined;
  const payments = await db.payment.findMany({ where: { orderId: id }, orderBy: { createdAt: 'asc' } });
  return {
    id: order.id,
    customerId: order.customerId,
    workflowId: order.workflowId,
    status: order.status,
    total: total(order),
    failureCode: order.failureCode,
    failureReason: order.failureReason,
    cancelReason: order.cancelReason,
    shippingAddress: order.shippingAddress as z.infer<typeof OrderSchema>['shippingAddress'],
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    items: order.items.map((i) => ({
      productId: i.productId,
      sku: i.sku,
      name: i.name,
      quantity: i.quantity,
      unitPrice: { amount: i.unitPriceAmount, currency: i.currency },
      lineTotal: { amount: i.lineTotalAmount, currency: i.currency },
    })),
    payments: payments.map((p) => ({
      kind: p.kind,
      status: p.status,
      amount: { amount: p.amount, currency: p.currency },
      declineCode: p.declineCode,
      createdAt: p.createdAt.toISOString(),
    })),
    timeline: order.timeline.map((e) => ({ type: e.type, status: e.status, detail: e.detail, occurredAt: e.occurredAt.toISOString() })),
  };
}

const uuidParam = z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) });
const errorContent = { 'application/json': { schema: ErrorSchema } };

const placeRoute = createRoute({
  method: 'post',
  path: '/api/v1/orders',
  tags: ['orders'],
  summary: 'Place an order; answers when the payment outcome is known',
  request: { body: { required: true, content: { 'application/json': { schema: OrderRequestSchema } } } },
  responses: {
    201: { description: 'confirmed', content: { 'application/json': { schema: OrderOutcomeSchema } } },
    202: { description: 'accepted; poll the Location', content: { 'application/json': { schema: OrderOutcomeSchema } } },
    400: { description: 'invalid request', content: errorContent },
    402: { description: 'payment declined', content: errorContent },
    409: { description: 'out of stock, cancelled or expired', content: errorContent },
    422: { description: 'unknown or inactive product', content: errorContent },
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/api/v1/orders/{id}',
  tags: ['orders'],
  summary: 'An order with items, payments and timeline',
  request: { params: uuidParam },
  responses: {
    200: { description: 'the order', content: { 'application/json': { schema: OrderSchema } } },
    404: { description: 'no such order', content: errorContent },
  },
});

const cancelRoute = createRoute({
  method: 'post',
  path: '/api/v1/orders/{id}/cancel',
  tags: ['orders'],
  summary: 'Cancel an order; 200 when accepted, 409 with the reason when refused',
  request: {
    params: uuidParam,
    body: { required: false, content: { 'application/json': { schema: z.object({ reason: z.string().max(500).optional() }) } } },
  },
  responses: {
    200: {
      description: 'cancellation accepted; compensations run in the background',
      content: { 'application/json': { schema: z.object({ orderId: z.string().uuid(), accepted: z.literal(true), status: z.string() }) } },
    },
    404: { description: 'no such order', content: errorContent },
    409: { description: 'cannot be cancelled any more', content: errorContent },
  },
});

export function registerOrderRoutes(app: OpenAPIHono<AppEnv>, deps: OrderDeps): void {
  app.openapi(placeRoute, async (c) => {
    const input = await buildOrderInput(deps.db, c.req.valid('json'), deps.reservationTtlMs);
    const state = await placeOrderAndWait(deps, input);
    const base = { orderId: input.orderId, total: { amount: input.totalAmount, currency: input.currency } };
    if (state === 'pending' || (state.status === 'PENDING' && !state.failure)) {
      const location = `/api/v1/orders/${input.orderId}`;
      c.header('Location', location);
      return c.json({ ...base, status: 'PENDING' as const, location }, 202);
    }
    if (state.failure) {
      return errorResponse(c, state.failure.code, state.failure.message, { orderId: input.orderId, ...state.failure.details }) as never;
    }
    c.header('Location', `/api/v1/orders/${input.orderId}`);
    return c.json({ ...base, status: state.status }, 201);
  });

  app.openapi(getRoute, async (c) => {
    const order = await loadOrder(deps.db, c.req.valid('param').id);
    if (!order) return errorResponse(c, ErrorCodes.ORDER_NOT_FOUND, 'order not found') as never;
    return c.json(order, 200);
  });

  app.openapi(cancelRoute, async (c) => {
    const { id } = c.req.valid('param');
    const reason = (await c.req.json().catch(() => ({})))?.reason as string | undefined;
    const order = await deps.db.order.findUnique({ where: { id }, select: { status: true } });
    if (!order) return errorResponse(c, ErrorCodes.ORDER_NOT_FOUND, 'order not found') as never;
    if (!isCancellable(order.status)) {
      return errorResponse(c, ErrorCodes.ORDER_NOT_CANCELLABLE, `order is ${order.status}; it can no longer be cancelled`, { status: order.status }) as never;
    }
    try {
      const state = await deps.temporal.workflow.getHandle(orderWorkflowId(id)).executeUpdate(requestCancelUpdate, { args: [reason ?? ''] });
      return c.json({ orderId: id, accepted: true as const, status: state.status }, 200);
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
        return errorResponse(c, err.cause.type ?? ErrorCodes.ORDER_NOT_CANCELLABLE, err.cause.message) as never;
      }
      if (err instanceof WorkflowNotFoundError || /already completed/i.test((err as Error).message)) {
        return errorResponse(c, ErrorCodes.ORDER_NOT_CANCELLABLE, 'order processing has finished; it can no longer be cancelled') as never;
      }
      throw err;
    }
  });
}
