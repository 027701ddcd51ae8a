/**
 * The event feed's dispatcher on a real PostgreSQL (the outbox triggers of the
 * migrations) sending to a real HTTP receiver on loopback that verifies every
 * signature: order per order, retries through an outage, the end of the retry
 * period, 410, timeouts, secret rotation, two dispatchers side by side, and the
 * customer notifications it sends as the feed's built-in consumer.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNotificationsActivities } from '../../activities/notifications';
import type { NotificationSender, OutgoingMessage } from '../../activities/notifications/sender';
import { SECRET_PREFIX } from '../../domain/feed';
import { nextDueAt, startFeedDispatcher, type FeedDispatcher, type FeedSettings } from '../../feed/dispatcher';
import { createLogger } from '../../platform/logger';
import { parseAllowList } from '../../platform/outbound-target';
import type { Db, Prisma } from '../../prisma/client';
import { freshDatabase } from '../support/db';
import { until } from '../support/until';
import { orderProblems, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

let db: Db;
let url: string;
const log = createLogger('feed-test', 'silent');
const dispatchers: FeedDispatcher[] = [];
const receivers: WebhookReceiver[] = [];

/** what the fake provider was asked to send; `failing` makes it throw like a provider that is down */
const outbox: OutgoingMessage[] = [];
let providerDown = false;
const sender: NotificationSender = {
  async send(message) {
    if (providerDown) throw new Error('notification provider unavailable (test)');
    outbox.push(message);
  },
};

const settings = (over: Partial<FeedSettings> = {}): FeedSettings => ({
  retryPeriodMs: 60_000,
  retryBaseMs: 50,
  retryMaxMs: 300,
  requestTimeoutMs: 1_000,
  batchSize: 20,
  notificationRetryPeriodMs: 60_000,
  retentionMs: 30 * 24 * 60 * 60_000,
  allow: parseAllowList('127.0.0.1'),
  ...over,
});

function dispatcher(over: Partial<FeedSettings> = {}): FeedDispatcher {
  const d = startFeedDispatcher({ db, databaseUrl: url, log, settings: settings(over), notifications: createNotificationsActivities(db, sender), idleMs: 200 });
  dispatchers.push(d);
  return d;
}

const newSecret = () => SECRET_PREFIX + randomBytes(32).toString('base64');

async function receiver(mode: Parameters<typeof startWebhookReceiver>[0] = 'ok') {
  const r = await startWebhookReceiver(mode);
  receivers.push(r);
  return r;
}

/** a webhook subscription written as the admin API writes it, with the receiver trusting its secret */
async function subscribe(r: WebhookReceiver, eventTypes: string[] = []) {
  const secret = newSecret();
  r.trust(secret);
  const sub = await db.feedSubscription.create({ data: { kind: 'webhook', url: r.url, secret, eventTypes } });
  return sub.id;
}

/** an order with the events a saga writes (ORDER_PLACED, then status changes and steps), each its own transaction */
async function orderWithEvents(n: number, detail: Prisma.InputJsonObject = {}): Promise<string> {
  const id = randomUUID();
  await db.order.create({
    data: {
      id,
      customerId: randomUUID(),
      workflowId: `order-${id}`,
      currency: 'EUR',
      totalAmount: 1000,
      shippingAddress: {},
      timeline: { create: { key: '000-ORDER_PLACED', type: 'ORDER_PLACED', status: 'PENDING', occurredAt: new Date() } },
    },
  });
  await addEvents(id, n - 1, detail);
  return id;
}

async function addEvents(orderId: string, n: number, detail: Prisma.InputJsonObject = {}) {
  const have = await db.orderEvent.count({ where: { orderId } });
  for (let i = 0; i < n; i += 1) {
    const k = have + i;
    await db.orderEvent.create({ data: { orderId, key: `${String(k).padStart(3, '0')}-STEP`, type: k % 2 ? 'STATUS_CHANGED' : 'STOCK_RESERVED', status: k % 2 ? 'CONFIRMED' : null, detail, occurredAt: new Date() } });
  }
}

