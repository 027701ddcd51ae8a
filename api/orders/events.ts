import type { RouteHandler } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { OrderStatus } from '../../domain/order-status';
import type { Db } from '../../prisma/client';
import type { AppEnv } from '../types';
import type * as routes from './orders.routes';
import { findOwnedOrder } from './orders.repo';

// The statuses after which nothing more happens to an order. DELIVERED is
// not one of them: a return may still follow.
const ENDS_STREAM: ReadonlySet<OrderStatus> = new Set(['CANCELLED', 'FAILED', 'RETURNED']);

export interface EventStreamOptions {
  /** how often order_events is read for rows newer than the last one sent */
  pollMs: number;
  heartbeatMs: number;
  /** how long a client waits before reconnecting after a dropped stream */
  retryMs?: number;
}

/**
 * Polls order_events (id > last sent) instead of LISTEN/NOTIFY: the rows are
 * written by worker processes in the orders context, which would each have to
 * NOTIFY, and LISTEN needs a dedicated connection per API process outside
 * Prisma's pool. The (order_id, id) index makes a poll an index range scan,
 * and the row id doubles as the SSE event id, so Last-Event-ID resumes exactly.
 */
export function createEventsHandler(db: Db, opts: EventStreamOptions): RouteHandler<typeof routes.orderEvents, AppEnv> {
  return async (c) => {
    const order = await findOwnedOrder(db, c.req.valid('param').id, c.get('user')!);
    const resumeFrom = c.req.valid('header')['last-event-id'];
    const log = c.get('log');
    return streamSSE(
      c,
      async (stream) => {
        let open = true;
        stream.onAbort(() => {
          open = false;
        });
        let last = BigInt(resumeFrom ?? 0);
        // An order that already ended gets its remaining timeline, then the stream closes.
        let endedWith: OrderStatus | undefined = ENDS_STREAM.has(order.status) ? order.status : undefined;
        let first = true;
        let lastWrite = Date.now();
        while (open) {
          const rows = await db.orderEvent.findMany({ where: { orderId: order.id, id: { gt: last } }, orderBy: { id: 'asc' }, take: 200 });
          for (const e of rows) {
            await stream.writeSSE({
              id: String(e.id),
              data: JSON.stringify({ id: String(e.id), type: e.type, status: e.status, detail: e.detail, occurredAt: e.occurredAt.toISOString() }),
              ...(first && opts.retryMs ? { retry: opts.retryMs } : {}),
            });
            first = false;
            last = e.id;
            lastWrite = Date.now();
            if (e.status && ENDS_STREAM.has(e.status)) endedWith = e.status;
          }
          if (rows.length === 200) continue;
          if (endedWith) {
            // EventSource reconnects whenever a stream closes; this tells the client to stop instead
            await stream.writeSSE({ event: 'end', data: JSON.stringify({ status: endedWith }) });
            break;
          }
          if (Date.now() - lastWrite >= opts.heartbeatMs) {
            await stream.write(': heartbeat\n\n');
            lastWrite = Date.now();
          }
          await stream.sleep(Math.min(opts.pollMs, opts.heartbeatMs));
        }
      },
      async (err) => {
        log.error({ err, orderId: order.id }, 'order event stream failed');
      },
    );
  };
}
