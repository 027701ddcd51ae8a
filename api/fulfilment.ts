import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorCodes } from '../domain/errors';
import type { Db } from '../prisma/client';
import { errorResponse } from './errors';
import { error, errors } from './openapi';
import { StatusSchema, text } from './schemas';
import type { AppEnv } from './types';
import { orderWorkflowId, requestReturnUpdate } from '../temporal-config/place-order';

export interface FulfilmentDeps {
  db: Db;
  temporal: Client;
  /** resolves the caller's customer id, or undefined when the order is not theirs to see */
  ownerCheck?: (c: Parameters<Parameters<OpenAPIHono<AppEnv>['openapi']>[1]>[0], customerId: string) => boolean;
}

const returnRoute = createRoute({
  method: 'post',
  path: '/api/v1/orders/{id}/return',
  tags: ['orders'],
  summary: 'Ask to return a delivered order within the return window: RETURN_REQUESTED; refunded and restocked once the warehouse receives the goods',
  request: {
    params: z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) }),
    body: { required: false, content: { 'application/json': { schema: z.object({ reason: text(0, 500).optional() }) } } },
  },
  responses: {
    200: {
      description: 'return requested: the order is RETURN_REQUESTED (nothing refunded yet); an order placed before refund-on-receipt answers DELIVERED and is refunded at once',
      content: { 'application/json': { schema: z.object({ orderId: z.string().uuid(), accepted: z.literal(true), status: StatusSchema }) } },
    },
    ...errors(),
    404: error(404, 'ORDER_NOT_FOUND: no such order of yours'),
    409: error(409, 'ORDER_NOT_RETURNABLE (not delivered) or RETURN_WINDOW_CLOSED'),
  },
});

export function registerFulfilmentRoutes(app: OpenAPIHono<AppEnv>, deps: FulfilmentDeps): void {
  app.openapi(returnRoute, async (c) => {
    const { id } = c.req.valid('param');
    const reason = ((await c.req.json().catch(() => ({}))) as { reason?: string })?.reason ?? 'returned by customer';
    const order = await deps.db.order.findUnique({ where: { id }, select: { status: true, customerId: true } });
    if (!order || (deps.ownerCheck && !deps.ownerCheck(c, order.customerId))) return errorResponse(c, ErrorCodes.ORDER_NOT_FOUND, 'order not found') as never;
    try {
      const state = await deps.temporal.workflow.getHandle(orderWorkflowId(id)).executeUpdate(requestReturnUpdate, { args: [reason] });
      return c.json({ orderId: id, accepted: true as const, status: state.status }, 200);
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
