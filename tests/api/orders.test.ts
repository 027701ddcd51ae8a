/**
 * Reading orders, in-process against a real PostgreSQL (no Temporal needed):
 * lists, details, owner-only access (someone else's order is a 404, never a
 * 403) and the Server-Sent Events stream of an order's timeline. Orders and
 * their events are written the way the orders activities write them.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderStatus } from '../../domain/order-status';
import { apiClient, expectError, fieldPaths, newAdmin, newCustomer, type ApiClient } from './support/harness';
import { startOfflineBackend } from './support/offline-backend';
import { sseReader } from './support/sse';
import { listenForOrderEvents, type OrderEventListener } from '../../api/orders/event-notifier';
import { createLogger } from '../../platform/logger';
import { perSuite } from './support/suite';
import { until } from '../support/until';

const backend = perSuite(() => startOfflineBackend('orders'));
let api: ApiClient;
let listener: OrderEventListener;
let ada: { id: string; token: string };
let eve: { id: string; token: string };
let seq = 0;

beforeAll(async () => {
  // new events arrive by LISTEN/NOTIFY, as in the server; the backstop re-read is out of the way
  listener = listenForOrderEvents({ databaseUrl: backend.url, log: createLogger('test', 'silent') });
  await until('the LISTEN connection', async () => listener.listening);
  api = apiClient(backend.app({ orderEvents: listener.feed, eventRereadMs: 60_000, eventHeartbeatMs: 300 }));
  ada = await newCustomer(api, 'ada');
  eve = await newCustomer(api, 'eve');
});
afterAll(async () => {
  await listener?.close();
});

async function order(customerId: string, status: OrderStatus = 'PENDING', createdAt = new Date()) {
  const id = randomUUID();
  await backend.db.order.create({
    data: {
      id, customerId, workflowId: `order-${id}`, status, currency: 'USD', totalAmount: 2500, createdAt,
      shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' },
      items: { create: { productId: 'prod_mug', sku: 'MUG-001', name: 'Enamel camping mug', quantity: 2, unitPriceAmount: 1250, lineTotalAmount: 2500, currency: 'USD' } },
    },
  });
  await backend.db.orderEvent.create({ data: { orderId: id, key: '000-ORDER_PLACED', type: 'ORDER_PLACED', status: 'PENDING', occurredAt: createdAt } });
  return id;
}

async function event(orderId: string, type: string, status?: OrderStatus) {
  seq += 1;
  if (status) await backend.db.order.update({ where: { id: orderId }, data: { status } });
  const row = await backend.db.orderEvent.create({ data: { orderId, key: `${String(seq).padStart(3, '0')}-${type}`, type, status: status ?? null, occurredAt: new Date() } });
  return String(row.id);
}

describe('GET /orders', () => {
  it("the caller's own orders only, newest first, paginated", async () => {
    const t = Date.now();
    const mine = [];
    for (let i = 0; i < 5; i += 1) mine.push(await order(ada.id, 'CONFIRMED', new Date(t - (10 - i) * 60_000)));
    await order(eve.id, 'CONFIRMED');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { items: { id: string; customerId: string }[]; nextCursor: string | null } } = await api.call(
        'GET', `/api/v1/orders?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: ada.token },
      );
      expect(res.status).toBe(200);
      expect(res.body.items.every((o) => o.customerId === ada.id)).toBe(true);
      seen.push(...res.body.items.map((o) => o.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...mine].reverse());
    const first = await api.call('GET', '/api/v1/orders?limit=1', { token: ada.token });
    expect(first.body.items[0]).toMatchObject({ id: mine[4], status: 'CONFIRMED', total: { amount: 2500, currency: 'USD' }, lineCount: 1 });
  });

  it('bad paging parameters are named', async () => {
    expect(fieldPaths(await api.call('GET', '/api/v1/orders?limit=101', { token: ada.token }))).toEqual(['limit']);
    expect(fieldPaths(await api.call('GET', '/api/v1/orders?cursor=%7B%7D', { token: ada.token }))).toEqual(['cursor']);
  });
});

describe('owner only', () => {
  let adas: string;
  beforeAll(async () => {
    adas = await order(ada.id, 'FAILED');
  });

  it('the owner reads the order with items and timeline', async () => {
    const res = await api.call('GET', `/api/v1/orders/${adas}`, { token: ada.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: adas, customerId: ada.id, status: 'FAILED', items: [{ productId: 'prod_mug', quantity: 2 }], timeline: [{ type: 'ORDER_PLACED' }] });
  });

  it("someone else's order is 404 ORDER_NOT_FOUND — to read, cancel or stream — exactly like a missing one", async () => {
    const missing = expectError(await api.call('GET', `/api/v1/orders/${randomUUID()}`, { token: eve.token }), 404, 'ORDER_NOT_FOUND');
    const other = expectError(await api.call('GET', `/api/v1/orders/${adas}`, { token: eve.token }), 404, 'ORDER_NOT_FOUND');
    expect(other.message).toBe(missing.message);
    expectError(await api.call('POST', `/api/v1/orders/${adas}/cancel`, { token: eve.token, body: { reason: 'mine now' } }), 404, 'ORDER_NOT_FOUND');
    expectError(await api.call('GET', `/api/v1/orders/${adas}/events`, { token: eve.token }), 404, 'ORDER_NOT_FOUND');
    expect((await backend.db.order.findUniqueOrThrow({ where: { id: adas } })).cancelReason).toBeNull();
  });

  it('an admin may read any order', async () => {
    const { token } = await newAdmin(api, backend.db);
    expect((await api.call('GET', `/api/v1/orders/${adas}`, { token })).status).toBe(200);
  });

  it('cancelling a finished order → 409 ORDER_NOT_CANCELLABLE with the status', async () => {
    const res = expectError(await api.call('POST', `/api/v1/orders/${adas}/cancel`, { token: ada.token }), 409, 'ORDER_NOT_CANCELLABLE');
    expect(res.details).toEqual({ status: 'FAILED' });
  });

  it('anonymous → 401; an id that is not a uuid → 400', async () => {
    expectError(await api.call('GET', `/api/v1/orders/${adas}`), 401, 'UNAUTHENTICATED');
    expectError(await api.call('GET', `/api/v1/orders/${adas}/events`), 401, 'UNAUTHENTICATED');
    expect(fieldPaths(await api.call('GET', '/api/v1/orders/not-a-uuid', { token: ada.token }))).toEqual(['id']);
  });
});

describe('GET /orders/:id/events (Server-Sent Events)', () => {
  it('sends the timeline so far, then new events as they happen, and ends after CANCELLED', async () => {
    const id = await order(ada.id);
    const created = await event(id, 'ORDER_CREATED');
    const res = await api.raw('GET', `/api/v1/orders/${id}/events`, { token: ada.token });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const stream = sseReader(res);
    const first = await stream.events((e) => e.id === created);
    expect(first.events.map((e) => e.type)).toEqual(['ORDER_PLACED', 'ORDER_CREATED']);
    expect(first.events[0]).toMatchObject({ status: 'PENDING', occurredAt: expect.any(String) });
    expect(stream.received[0].retry).toBe(2000);

    const reserved = await event(id, 'STOCK_RESERVED');
    expect((await stream.events((e) => e.id === reserved)).events.map((e) => e.type)).toEqual(['STOCK_RESERVED']);
    await event(id, 'SAGA_FAILED');
    const last = await event(id, 'STATUS_CHANGED', 'CANCELLED');
    const rest = await stream.events(() => false);
    expect(rest).toEqual({
      events: [expect.objectContaining({ type: 'SAGA_FAILED' }), expect.objectContaining({ id: last, status: 'CANCELLED' })],
      ended: true,
      end: { status: 'CANCELLED' },
    });
  });

  it('a reconnect with Last-Event-ID receives only newer events', async () => {
    const id = await order(ada.id);
    const created = await event(id, 'ORDER_CREATED');
    const reserved = await event(id, 'STOCK_RESERVED');
    const firstRes = await api.raw('GET', `/api/v1/orders/${id}/events`, { token: ada.token });
    const first = sseReader(firstRes);
    await first.events((e) => e.id === created);
    await first.close(); // the client drops after ORDER_CREATED

    const charged = await event(id, 'PAYMENT_CHARGED');
    const again = sseReader(await api.raw('GET', `/api/v1/orders/${id}/events`, { token: ada.token, headers: { 'last-event-id': created } }));
    const resumed = await again.events((e) => e.id === charged);
    expect(resumed.events.map((e) => [e.id, e.type])).toEqual([[reserved, 'STOCK_RESERVED'], [charged, 'PAYMENT_CHARGED']]);
    await again.close();
  });

  it('a stream of an order that already ended sends what is left and closes; an open one gets heartbeats', async () => {
    const done = await order(ada.id);
    const failed = await event(done, 'STATUS_CHANGED', 'FAILED');
    const ended = sseReader(await api.raw('GET', `/api/v1/orders/${done}/events`, { token: ada.token, headers: { 'last-event-id': failed } }));
    expect(await ended.events(() => false)).toEqual({ events: [], ended: true, end: { status: 'FAILED' } });

    const open = await order(ada.id);
    const stream = sseReader(await api.raw('GET', `/api/v1/orders/${open}/events`, { token: ada.token }));
    await stream.next();
    expect(await stream.next(2_000)).toEqual({ comment: 'heartbeat' });
    await stream.close();
  });

  it('a Last-Event-ID that is not an event id → 400 naming it', async () => {
    const id = await order(ada.id);
    expect(fieldPaths(await api.call('GET', `/api/v1/orders/${id}/events`, { token: ada.token, headers: { 'last-event-id': 'abc' } }))).toEqual(['last-event-id']);
  });
});
