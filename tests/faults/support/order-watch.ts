/**
 * One poller for the rows of many orders at once, so a hundred scenarios that
 * each wait for their own order's next step read a shared snapshot instead of
 * each querying PostgreSQL every few milliseconds (on two cores that polling
 * alone would slow the saga it waits for).
 */
import type { Db } from '../../../prisma/client';
import { until } from '../../support/until';

export interface WatchedShipment {
  trackingNumber: string;
  warehouse: string;
  status: string;
}

export interface OrderSnapshot {
  status?: string;
  /** when the saga wrote PROCESSING (workflow clock): the shipments' hand-over timers start then */
  processingAt?: number;
  /** tracking numbers the saga itself counts as handed over / delivered (its timeline; the shipment rows are written a moment before) */
  handedOver: Set<string>;
  delivered: Set<string>;
  /** by warehouse name */
  shipments: WatchedShipment[];
  returns: Map<string, string>;
}

export interface OrderWatch {
  /** waits (up to timeoutMs) until `pick` finds something in the order's snapshot, and returns it */
  until<T>(orderId: string, what: string, pick: (o: OrderSnapshot) => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  /** stops polling (after the read under way) */
  stop(): Promise<void>;
}

export function watchOrders(db: Db, orderIds: readonly string[], everyMs = 150): OrderWatch {
  const snapshots = new Map<string, OrderSnapshot>(orderIds.map((id) => [id, { shipments: [], returns: new Map(), handedOver: new Set(), delivered: new Set() }]));
  const ids = [...orderIds];
  let stopped = false;

  const read = async () => {
    const [orders, shipments, returns, events] = await Promise.all([
      db.order.findMany({ where: { id: { in: ids } }, select: { id: true, status: true } }),
      db.shipment.findMany({ where: { orderId: { in: ids } }, select: { orderId: true, trackingNumber: true, warehouse: true, status: true }, orderBy: { warehouse: 'asc' } }),
      db.orderReturn.findMany({ where: { orderId: { in: ids } }, select: { id: true, orderId: true, status: true } }),
      db.orderEvent.findMany({
        where: { orderId: { in: ids }, OR: [{ status: 'PROCESSING' }, { type: { in: ['SHIPMENT_HANDED_OVER', 'SHIPMENT_DELIVERED'] } }] },
        select: { orderId: true, type: true, status: true, detail: true, occurredAt: true },
      }),
    ]);
    for (const [id, s] of snapshots) {
      s.status = orders.find((o) => o.id === id)?.status;
      const mine = events.filter((e) => e.orderId === id);
      s.processingAt ??= mine.find((e) => e.status === 'PROCESSING')?.occurredAt.getTime();
      const tracking = (type: string) => new Set(mine.filter((e) => e.type === type).map((e) => String((e.detail as { trackingNumber?: string }).trackingNumber)));
      s.handedOver = tracking('SHIPMENT_HANDED_OVER');
      s.delivered = tracking('SHIPMENT_DELIVERED');
      s.shipments = shipments.filter((x) => x.orderId === id);
      s.returns = new Map(returns.filter((r) => r.orderId === id).map((r) => [r.id, r.status]));
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await read().catch(() => undefined); // a failed read is tried again next time
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();

  return {
    until: (orderId, what, pick, timeoutMs = 60_000) => until(`${orderId}: ${what}`, async () => pick(snapshots.get(orderId)!), timeoutMs, 50),
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
