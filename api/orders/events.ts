import type { RouteHandler } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { ErrorCodes } from '../../domain/errors';
import type { OrderStatus } from '../../domain/order-status';
import type { Db } from '../../prisma/client';
import { ApiError, isUnavailable } from '../errors';
import type { AppEnv } from '../types';
import type { OrderEventFeed } from './event-notifier';
import type * as routes from './orders.routes';
import { findOwnedOrder } from './orders.repo';

// The statuses after which nothing more happens to an order. DELIVERED is
// not one of them: a return may still follow.
const ENDS_STREAM: ReadonlySet<OrderStatus> = new Set(['CANCELLED', 'FAILED', 'RETURNED']);

/** rows sent per read; a full page is followed by another read at once */
const PAGE = 200;
/** what a refused stream is told to wait: slots free as streams end (lifetime, end, client gone) */
export const STREAM_BUSY_RETRY_AFTER_SECONDS = 30;
/** a read that failed because the database is unreachable is tried again after this long */
const READ_RETRY_MS = 2_000;

export interface EventStreamOptions {
  /** wakes a stream when its order may have new rows (one LISTEN per process) */
  feed: OrderEventFeed;
  heartbeatMs: number;
  /** how long a client waits before reconnecting after a dropped stream */
  retryMs?: number;
  /** the server closes a stream after this long; the client resumes with Last-Event-ID */
  lifetimeMs: number;
  /** backstop: re-read order_events this often even without a notification */
  rereadMs: number;
  /** open streams per customer and in all, in this process */
  perCustomer: number;
  perProcess: number;
}

/** Counts open streams; a slot is taken before a stream opens and given back however it ends. */
export function streamSlots(limits: { perCustomer: number; perProcess: number }) {
  const byCustomer = new Map<string, number>();
  let total = 0;
  return {
    /** a release function (idempotent), or which limit is reached */
    acquire(customerId: string): { release: () => void } | { limit: 'customer' | 'process'; max: number } {
      const mine = byCustomer.get(customerId) ?? 0;
      if (mine >= limits.perCustomer) return { limit: 'customer', max: limits.perCustomer };
      if (total >= limits.perProcess) return { limit: 'process', max: limits.perProcess };
      byCustomer.set(customerId, mine + 1);
      total += 1;
      let released = false;
      return {
        release: () => {
          if (released) return;
          released = true;
          total -= 1;
          const left = (byCustomer.get(customerId) ?? 1) - 1;
          if (left > 0) byCustomer.set(customerId, left);
          else byCustomer.delete(customerId);
        },
      };
    },
    get open() {
      return total;
    },
  };
}

/** A wake-up call that is not lost when it rings while nobody waits. */
function alarm() {
  let rung = false;
  let wakeWaiter: (() => void) | undefined;
  return {
    ring: () => {
      rung = true;
      wakeWaiter?.();
    },
    /** true when it rang since the last take() */
    take: () => {
      const was = rung;
      rung = false;
      return was;
    },
    /** until it rings or ms pass */
    wait: (ms: number) =>
      new Promise<void>((resolve) => {
        if (rung || ms <= 0) return resolve();
        const timer = setTimeout(done, ms);
        wakeWaiter = done;
        function done() {
          clearTimeout(timer);
          wakeWaiter = undefined;
          resolve();
        }
      }),
  };
}

/**
 * Streams order_events rows with id > the last one sent: the same rows, ids and per-order sequence
 * numbers the webhook feed delivers (domain/feed.ts); the row id doubles as the SSE event id,
 * so Last-Event-ID resumes exactly. No polling: the process's one LISTEN connection wakes the
 * streams of an order when a row for it is inserted, and each then reads once (an index range
 * scan on (order_id, id)); a slow re-read (rereadMs) is the backstop for a missed notification.
 * Streams are capped per customer and per process and end after lifetimeMs.
 */
