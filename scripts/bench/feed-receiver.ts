/**
 * The benchmark's webhook receiver (the `feed` variant): a plain HTTP server on
 * loopback, subscribed to every order event, that answers 204 at once and
 * checks what a shop's system would: each order's sequence numbers arrive
 * 1, 2, 3... (repeats allowed), and how long an event took from its commit to here.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SECRET_PREFIX, type FeedEnvelope } from '../../domain/feed';
import type { Db } from '../../prisma/client';

export interface FeedFigures {
  /** events that reached the receiver (first arrivals) */
  delivered: number;
  /** arrivals of an event already received */
  repeats: number;
  /** orders where a sequence number arrived after a higher one, or with a gap */
  ordersOutOfOrder: number;
  /** commit (recorded_at) → arrival, milliseconds */
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** events still waiting in feed_deliveries for this subscription when the variant ended */
  pendingAtEnd: number;
}

export async function startFeedReceiver(db: Db) {
  const lastSeq = new Map<string, number>();
  const outOfOrder = new Set<string>();
  const arrivedAt = new Map<string, number>();
  let repeats = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const e = JSON.parse(Buffer.concat(chunks).toString('utf8')) as FeedEnvelope;
      if (arrivedAt.has(e.id)) repeats += 1;
      else {
        arrivedAt.set(e.id, Date.now());
        if (e.sequence !== (lastSeq.get(e.orderId) ?? 0) + 1) outOfOrder.add(e.orderId);
        lastSeq.set(e.orderId, Math.max(e.sequence, lastSeq.get(e.orderId) ?? 0));
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench`;
  const sub = await db.feedSubscription.create({ data: { kind: 'webhook', url, secret: SECRET_PREFIX + randomBytes(32).toString('base64'), description: 'benchmark receiver' } });
  return {
    /** what the receiver saw, once the feed had `settleMs` to catch up */
    async figures(settleMs = 30_000): Promise<FeedFigures> {
      const deadline = Date.now() + settleMs;
      let pending: number;
      do {
        pending = await db.feedDelivery.count({ where: { subscriptionId: sub.id, status: 'PENDING' } });
        if (pending === 0) break;
        await new Promise((r) => setTimeout(r, 500));
      } while (Date.now() < deadline);
      const ids = [...arrivedAt.keys()].map((id) => BigInt(id));
      const committed = new Map<string, number>();
      for (let i = 0; i < ids.length; i += 5000) {
        const rows = await db.orderEvent.findMany({ where: { id: { in: ids.slice(i, i + 5000) } }, select: { id: true, recordedAt: true } });
        for (const r of rows) committed.set(String(r.id), r.recordedAt.getTime());
      }
      const latencies = [...arrivedAt].map(([id, at]) => at - (committed.get(id) ?? at)).sort((a, b) => a - b);
      const pick = (q: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : 0);
      return { delivered: arrivedAt.size, repeats, ordersOutOfOrder: outOfOrder.size, latencyP50Ms: pick(0.5), latencyP99Ms: pick(0.99), pendingAtEnd: pending };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
