/**
 * The admin API the operator console stands on, in-process against a real
 * PostgreSQL: the order search, why an order waits and what may repair it, any
 * customer's order, the returns across orders and the console's settings. Most
 * suites run with a Temporal nobody answers, their orders written the way the
 * saga writes them, so every answer there comes from PostgreSQL (a call to
 * Temporal would be a 503). The last suite goes through the real saga: failed
 * compensations retried, and an order held by a refused capture whose
 * shipment the operator drops.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE } from '../../api/admin/admin.routes';
import { MAX_EMAIL_MATCHES } from '../../api/admin/search';
import { API_DEFAULTS, apiSettings } from '../../api/settings';
import { ErrorCodes } from '../../domain/errors';
import { TestTokens } from '../../domain/payment';
import { apiConfig } from '../../platform/config';
import { seed } from '../../prisma/seed';
import { freshDatabase } from '../support/db';
import { devServerEnv } from '../support/temporal';
import { until } from '../support/until';
import { createWorkers, realActivities, runWorkers } from '../support/workers';
import { apiClient, appsOn, expectError, fieldPaths, newAdmin, newCustomer, temporalClientAt, type ApiClient } from './support/harness';
import { startOfflineBackend } from './support/offline-backend';
import { address as shipTo } from './support/saga-backend';
import { perSuite } from './support/suite';

const backend = perSuite(() => startOfflineBackend('admin_console'));
let api: ApiClient;
let ada: { id: string; email: string; token: string };
let eve: { id: string; email: string; token: string };
let admin: string;

beforeAll(async () => {
  api = apiClient(backend.app());
  ada = await newCustomer(api, 'ada');
  eve = await newCustomer(api, 'eve');
  admin = (await newAdmin(api, backend.db)).token;
});

const address = { name: 'Ada', line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' };
const mug = { productId: 'prod_mug', sku: 'MUG-001', name: 'Enamel camping mug', quantity: 1, unitPriceAmount: 1250, lineTotalAmount: 1250, currency: 'USD' };
let parcels = 0;
const tracking = (prefix: string) => `${prefix}${String((parcels += 1)).padStart(8, '0')}`;
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000);

type Row = { type: string; status?: 'NEEDS_ATTENTION' | 'SHIPPED'; detail?: object; at: Date };

/** An order of one mug as the saga leaves it: its shipment (when given a status), its timeline events, its payment rows. */
async function orderOf(o: {
  customerId?: string;
  status: 'PROCESSING' | 'SHIPPED' | 'DELIVERED' | 'NEEDS_ATTENTION';
  shipment?: 'CREATED' | 'HANDED_TO_CARRIER' | 'DELIVERED';
  failure?: { code: string; message: string };
  events?: Row[];
  charged?: boolean;
}) {
  const id = randomUUID();
  const trackingNumber = tracking('SM');
  await backend.db.order.create({
    data: {
      id, customerId: o.customerId ?? ada.id, workflowId: `order-${id}`, status: o.status, currency: 'USD', totalAmount: 1250, shippingAddress: address,
      ...(o.failure ? { failureCode: o.failure.code, failureReason: o.failure.message } : {}),
      items: { create: [mug] },
      timeline: { create: (o.events ?? []).map((e, i) => ({ key: `${String(i + 2).padStart(3, '0')}-${e.type}`, type: e.type, status: e.status ?? null, detail: e.detail ?? {}, occurredAt: e.at })) },
    },
  });
  await backend.db.payment.create({
    data: { orderId: id, kind: o.charged ? 'CHARGE' : 'AUTHORISATION', status: 'SUCCEEDED', idempotencyKey: `order-${id}:${o.charged ? 'charge' : 'authorise'}`, amount: 1250, currency: 'USD' },
  });
  if (o.shipment) {
    await backend.db.shipment.create({
      data: { orderId: id, warehouse: 'main', carrier: 'ShipSmart', trackingNumber, status: o.shipment, items: [{ productId: 'prod_mug', quantity: 1 }], weightGrams: 300, estimatedDeliveryDays: 2 },
    });
  }
  return { id, trackingNumber };
}

