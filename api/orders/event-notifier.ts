import type { Logger } from '../../platform/logger';
import { listenPg, type PgListenOptions } from '../../platform/pg-listen';

/** The channel the order_events trigger notifies (migration 20261207012800), payload = order id. */
export const ORDER_EVENTS_CHANNEL = 'order_events';

/** What an event stream needs: to be woken when its order may have new rows. */
export interface OrderEventFeed {
  /** calls wake whenever orderId may have new order_events rows; returns the unsubscribe */
  subscribe(orderId: string, wake: () => void): () => void;
  /** set once the process is shutting down: streams end (their subscribers were woken) */
  readonly closed: boolean;
}

/** Fans one process's notifications out to the open streams of each order. */
export class OrderEventHub implements OrderEventFeed {
  private readonly subscribers = new Map<string, Set<() => void>>();
  closed = false;

  subscribe(orderId: string, wake: () => void): () => void {
    let set = this.subscribers.get(orderId);
    if (!set) this.subscribers.set(orderId, (set = new Set()));
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0 && this.subscribers.get(orderId) === set) this.subscribers.delete(orderId);
    };
  }

  /** order_events has new rows for this order */
  notify(orderId: string): void {
    this.subscribers.get(orderId)?.forEach((wake) => wake());
  }

  /** notifications may have been missed: every stream re-reads once */
  wakeAll(): void {
    for (const set of this.subscribers.values()) set.forEach((wake) => wake());
  }

  /** ends every stream (each closes cleanly; clients resume elsewhere with Last-Event-ID) */
  close(): void {
    this.closed = true;
    this.wakeAll();
  }
}

export interface OrderEventListener {
  feed: OrderEventFeed;
  /** true while the LISTEN connection is up */
  readonly listening: boolean;
  /** closes the LISTEN connection and ends every open stream */
  close(): Promise<void>;
}

/**
 * One LISTEN connection per API process on 'order_events'. Whoever inserts into order_events
 * (any worker, any process) fires the trigger; the notification wakes that order's streams,
 * which read their new rows once. After a (re)connect every stream re-reads, as notifications
 * sent while the connection was down are gone.
 */
export function listenForOrderEvents(opts: { databaseUrl: string; log: Logger; backoff?: PgListenOptions['backoff'] }): OrderEventListener {
  const hub = new OrderEventHub();
  const listener = listenPg({
    connectionString: opts.databaseUrl,
    channel: ORDER_EVENTS_CHANNEL,
    applicationName: 'order-events-listener',
    onNotify: (orderId) => hub.notify(orderId),
    onListening: () => hub.wakeAll(),
    log: opts.log,
    backoff: opts.backoff,
  });
  return {
    feed: hub,
    get listening() {
      return listener.listening;
    },
    async close() {
      hub.close();
      await listener.close();
    },
  };
}
