/**
 * The order event feed's admin API (issue 18): webhook subscriptions (SSRF-safe targets, secrets
 * shown once, rotation with a grace period) and their deliveries (skip, redeliver, replay), in-process
 * against a real PostgreSQL whose triggers fan order events out into deliveries. No dispatcher runs
 * here: what the tests see is what an operator sees through the API.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEED_DELIVERIES_CHANNEL } from '../../domain/feed';
import { until } from '../support/until';
import { apiClient, expectError, fieldPaths, newAdmin, newCustomer, type ApiClient } from './support/harness';
import { startOfflineBackend } from './support/offline-backend';
import { perSuite } from './support/suite';

const GRACE_MS = 60 * 60_000;
const backend = perSuite(() => startOfflineBackend('feed_subscriptions'));
/** no private target allowed (the default) */
let api: ApiClient;
/** an API whose FEED_ALLOWED_PRIVATE_TARGETS is 127.0.0.1 */
let lenient: ApiClient;
let admin: string;
let customer: string;
/** another connection, LISTENing where the dispatchers do */
let listener: pg.Client;
let wakeUps = 0;

beforeAll(async () => {
  api = apiClient(backend.app({ feedSecretGraceMs: GRACE_MS }));
  lenient = apiClient(backend.app({ feedAllowedPrivateTargets: '127.0.0.1' }));
  admin = (await newAdmin(api, backend.db)).token;
  customer = (await newCustomer(api)).token;
  listener = new pg.Client({ connectionString: backend.url });
  await listener.connect();
  listener.on('notification', (n) => {
    if (n.channel === FEED_DELIVERIES_CHANNEL) wakeUps += 1;
  });
  await listener.query(`LISTEN ${FEED_DELIVERIES_CHANNEL}`);
});
afterAll(async () => {
  await listener?.end();
});

const PUBLIC = 'https://93.184.216.34/hooks/orders';
const call = (method: string, path: string, body?: unknown, token = admin) => api.call(method, `/api/v1/admin/webhooks${path}`, { token, body });
const create = (body: unknown, client = api) => client.call('POST', '/api/v1/admin/webhooks', { token: admin, body });
const webhookRows = () => backend.db.feedSubscription.count({ where: { kind: 'webhook' } });
/** Runs `act` and waits for the dispatchers' channel to be notified. */
async function wakes(act: () => Promise<unknown>) {
  const before = wakeUps;
  await act();
  await until('a notification on feed_deliveries', async () => wakeUps > before, 5_000, 20);
}

let n = 0;
/** An order and its events, written as the saga writes them: the triggers number and fan them out. */
async function orderWithEvents(events: { type: string; status?: 'PENDING' | 'CONFIRMED' | 'SHIPPED' | 'DELIVERED'; at?: Date }[]) {
  const orderId = randomUUID();
  await backend.db.order.create({
    data: {
      id: orderId, customerId: 'feed-test', workflowId: `order-${orderId}`, status: 'PENDING', currency: 'USD', totalAmount: 2500,
      shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' },
    },
  });
  const ids: string[] = [];
  for (const e of events) {
    n += 1;
    const row = await backend.db.orderEvent.create({
      data: { orderId, key: `${n}-${e.type}`, type: e.type, status: e.status ?? null, occurredAt: e.at ?? new Date() },
    });
    ids.push(String(row.id));
  }
  return { orderId, eventIds: ids };
}

const deliveries = async (id: string, query = '') => {
  const res = await call('GET', `/${id}/deliveries${query}`);
  expect(res.status).toBe(200);
  return res.body.items as { id: string; eventId: string; orderId: string; sequence: number; type: string; status: string; replay: boolean; [k: string]: unknown }[];
};
const setDelivery = (id: string, sql: string) => backend.db.$executeRawUnsafe(`UPDATE feed_deliveries SET ${sql} WHERE id = $1`, BigInt(id));