/** Held by a refused capture (per-shipment.ts needAttention), its shipment in the warehouse. */
const heldByCapture = (customerId?: string) =>
  orderOf({
    customerId,
    status: 'NEEDS_ATTENTION',
    shipment: 'CREATED',
    events: [
      { type: 'CAPTURE_REFUSED', detail: { code: 'CAPTURE_REFUSED' }, at: minutesAgo(10) },
      { type: 'NEEDS_ATTENTION', detail: { what: 'capture:x', code: 'CAPTURE_REFUSED', reason: 'the capture for shipment x was refused: issuer_refused' }, at: minutesAgo(10) },
      { type: 'STATUS_CHANGED', status: 'NEEDS_ATTENTION', at: minutesAgo(10) },
    ],
  });

/** Parked in its compensations (compensation.ts): the failure on the order, the move to NEEDS_ATTENTION on the timeline. */
const compensationFailed = (at = minutesAgo(5)) =>
  orderOf({
    status: 'NEEDS_ATTENTION',
    failure: { code: ErrorCodes.COMPENSATION_FAILED, message: 'compensation failed: refundPayment' },
    events: [
      { type: 'COMPENSATION_FAILED', detail: { compensation: 'refundPayment', error: 'gateway down' }, at },
      { type: 'STATUS_CHANGED', status: 'NEEDS_ATTENTION', at },
    ],
  });

const list = async (query: string, token = admin) => api.call('GET', `/api/v1/admin/orders?limit=100&${query}`, { token });
const ids = (res: { body: { items: { id: string }[] } }) => res.body.items.map((i) => i.id);
const post = (path: string, token: string | undefined, body?: unknown) => api.call('POST', path, { token, ...(body === undefined ? {} : { body }) });