export function createEventsHandler(db: Db, opts: EventStreamOptions): RouteHandler<typeof routes.orderEvents, AppEnv> {
  const slots = streamSlots(opts);
  return async (c) => {
    const user = c.get('user')!;
    // before any database work: a refused stream costs nothing
    const slot = slots.acquire(user.id);
    if (!('release' in slot)) {
      c.header('Retry-After', String(STREAM_BUSY_RETRY_AFTER_SECONDS));
      const scope = slot.limit === 'customer' ? `${slot.max} open event streams per customer` : `${slot.max} open event streams on this server`;
      throw new ApiError(ErrorCodes.RATE_LIMITED, `at most ${scope}; close one or retry in ${STREAM_BUSY_RETRY_AFTER_SECONDS}s`, {
        limit: slot.max,
        scope: slot.limit,
        retryAfterSeconds: STREAM_BUSY_RETRY_AFTER_SECONDS,
      });
    }
    let order: Awaited<ReturnType<typeof findOwnedOrder>>;
    try {
      order = await findOwnedOrder(db, c.req.valid('param').id, user);
    } catch (err) {
      slot.release();
      throw err;
    }
    const resumeFrom = c.req.valid('header')['last-event-id'];
    const log = c.get('log');
    return streamSSE(
      c,
      async (stream) => {
        const wake = alarm();
        // subscribed before the first read: a row inserted during a read rings, and is read next
        const unsubscribe = opts.feed.subscribe(order.id, wake.ring);
        stream.onAbort(wake.ring);
        const deadline = Date.now() + opts.lifetimeMs;
        // a client that stops reading blocks a write; past its lifetime its stream is cut
        const cut = setTimeout(() => stream.abort(), opts.lifetimeMs + opts.heartbeatMs);
        try {
          let last = BigInt(resumeFrom ?? 0);
          // An order that already ended gets its remaining timeline, then the stream closes.
          let endedWith: OrderStatus | undefined = ENDS_STREAM.has(order.status) ? order.status : undefined;
          let first = true;
          let lastWrite = Date.now();
          let lastRead = 0;
          let mustRead = true;
          /** while the database is unreachable: no read before this */
          let readAfter = 0;
          while (!stream.aborted && !opts.feed.closed) {
            const now = Date.now();
            if (now >= readAfter && (mustRead || wake.take() || now - lastRead >= opts.rereadMs)) {
              wake.take();
              lastRead = now;
              mustRead = false;
              let rows: Awaited<ReturnType<typeof db.orderEvent.findMany>> | undefined;
              try {
                rows = await db.orderEvent.findMany({ where: { orderId: order.id, id: { gt: last } }, orderBy: { id: 'asc' }, take: PAGE });
              } catch (err) {
                if (!isUnavailable(err)) throw err;
                // the database is away: keep the stream (heartbeats go on) and read again shortly
                log.warn({ err, orderId: order.id }, 'order event stream cannot read; retrying');
                rows = undefined;
                mustRead = true;
                readAfter = Date.now() + READ_RETRY_MS;
              }
              for (const e of rows ?? []) {
                await stream.writeSSE({
                  id: String(e.id),
                  data: JSON.stringify({ id: String(e.id), sequence: e.seq, type: e.type, status: e.status, detail: e.detail, occurredAt: e.occurredAt.toISOString() }),
                  ...(first && opts.retryMs ? { retry: opts.retryMs } : {}),
                });
                first = false;
                last = e.id;
                lastWrite = Date.now();
                if (e.status && ENDS_STREAM.has(e.status)) endedWith = e.status;
              }
              if (rows?.length === PAGE) {
                mustRead = true;
                continue;
              }
              if (rows && endedWith) {
                // EventSource reconnects whenever a stream closes; this tells the client to stop instead
                await stream.writeSSE({ event: 'end', data: JSON.stringify({ status: endedWith }) });
                break;
              }
            }
            // lifetime over: everything up to `last` was sent, and the client resumes after it
            if (Date.now() >= deadline) break;
            if (Date.now() - lastWrite >= opts.heartbeatMs) {
              await stream.write(': heartbeat\n\n');
              lastWrite = Date.now();
            }
            // a notification during the database's absence is covered by mustRead; it must not end the wait early
            if (mustRead) wake.take();
            const nextDue = Math.min(lastWrite + opts.heartbeatMs, lastRead + opts.rereadMs, deadline, mustRead ? readAfter : Infinity);
            await wake.wait(nextDue - Date.now());
          }
        } catch (err) {
          // logged here, not sent: the client reconnects with Last-Event-ID
          log.error({ err, orderId: order.id }, 'order event stream failed');
        } finally {
          clearTimeout(cut);
          unsubscribe();
          slot.release();
        }
      },
      async (err) => {
        log.error({ err, orderId: order.id }, 'order event stream failed');
      },
    );
  };
}