describe('creating a webhook', () => {
  it('answers the subscription and its secret (whsec_ + 32 random bytes), which no later read shows', async () => {
    const res = await create({ url: PUBLIC, eventTypes: ['order.status.*', 'order.placed'], description: 'ERP sync' });
    expect(res.status).toBe(201);
    const { secret, ...view } = res.body;
    expect(view).toEqual({
      id: expect.any(String), url: PUBLIC, description: 'ERP sync', eventTypes: ['order.status.*', 'order.placed'],
      status: 'ACTIVE', pausedReason: null, previousSecretUntil: null, createdAt: expect.any(String), updatedAt: expect.any(String),
    });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect((await create({ url: PUBLIC })).body.secret).not.toBe(secret);
    expect((await backend.db.feedSubscription.findUniqueOrThrow({ where: { id: view.id } })).secret).toBe(secret);

    const list = await call('GET', '');
    expect(list.body.items.find((w: { id: string }) => w.id === view.id)).toEqual(view);
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
    const one = await call('GET', `/${view.id}`);
    expect(one.body).toEqual({ ...view, deliveries: { pending: 0, failed: 0, delivered: 0, skipped: 0, oldestPendingAt: null } });
    expect(JSON.stringify(one.body)).not.toContain('whsec_');
  });

  it('takes every event type when none are given, and no description', async () => {
    const res = await create({ url: 'http://93.184.216.34:8080/x' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ eventTypes: [], description: null, url: 'http://93.184.216.34:8080/x' });
  });

  it.each([
    ['http://10.0.0.5/hook', /10\.0\.0\.5 is a private address/],
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a linkLocal address/],
    ['http://localhost:3000/hook', /localhost resolves to .*loopback/],
    ['http://127.0.0.1:3000/hook', /127\.0\.0\.1 is a loopback address/],
    ['http://[::1]:3000/hook', /::1 is a loopback/],
    ['http://192.168.1.10/hook', /private/],
    ['ftp://93.184.216.34/hook', /only http and https/],
    ['https://user:secret@93.184.216.34/hook', /credentials/],
  ])('refuses %s with 422 WEBHOOK_TARGET_FORBIDDEN, naming why, and writes nothing', async (url, why) => {
    const before = await webhookRows();
    const err = expectError(await create({ url }), 422, 'WEBHOOK_TARGET_FORBIDDEN');
    expect(err.message).toMatch(why);
    expect(err.details.reason).toMatch(why);
    expect(await webhookRows()).toBe(before);
  });

  it('accepts a private address the allow-list names (FEED_ALLOWED_PRIVATE_TARGETS), and no other', async () => {
    const res = await create({ url: 'http://127.0.0.1:9999/hook' }, lenient);
    expect(res.status).toBe(201);
    expect(res.body.url).toBe('http://127.0.0.1:9999/hook');
    expectError(await create({ url: 'http://10.0.0.5/hook' }, lenient), 422, 'WEBHOOK_TARGET_FORBIDDEN');
    expectError(await create({ url: 'http://127.0.0.1:9999/hook' }), 422, 'WEBHOOK_TARGET_FORBIDDEN');
  });

  it('bad fields are 400 VALIDATION_FAILED naming each, before any target is checked', async () => {
    expect(fieldPaths(await create({ url: PUBLIC, eventTypes: ['ORDER_PLACED', 'order.placed', 'order.*', 'order.status.*x'] }))).toEqual(['eventTypes.0', 'eventTypes.3']);
    expect(fieldPaths(await create({ url: PUBLIC, eventTypes: Array.from({ length: 51 }, () => 'order.placed') }))).toEqual(['eventTypes']);
    expect(fieldPaths(await create({ url: 'not a url', description: 'x'.repeat(201) }))).toEqual(['description', 'url']);
    expect(fieldPaths(await create({ url: `https://93.184.216.34/${'x'.repeat(2000)}` }))).toEqual(['url']);
    expect(fieldPaths(await create({ eventTypes: [] }))).toEqual(['url']);
    expectError(await create({ url: 'http://10.0.0.5/', eventTypes: 'order.placed' }), 400, 'VALIDATION_FAILED');
  });

  it('is for admins only: 403 for a customer, 401 without a token', async () => {
    expectError(await api.call('POST', '/api/v1/admin/webhooks', { token: customer, body: { url: PUBLIC } }), 403, 'FORBIDDEN');
    expectError(await api.call('GET', '/api/v1/admin/webhooks', { token: customer }), 403, 'FORBIDDEN');
    expectError(await api.call('GET', '/api/v1/admin/webhooks'), 401, 'UNAUTHENTICATED');
  });
});

