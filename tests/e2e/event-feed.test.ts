/**
 * The order event feed end to end, as a shop's other systems meet it: the whole
 * stack `npm start` boots, a real HTTP receiver on loopback subscribed through
 * the admin API verifies every Standard Webhooks signature, and orders placed
 * over HTTP run on the real Temporal dev server. The receiver goes down, answers
 * 503, hangs while the dispatcher's worker is SIGKILLed; everything still
 * arrives, in order per order. Customer notifications come from the same feed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carrierSignatureHeaders } from '../../api/carrier-signature';
import type { Db } from '../../prisma/client';
import type { Stack } from '../../scripts/stack';
import { assertBooksBalance, initialStock } from '../support/books';
import { registerAndLogin, startE2eStack, type E2eStack } from '../support/e2e-stack';
import { scrape, total } from '../support/prometheus';
import { until } from '../support/until';
import { orderProblems, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

let e2e: E2eStack;
let stack: Stack;
let db: Db;
let initial: Record<string, number>;
let customer: { id: string; token: string };
let admin: string;
let receiver: WebhookReceiver;
let subscriptionId: string;
const ADMIN = { email: 'feed-operator@example.com', password: 'feed operator password 1' };
const PRODUCT = 'prod_feed_widget';

beforeAll(async () => {
  e2e = await startE2eStack(
    'feed-e2e-',
    {
      CHECKOUT_WAIT_MS: '30000',
      LOG_LEVEL: 'warn',
      FULFILMENT_HANDLING_MS: '1500',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      RATE_LIMIT_PER_MINUTE: '0',
      // the receiver is on this machine: allowed by name, every other private address stays refused
      FEED_ALLOWED_PRIVATE_TARGETS: '127.0.0.1',
      FEED_RETRY_BASE_MS: '200',
      FEED_RETRY_MAX_MS: '1000',
      FEED_REQUEST_TIMEOUT_MS: '2000',
    },
    undefined,
    { workerMetrics: true },
  );
  ({ stack, db } = e2e);
  customer = await registerAndLogin(stack.apiUrl, 'feed@example.com', 'correct horse battery');
  const login = await fetch(`${stack.apiUrl}/api/v1/users/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  admin = ((await login.json()) as { accessToken: string }).accessToken;
  const product = await call('POST', '/api/v1/admin/products', admin, { id: PRODUCT, sku: 'FEED-001', name: 'Feed widget', category: 'test', price: { amount: 500, currency: 'USD' }, stock: 1000 });
  expect(product.status).toBe(201);
  initial = await initialStock(db);
  receiver = await startWebhookReceiver();
  const sub = await call('POST', '/api/v1/admin/webhooks', admin, { url: receiver.url, description: 'e2e receiver' });
  expect(sub.status).toBe(201);
  subscriptionId = sub.body.id;
  receiver.trust(sub.body.secret);
});

afterAll(async () => {
  await receiver?.stop();
  await e2e?.stop();
});

async function call(method: string, route: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const address = { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London', postalCode: 'N1 1AA', country: 'GB' };
async function placeOrder(productId = PRODUCT): Promise<string> {
  const res = await call('POST', '/api/v1/orders', customer.token, { items: [{ productId, quantity: 1 }], shippingAddress: address, paymentMethod: { token: 'tok_visa' } });
  expect([201, 202]).toContain(res.status);
  return res.body.orderId as string;
}

const statusOf = async (orderId: string) => (await db.order.findUniqueOrThrow({ where: { id: orderId }, select: { status: true } })).status;

/** every event of these orders in PostgreSQL has arrived (answered 2xx), and in order per order */
async function allArrived(orderIds: string[]): Promise<boolean> {
  const events = await db.orderEvent.findMany({ where: { orderId: { in: orderIds } }, select: { id: true, orderId: true } });
  const delivered = new Set(receiver.received.filter((r) => r.answered === 204).map((r) => r.envelope.id));
  return events.every((e) => delivered.has(String(e.id)));
}

/** per order: the first arrivals are exactly 1..n of what PostgreSQL holds, repeats identical */
async function expectInOrder(orderIds: string[]) {
  for (const id of orderIds) {
    const seqs = (await db.orderEvent.findMany({ where: { orderId: id }, orderBy: { seq: 'asc' }, select: { seq: true } })).map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(orderProblems(receiver.ofOrder(id)), `order ${id}`).toEqual({ problems: [], sequences: seqs });
  }
}

