import { timingSafeEqual } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorCodes } from '../domain/errors';
import type { Db } from '../prisma/client';
import { orderWorkflowId } from '../temporal-config/workflow-ids';
import { markDeliveredSignal, requestReturnUpdate } from '../workflows/messages';
import { errorResponse } from './errors';
import { error, errors } from './openapi';
import { text } from './schemas';
import type { AppEnv } from './types';

export interface FulfilmentDeps {
  db: Db;
  temporal: Client;
  carrierSecret: string;
  /** resolves the caller's customer id, or undefined when the order is not theirs to see */
  ownerCheck?: (c: Parameters<Parameters<OpenAPIHono<AppEnv>['openapi']>[1]>[0], customerId: string) => boolean;
}

const webhookRoute = createRoute({
  method: 'post',
  path: '/api/v1/webhooks/carrier',
  tags: ['fulfilment'],
  summary: 'Carrier tracking events (shared secret in X-Carrier-Secret)',
  request: {
    headers: z.object({ 'x-carrier-secret': z.string().min(1) }),
    body: {
      required: true,
      content: { 'application/json': { schema: z.object({ trackingNumber: text(4, 40), event: z.literal('delivered') }) } },
    },
  },
  responses: {
    202: { description: 'recorded', content: { 'application/json': { schema: z.object({ orderId: z.string().uuid(), trackingNumber: z.string() }) } } },
    ...errors(),
    401: error(401, 'UNAUTHENTICATED: wrong X-Carrier-Secret'),
    404: error(404, 'NOT_FOUND: unknown tracking number'),
  },
});

const returnRoute = createRoute({
  method: 'post',
  path: '/api/v1/orders/{id}/return',
  tags: ['orders'],
  summary: 'Return a delivered order within the return window: refund and restock',
  request: {
    params: z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) }),
    body: { required: false, content: { 'application/json': { schema: z.object({ reason: text(0, 500).optional() }) } } },
  },
  responses: {
    200: { description: 'return accepted', content: { 'application/json': { schema: z.object({ orderId: z.string().uuid(), accepted: z.literal(true) }) } } },
    ...errors(),
    404: error(404, 'ORDER_NOT_FOUND: no such order of yours'),
    409: error(409, 'ORDER_NOT_RETURNABLE (not delivered) or RETURN_WINDOW_CLOSED'),
  },
});

/** Compares bytes: a header may carry non-ASCII characters, so equal lengths in characters need not be equal in bytes. */
const sameSecret = (a: string, b: string) => {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
};

export function registerFulfilmentRoutes(app: OpenAPIHono<AppEnv>, deps: FulfilmentDeps): void {
  app.openapi(webhookRoute, async (c) => {
    if (!sameSecret(c.req.valid('header')['x-carrier-secret'], deps.carrierSecret)) {
      return errorResponse(c, ErrorCodes.UNAUTHENTICATED, 'wrong carrier secret') as never;
    }
    const { trackingNumber } = c.req.valid('json');
    const shipment = await deps.db.shipment.findUnique({ where: { trackingNumber }, select: { orderId: true } });
    if (!shipment) return errorResponse(c, ErrorCodes.NOT_FOUND, `unknown tracking number ${trackingNumber}`) as never;
    await deps.temporal.workflow.getHandle(orderWorkflowId(shipment.orderId)).signal(markDeliveredSignal, trackingNumber);
    return c.json({ orderId: shipment.orderId, trackingNumber }, 202);
  });

  app.openapi(returnRoute, async (c) => {
    const { id } = c.req.valid('param');
    const reason = ((await c.req.json().catch(() => ({}))) as { reason?: string })?.reason ?? 'returned by customer';
    const order = await deps.db.order.findUnique({ where: { id }, select: { status: true, customerId: true } });
    if (!order || (deps.ownerCheck && !deps.ownerCheck(c, order.customerId))) return errorResponse(c, ErrorCodes.ORDER_NOT_FOUND, 'order not found') as never;
    try {
      await deps.temporal.workflow.getHandle(orderWorkflowId(id)).executeUpdate(requestReturnUpdate, { args: [reason] });
      return c.json({ orderId: id, accepted: true as const }, 200);
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
        return errorResponse(c, err.cause.type ?? ErrorCodes.ORDER_NOT_RETURNABLE, err.cause.message) as never;
      }
      if (err instanceof WorkflowNotFoundError || /already completed/i.test((err as Error).message)) {
        return errorResponse(c, ErrorCodes.RETURN_WINDOW_CLOSED, `order is ${order.status}; it can no longer be returned`) as never;
      }
      throw err;
    }
  });
}