describe('GET /admin/orders?q=: one search box', () => {
  it("finds an order by its id, by its customer's e-mail (any case, a prefix), by a shipment's or a return's tracking number", async () => {
    const a = await orderOf({ status: 'SHIPPED', shipment: 'HANDED_TO_CARRIER' });
    const b = await orderOf({ status: 'DELIVERED', shipment: 'DELIVERED' });
    const e = await orderOf({ customerId: eve.id, status: 'PROCESSING', shipment: 'CREATED' });
    const returned = tracking('RT');
    await backend.db.orderReturn.create({
      data: { id: `${b.id}-R1`, orderId: b.id, status: 'REQUESTED', reason: 'too big', trackingNumber: returned, lines: [{ productId: 'prod_mug', quantity: 1 }], currency: 'USD', requestedAt: new Date() },
    });

    expect(ids(await list(`q=${a.id}`))).toEqual([a.id]);
    expect(ids(await list(`q=${a.id.toUpperCase()}`))).toEqual([a.id]);
    // the whole e-mail, or its start, in any case
    expect(ids(await list(`q=${encodeURIComponent(eve.email)}`))).toEqual([e.id]);
    expect(ids(await list(`q=${encodeURIComponent(eve.email.slice(0, 8).toUpperCase())}`))).toEqual([e.id]);
    expect(ids(await list(`q=${encodeURIComponent(`  ${ada.email}  `)}`))).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(ids(await list(`q=${encodeURIComponent(ada.email)}`))).not.toContain(e.id);
    expect(ids(await list(`q=${a.trackingNumber}`))).toEqual([a.id]);
    expect(ids(await list(`q=${returned}`))).toEqual([b.id]);
    // a tracking number is exact; an e-mail is matched from its start, and LIKE's wildcards are only characters
    expect(ids(await list(`q=${a.trackingNumber.slice(0, -1)}`))).toEqual([]);
    expect(ids(await list(`q=${encodeURIComponent(ada.email.slice(1))}`))).toEqual([]);
    expect(ids(await list('q=%25'))).toEqual([]);
    expect(ids(await list('q=_'))).toEqual([]);
    // empty: no search
    expect(ids(await list('q='))).toEqual(expect.arrayContaining([a.id, b.id, e.id]));
  });

  it('with the status filter and paging', async () => {
    const held = await heldByCapture();
    const shipped = await orderOf({ status: 'SHIPPED', shipment: 'HANDED_TO_CARRIER' });
    const q = encodeURIComponent(ada.email);
    const waiting = ids(await list(`q=${q}&status=NEEDS_ATTENTION`));
    expect(waiting).toContain(held.id);
    expect(waiting).not.toContain(shipped.id);
    expect(ids(await list(`q=${held.id}&status=SHIPPED`))).toEqual([]);

    const all = ids(await list(`q=${q}`));
    expect(all.length).toBeGreaterThan(2);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { items: { id: string }[]; nextCursor: string | null } } = await api.call('GET', `/api/v1/admin/orders?q=${q}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: admin });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...ids(res));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
  });

  it('a bad q is a 400 VALIDATION_FAILED naming q; so is an e-mail prefix of too many customers', async () => {
    for (const q of ['x'.repeat(255), 'a\u0000b']) {
      const res = await list(`q=${encodeURIComponent(q)}`);
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(fieldPaths(res)).toEqual(['q']);
    }
    const prefix = `bulk${Date.now()}`;
    await backend.db.user.createMany({ data: Array.from({ length: MAX_EMAIL_MATCHES + 1 }, (_, i) => ({ email: `${prefix}-${i}@example.com`, passwordHash: 'x' })) });
    const broad = await list(`q=${prefix}`);
    expectError(broad, 400, 'VALIDATION_FAILED');
    expect(fieldPaths(broad)).toEqual(['q']);
    expect(ids(await list(`q=${prefix}-1@`))).toEqual([]);
  });

  it('a customer is refused (403)', async () => {
    expectError(await list('q=x', ada.token), 403, 'FORBIDDEN');
  });
});

describe('the admin fields: the customer, why the order waits, what repairs it', () => {
  const one = async (id: string) => {
    const res = await list(`q=${id}`);
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1);
    return res.body.items[0];
  };

  it('a refused capture: the reason shown, RETRY_PAYMENT, and CANCEL_SHIPMENTS while its shipment is in the warehouse', async () => {
    const o = await heldByCapture();
    expect(await one(o.id)).toMatchObject({
      id: o.id,
      status: 'NEEDS_ATTENTION',
      workflowId: `order-${o.id}`,
      customerEmail: ada.email,
      attention: { code: 'CAPTURE_REFUSED', message: 'the capture for shipment x was refused: issuer_refused', at: expect.any(String) },
      repairs: ['RETRY_PAYMENT', 'CANCEL_SHIPMENTS'],
    });
    // when it began to wait: its NEEDS_ATTENTION event, ten minutes ago
    const { attention } = await one(o.id);
    expect(Math.abs(Date.parse(attention.at) - minutesAgo(10).getTime())).toBeLessThan(5_000);
  });

  it('failed compensations: the failure on the order, RETRY_COMPENSATIONS only', async () => {
    const at = minutesAgo(5);
    const o = await compensationFailed(at);
    expect(await one(o.id)).toMatchObject({
      attention: { code: ErrorCodes.COMPENSATION_FAILED, message: 'compensation failed: refundPayment', at: at.toISOString() },
      repairs: ['RETRY_COMPENSATIONS'],
    });
  });

  it('of several payment steps waiting, the latest unresolved one is shown; a resolved wait shows nothing', async () => {
    const twice = await orderOf({
      status: 'NEEDS_ATTENTION',
      shipment: 'HANDED_TO_CARRIER',
      events: [
        { type: 'NEEDS_ATTENTION', detail: { what: 'authorisation', code: 'PAYMENT_DECLINED', reason: 'renewal declined' }, at: minutesAgo(30) },
        { type: 'NEEDS_ATTENTION', detail: { what: 'refund:R1:T', code: 'REFUND_REFUSED', reason: 'the refund of return R1 was refused' }, at: minutesAgo(20) },
        { type: 'ATTENTION_RESOLVED', detail: { what: 'refund:R1:T' }, at: minutesAgo(15) },
      ],
    });
    expect(await one(twice.id)).toMatchObject({ attention: { code: 'PAYMENT_DECLINED', message: 'renewal declined' }, repairs: ['RETRY_PAYMENT'] });

    const repaired = await orderOf({
      status: 'SHIPPED',
      shipment: 'HANDED_TO_CARRIER',
      events: [
        { type: 'NEEDS_ATTENTION', detail: { what: 'capture:x', code: 'CAPTURE_REFUSED', reason: 'refused' }, at: minutesAgo(3) },
        { type: 'ATTENTION_RESOLVED', detail: { what: 'capture:x' }, at: minutesAgo(2) },
        { type: 'STATUS_CHANGED', status: 'SHIPPED', at: minutesAgo(1) },
      ],
    });
    expect(await one(repaired.id)).toMatchObject({ attention: null, repairs: [] });
  });

  it("an order being prepared may drop its shipments; one charged at checkout, or one the carrier has, may not; a customer id that is no account's has no e-mail", async () => {
    expect(await one((await orderOf({ status: 'PROCESSING', shipment: 'CREATED' })).id)).toMatchObject({ attention: null, repairs: ['CANCEL_SHIPMENTS'] });
    expect(await one((await orderOf({ status: 'PROCESSING', shipment: 'CREATED', charged: true })).id)).toMatchObject({ repairs: [] });
    expect(await one((await orderOf({ status: 'DELIVERED', shipment: 'DELIVERED' })).id)).toMatchObject({ repairs: [] });
    expect(await one((await orderOf({ customerId: 'cust-by-hand', status: 'PROCESSING' })).id)).toMatchObject({ customerEmail: null, repairs: [] });
  });
});

describe('GET /admin/orders/{id}', () => {
  it("any customer's order, as its customer sees it, with the admin fields", async () => {
    const o = await heldByCapture(eve.id);
    const mine = await api.call('GET', `/api/v1/orders/${o.id}`, { token: eve.token });
    const res = await api.call('GET', `/api/v1/admin/orders/${o.id}`, { token: admin });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ...mine.body,
      workflowId: `order-${o.id}`,
      customerEmail: eve.email,
      attention: expect.objectContaining({ code: 'CAPTURE_REFUSED' }),
      repairs: ['RETRY_PAYMENT', 'CANCEL_SHIPMENTS'],
    });
  });

  it('no such order: 404 ORDER_NOT_FOUND; a customer: 403; not a uuid: 400', async () => {
    expectError(await api.call('GET', `/api/v1/admin/orders/${randomUUID()}`, { token: admin }), 404, 'ORDER_NOT_FOUND');
    const o = await orderOf({ status: 'SHIPPED' });
    expectError(await api.call('GET', `/api/v1/admin/orders/${o.id}`, { token: ada.token }), 403, 'FORBIDDEN');
    const bad = await api.call('GET', '/api/v1/admin/orders/nope', { token: admin });
    expectError(bad, 400, 'VALIDATION_FAILED');
    expect(fieldPaths(bad)).toEqual(['id']);
  });
});

describe('POST /admin/orders/{id}/retry-compensations: refusals (the success is with the saga below)', () => {
  it('404 ORDER_NOT_FOUND; 409 NOTHING_TO_RETRY with the status when no compensation failed; a customer: 403', async () => {
    const retry = (id: string, token = admin) => post(`/api/v1/admin/orders/${id}/retry-compensations`, token);
    expectError(await retry(randomUUID()), 404, 'ORDER_NOT_FOUND');
    for (const o of [await orderOf({ status: 'PROCESSING', shipment: 'CREATED' }), await heldByCapture()]) {
      const res = expectError(await retry(o.id), 409, 'NOTHING_TO_RETRY');
      expect(res.details).toEqual({ status: (await backend.db.order.findUniqueOrThrow({ where: { id: o.id } })).status });
    }
    expectError(await retry((await compensationFailed()).id, ada.token), 403, 'FORBIDDEN');
  });
});

describe('POST /admin/orders/{id}/shipments/cancel: refusals (the success is with the saga below)', () => {
  it('404 ORDER_NOT_FOUND; 409 SHIPMENT_NOT_CANCELLABLE once the carrier has everything; 400 for a bad body; a customer: 403', async () => {
    const cancel = (id: string, body: unknown = {}, token = admin) => post(`/api/v1/admin/orders/${id}/shipments/cancel`, token, body);
    expectError(await cancel(randomUUID()), 404, 'ORDER_NOT_FOUND');
    const delivered = await orderOf({ customerId: eve.id, status: 'DELIVERED', shipment: 'DELIVERED' });
    expect(expectError(await cancel(delivered.id), 409, 'SHIPMENT_NOT_CANCELLABLE').details).toEqual({ status: 'DELIVERED' });
    expect(fieldPaths(await cancel(delivered.id, { trackingNumbers: [] }))).toEqual(['trackingNumbers']);
    const preparing = await orderOf({ status: 'PROCESSING', shipment: 'CREATED' });
    expectError(await cancel(preparing.id, {}, ada.token), 403, 'FORBIDDEN');
  });
});

describe('GET /admin/returns', () => {
  it("every order's returns, oldest request first, by status and in pages; a bad status or cursor is a 400", async () => {
    const statuses = ['REQUESTED', 'RECEIVED', 'REQUESTED', 'REFUNDED'] as const;
    const made: { id: string; status: string }[] = [];
    for (const [i, status] of statuses.entries()) {
      const o = await orderOf({ customerId: i % 2 ? eve.id : ada.id, status: 'DELIVERED', shipment: 'DELIVERED' });
      const id = `${o.id}-R1`;
      await backend.db.orderReturn.create({
        data: { id, orderId: o.id, status, reason: `reason ${i}`, trackingNumber: tracking('RT'), lines: [{ productId: 'prod_mug', quantity: 1 }], currency: 'USD', requestedAt: minutesAgo(100 - i) },
      });
      made.push({ id, status });
    }
    const page = (query: string, token = admin) => api.call('GET', `/api/v1/admin/returns?${query}`, { token });
    const requested = await page('status=REQUESTED&limit=100');
    expect(requested.status).toBe(200);
    const mine = requested.body.items.filter((r: { id: string }) => made.some((m) => m.id === r.id));
    expect(mine.map((r: { id: string }) => r.id)).toEqual(made.filter((m) => m.status === 'REQUESTED').map((m) => m.id));
    expect(mine[0]).toMatchObject({ status: 'REQUESTED', reason: 'reason 0', currency: 'USD', lines: [{ productId: 'prod_mug', quantity: 1 }], refundAmount: 0 });
    expect(requested.body.items.every((r: { status: string }) => r.status === 'REQUESTED')).toBe(true);
    expect((await page('status=RECEIVED&limit=100')).body.items.map((r: { id: string }) => r.id)).toContain(made[1].id);

    const all = (await page('limit=100')).body.items.map((r: { id: string }) => r.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await page(`limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.body.items.map((r: { id: string }) => r.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);

    for (const [query, field] of [['status=LOST', 'status'], ['cursor=bm9wZQ', 'cursor'], ['limit=0', 'limit']]) {
      const bad = await page(query);
      expectError(bad, 400, 'VALIDATION_FAILED');
      expect(fieldPaths(bad)).toEqual([field]);
    }
    expectError(await page('', ada.token), 403, 'FORBIDDEN');
  });
});

