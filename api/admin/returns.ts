import { createRoute, z, type OpenAPIHono, type RouteHandler } from '@hono/zod-openapi';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ErrorCodes } from '../../domain/errors';
import type { Db } from '../../prisma/client';
import { ApiError } from '../errors';
import { error, errors, json } from '../openapi';
import { StatusSchema, text } from '../schemas';
import type { AppEnv } from '../types';
import { returnReceivedSignal } from '../../temporal-config/place-order';

export const returnReceived = createRoute({
  method: 'post',
  path: '/api/v1/admin/orders/{id}/return-received',
  tags: ['admin'],
  summary: 'The warehouse has the goods of a RETURN_REQUESTED order back: restock and refund follow, then RETURNED',
  request: {
    params: z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) }),
    body: { required: false, content: json(z.object({ note: text(0, 500).optional().openapi({ description: 'what the warehouse noticed, kept on the timeline' }) })) },
  },
  responses: {
    202: {
      description: 'recorded: the order is restocked and refunded, then RETURNED (follow GET /api/v1/orders/{id} or its event stream)',
      content: json(z.object({ orderId: z.string().uuid(), accepted: z.literal(true), status: StatusSchema })),
    },
    ...errors(),
    404: error(404, 'ORDER_NOT_FOUND: no such order'),
    409: error(409, 'RETURN_NOT_REQUESTED: no return awaits this order’s goods (details.status: never asked for, received already, or lapsed)'),
  },
});

/**
 * Records a return as received. PostgreSQL says whether a return awaits the
 * goods (the workflow writes RETURN_REQUESTED there before it answers the
 * customer); the workflow ignores, on its timeline, a receipt that races a lapse.
 */
export function registerReturnRoutes(app: OpenAPIHono<AppEnv>, deps: { db: Db; temporal: Client }): void {
  const handler: RouteHandler<typeof returnReceived, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    const note = (c.req.valid('json') as { note?: string } | undefined)?.note || undefined;
    const order = await deps.db.order.findUnique({ where: { id }, select: { status: true, workflowId: true } });
    if (!order) throw new ApiError(ErrorCodes.ORDER_NOT_FOUND, 'order not found');
    const notAwaited = () => new ApiError(ErrorCodes.RETURN_NOT_REQUESTED, `order is ${order.status}; no return awaits its goods`, { status: order.status });
    if (order.status !== 'RETURN_REQUESTED') throw notAwaited();
    try {
      await deps.temporal.workflow.getHandle(order.workflowId).signal(returnReceivedSignal, note);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notAwaited();
      throw err;
    }
    return c.json({ orderId: id, accepted: true as const, status: order.status }, 202);
  };
  app.openapi(returnReceived, handler);
}