describe('managing a webhook', () => {
  let id: string;
  beforeAll(async () => {
    id = (await create({ url: PUBLIC, eventTypes: ['order.placed'], description: 'to manage' })).body.id;
  });

  it('lists webhooks only: the built-in notifications subscription is neither listed nor reachable', async () => {
    const builtIn = await backend.db.feedSubscription.findFirstOrThrow({ where: { kind: 'notifications' } });
    const list = await call('GET', '');
    expect(list.body.items.length).toBe(await webhookRows());
    expect(list.body.items.map((w: { id: string }) => w.id)).not.toContain(builtIn.id);
    expectError(await call('GET', `/${builtIn.id}`), 404, 'SUBSCRIPTION_NOT_FOUND');
    expectError(await call('POST', `/${builtIn.id}/pause`), 404, 'SUBSCRIPTION_NOT_FOUND');
    expectError(await call('POST', `/${builtIn.id}/rotate-secret`), 404, 'SUBSCRIPTION_NOT_FOUND');
    expectError(await call('DELETE', `/${builtIn.id}`), 404, 'SUBSCRIPTION_NOT_FOUND');
    expect(await backend.db.feedSubscription.findUniqueOrThrow({ where: { id: builtIn.id } })).toMatchObject({ status: 'ACTIVE', secret: null });
  });

  it('an unknown id is 404 SUBSCRIPTION_NOT_FOUND, a malformed one 400 (as order ids)', async () => {
    for (const [method, path] of [['GET', ''], ['PATCH', ''], ['DELETE', ''], ['POST', '/pause'], ['POST', '/resume'], ['POST', '/rotate-secret'], ['GET', '/deliveries']]) {
      const body = method === 'PATCH' ? { description: 'x' } : undefined;
      expectError(await call(method, `/${randomUUID()}${path}`, body), 404, 'SUBSCRIPTION_NOT_FOUND');
      expect(fieldPaths(await call(method, `/not-a-uuid${path}`, body)), `${method} ${path}`).toEqual(['id']);
    }
    expectError(await call('POST', `/${randomUUID()}/replay`, { fromEventId: '1' }), 404, 'SUBSCRIPTION_NOT_FOUND');
    expectError(await call('POST', `/${randomUUID()}/deliveries/1/skip`), 404, 'SUBSCRIPTION_NOT_FOUND');
  });

  it('PATCH changes what is sent; a new URL is checked again, and a refused one changes nothing', async () => {
    const res = await call('PATCH', `/${id}`, { eventTypes: ['order.placed', 'order.status.*'], description: 'renamed' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, url: PUBLIC, eventTypes: ['order.placed', 'order.status.*'], description: 'renamed' });

    const refused = expectError(await call('PATCH', `/${id}`, { url: 'http://169.254.169.254/latest/', description: 'not this' }), 422, 'WEBHOOK_TARGET_FORBIDDEN');
    expect(refused.message).toMatch(/linkLocal/);
    expect((await call('GET', `/${id}`)).body).toMatchObject({ url: PUBLIC, description: 'renamed' });

    expect((await call('PATCH', `/${id}`, { url: 'https://93.184.216.35/v2', description: '' })).body).toMatchObject({ url: 'https://93.184.216.35/v2', description: null });
    expect(fieldPaths(await call('PATCH', `/${id}`, {}))).toEqual(['']);
    expect(fieldPaths(await call('PATCH', `/${id}`, { eventTypes: ['nope'] }))).toEqual(['eventTypes.0']);
  });

  it('pause holds it with the reason; resume sends again and wakes the dispatchers', async () => {
    const paused = await call('POST', `/${id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ id, status: 'PAUSED', pausedReason: 'paused by an operator' });
    expect((await call('GET', '')).body.items.find((w: { id: string }) => w.id === id)).toMatchObject({ status: 'PAUSED' });
    await wakes(async () => {
      const resumed = await call('POST', `/${id}/resume`);
      expect(resumed.status).toBe(200);
      expect(resumed.body).toMatchObject({ id, status: 'ACTIVE', pausedReason: null });
    });
  });

  it('rotating the secret answers a new one; the previous one signs until now + FEED_SECRET_GRACE_MS', async () => {
    const before = await backend.db.feedSubscription.findUniqueOrThrow({ where: { id } });
    const res = await call('POST', `/${id}/rotate-secret`);
    expect(res.status).toBe(200);
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(res.body.secret).not.toBe(before.secret);
    expect(Math.abs(Date.parse(res.body.previousSecretUntil) - (Date.now() + GRACE_MS))).toBeLessThan(10_000);
    const after = await backend.db.feedSubscription.findUniqueOrThrow({ where: { id } });
    expect({ secret: after.secret, previous: after.previousSecret, until: after.previousSecretUntil?.toISOString() }).toEqual({
      secret: res.body.secret, previous: before.secret, until: res.body.previousSecretUntil,
    });
    expect((await call('GET', `/${id}`)).body.previousSecretUntil).toBe(res.body.previousSecretUntil);
  });

  it('DELETE removes it with its deliveries', async () => {
    const gone = (await create({ url: PUBLIC })).body.id;
    await orderWithEvents([{ type: 'ORDER_PLACED', status: 'PENDING' }]);
    expect(await backend.db.feedDelivery.count({ where: { subscriptionId: gone } })).toBe(1);
    const res = await call('DELETE', `/${gone}`);
    expect(res.status).toBe(204);
    expect(res.body).toBe('');
    expectError(await call('GET', `/${gone}`), 404, 'SUBSCRIPTION_NOT_FOUND');
    expectError(await call('DELETE', `/${gone}`), 404, 'SUBSCRIPTION_NOT_FOUND');
    expect(await backend.db.feedDelivery.count({ where: { subscriptionId: gone } })).toBe(0);
  });
});

describe('deliveries', () => {
  /** takes placed and status changes only */
  let statuses: string;
  /** takes every event */
  let everything: string;
  let order: { orderId: string; eventIds: string[] };

  beforeAll(async () => {
    statuses = (await create({ url: PUBLIC, eventTypes: ['order.placed', 'order.status.*'] })).body.id;
    everything = (await create({ url: PUBLIC })).body.id;
    order = await orderWithEvents([
      { type: 'ORDER_PLACED', status: 'PENDING' },
      { type: 'STATUS_CHANGED', status: 'CONFIRMED' },
      { type: 'SHIPMENT_HANDED_OVER' },
      { type: 'STATUS_CHANGED', status: 'SHIPPED' },
    ]);
  });

  it('each event its subscription takes is a PENDING delivery, listed newest first with its public type', async () => {
    const list = await deliveries(statuses);
    expect(list.map((d) => [d.sequence, d.type, d.status, d.eventId])).toEqual([
      [4, 'order.status.shipped', 'PENDING', order.eventIds[3]],
      [2, 'order.status.confirmed', 'PENDING', order.eventIds[1]],
      [1, 'order.placed', 'PENDING', order.eventIds[0]],
    ]);
    expect(list[0]).toEqual({
      id: expect.stringMatching(/^\d+$/), eventId: order.eventIds[3], orderId: order.orderId, sequence: 4, type: 'order.status.shipped', status: 'PENDING',
      attempts: 0, lastError: null, lastStatusCode: null, nextAttemptAt: expect.any(String), deliveredAt: null, replay: false, createdAt: expect.any(String),
    });
    expect((await deliveries(everything)).map((d) => d.type)).toEqual(['order.status.shipped', 'order.shipment_handed_over', 'order.status.confirmed', 'order.placed']);

    const detail = await call('GET', `/${statuses}`);
    expect(detail.body.deliveries).toEqual({ pending: 3, failed: 0, delivered: 0, skipped: 0, oldestPendingAt: expect.any(String) });
  });

  it('pages with limit and cursor, without gaps or repeats, and filters by status', async () => {
    const first = await call('GET', `/${everything}/deliveries?limit=3`);
    expect(first.body.items).toHaveLength(3);
    const second = await call('GET', `/${everything}/deliveries?limit=3&cursor=${first.body.nextCursor}`);
    expect(second.body.nextCursor).toBeNull();
    expect([...first.body.items, ...second.body.items].map((d: { sequence: number }) => d.sequence)).toEqual([4, 3, 2, 1]);
    expect(await deliveries(everything, '?status=DELIVERED')).toEqual([]);
    expect(fieldPaths(await call('GET', `/${everything}/deliveries?status=LOST&limit=0&cursor=bm9wZQ`))).toEqual(['limit', 'status']);
    expect(fieldPaths(await call('GET', `/${everything}/deliveries?cursor=bm9wZQ`))).toEqual(['cursor']);
  });

  it('skip: a FAILED or PENDING one becomes SKIPPED (and the dispatchers are woken); SKIPPED stays; DELIVERED is 409', async () => {
    const { orderId, eventIds } = await orderWithEvents([
      { type: 'ORDER_PLACED', status: 'PENDING' },
      { type: 'STATUS_CHANGED', status: 'CONFIRMED' },
      { type: 'STATUS_CHANGED', status: 'SHIPPED' },
    ]);
    const [shipped, confirmed, placed] = (await deliveries(statuses)).filter((d) => d.orderId === orderId);
    expect([placed.eventId, confirmed.eventId, shipped.eventId]).toEqual(eventIds);
    await setDelivery(placed.id, `status = 'FAILED', attempts = 9, last_error = 'HTTP 500', last_status_code = 500`);
    expect((await call('GET', `/${statuses}/deliveries?status=FAILED`)).body.items.map((d: { id: string }) => d.id)).toEqual([placed.id]);

    await wakes(async () => {
      const res = await call('POST', `/${statuses}/deliveries/${placed.id}/skip`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: placed.id, status: 'SKIPPED', attempts: 9, lastError: 'HTTP 500', lastStatusCode: 500, nextAttemptAt: null });
    });
    expect((await call('POST', `/${statuses}/deliveries/${placed.id}/skip`)).body).toMatchObject({ id: placed.id, status: 'SKIPPED' });
    expect((await call('POST', `/${statuses}/deliveries/${confirmed.id}/skip`)).body).toMatchObject({ status: 'SKIPPED' });

    await setDelivery(shipped.id, `status = 'DELIVERED', attempts = 1, delivered_at = now(), last_status_code = 200`);
    const refused = expectError(await call('POST', `/${statuses}/deliveries/${shipped.id}/skip`), 409, 'DELIVERY_ALREADY_DELIVERED');
    expect(refused.details).toEqual({ status: 'DELIVERED' });
    expect((await deliveries(statuses)).find((d) => d.id === shipped.id)).toMatchObject({ status: 'DELIVERED', deliveredAt: expect.any(String) });

    const counts = (await call('GET', `/${statuses}`)).body.deliveries;
    expect(counts).toMatchObject({ pending: 3, failed: 0, delivered: 1, skipped: 2 });
  });

  it('another subscription’s delivery, an unknown one and a malformed id are refused cleanly', async () => {
    const [theirs] = await deliveries(everything);
    expectError(await call('POST', `/${statuses}/deliveries/${theirs.id}/skip`), 404, 'DELIVERY_NOT_FOUND');
    expectError(await call('POST', `/${statuses}/deliveries/${theirs.id}/redeliver`), 404, 'DELIVERY_NOT_FOUND');
    expectError(await call('POST', `/${statuses}/deliveries/999999999/skip`), 404, 'DELIVERY_NOT_FOUND');
    expect(fieldPaths(await call('POST', `/${statuses}/deliveries/abc/skip`))).toEqual(['deliveryId']);
    expect(fieldPaths(await call('POST', `/${statuses}/deliveries/99999999999999999999/redeliver`))).toEqual(['deliveryId']);
    expect(fieldPaths(await call('POST', `/${statuses}/deliveries/9999999999999999999/redeliver`))).toEqual(['deliveryId']); // over bigint
  });

  it('redeliver: a FAILED one starts over as PENDING now; a DELIVERED or SKIPPED one is sent again as a new replay delivery', async () => {
    const { orderId } = await orderWithEvents([
      { type: 'ORDER_PLACED', status: 'PENDING' },
      { type: 'STATUS_CHANGED', status: 'CONFIRMED' },
      { type: 'STATUS_CHANGED', status: 'DELIVERED' },
    ]);
    const [done, skipped, failed] = (await deliveries(statuses)).filter((d) => d.orderId === orderId);
    await setDelivery(failed.id, `status = 'FAILED', attempts = 12, first_attempt_at = now() - interval '3 days', lease_until = now() + interval '1 minute', next_attempt_at = now() + interval '1 hour', last_error = 'timeout'`);
    await setDelivery(skipped.id, `status = 'SKIPPED'`);
    await setDelivery(done.id, `status = 'DELIVERED', delivered_at = now()`);

    await wakes(async () => {
      const res = await call('POST', `/${statuses}/deliveries/${failed.id}/redeliver`);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ id: failed.id, status: 'PENDING', attempts: 12, lastError: 'timeout', replay: false });
      expect(Math.abs(Date.parse(res.body.nextAttemptAt) - Date.now())).toBeLessThan(10_000);
    });
    const row = await backend.db.feedDelivery.findUniqueOrThrow({ where: { id: BigInt(failed.id) } });
    expect({ first: row.firstAttemptAt, lease: row.leaseUntil }).toEqual({ first: null, lease: null });

    for (const old of [done, skipped]) {
      const res = await call('POST', `/${statuses}/deliveries/${old.id}/redeliver`);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ eventId: old.eventId, orderId, sequence: old.sequence, type: old.type, status: 'PENDING', attempts: 0, replay: true });
      expect(BigInt(res.body.id)).toBeGreaterThan(BigInt(old.id));
    }
    const now = (await deliveries(statuses)).filter((d) => d.orderId === orderId);
    expect(now.map((d) => [d.type, d.status, d.replay])).toEqual([
      ['order.status.confirmed', 'PENDING', true],
      ['order.status.delivered', 'PENDING', true],
      ['order.status.delivered', 'DELIVERED', false],
      ['order.status.confirmed', 'SKIPPED', false],
      ['order.placed', 'PENDING', false],
    ]);
  });

  it('replay from event N queues exactly the events with id ≥ N the filter takes, in event order', async () => {
    const a = await orderWithEvents([
      { type: 'ORDER_PLACED', status: 'PENDING' },
      { type: 'SHIPMENT_HANDED_OVER' },
      { type: 'STATUS_CHANGED', status: 'SHIPPED' },
    ]);
    const b = await orderWithEvents([{ type: 'ORDER_PLACED', status: 'PENDING' }, { type: 'SHIPMENT_HANDED_OVER' }]);
    const replayed = async (id: string) => (await deliveries(id, '?limit=100')).filter((d) => d.replay && (d.orderId === a.orderId || d.orderId === b.orderId));

    await wakes(async () => {
      const res = await call('POST', `/${statuses}/replay`, { fromEventId: a.eventIds[1] });
      expect(res.status).toBe(202);
      // a's shipped and b's placed; the handed-over events are not order.placed or order.status.*
      expect(res.body).toEqual({ queued: 2 });
    });
    expect((await replayed(statuses)).map((d) => [d.eventId, d.type, d.sequence, d.status]).reverse()).toEqual([
      [a.eventIds[2], 'order.status.shipped', 3, 'PENDING'],
      [b.eventIds[0], 'order.placed', 1, 'PENDING'],
    ]);

    expect((await call('POST', `/${everything}/replay`, { fromEventId: a.eventIds[0], orderId: b.orderId })).body).toEqual({ queued: 2 });
    expect((await replayed(everything)).map((d) => d.eventId).reverse()).toEqual(b.eventIds);
    expect((await call('POST', `/${everything}/replay`, { fromEventId: String(BigInt(b.eventIds[1]) + 1000n) })).body).toEqual({ queued: 0 });
  });

  it('replay from a time takes the events that occurred then or later', async () => {
    const t = new Date(Date.now() + 10 * 60_000);
    const c = await orderWithEvents([
      { type: 'ORDER_PLACED', status: 'PENDING', at: new Date(t.getTime() - 1) },
      { type: 'STATUS_CHANGED', status: 'CONFIRMED', at: t },
      { type: 'SHIPMENT_HANDED_OVER', at: new Date(t.getTime() + 1000) },
    ]);
    const res = await call('POST', `/${everything}/replay`, { fromTime: t.toISOString(), orderId: c.orderId });
    expect(res.body).toEqual({ queued: 2 });
    expect((await deliveries(everything)).filter((d) => d.orderId === c.orderId && d.replay).map((d) => d.eventId).reverse()).toEqual(c.eventIds.slice(1));
  });

  it('replay needs exactly one of fromEventId or fromTime, each well-formed', async () => {
    expectError(await call('POST', `/${statuses}/replay`, {}), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', `/${statuses}/replay`, { fromEventId: '1', fromTime: new Date().toISOString() }), 400, 'VALIDATION_FAILED');
    expect(fieldPaths(await call('POST', `/${statuses}/replay`, { fromEventId: '-1', orderId: 'x' }))).toEqual(['fromEventId', 'orderId']);
    expect(fieldPaths(await call('POST', `/${statuses}/replay`, { fromTime: 'yesterday' }))).toEqual(['fromTime']);
    expect(fieldPaths(await call('POST', `/${statuses}/replay`, { fromEventId: 5 }))).toEqual(['fromEventId']);
  });
});

it('every webhook route was exercised and matched the document', () => {
  expect(api.contract.uncovered(['webhooks'])).toEqual([]);
});