describe('the order event feed end to end', () => {
  it('a full order life arrives at the receiver once, in order, signed; the customer notifications come from the same feed', async () => {
    const orderId = await placeOrder('prod_lamp');
    await until('SHIPPED', async () => (await statusOf(orderId)) === 'SHIPPED', 60_000);
    const [shipment] = await db.shipment.findMany({ where: { orderId } });
    const body = JSON.stringify({ trackingNumber: shipment.trackingNumber, event: 'delivered' });
    const delivered = await fetch(`${stack.apiUrl}/api/v1/webhooks/carrier`, { method: 'POST', headers: { 'content-type': 'application/json', ...carrierSignatureHeaders(stack.secrets.CARRIER_WEBHOOK_SECRET, body) }, body });
    expect(delivered.status).toBe(202);
    await until('DELIVERED', async () => (await statusOf(orderId)) === 'DELIVERED');
    await until('every event at the receiver', () => allArrived([orderId]), 30_000);
    await expectInOrder([orderId]);
    const got = receiver.ofOrder(orderId);
    expect(got.length).toBe((await db.orderEvent.count({ where: { orderId } })));
    expect(receiver.invalid).toEqual([]);
    const types = got.map((r) => r.envelope.type);
    expect(types[0]).toBe('order.placed');
    for (const t of ['order.status.confirmed', 'order.shipment_captured', 'order.status.shipped', 'order.status.delivered']) expect(types).toContain(t);
    expect(types.indexOf('order.status.confirmed')).toBeLessThan(types.indexOf('order.status.shipped'));
    expect(got[0].envelope).toMatchObject({ orderId, sequence: 1, version: 1, data: { status: 'PENDING' } });
    expect(got[0].headers['webhook-id']).toBe(got[0].envelope.id);

    // the saga ran no notification activity: the feed's notifications consumer sent one message per channel
    await until('notifications sent', async () => (await db.notification.count({ where: { orderId, status: 'SENT' } })) === 6);
    const sent = await db.notification.findMany({ where: { orderId }, orderBy: [{ createdAt: 'asc' }, { channel: 'asc' }] });
    expect([...new Set(sent.map((n) => n.kind))]).toEqual(['ORDER_CONFIRMED', 'ORDER_SHIPPED', 'ORDER_DELIVERED']);
    expect(sent.every((n) => n.idempotencyKey.startsWith('event:'))).toBe(true);
    expect(await db.orderEvent.count({ where: { orderId, type: { in: ['NOTIFIED', 'NOTIFICATION_FAILED'] } } })).toBe(0);
  });

  it('the receiver refusing connections, then answering 503: orders go on, and once it is back every event arrives in order', async () => {
    await receiver.set('down');
    const orders = await Promise.all([placeOrder(), placeOrder(), placeOrder()]);
    await until('all CONFIRMED or further', async () => (await Promise.all(orders.map(statusOf))).every((s) => s !== 'PENDING'), 60_000);
    await until('a refused attempt recorded', async () => (await db.feedDelivery.count({ where: { subscriptionId, lastError: { contains: 'ECONNREFUSED' } } })) > 0);
    await receiver.set(503);
    await until('a 503 recorded', async () => (await db.feedDelivery.count({ where: { subscriptionId, lastStatusCode: 503 } })) > 0);
    // the delivery never held the saga back: the orders reached SHIPPED while their events waited
    await until('SHIPPED while the receiver is down', async () => (await Promise.all(orders.map(statusOf))).every((s) => s === 'SHIPPED'), 60_000);
    // what an operator sees meanwhile: deliveries waiting, the heads of the orders tried and answered 503
    const operatorView = await call('GET', `/api/v1/admin/webhooks/${subscriptionId}`, admin);
    expect(operatorView.status).toBe(200);
    expect(operatorView.body.deliveries.pending).toBeGreaterThan(0);
    const heads = await Promise.all(orders.map(async (id) => (await db.feedDelivery.findFirstOrThrow({ where: { subscriptionId, orderId: id }, orderBy: { seq: 'asc' } })).id));
    const listed = await call('GET', `/api/v1/admin/webhooks/${subscriptionId}/deliveries?status=PENDING&limit=100`, admin);
    expect(listed.status).toBe(200);
    const shown = listed.body.items.filter((d: { id: string }) => heads.map(String).includes(d.id));
    expect(shown.length).toBeGreaterThan(0);
    for (const d of shown) expect(d.lastStatusCode === 503 || /ECONNREFUSED/.test(d.lastError), JSON.stringify(d)).toBe(true);
    expect(shown.some((d: { lastStatusCode: number | null }) => d.lastStatusCode === 503)).toBe(true);
    await receiver.set('ok');
    await until('every event at the receiver', () => allArrived(orders), 60_000);
    await expectInOrder(orders);
    expect(receiver.invalid).toEqual([]);
  });

  it('the dispatcher’s worker SIGKILLed with deliveries in flight: nothing lost, nothing reordered, repeats identical', async () => {
    await receiver.set('hang');
    const orders = await Promise.all([placeOrder(), placeOrder(), placeOrder(), placeOrder()]);
    await until('deliveries in flight', async () => receiver.received.filter((r) => r.answered === 'none').length >= 3, 60_000);
    await stack.stopWorker('notifications', 'SIGKILL');
    await receiver.set('ok');
    stack.startWorker('notifications');
    await until('all SHIPPED', async () => (await Promise.all(orders.map(statusOf))).every((s) => s === 'SHIPPED'), 60_000);
    await until('every event at the receiver', () => allArrived(orders), 60_000);
    await expectInOrder(orders);
    // the ones that were in flight came again (their leases ran out), with the same body
    const inFlight = receiver.received.filter((r) => r.answered === 'none' && orders.includes(r.envelope.orderId));
    for (const r of inFlight) expect(receiver.received.some((x) => x.answered === 204 && x.body === r.body)).toBe(true);
  });

  it('replay from event N re-sends exactly the events from N, in order', async () => {
    const orderId = await placeOrder();
    await until('SHIPPED', async () => (await statusOf(orderId)) === 'SHIPPED', 60_000);
    await until('every event at the receiver', () => allArrived([orderId]), 30_000);
    const events = await db.orderEvent.findMany({ where: { orderId }, orderBy: { seq: 'asc' } });
    const from = events[2];
    const before = receiver.received.length;
    const replay = await call('POST', `/api/v1/admin/webhooks/${subscriptionId}/replay`, admin, { fromEventId: String(from.id), orderId });
    expect(replay.status).toBe(202);
    const expected = events.filter((e) => e.id >= from.id).map((e) => String(e.id));
    expect(replay.body.queued).toBe(expected.length);
    await until('replayed', async () => receiver.received.slice(before).filter((r) => r.envelope.orderId === orderId).length >= expected.length, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received.slice(before).filter((r) => r.envelope.orderId === orderId).map((r) => r.envelope.id)).toEqual(expected);
  });

  it('a subscription to a private or link-local address is refused, and nothing is written', async () => {
    const count = await db.feedSubscription.count();
    for (const url of ['http://10.1.2.3/hooks', 'http://169.254.169.254/latest/meta-data', 'http://192.168.0.10:8080/', 'http://[::1]:5432/']) {
      const res = await call('POST', '/api/v1/admin/webhooks', admin, { url });
      expect(res.status, url).toBe(422);
      expect(res.body.code).toBe('WEBHOOK_TARGET_FORBIDDEN');
    }
    expect(await db.feedSubscription.count()).toBe(count);
  });

  it('200 orders at once: every order’s events arrive in order; the metrics show the attempts and no lag left', async () => {
    const orders = await Promise.all(Array.from({ length: 200 }, () => placeOrder()));
    await until('all SHIPPED', async () => (await db.order.count({ where: { id: { in: orders }, status: 'SHIPPED' } })) === 200, 240_000, 500);
    await until('every event at the receiver', () => allArrived(orders), 120_000, 500);
    await expectInOrder(orders);
    expect(receiver.invalid).toEqual([]);
    const samples = await until('no lag left', async () => {
      const all = await scrape(stack.workerMetrics.get('notifications')!);
      const of = { subscription: subscriptionId };
      return total(all, 'feed_lag_seconds', of) === 0 && total(all, 'feed_pending_deliveries', of) === 0 ? all : undefined;
    }, 30_000, 1_000);
    const of = { subscription: subscriptionId };
    expect(total(samples, 'feed_delivery_attempts_total', { ...of, outcome: 'delivered' })).toBeGreaterThanOrEqual(200 * 5);
    expect(total(samples, 'feed_failed_deliveries', of)).toBe(0);
  });

  it('health says ready, and the books balance after everything above', async () => {
    const ready = await fetch(`${stack.apiUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await assertBooksBalance(db, initial)).toEqual([]);
  });
});