const eventsOf = (orderId: string) => db.orderEvent.findMany({ where: { orderId }, orderBy: { seq: 'asc' } });
const deliveriesOf = (subscriptionId: string, orderId: string) => db.feedDelivery.findMany({ where: { subscriptionId, orderId }, orderBy: { seq: 'asc' } });

beforeAll(async () => {
  ({ db, url } = await freshDatabase('feed'));
});

afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
  // each test starts with no subscription but the built-in one
  await db.feedSubscription.deleteMany({ where: { kind: 'webhook' } });
  providerDown = false;
});

afterAll(async () => {
  await db?.$disconnect();
});

describe('the event feed dispatcher', () => {
  it('numbers each order 1, 2, 3... and delivers every event once per subscription, in order per order, signed, in the stable envelope', async () => {
    const all = await receiver();
    const statuses = await receiver();
    const subAll = await subscribe(all);
    const subStatuses = await subscribe(statuses, ['order.status.*']);
    const orders = await Promise.all([orderWithEvents(6), orderWithEvents(6), orderWithEvents(6)]);
    dispatcher();
    for (const id of orders) {
      const events = await eventsOf(id);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      await until(`order ${id} at both receivers`, async () => all.ofOrder(id).length >= 6 && statuses.ofOrder(id).length >= 3);
      const got = all.ofOrder(id);
      expect(got.map((r) => r.envelope.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(got[0].envelope).toEqual({ id: String(events[0].id), type: 'order.placed', orderId: id, sequence: 1, occurredAt: events[0].occurredAt.toISOString(), version: 1, data: { status: 'PENDING' } });
      expect(got[1].envelope).toMatchObject({ type: 'order.status.confirmed', sequence: 2, data: { status: 'CONFIRMED' } });
      expect(got[2].envelope).toMatchObject({ type: 'order.stock_reserved', sequence: 3, data: {} });
      expect(got.map((r) => r.headers['webhook-id'])).toEqual(events.map((e) => String(e.id)));
      expect(statuses.ofOrder(id).map((r) => r.envelope.type)).toEqual(['order.status.confirmed', 'order.status.confirmed', 'order.status.confirmed']);
      expect((await deliveriesOf(subAll, id)).map((d) => [d.status, d.attempts])).toEqual(Array(6).fill(['DELIVERED', 1]));
      expect((await deliveriesOf(subStatuses, id)).map((d) => d.seq)).toEqual([2, 4, 6]);
    }
    expect(all.received).toHaveLength(18);
    expect(statuses.received).toHaveLength(9);
    expect([...all.invalid, ...statuses.invalid]).toEqual([]);
  });

  it('a receiver refusing connections, then answering 503, gets everything in order once it is back; the deliveries show why they waited', async () => {
    const r = await receiver('down');
    const sub = await subscribe(r);
    dispatcher();
    const orders = await Promise.all([orderWithEvents(4), orderWithEvents(4)]);
    await until('a refused attempt recorded', async () => (await db.feedDelivery.findFirst({ where: { subscriptionId: sub, lastError: { contains: 'ECONNREFUSED' } } })) !== null);
    await r.set(503);
    await until('a 503 recorded', async () => (await db.feedDelivery.findFirst({ where: { subscriptionId: sub, lastStatusCode: 503 } })) !== null);
    // while it is down, only the head of each order was tried: nothing behind it moved
    const tried = await db.feedDelivery.findMany({ where: { subscriptionId: sub, attempts: { gt: 0 } } });
    expect(new Set(tried.map((d) => d.seq))).toEqual(new Set([1]));
    const during = r.received.length;
    expect(r.received.every((x) => x.envelope.sequence === 1)).toBe(true);
    await addEvents(orders[0], 2); // events keep coming while it is down
    await r.set('ok');
    await until('all delivered', async () => (await db.feedDelivery.count({ where: { subscriptionId: sub, status: 'DELIVERED' } })) === 10, 20_000);
    for (const id of orders) {
      const delivered = r.ofOrder(id).filter((x) => x.answered === 204);
      expect(delivered.map((x) => x.envelope.sequence)).toEqual((await eventsOf(id)).map((e) => e.seq));
      expect(orderProblems(r.ofOrder(id)).problems).toEqual([]);
    }
    expect(r.received.length).toBeGreaterThan(during);
    expect(r.invalid).toEqual([]);
  });

  it('past the retry period a delivery is FAILED and holds back the rest of its order only; skipping it lets them through', async () => {
    const r = await receiver(500);
    const sub = await subscribe(r);
    const stuck = await orderWithEvents(3);
    dispatcher({ retryPeriodMs: 600 });
    await until('FAILED', async () => (await db.feedDelivery.findFirst({ where: { subscriptionId: sub, orderId: stuck, status: 'FAILED' } })) !== null);
    const head = (await deliveriesOf(sub, stuck))[0];
    expect(head).toMatchObject({ seq: 1, status: 'FAILED', lastStatusCode: 500 });
    expect(head.attempts).toBeGreaterThan(1);
    await r.set('ok');
    const other = await orderWithEvents(2);
    await until('the other order delivered', async () => r.ofOrder(other).length === 2);
    await new Promise((res) => setTimeout(res, 500));
    expect((await deliveriesOf(sub, stuck)).map((d) => d.status)).toEqual(['FAILED', 'PENDING', 'PENDING']);
    expect(r.ofOrder(stuck).filter((x) => x.answered === 204)).toEqual([]);
    // an operator skips it (what POST .../deliveries/{id}/skip does)
    await db.$executeRaw`UPDATE feed_deliveries SET status = 'SKIPPED' WHERE id = ${head.id}`;
    await db.$executeRaw`SELECT pg_notify('feed_deliveries', 'skip')`;
    await until('the rest of the order delivered', async () => r.ofOrder(stuck).filter((x) => x.answered === 204).length === 2);
    expect(r.ofOrder(stuck).filter((x) => x.answered === 204).map((x) => x.envelope.sequence)).toEqual([2, 3]);
  });

  it('a receiver answering 410 Gone pauses its subscription: nothing more is sent until it is resumed, and then all of it is', async () => {
    const r = await receiver(410);
    const sub = await subscribe(r);
    const id = await orderWithEvents(3);
    dispatcher();
    await until('paused', async () => (await db.feedSubscription.findUniqueOrThrow({ where: { id: sub } })).status === 'PAUSED');
    expect((await db.feedSubscription.findUniqueOrThrow({ where: { id: sub } })).pausedReason).toMatch(/410 Gone/);
    await new Promise((res) => setTimeout(res, 500));
    expect(r.received).toHaveLength(1);
    expect((await deliveriesOf(sub, id)).map((d) => d.status)).toEqual(['PENDING', 'PENDING', 'PENDING']);
    await r.set('ok');
    await db.$executeRaw`UPDATE feed_subscriptions SET status = 'ACTIVE', paused_reason = NULL WHERE id = ${sub}::uuid`;
    await db.$executeRaw`SELECT pg_notify('feed_deliveries', 'resume')`;
    await until('delivered after resume', async () => r.ofOrder(id).filter((x) => x.answered === 204).length === 3);
    expect(orderProblems(r.ofOrder(id)).problems).toEqual([]);
  });

  it('a receiver that does not answer in time gets the delivery again, with the same body; the order waits for it', async () => {
    const r = await receiver('hang');
    const sub = await subscribe(r);
    const id = await orderWithEvents(2);
    dispatcher({ requestTimeoutMs: 300 });
    await until('two attempts at the first event', async () => r.ofOrder(id).length >= 2);
    await r.set('ok');
    await until('delivered', async () => (await db.feedDelivery.count({ where: { subscriptionId: sub, status: 'DELIVERED' } })) === 2);
    const got = r.ofOrder(id);
    expect(orderProblems(got)).toEqual({ problems: [], sequences: [1, 2] });
    expect(new Set(got.filter((x) => x.envelope.sequence === 1).map((x) => x.body)).size).toBe(1);
    expect((await deliveriesOf(sub, id))[0].lastError).toBeNull();
  });

  it('after a secret rotation each delivery carries two signatures: receivers still on the old secret verify it during the grace period', async () => {
    const onlyOld = await receiver();
    const oldSecret = newSecret();
    const current = newSecret();
    onlyOld.trust(oldSecret);
    const sub = await db.feedSubscription.create({
      data: { kind: 'webhook', url: onlyOld.url, secret: current, previousSecret: oldSecret, previousSecretUntil: new Date(Date.now() + 60_000) },
    });
    const id = await orderWithEvents(1);
    dispatcher();
    await until('delivered', async () => onlyOld.ofOrder(id).length === 1);
    expect(onlyOld.invalid).toEqual([]);
    expect(onlyOld.received[0].headers['webhook-signature'].split(' ')).toHaveLength(2);
    // past the grace period only the current secret signs
    await db.feedSubscription.update({ where: { id: sub.id }, data: { previousSecretUntil: new Date(Date.now() - 1) } });
    await addEvents(id, 1);
    await until('second delivered', async () => onlyOld.ofOrder(id).length === 2);
    expect(onlyOld.invalid).toHaveLength(1);
    expect(onlyOld.received[1].headers['webhook-signature'].split(' ')).toHaveLength(1);
  });

  it('two dispatchers side by side send each event once, still in order per order', async () => {
    const r = await receiver();
    const sub = await subscribe(r);
    dispatcher({ batchSize: 3 });
    dispatcher({ batchSize: 3 });
    const orders = await Promise.all(Array.from({ length: 8 }, () => orderWithEvents(5)));
    await until('all delivered', async () => (await db.feedDelivery.count({ where: { subscriptionId: sub, status: 'DELIVERED' } })) === 40, 20_000);
    expect(r.received).toHaveLength(40);
    for (const id of orders) expect(orderProblems(r.ofOrder(id))).toEqual({ problems: [], sequences: [1, 2, 3, 4, 5] });
  });

  it('customer notifications are the feed’s built-in consumer: one message per channel for each status change that asks for one, once per event', async () => {
    dispatcher();
    const id = await orderWithEvents(1);
    await db.orderEvent.create({ data: { orderId: id, key: '001-STATUS_CHANGED', type: 'STATUS_CHANGED', status: 'CONFIRMED', detail: { notify: 'ORDER_CONFIRMED' }, occurredAt: new Date() } });
    await db.orderEvent.create({ data: { orderId: id, key: '002-STATUS_CHANGED', type: 'STATUS_CHANGED', status: 'CANCELLED', detail: {}, occurredAt: new Date() } });
    await until('sent', async () => (await db.notification.count({ where: { orderId: id } })) === 2);
    const sent = await db.notification.findMany({ where: { orderId: id }, orderBy: { channel: 'asc' } });
    const event = await db.orderEvent.findFirstOrThrow({ where: { orderId: id, key: '001-STATUS_CHANGED' } });
    expect(sent.map((n) => [n.channel, n.kind, n.status, n.idempotencyKey])).toEqual([
      ['email', 'ORDER_CONFIRMED', 'SENT', `event:${event.id}:email`],
      ['sms', 'ORDER_CONFIRMED', 'SENT', `event:${event.id}:sms`],
    ]);
    const builtIn = await db.feedSubscription.findFirstOrThrow({ where: { kind: 'notifications' } });
    await until('both status changes handled', async () => (await db.feedDelivery.count({ where: { subscriptionId: builtIn.id, orderId: id, status: 'DELIVERED' } })) === 2);
    // a replay of the same events sends nothing twice
    await db.$executeRaw`INSERT INTO feed_deliveries (subscription_id, event_id, order_id, seq, replay) SELECT ${builtIn.id}::uuid, id, order_id, seq, true FROM order_events WHERE order_id = ${id}::uuid AND type = 'STATUS_CHANGED'`;
    await db.$executeRaw`SELECT pg_notify('feed_deliveries', 'replay')`;
    await until('replayed', async () => (await db.feedDelivery.count({ where: { subscriptionId: builtIn.id, orderId: id, status: 'DELIVERED' } })) === 4);
    expect(outbox.filter((m) => m.body.includes(id))).toHaveLength(2);
  });

  it('a notification provider down past the notification retry period: recorded FAILED, and the order’s next message still goes out', async () => {
    providerDown = true;
    dispatcher({ notificationRetryPeriodMs: 500 });
    const id = await orderWithEvents(1);
    await db.orderEvent.create({ data: { orderId: id, key: '001-STATUS_CHANGED', type: 'STATUS_CHANGED', status: 'CONFIRMED', detail: { notify: 'ORDER_CONFIRMED' }, occurredAt: new Date() } });
    await until('recorded FAILED', async () => (await db.notification.count({ where: { orderId: id, status: 'FAILED' } })) === 2);
    expect((await db.notification.findFirstOrThrow({ where: { orderId: id, channel: 'email' } })).error).toMatch(/provider unavailable/);
    providerDown = false;
    await db.orderEvent.create({ data: { orderId: id, key: '002-STATUS_CHANGED', type: 'STATUS_CHANGED', status: 'CANCELLED', detail: { notify: 'ORDER_CANCELLED' }, occurredAt: new Date() } });
    await until('the next one sent', async () => (await db.notification.count({ where: { orderId: id, kind: 'ORDER_CANCELLED', status: 'SENT' } })) === 2);
  });

  it('a receiver down for a while does not make the dispatcher spin: rows queued behind a waiting head are not due', async () => {
    const r = await receiver('down');
    const sub = await subscribe(r);
    const d = dispatcher({ retryBaseMs: 6_000, retryMaxMs: 6_000 });
    const id = await orderWithEvents(30);
    await until('the head tried once', async () => (await db.feedDelivery.findFirst({ where: { subscriptionId: sub, orderId: id, attempts: { gt: 0 } } })) !== null);
    // while the head waits out its backoff, nothing is due before it (the dispatcher sleeps until then)
    // and a round claims nothing: the 29 rows behind it stay untouched
    const builtIn = await db.feedSubscription.findFirstOrThrow({ where: { kind: 'notifications' } });
    await until('the built-in consumer done with the order', async () => (await db.feedDelivery.count({ where: { subscriptionId: builtIn.id, orderId: id, status: 'PENDING' } })) === 0);
    const head = await db.feedDelivery.findFirstOrThrow({ where: { subscriptionId: sub, orderId: id, seq: 1 } });
    expect(await nextDueAt(db)).toEqual(head.nextAttemptAt);
    expect(head.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() + 200);
    expect(await d.drain()).toBe(0);
    expect(await db.feedDelivery.count({ where: { subscriptionId: sub, orderId: id, attempts: 0 } })).toBe(29);
  });

  it('delivered and skipped deliveries older than the retention are deleted; undelivered ones are kept', async () => {
    const r = await receiver();
    const sub = await subscribe(r);
    const id = await orderWithEvents(3);
    const d = dispatcher({ retentionMs: 60_000 });
    await until('delivered', async () => (await db.feedDelivery.count({ where: { subscriptionId: sub, orderId: id, status: 'DELIVERED' } })) === 3);
    await r.set('down');
    await db.$executeRaw`UPDATE feed_deliveries SET created_at = now() - interval '2 minutes' WHERE subscription_id = ${sub}::uuid AND seq < 3`;
    await db.$executeRaw`UPDATE feed_deliveries SET status = 'PENDING', created_at = now() - interval '2 minutes' WHERE subscription_id = ${sub}::uuid AND seq = 3`;
    expect(await d.prune()).toBeGreaterThanOrEqual(2);
    expect((await deliveriesOf(sub, id)).map((x) => [x.seq, x.status])).toEqual([[3, 'PENDING']]);
  });
});