describe('GET /admin/inventory', () => {
  type Item = { id: string; sku: string; name: string; active: boolean; warehouse: string; stock: { productId: string; available: number; reserved: number; sold: number; returned: number } };
  const run = Date.now().toString(36);
  /** this suite's warehouses, named afresh so that other suites' products never show in them */
  const east = `east-${run}`;
  const west = `west_${run}`;
  const inventory = (query: string, token = admin) => api.call('GET', `/api/v1/admin/inventory?${query}`, { token });
  const items = async (query: string): Promise<Item[]> => {
    const res = await inventory(query);
    expect(res.status).toBe(200);
    return res.body.items;
  };
  const product = async (id: string, fields: { sku: string; name: string; warehouse: string; active?: boolean; stock?: number }) => {
    const res = await api.call('POST', '/api/v1/admin/products', { token: admin, body: { id, category: 'test', price: { amount: 500, currency: 'USD' }, ...fields } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };
  const idsOf = (list: Item[]) => list.map((i) => i.id);

  beforeAll(async () => {
    await product(`inv_${run}_a`, { sku: `INV${run}-A`, name: 'Brass lantern', warehouse: east, stock: 10 });
    await product(`inv_${run}_b`, { sku: `INV${run}-B`, name: 'Retired kettle', warehouse: east, active: false, stock: 3 });
    await product(`inv_${run}_c`, { sku: `CUP${run}`, name: 'Tin cup 50%', warehouse: west, stock: 7 });
    // a product whose stock row was never made (as setInventory expects some may be)
    await backend.db.product.create({ data: { id: `inv_${run}_d`, sku: `INV${run}-D`, name: 'Bare shelf', category: 'test', priceAmount: 100, currency: 'USD', warehouse: west } });
  });

  it("every product, an inactive one and one without a stock row too, with its warehouse and stock; the catalog shows neither", async () => {
    const listed = await items(`warehouse=${east}`);
    expect(listed).toEqual([
      { id: `inv_${run}_a`, sku: `INV${run}-A`, name: 'Brass lantern', active: true, warehouse: east, stock: { productId: `inv_${run}_a`, available: 10, reserved: 0, sold: 0, returned: 0 } },
      { id: `inv_${run}_b`, sku: `INV${run}-B`, name: 'Retired kettle', active: false, warehouse: east, stock: { productId: `inv_${run}_b`, available: 3, reserved: 0, sold: 0, returned: 0 } },
    ]);
    expect(await items(`q=${encodeURIComponent('Bare shelf')}`)).toEqual([
      expect.objectContaining({ id: `inv_${run}_d`, warehouse: west, stock: { productId: `inv_${run}_d`, available: 0, reserved: 0, sold: 0, returned: 0 } }),
    ]);
    const catalog = await api.call('GET', '/api/v1/products?limit=100&q=Retired%20kettle');
    expect(catalog.body.items).toEqual([]);
  });

  it('the counts after a reservation (as the saga makes one) and after a stock change', async () => {
    const id = `inv_${run}_a`;
    await backend.db.stock.update({ where: { productId: id }, data: { available: { decrement: 2 }, reserved: { increment: 2 } } });
    const changed = await api.call('PUT', `/api/v1/admin/inventory/${id}`, { token: admin, body: { add: 5 } });
    expect(changed.status).toBe(200);
    await backend.db.stock.update({ where: { productId: id }, data: { reserved: { decrement: 1 }, sold: { increment: 1 } } });
    const [row] = await items(`q=INV${run}-A`);
    expect(row.stock).toEqual({ productId: id, available: 13, reserved: 1, sold: 1, returned: 0 });
    expect(changed.body).toEqual({ ...row.stock, sold: 0, reserved: 2 });
  });

  it('q: part of the name or the start of the SKU, any case, its wildcards plain characters; warehouse: any case; both together', async () => {
    expect(idsOf(await items(`q=brass%20LANTERN&warehouse=${east}`))).toEqual([`inv_${run}_a`]);
    expect(idsOf(await items(`q=inv${run}-`))).toEqual([`inv_${run}_a`, `inv_${run}_b`, `inv_${run}_d`]);
    // the SKU from its start only; the name anywhere
    expect(idsOf(await items(`q=${run}-A`))).toEqual([]);
    expect(idsOf(await items(`q=cup%2050%25`))).toEqual([`inv_${run}_c`]);
    expect(idsOf(await items(`q=%25&warehouse=${west}`))).toEqual([`inv_${run}_c`]);
    expect(idsOf(await items(`q=_&warehouse=${east}`))).toEqual([]);
    expect(idsOf(await items(`warehouse=${west.toUpperCase()}`))).toEqual([`inv_${run}_c`, `inv_${run}_d`]);
    // the warehouse is matched whole, and its _ is no wildcard
    expect(idsOf(await items(`warehouse=${west.replace('_', 'x')}`))).toEqual([]);
    expect(idsOf(await items(`warehouse=${east.slice(0, -1)}`))).toEqual([]);
    expect(idsOf(await items(`q=Retired&warehouse=${west}`))).toEqual([]);
    // empty: no filter
    expect(idsOf(await items(`q=&warehouse=&limit=100`))).toEqual(expect.arrayContaining([`inv_${run}_a`, `inv_${run}_b`, `inv_${run}_c`, `inv_${run}_d`]));
  });

  it('in pages by id, none skipped or shown twice', async () => {
    const all = idsOf(await items(`q=inv${run}&limit=100`));
    expect(all).toEqual([`inv_${run}_a`, `inv_${run}_b`, `inv_${run}_d`]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { items: Item[]; nextCursor: string | null } } = await inventory(`q=inv${run}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(1);
      seen.push(...idsOf(res.body.items));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
  });

  it('a bad query is a 400 VALIDATION_FAILED naming its field; a customer is refused (403)', async () => {
    for (const [query, field] of [
      [`q=${'x'.repeat(101)}`, 'q'],
      ['q=a%00b', 'q'],
      [`warehouse=${'w'.repeat(51)}`, 'warehouse'],
      ['limit=0', 'limit'],
      ['limit=many', 'limit'],
      ['cursor=bm9wZQ', 'cursor'],
    ]) {
      const bad = await inventory(query);
      expectError(bad, 400, 'VALIDATION_FAILED');
      expect(fieldPaths(bad), query).toEqual([field]);
    }
    expectError(await inventory('', ada.token), 403, 'FORBIDDEN');
  });
});

describe('GET /admin/settings', () => {
  it("where the Temporal Web UI is and the workflows' namespace; a customer: 403", async () => {
    const read = async (client: ApiClient) => (await client.call('GET', '/api/v1/admin/settings', { token: admin })).body;
    expect(await read(api)).toEqual({ temporalUi: { url: API_DEFAULTS.temporalUiUrl, namespace: 'default' } });
    expect(await read(apiClient(backend.app({ temporalUiUrl: 'https://temporal.example.com' })))).toEqual({ temporalUi: { url: 'https://temporal.example.com', namespace: 'default' } });
    expect(await read(apiClient(backend.app({ temporalUiUrl: null })))).toEqual({ temporalUi: { url: null, namespace: 'default' } });
    expectError(await api.call('GET', '/api/v1/admin/settings', { token: ada.token }), 403, 'FORBIDDEN');
  });

  it('TEMPORAL_UI_URL: given, without its trailing slash; unset, the local Web UI on TEMPORAL_UI_PORT in development, else none', () => {
    const url = (env: Record<string, string>) => apiSettings(apiConfig.parse(env)).temporalUiUrl;
    expect(API_DEFAULTS.temporalUiUrl).toBe('http://127.0.0.1:8233');
    expect(url({ TEMPORAL_UI_PORT: '9233' })).toBe('http://127.0.0.1:9233');
    expect(url({ TEMPORAL_UI_PORT: '9233', NODE_ENV: 'production' })).toBeNull();
    expect(url({ TEMPORAL_UI_URL: 'https://temporal.example.com/ui/', NODE_ENV: 'production' })).toBe('https://temporal.example.com/ui');
    expect(apiConfig.safeParse({ TEMPORAL_UI_URL: 'javascript:alert(1)' }).success).toBe(false);
  });
});

it('every console route, and the admin order list, was exercised and matched the document', () => {
  expect(api.contract.uncovered([CONSOLE])).toEqual([]);
  expect(api.contract.covered.get('GET /api/v1/admin/orders')).toEqual(new Set([200, 400, 403]));
});

/**
 * Through the real saga (the CLI's dev server, the real activities), but a
 * warehouse system that refuses to release stock while `releaseBroken` is set:
 * a declined order's compensation fails, parks it, and the operator's retry
 * finishes it. And a capture the gateway refused, whose shipment the operator drops.
 */
describe('through the saga', () => {
  let releaseBroken = true;
  const saga = perSuite(async () => {
    const { db } = await freshDatabase('admin_console_saga');
    await seed(db);
    const env = await devServerEnv();
    const real = realActivities(db, { latencyMs: 0, slowMs: 0, declineRate: 0, transientFailures: 0 });
    const releaseStock: typeof real.inventory.releaseStock = async (input) => {
      if (releaseBroken) throw ApplicationFailure.nonRetryable('the warehouse system is down (test)');
      return real.inventory.releaseStock(input);
    };
    const stopWorkers = runWorkers(await createWorkers(env.nativeConnection, { ...real, inventory: { ...real.inventory, releaseStock } }));
    const client = temporalClientAt(env.address);
    return {
      ...appsOn(db, client.temporal),
      close: async () => {
        await client.close();
        await stopWorkers();
        await env.teardown();
        await db.$disconnect();
      },
    };
  });
  let shop: ApiClient;
  let buyer: { id: string; email: string; token: string };
  let operator: string;

  beforeAll(async () => {
    shop = apiClient(saga.app({ outcomeWaitMs: 20_000, fulfilment: { handlingMs: 1_000 } }));
    buyer = await newCustomer(shop, 'buyer');
    operator = (await newAdmin(shop, saga.db)).token;
  });

  const statusOf = async (orderId: string) => (await saga.db.order.findUnique({ where: { id: orderId } }))?.status;
  const place = (token: string) =>
    shop.call('POST', '/api/v1/orders', { token: buyer.token, body: { orderId: randomUUID(), items: [{ productId: 'prod_mug', quantity: 1 }], shippingAddress: shipTo, paymentMethod: { token } } });
  const detail = async (orderId: string) => (await shop.call('GET', `/api/v1/admin/orders/${orderId}`, { token: operator })).body;

  it('failed compensations park the order with the reason and RETRY_COMPENSATIONS; the retry (202) finishes it', async () => {
    const placed = await place(TestTokens.declined);
    expect(placed.status).toBe(402);
    const orderId: string = placed.body.details.orderId;
    await until('NEEDS_ATTENTION', async () => (await statusOf(orderId)) === 'NEEDS_ATTENTION', 20_000);
    const parked = await detail(orderId);
    expect(parked).toMatchObject({
      status: 'NEEDS_ATTENTION',
      customerEmail: buyer.email,
      attention: { code: ErrorCodes.COMPENSATION_FAILED, message: 'compensation failed: releaseStock' },
      repairs: ['RETRY_COMPENSATIONS'],
    });
    expect((await shop.call('GET', `/api/v1/admin/orders?status=NEEDS_ATTENTION&q=${encodeURIComponent(buyer.email)}`, { token: operator })).body.items).toEqual([
      expect.objectContaining({ id: orderId, attention: parked.attention, repairs: ['RETRY_COMPENSATIONS'] }),
    ]);
    expectError(await shop.call('POST', `/api/v1/admin/orders/${orderId}/retry-payment`, { token: operator }), 409, 'NOTHING_TO_RETRY');

    releaseBroken = false;
    const retried = await shop.call('POST', `/api/v1/admin/orders/${orderId}/retry-compensations`, { token: operator });
    expect({ status: retried.status, body: retried.body }).toEqual({ status: 202, body: { orderId, accepted: true, status: 'NEEDS_ATTENTION' } });
    await until('FAILED', async () => (await statusOf(orderId)) === 'FAILED', 20_000);
    expect(await saga.db.reservation.count({ where: { orderId, status: 'HELD' } })).toBe(0);
    expect(await detail(orderId)).toMatchObject({ status: 'FAILED', attention: null, repairs: [] });
    const again = expectError(await shop.call('POST', `/api/v1/admin/orders/${orderId}/retry-compensations`, { token: operator }), 409, 'NOTHING_TO_RETRY');
    expect(again.details).toEqual({ status: 'FAILED' });
  });

  it("a refused capture: the reason shown; the operator drops the customer's held shipment (202) and the order is CANCELLED", async () => {
    const placed = await place(TestTokens.captureRefused);
    expect(placed.status).toBe(201);
    const orderId: string = placed.body.orderId;
    await until('NEEDS_ATTENTION', async () => (await statusOf(orderId)) === 'NEEDS_ATTENTION', 20_000);
    const held = await detail(orderId);
    const [shipment] = held.shipments as { trackingNumber: string }[];
    expect(held).toMatchObject({ attention: { code: ErrorCodes.CAPTURE_REFUSED, message: expect.stringContaining(`the capture for shipment ${shipment.trackingNumber} was refused`) }, repairs: ['RETRY_PAYMENT', 'CANCEL_SHIPMENTS'] });
    expect((await shop.call('GET', `/api/v1/admin/orders?q=${shipment.trackingNumber}`, { token: operator })).body.items.map((o: { id: string }) => o.id)).toEqual([orderId]);
    expectError(await shop.call('POST', `/api/v1/admin/orders/${orderId}/retry-compensations`, { token: operator }), 409, 'NOTHING_TO_RETRY');

    const cancel = (body: unknown) => shop.call('POST', `/api/v1/admin/orders/${orderId}/shipments/cancel`, { token: operator, body });
    expectError(await cancel({ trackingNumbers: ['NOSUCH0001'] }), 409, 'SHIPMENT_NOT_CANCELLABLE');
    const dropped = await cancel({ reason: 'the card will not do' });
    expect(dropped.status).toBe(202);
    expect(dropped.body).toMatchObject({ orderId, accepted: true, shipments: [expect.objectContaining({ trackingNumber: shipment.trackingNumber, status: 'CANCELLED' })] });
    await until('CANCELLED', async () => (await statusOf(orderId)) === 'CANCELLED', 20_000);
    expect(await detail(orderId)).toMatchObject({ attention: null, repairs: [] });
  });
});
