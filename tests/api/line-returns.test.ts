/**
 * Per-shipment money, partial cancellation and line returns over HTTP (issue
 * 17), in-process against a real PostgreSQL. Most suites run with a Temporal
 * nobody answers: every answer there comes before the saga would be asked (a
 * call to Temporal would be a 503), so a refused request provably changed
 * nothing; their orders and books are written the way the activities write
 * them. The last suite goes through the real saga (the CLI's dev server and
 * the real activities): capture at hand-over, a shipment cancelled and voided,
 * a line returned, received by the carrier's webhook, inspected and refunded;
 * an operator's payment retry; and orders placed before per-shipment payments.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { carrierSignatureHeaders } from '../../api/carrier-signature';
import { ApiError } from '../../api/errors';
import { createSagaClient } from '../../api/orders';
import { ErrorCodes } from '../../domain/errors';
import { MAX_REQUEST_LINES } from '../../api/schemas';
import { booksProblems, computeBooks } from '../../domain/books';
import { TestTokens } from '../../domain/payment';
import { TaskQueues, orderWorkflowId, type PlaceOrderInput } from '../../temporal-config/place-order';
import { TEST_CARRIER_WEBHOOK_SECRET } from '../support/test-secrets';
import { until } from '../support/until';
import { apiClient, expectError, fieldPaths, newAdmin, newCustomer, type ApiClient } from './support/harness';
import { startOfflineBackend } from './support/offline-backend';
import { address as shipTo, startSagaBackend } from './support/saga-backend';
import { perSuite } from './support/suite';

const backend = perSuite(() => startOfflineBackend('line_returns'));
let api: ApiClient;
let ada: { id: string; token: string };
let eve: { id: string; token: string };
let admin: string;

beforeAll(async () => {
  api = apiClient(backend.app());
  ada = await newCustomer(api, 'ada');
  eve = await newCustomer(api, 'eve');
  admin = (await newAdmin(api, backend.db)).token;
});

const address = { name: 'Ada', line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' };
const mug = { productId: 'prod_mug', sku: 'MUG-001', name: 'Enamel camping mug', quantity: 2, unitPriceAmount: 1250, lineTotalAmount: 2500, currency: 'USD' };
const kettle = { productId: 'prod_kettle', sku: 'KET-001', name: 'Gooseneck kettle', quantity: 1, unitPriceAmount: 6900, lineTotalAmount: 6900, currency: 'USD' };
let parcels = 0;
const tracking = (prefix: string) => `${prefix}${String((parcels += 1)).padStart(8, '0')}`;

/**
 * An order of two shipments as the saga leaves it: the mugs (main) captured,
 * delivered and one of them returned and refunded, a second return of the
 * other asked for; the kettle (north) cancelled before it shipped, voided.
 */
async function twoShipmentOrder(customerId = ada.id) {
  const id = randomUUID();
  const wf = `order-${id}`;
  const main = tracking('SM');
  const north = tracking('SN');
  const refunded = { id: `ret_${randomUUID()}`, trackingNumber: tracking('RT') };
  const requested = { id: `ret_${randomUUID()}`, trackingNumber: tracking('RT') };
  const at = new Date();
  await backend.db.order.create({
    data: {
      id, customerId, workflowId: wf, status: 'PARTIALLY_RETURNED', currency: 'USD', totalAmount: 9400, shippingAddress: address,
      items: { create: [mug, kettle] },
    },
  });
  const payment = (kind: 'AUTHORISATION' | 'CAPTURE' | 'VOID' | 'REFUND', key: string, amount: number, lines: { productId: string; amount: number }[], reference?: string) =>
    ({ orderId: id, kind, status: 'SUCCEEDED' as const, idempotencyKey: `${wf}:${key}`, amount, currency: 'USD', lines, ...(reference ? { reference } : {}) });
  await backend.db.payment.createMany({
    data: [
      payment('AUTHORISATION', 'authorise', 9400, [{ productId: 'prod_mug', amount: 2500 }, { productId: 'prod_kettle', amount: 6900 }]),
      payment('CAPTURE', `capture:${main}:1`, 2500, [{ productId: 'prod_mug', amount: 2500 }], main),
      payment('VOID', `void:${north}`, 6900, [{ productId: 'prod_kettle', amount: 6900 }], north),
      payment('REFUND', `refund:${refunded.id}:${main}:1`, 1250, [{ productId: 'prod_mug', amount: 1250 }], refunded.id),
    ],
  });
  await backend.db.shipment.createMany({
    data: [
      { orderId: id, warehouse: 'main', carrier: 'ShipSmart', trackingNumber: main, status: 'DELIVERED', items: [{ productId: 'prod_mug', quantity: 2 }], weightGrams: 600, estimatedDeliveryDays: 2, handedOverAt: at, deliveredAt: at },
      { orderId: id, warehouse: 'north', carrier: 'ShipSmart', trackingNumber: north, status: 'CANCELLED', items: [{ productId: 'prod_kettle', quantity: 1 }], weightGrams: 1100, estimatedDeliveryDays: 3 },
    ],
  });
  await backend.db.orderReturn.createMany({
    data: [
      {
        ...refunded, orderId: id, status: 'REFUNDED', reason: 'chipped', currency: 'USD', refundAmount: 1250, requestedAt: new Date(at.getTime() - 1000),
        lines: [{ productId: 'prod_mug', quantity: 1, outcome: 'RESTOCK', refundAmount: 1250 }],
        timeline: [{ type: 'RETURN_REQUESTED', occurredAt: at.toISOString() }, { type: 'RETURN_REFUNDED', occurredAt: at.toISOString(), detail: { amount: 1250 } }],
      },
      {
        ...requested, orderId: id, status: 'REQUESTED', reason: 'too many mugs', currency: 'USD', requestedAt: at,
        lines: [{ productId: 'prod_mug', quantity: 1 }], timeline: [{ type: 'RETURN_REQUESTED', occurredAt: at.toISOString() }],
      },
    ],
  });
  return { id, main, north, refunded, requested };
}

/** An order charged in full at checkout (before per-shipment payments), delivered. */
async function chargedOrder() {
  const id = randomUUID();
  await backend.db.order.create({
    data: { id, customerId: ada.id, workflowId: `order-${id}`, status: 'DELIVERED', currency: 'USD', totalAmount: 2500, shippingAddress: address, items: { create: [mug] } },
  });
  await backend.db.payment.create({ data: { orderId: id, kind: 'CHARGE', status: 'SUCCEEDED', idempotencyKey: `order-${id}:charge`, amount: 2500, currency: 'USD' } });
  return id;
}

/** What a refused request must leave as it was. */
const snapshot = async (orderId: string) => ({
  order: await backend.db.order.findUniqueOrThrow({ where: { id: orderId }, select: { status: true, updatedAt: true } }),
  returns: await backend.db.orderReturn.findMany({ where: { orderId }, orderBy: { id: 'asc' } }),
  payments: await backend.db.payment.count({ where: { orderId } }),
  shipments: await backend.db.shipment.findMany({ where: { orderId }, orderBy: { id: 'asc' } }),
  deliveries: await backend.db.carrierDelivery.count({ where: { orderId } }),
});

const post = (path: string, token: string | undefined, body?: unknown) => api.call('POST', path, { token, ...(body === undefined ? {} : { body }) });
const returnLines = (orderId: string, body: unknown, token = ada.token) => post(`/api/v1/orders/${orderId}/returns`, token, body);
const cancelShipments = (orderId: string, body: unknown, token = ada.token) => post(`/api/v1/orders/${orderId}/shipments/cancel`, token, body);
const received = (orderId: string, returnId: string, body: unknown = {}, token = admin) => post(`/api/v1/admin/orders/${orderId}/returns/${returnId}/received`, token, body);
const inspect = (orderId: string, returnId: string, body: unknown, token = admin) => post(`/api/v1/admin/orders/${orderId}/returns/${returnId}/inspect`, token, body);
const retryPayment = (orderId: string, token = admin) => post(`/api/v1/admin/orders/${orderId}/retry-payment`, token);
const manyLines = (n: number, extra: object = {}) => Array.from({ length: n }, (_, i) => ({ productId: `prod_${i}`, quantity: 1, ...extra }));

describe('GET /orders/:id: the money per order and per line, shipments, returns', () => {
  it('the books from the payments rows, each shipment with its lines, each return as the saga recorded it', async () => {
    const o = await twoShipmentOrder();
    const res = await api.call('GET', `/api/v1/orders/${o.id}`, { token: ada.token });
    expect(res.status).toBe(200);
    expect(res.body.money).toEqual({
      currency: 'USD', authorised: 9400, captured: 2500, voided: 6900, refunded: 1250,
      lines: [
        { productId: 'prod_mug', sku: 'MUG-001', name: 'Enamel camping mug', quantity: 2, amount: 2500, authorised: 2500, captured: 2500, voided: 0, refunded: 1250 },
        { productId: 'prod_kettle', sku: 'KET-001', name: 'Gooseneck kettle', quantity: 1, amount: 6900, authorised: 6900, captured: 0, voided: 6900, refunded: 0 },
      ],
    });
    expect(res.body.shipments.map((s: { trackingNumber: string; status: string; items: unknown }) => [s.trackingNumber, s.status, s.items])).toEqual([
      [o.main, 'DELIVERED', [{ productId: 'prod_mug', quantity: 2 }]],
      [o.north, 'CANCELLED', [{ productId: 'prod_kettle', quantity: 1 }]],
    ]);
    expect(res.body.payments.map((p: { kind: string; reference: string | null; amount: { amount: number } }) => [p.kind, p.reference, p.amount.amount])).toEqual(
      expect.arrayContaining([['AUTHORISATION', null, 9400], ['CAPTURE', o.main, 2500], ['VOID', o.north, 6900], ['REFUND', o.refunded.id, 1250]]),
    );
    expect(res.body.returns).toEqual([
      expect.objectContaining({
        id: o.refunded.id, orderId: o.id, status: 'REFUNDED', reason: 'chipped', trackingNumber: o.refunded.trackingNumber, refundAmount: 1250, currency: 'USD',
        lines: [{ productId: 'prod_mug', quantity: 1, outcome: 'RESTOCK', refundAmount: 1250 }],
        timeline: [expect.objectContaining({ type: 'RETURN_REQUESTED' }), { type: 'RETURN_REFUNDED', occurredAt: expect.any(String), detail: { amount: 1250 } }],
      }),
      expect.objectContaining({ id: o.requested.id, status: 'REQUESTED', refundAmount: 0, lines: [{ productId: 'prod_mug', quantity: 1 }] }),
    ]);
  });

  it('an order charged at checkout: its charge counts as authorised and captured, spread over its lines', async () => {
    const id = await chargedOrder();
    const res = await api.call('GET', `/api/v1/orders/${id}`, { token: ada.token });
    expect(res.body.money).toMatchObject({ authorised: 2500, captured: 2500, voided: 0, refunded: 0, lines: [{ productId: 'prod_mug', authorised: 2500, captured: 2500 }] });
    expect(res.body.returns).toEqual([]);
  });

  it('the lists show each order\'s totals', async () => {
    const o = await twoShipmentOrder();
    const totals = { currency: 'USD', authorised: 9400, captured: 2500, voided: 6900, refunded: 1250 };
    const mine = await api.call('GET', '/api/v1/orders?limit=100', { token: ada.token });
    expect(mine.body.items.find((i: { id: string }) => i.id === o.id).money).toEqual(totals);
    const all = await api.call('GET', '/api/v1/admin/orders?status=PARTIALLY_RETURNED&limit=100', { token: admin });
    expect(all.body.items.find((i: { id: string }) => i.id === o.id).money).toEqual(totals);
  });
});

describe('POST /orders/:id/returns', () => {
  it('an invalid request is a 400 VALIDATION_FAILED naming each field, and changes nothing', async () => {
    const o = await twoShipmentOrder();
    const before = await snapshot(o.id);
    const invalid: [unknown, string[]][] = [
      [{}, ['reason']],
      [{ reason: '   ' }, ['reason']],
      [{ reason: 'x'.repeat(501) }, ['reason']],
      [{ reason: 'no', lines: [] }, ['lines']],
      [{ reason: 'no', lines: [{ productId: 'prod_mug', quantity: 0 }] }, ['lines.0.quantity']],
      [{ reason: 'no', lines: [{ productId: 'prod_mug', quantity: 1.5 }] }, ['lines.0.quantity']],
      [{ reason: 'no', lines: [{ productId: 'prod_mug', quantity: -1 }] }, ['lines.0.quantity']],
      [{ reason: 'no', lines: [{ productId: '', quantity: 1 }] }, ['lines.0.productId']],
      [{ reason: 'no', lines: [{ productId: 'prod_mug', quantity: 1 }, { productId: 'prod_mug', quantity: 1 }] }, ['lines']],
      [{ reason: 'no', lines: manyLines(MAX_REQUEST_LINES + 1) }, ['lines']],
    ];
    for (const [body, fields] of invalid) {
      const res = await returnLines(o.id, body);
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(fieldPaths(res), JSON.stringify(body).slice(0, 80)).toEqual(fields);
    }
    expectError(await api.call('POST', `/api/v1/orders/${o.id}/returns`, { token: ada.token }), 400, 'VALIDATION_FAILED');
    expectError(await api.call('POST', `/api/v1/orders/${o.id}/returns`, { token: ada.token, raw: '{', headers: { 'content-type': 'application/json' } }), 400, 'INVALID_JSON');
    expect(fieldPaths(await returnLines('not-a-uuid', { reason: 'no' }))).toEqual(['id']);
    expect(await snapshot(o.id)).toEqual(before);
  });

  it('someone else\'s order or no order is a 404; without a token a 401', async () => {
    const o = await twoShipmentOrder();
    expectError(await returnLines(o.id, { reason: 'mine now' }, eve.token), 404, 'ORDER_NOT_FOUND');
    expectError(await returnLines(randomUUID(), { reason: 'no such order' }), 404, 'ORDER_NOT_FOUND');
    expectError(await returnLines(o.id, { reason: 'anonymous' }, ''), 401, 'UNAUTHENTICATED');
  });

  it('an order charged at checkout cannot be returned by lines: 409 ORDER_NOT_RETURNABLE, nothing changes', async () => {
    const id = await chargedOrder();
    const before = await snapshot(id);
    const refused = expectError(await returnLines(id, { reason: 'one of them', lines: [{ productId: 'prod_mug', quantity: 1 }] }), 409, 'ORDER_NOT_RETURNABLE');
    expect(refused.message).toMatch(/only be returned as a whole/);
    expect(await snapshot(id)).toEqual(before);
  });
});

describe('POST /orders/:id/shipments/cancel', () => {
  it('invalid: 400 with the fields; the carrier has every parcel: 409 SHIPMENT_NOT_CANCELLABLE; not yours: 404; nothing changes', async () => {
    const o = await twoShipmentOrder();
    const before = await snapshot(o.id);
    const invalid: [unknown, string[]][] = [
      [{ trackingNumbers: [] }, ['trackingNumbers']],
      [{ trackingNumbers: [o.main, o.main] }, ['trackingNumbers']],
      [{ trackingNumbers: ['ab'] }, ['trackingNumbers.0']],
      [{ trackingNumbers: o.main }, ['trackingNumbers']],
      [{ reason: 'x'.repeat(501) }, ['reason']],
    ];
    for (const [body, fields] of invalid) expect(fieldPaths(await cancelShipments(o.id, body)), JSON.stringify(body)).toEqual(fields);
    const refused = expectError(await cancelShipments(o.id, { trackingNumbers: [o.north] }), 409, 'SHIPMENT_NOT_CANCELLABLE');
    expect(refused.details).toEqual({ status: 'PARTIALLY_RETURNED' });
    expectError(await cancelShipments(o.id, {}, eve.token), 404, 'ORDER_NOT_FOUND');
    expectError(await cancelShipments(randomUUID(), {}), 404, 'ORDER_NOT_FOUND');
    expect(await snapshot(o.id)).toEqual(before);
  });
});

describe('admin: returns received and inspected, payments retried', () => {
  it('admins only: 401 without a token, 403 for a customer (even the owner)', async () => {
    const o = await twoShipmentOrder();
    const before = await snapshot(o.id);
    expectError(await received(o.id, o.requested.id, {}, ada.token), 403, 'FORBIDDEN');
    expectError(await inspect(o.id, o.requested.id, { lines: [{ productId: 'prod_mug', quantity: 1, outcome: 'RESTOCK' }] }, ada.token), 403, 'FORBIDDEN');
    expectError(await retryPayment(o.id, ada.token), 403, 'FORBIDDEN');
    expectError(await received(o.id, o.requested.id, {}, ''), 401, 'UNAUTHENTICATED');
    expect(await snapshot(o.id)).toEqual(before);
  });

  it('received: 404 for an unknown order or return (or another order\'s), 409 RETURN_NOT_REQUESTED once it is no longer awaited', async () => {
    const o = await twoShipmentOrder();
    const other = await twoShipmentOrder(eve.id);
    const before = await snapshot(o.id);
    expectError(await received(randomUUID(), o.requested.id), 404, 'ORDER_NOT_FOUND');
    expectError(await received(o.id, 'ret_nope'), 404, 'RETURN_NOT_FOUND');
    expectError(await received(o.id, other.requested.id), 404, 'RETURN_NOT_FOUND');
    expect(expectError(await received(o.id, o.refunded.id, { note: 'again' }), 409, 'RETURN_NOT_REQUESTED').details).toEqual({ status: 'REFUNDED' });
    expect(await snapshot(o.id)).toEqual(before);
  });

  it('received with an inspection: REJECT needs a reason, positive quantities, at most 100 lines, exactly the units returned; nothing changes', async () => {
    const o = await twoShipmentOrder();
    const before = await snapshot(o.id);
    const line = { productId: 'prod_mug', quantity: 1, outcome: 'RESTOCK' };
    const invalid: [unknown, string[]][] = [
      [{ inspection: [{ ...line, outcome: 'REJECT' }] }, ['inspection.0.reason']],
      [{ inspection: [{ ...line, outcome: 'REJECT', reason: ' ' }] }, ['inspection.0.reason']],
      [{ inspection: [{ ...line, quantity: 0 }] }, ['inspection.0.quantity']],
      [{ inspection: [{ ...line, quantity: 2.5 }] }, ['inspection.0.quantity']],
      [{ inspection: [{ ...line, outcome: 'LOST' }] }, ['inspection.0.outcome']],
      [{ inspection: [] }, ['inspection']],
      [{ inspection: manyLines(MAX_REQUEST_LINES + 1, { outcome: 'RESTOCK' }) }, ['inspection']],
      [{ note: 'a\u0000b' }, ['note']],
    ];
    for (const [body, fields] of invalid) expect(fieldPaths(await received(o.id, o.requested.id, body)), JSON.stringify(body).slice(0, 80)).toEqual(fields);
    // the return holds one mug: an inspection must account for exactly that, before the saga (which cannot refuse a receipt) hears of it
    const over = expectError(await received(o.id, o.requested.id, { inspection: [line, { ...line, outcome: 'WRITE_OFF' }] }), 400, 'VALIDATION_FAILED');
    expect(over.details).toEqual({ fields: [{ path: 'inspection', message: '1 × prod_mug came back; the inspection covers 2' }] });
    const other = await received(o.id, o.requested.id, { inspection: [{ ...line, productId: 'prod_kettle' }] });
    expect(expectError(other, 400, 'VALIDATION_FAILED').details.fields.map((f: { message: string }) => f.message)).toEqual([
      '1 × prod_mug came back; the inspection covers 0',
      '0 × prod_kettle came back; the inspection covers 1',
    ]);
    expect(await snapshot(o.id)).toEqual(before);
  });

  it('inspect: 400 for a bad inspection, 404 for an unknown return, 409 RETURN_NOT_INSPECTABLE once inspected; nothing changes', async () => {
    const o = await twoShipmentOrder();
    const before = await snapshot(o.id);
    expect(fieldPaths(await inspect(o.id, o.requested.id, {}))).toEqual(['lines']);
    expect(fieldPaths(await inspect(o.id, o.requested.id, { lines: [{ productId: 'prod_mug', quantity: 1, outcome: 'REJECT' }] }))).toEqual(['lines.0.reason']);
    expect(fieldPaths(await inspect(o.id, o.requested.id, { lines: manyLines(MAX_REQUEST_LINES + 1, { outcome: 'WRITE_OFF' }) }))).toEqual(['lines']);
    expect(fieldPaths(await inspect(o.id, o.requested.id, { lines: [{ productId: 'prod_mug', quantity: 3, outcome: 'RESTOCK' }] }))).toEqual(['lines']);
    expectError(await inspect(o.id, 'ret_nope', { lines: [{ productId: 'prod_mug', quantity: 1, outcome: 'RESTOCK' }] }), 404, 'RETURN_NOT_FOUND');
    expectError(await inspect(randomUUID(), o.requested.id, { lines: [{ productId: 'prod_mug', quantity: 1, outcome: 'RESTOCK' }] }), 404, 'ORDER_NOT_FOUND');
    const done = expectError(await inspect(o.id, o.refunded.id, { lines: [{ productId: 'prod_mug', quantity: 1, outcome: 'WRITE_OFF' }] }), 409, 'RETURN_NOT_INSPECTABLE');
    expect(done.details).toEqual({ status: 'REFUNDED' });
    expect(await snapshot(o.id)).toEqual(before);
  });

  it('retry-payment: 404 for an unknown order', async () => {
    expectError(await retryPayment(randomUUID()), 404, 'ORDER_NOT_FOUND');
    expect(fieldPaths(await retryPayment('not-a-uuid'))).toEqual(['id']);
  });
});

/** A carrier event, signed now. */
const carrier = (client: ApiClient, trackingNumber: string, event: string) => {
  const body = JSON.stringify({ trackingNumber, event });
  return client.call('POST', '/api/v1/webhooks/carrier', { raw: body, headers: { 'content-type': 'application/json', ...carrierSignatureHeaders(TEST_CARRIER_WEBHOOK_SECRET, body) } });
};

describe('carrier webhook: a return parcel reaching the warehouse', () => {
  const send = (trackingNumber: string, event: string) => carrier(api, trackingNumber, event);

  it('a return received already: 200, nothing to do; a replay of it: 409; a lapsed one: 409 RETURN_NOT_REQUESTED; unknown: 404', async () => {
    const o = await twoShipmentOrder();
    const lapsed = { id: `ret_${randomUUID()}`, trackingNumber: tracking('RT') };
    await backend.db.orderReturn.create({
      data: { ...lapsed, orderId: o.id, status: 'LAPSED', reason: 'changed my mind', currency: 'USD', requestedAt: new Date(), lines: [{ productId: 'prod_mug', quantity: 1 }] },
    });

    const body = JSON.stringify({ trackingNumber: o.refunded.trackingNumber, event: 'return_received' });
    // signed with explicit times: a signature is (time, body), and "now" may cross a second between two calls
    const signedAt = (at: number) => ({ 'content-type': 'application/json', ...carrierSignatureHeaders(TEST_CARRIER_WEBHOOK_SECRET, body, at) });
    const first = Math.floor(Date.now() / 1000);
    const again = await api.call('POST', '/api/v1/webhooks/carrier', { raw: body, headers: signedAt(first) });
    expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: { orderId: o.id, trackingNumber: o.refunded.trackingNumber } });
    // a carrier that only knows "delivered": the same
    expect((await send(o.refunded.trackingNumber, 'delivered')).status).toBe(200);
    // signed a second earlier than the first delivery of this body, so not a replay of it
    const headers = signedAt(first - 1);
    expect((await api.call('POST', '/api/v1/webhooks/carrier', { raw: body, headers })).status).toBe(200);
    expectError(await api.call('POST', '/api/v1/webhooks/carrier', { raw: body, headers }), 409, 'CARRIER_DELIVERY_REPLAYED');

    const gone = expectError(await send(lapsed.trackingNumber, 'return_received'), 409, 'RETURN_NOT_REQUESTED');
    expect(gone.details).toEqual({ returnId: lapsed.id, returnStatus: 'LAPSED', orderStatus: 'PARTIALLY_RETURNED' });
    expectError(await send(tracking('XX'), 'return_received'), 404, 'NOT_FOUND');
    // an outbound parcel's tracking number is no return's
    expectError(await send(o.main, 'return_received'), 404, 'NOT_FOUND');
    expect(fieldPaths(await send(o.main, 'lost'))).toEqual(['event']);
    expect(await backend.db.orderReturn.findUniqueOrThrow({ where: { id: o.requested.id } })).toMatchObject({ status: 'REQUESTED' });
  });
});

describe('the OpenAPI document', () => {
  it('lists the new routes and describes the money, the shipments and the returns', async () => {
    const doc = (await (await backend.app().request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const ops = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(ops).toEqual(
      expect.arrayContaining([
        'POST /api/v1/orders/{id}/returns',
        'POST /api/v1/orders/{id}/shipments/cancel',
        'POST /api/v1/admin/orders/{id}/retry-payment',
        'POST /api/v1/admin/orders/{id}/returns/{returnId}/received',
        'POST /api/v1/admin/orders/{id}/returns/{returnId}/inspect',
        'POST /api/v1/admin/orders/{id}/return-received',
        'POST /api/v1/orders/{id}/return',
      ]),
    );
    const { schemas } = doc.components;
    expect(Object.keys(schemas.OrderMoney.properties!).sort()).toEqual(['authorised', 'captured', 'currency', 'lines', 'refunded', 'voided']);
    expect(schemas.Order.properties).toMatchObject({
      money: { $ref: '#/components/schemas/OrderMoney' },
      returns: { items: { $ref: '#/components/schemas/Return' } },
      shipments: { items: { $ref: '#/components/schemas/Shipment' } },
    });
    expect(schemas.OrderSummary.properties!.money).toEqual({ $ref: '#/components/schemas/OrderMoneyTotals' });
    expect(Object.keys(schemas.Return.properties!)).toEqual(expect.arrayContaining(['id', 'status', 'reason', 'trackingNumber', 'lines', 'refundAmount', 'timeline', 'requestedAt']));
    expect(Object.keys(schemas.Shipment.properties!)).toEqual(expect.arrayContaining(['items', 'status', 'trackingNumber']));
    expect(doc.paths['/api/v1/orders/{id}/returns'].post.responses).toMatchObject({ 202: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Return' } } } } });
  });
});

it('every new route was exercised and matched the document', () => {
  expect(api.contract.uncovered(['returns', 'payments'])).toEqual([]);
  expect(api.contract.covered.has('POST /api/v1/orders/{id}/shipments/cancel')).toBe(true);
});

/**
 * Through the real saga (the CLI's dev server, the real activities): an order
 * of two shipments whose first is captured at hand-over, whose second is
 * cancelled before it ships (voided), and one line of the first returned,
 * received by the carrier's webhook, inspected and refunded.
 */
describe('through the saga', () => {
  const saga = perSuite(() => startSagaBackend('line_returns_saga'));
  /** the first parcel leaves after 3 s, the second after 6 s */
  let shop: ApiClient;
  let buyer: { id: string; token: string };
  let operator: string;

  beforeAll(async () => {
    shop = apiClient(saga.app({ outcomeWaitMs: 20_000, fulfilment: { handlingMs: 3_000, returnShippingMs: 3_600_000 } }));
    buyer = await newCustomer(shop, 'shipper');
    operator = (await newAdmin(shop, saga.db)).token;
  });

  const read = async (orderId: string) => (await shop.call('GET', `/api/v1/orders/${orderId}`, { token: buyer.token })).body;
  const shipmentStatus = async (trackingNumber: string) => (await saga.db.shipment.findUniqueOrThrow({ where: { trackingNumber } })).status;
  /** ended: the order's life is over, so captured + voided = authorised too */
  const balanced = async (orderId: string, ended = false) => {
    const order = await saga.db.order.findUniqueOrThrow({ where: { id: orderId }, include: { items: true } });
    const payments = await saga.db.payment.findMany({ where: { orderId } });
    return booksProblems(computeBooks({ currency: order.currency, lines: order.items }, payments), { ended });
  };

  it('captured at hand-over, the rest cancelled and voided, one line returned, received, inspected and refunded', async () => {
    const placed = await shop.call('POST', '/api/v1/orders', {
      token: buyer.token,
      body: { items: [{ productId: 'prod_mug', quantity: 2 }, { productId: 'prod_kettle', quantity: 1 }], shippingAddress: shipTo, paymentMethod: { token: TestTokens.success } },
    });
    expect(placed.status).toBe(201);
    const orderId: string = placed.body.orderId;
    expect((await read(orderId)).money).toMatchObject({ authorised: 9400, captured: 0, voided: 0, refunded: 0 });
    await until('the shipments planned', async () => (await saga.db.shipment.count({ where: { orderId } })) === 2);
    const authorised = await read(orderId);
    const [main, north] = authorised.shipments as { trackingNumber: string; warehouse: string; items: unknown }[];
    expect([main.warehouse, main.items, north.warehouse, north.items]).toEqual(['main', [{ productId: 'prod_mug', quantity: 2 }], 'north', [{ productId: 'prod_kettle', quantity: 1 }]]);

    // the mugs leave: their share is captured
    await until('the first parcel handed over', async () => (await shipmentStatus(main.trackingNumber)) === 'HANDED_TO_CARRIER');
    await until('its capture', async () => (await read(orderId)).money.captured === 2500);
    // the kettle has not left yet: cancelled, voided
    const cancelled = await shop.call('POST', `/api/v1/orders/${orderId}/shipments/cancel`, { token: buyer.token, body: { trackingNumbers: [north.trackingNumber], reason: 'found one' } });
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.shipments.find((s: { trackingNumber: string }) => s.trackingNumber === north.trackingNumber).status).toBe('CANCELLED');
    await until('the void', async () => (await read(orderId)).money.voided === 6900);
    expectError(
      await shop.call('POST', `/api/v1/orders/${orderId}/shipments/cancel`, { token: buyer.token, body: { trackingNumbers: [main.trackingNumber] } }),
      409,
      'SHIPMENT_NOT_CANCELLABLE',
    );

    // the carrier delivers the mugs; one comes back
    expect((await carrier(shop, main.trackingNumber, 'delivered')).status).toBe(202);
    await until('delivered', async () => (await shipmentStatus(main.trackingNumber)) === 'DELIVERED');
    expectError(await shop.call('POST', `/api/v1/orders/${orderId}/returns`, { token: buyer.token, body: { reason: 'too many', lines: [{ productId: 'prod_mug', quantity: 3 }] } }), 422, 'RETURN_QUANTITY_EXCEEDED');
    const asked = await shop.call('POST', `/api/v1/orders/${orderId}/returns`, { token: buyer.token, body: { reason: 'one is enough', lines: [{ productId: 'prod_mug', quantity: 1 }] } });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ orderId, status: 'REQUESTED', reason: 'one is enough', lines: [{ productId: 'prod_mug', quantity: 1 }], refundAmount: 0 });
    const ret = asked.body as { id: string; trackingNumber: string };
    expect((await read(orderId)).returns).toEqual([expect.objectContaining({ id: ret.id, status: 'REQUESTED', trackingNumber: ret.trackingNumber })]);
    expect((await read(orderId)).money).toMatchObject({ captured: 2500, refunded: 0 });
    // inspecting before the goods are back is refused by the saga
    expectError(await shop.call('POST', `/api/v1/admin/orders/${orderId}/returns/${ret.id}/inspect`, { token: operator, body: { lines: [{ productId: 'prod_mug', quantity: 1, outcome: 'RESTOCK' }] } }), 409, 'RETURN_NOT_INSPECTABLE');

    // the parcel reaches the warehouse (the carrier says so), the warehouse inspects it
    expect((await carrier(shop, ret.trackingNumber, 'return_received')).status).toBe(202);
    await until('received', async () => (await saga.db.orderReturn.findUniqueOrThrow({ where: { id: ret.id } })).status === 'RECEIVED');
    expectError(await shop.call('POST', `/api/v1/admin/orders/${orderId}/returns/${ret.id}/received`, { token: operator, body: {} }), 409, 'RETURN_NOT_REQUESTED');
    const inspected = await shop.call('POST', `/api/v1/admin/orders/${orderId}/returns/${ret.id}/inspect`, { token: operator, body: { lines: [{ productId: 'prod_mug', quantity: 1, outcome: 'RESTOCK' }] } });
    expect(inspected.status).toBe(200);
    expect(inspected.body).toMatchObject({ id: ret.id, lines: [{ productId: 'prod_mug', quantity: 1, outcome: 'RESTOCK' }] });
    await until('refunded', async () => (await saga.db.orderReturn.findUniqueOrThrow({ where: { id: ret.id } })).status === 'REFUNDED');
    const after = await read(orderId);
    expect(after.money).toMatchObject({
      authorised: 9400, captured: 2500, voided: 6900, refunded: 1250,
      lines: [
        expect.objectContaining({ productId: 'prod_mug', authorised: 2500, captured: 2500, voided: 0, refunded: 1250 }),
        expect.objectContaining({ productId: 'prod_kettle', authorised: 6900, captured: 0, voided: 6900, refunded: 0 }),
      ],
    });
    expect(after.returns).toEqual([expect.objectContaining({ id: ret.id, status: 'REFUNDED', refundAmount: 1250 })]);
    expect(await balanced(orderId)).toEqual([]);
    // nothing waits on a payment step
    expectError(await shop.call('POST', `/api/v1/admin/orders/${orderId}/retry-payment`, { token: operator }), 409, 'NOTHING_TO_RETRY');
  });

  /** A one-parcel order whose capture the gateway refused: placed (201), then held in NEEDS_ATTENTION. */
  const heldByRefusedCapture = async (): Promise<string> => {
    const placed = await shop.call('POST', '/api/v1/orders', {
      token: buyer.token,
      body: { items: [{ productId: 'prod_tshirt', quantity: 1 }], shippingAddress: shipTo, paymentMethod: { token: TestTokens.captureRefused } },
    });
    expect(placed.status).toBe(201);
    const orderId: string = placed.body.orderId;
    await until('NEEDS_ATTENTION', async () => (await statusOf(orderId)) === 'NEEDS_ATTENTION', 20_000);
    return orderId;
  };

  it('a capture the gateway refused holds the order in NEEDS_ATTENTION until an operator retries it', async () => {
    const orderId = await heldByRefusedCapture();
    expect((await read(orderId)).money).toMatchObject({ authorised: 1999, captured: 0 });
    expectError(await shop.call('POST', `/api/v1/admin/orders/${orderId}/retry-payment`, { token: buyer.token }), 403, 'FORBIDDEN');
    const retried = await shop.call('POST', `/api/v1/admin/orders/${orderId}/retry-payment`, { token: operator });
    expect({ status: retried.status, body: retried.body }).toEqual({ status: 202, body: { orderId, accepted: true, status: 'NEEDS_ATTENTION' } });
    await until('captured', async () => (await read(orderId)).money.captured === 1999, 20_000);
    await until('SHIPPED', async () => (await statusOf(orderId)) === 'SHIPPED');
    expectError(await shop.call('POST', `/api/v1/admin/orders/${orderId}/retry-payment`, { token: operator }), 409, 'NOTHING_TO_RETRY');
    expect(await balanced(orderId)).toEqual([]);
  });

  it('an order held in NEEDS_ATTENTION by a refused capture is cancelled with POST /cancel: its shipment dropped, the authorisation voided, the stock back', async () => {
    const orderId = await heldByRefusedCapture();
    const cancelled = await shop.call('POST', `/api/v1/orders/${orderId}/cancel`, { token: buyer.token, body: { reason: 'the card will not do' } });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ orderId, accepted: true });
    // accepted: the shipment's cancel (stock released, amount voided) runs in the background
    await until('CANCELLED', async () => (await statusOf(orderId)) === 'CANCELLED', 20_000);
    const after = await read(orderId);
    expect(after.money).toMatchObject({ authorised: 1999, captured: 0, voided: 1999, refunded: 0 });
    expect(await balanced(orderId, true)).toEqual([]);
    expect(await saga.db.reservation.count({ where: { orderId, status: { in: ['HELD', 'COMMITTED'] } } })).toBe(0);
    expectError(await shop.call('POST', `/api/v1/orders/${orderId}/cancel`, { token: buyer.token, body: {} }), 409, 'ORDER_NOT_CANCELLABLE');
  });

  it('the whole-order routes on an order paid per shipment: a return of every delivered unit, received with every line restocked', async () => {
    const placed = await shop.call('POST', '/api/v1/orders', {
      token: buyer.token,
      body: { items: [{ productId: 'prod_lamp', quantity: 1 }], shippingAddress: shipTo, paymentMethod: { token: TestTokens.success } },
    });
    const orderId: string = placed.body.orderId;
    await until('SHIPPED', async () => (await statusOf(orderId)) === 'SHIPPED', 20_000);
    const { trackingNumber } = await saga.db.shipment.findFirstOrThrow({ where: { orderId } });
    expect((await carrier(shop, trackingNumber, 'delivered')).status).toBe(202);
    await until('DELIVERED', async () => (await statusOf(orderId)) === 'DELIVERED');
    const whole = await shop.call('POST', `/api/v1/orders/${orderId}/return`, { token: buyer.token, body: { reason: 'too bright' } });
    expect(whole.status).toBe(200);
    expect(whole.body).toMatchObject({ orderId, accepted: true });
    // the saga writes the order's status just after the return: the answer may come a moment before it
    expect(['DELIVERED', 'RETURN_REQUESTED']).toContain(whole.body.status);
    await until('RETURN_REQUESTED', async () => (await statusOf(orderId)) === 'RETURN_REQUESTED');
    expect((await read(orderId)).returns).toEqual([expect.objectContaining({ status: 'REQUESTED', reason: 'too bright', lines: [{ productId: 'prod_lamp', quantity: 1 }] })]);
    // nothing is left to return
    expectError(await shop.call('POST', `/api/v1/orders/${orderId}/returns`, { token: buyer.token, body: { reason: 'again' } }), 409, 'ORDER_NOT_RETURNABLE');
    // the warehouse's old route: received, every line restocked, refunded
    expect((await shop.call('POST', `/api/v1/admin/orders/${orderId}/return-received`, { token: operator, body: { note: 'all there' } })).status).toBe(202);
    await until('RETURNED', async () => (await statusOf(orderId)) === 'RETURNED');
    expect((await read(orderId)).money).toMatchObject({ authorised: 3499, captured: 3499, voided: 0, refunded: 3499 });
    expect((await read(orderId)).returns).toEqual([expect.objectContaining({ status: 'REFUNDED', lines: [expect.objectContaining({ productId: 'prod_lamp', outcome: 'RESTOCK' })] })]);
    expectError(await shop.call('POST', `/api/v1/admin/orders/${orderId}/return-received`, { token: operator }), 409, 'RETURN_NOT_REQUESTED');
  });

  /** An order as every run before per-shipment payments took it: charged in full at checkout. */
  const chargedAtCheckout = async (handlingMs: number) => {
    const orderId = randomUUID();
    const input: PlaceOrderInput = {
      orderId, customerId: buyer.id, currency: 'USD', totalAmount: 1250, shippingAddress: shipTo, paymentMethod: { token: TestTokens.success },
      items: [{ productId: 'prod_mug', sku: 'MUG-001', name: 'Enamel camping mug', quantity: 1, unitPriceAmount: 1250 }],
      fulfilment: { handlingMs, returnShippingMs: 3_600_000 }, payments: 'charge-at-checkout',
    };
    await saga.env.client.workflow.start('placeOrder', { workflowId: orderWorkflowId(orderId), taskQueue: TaskQueues.orders, args: [input] });
    return orderId;
  };
  const statusOf = async (orderId: string) => (await saga.db.order.findUnique({ where: { id: orderId } }))?.status;

  it('an order placed before per-shipment payments: returned only as a whole, as before', async () => {
    const orderId = await chargedAtCheckout(0);
    await until('SHIPPED', async () => (await statusOf(orderId)) === 'SHIPPED');
    const { trackingNumber } = await saga.db.shipment.findFirstOrThrow({ where: { orderId } });
    expect((await carrier(shop, trackingNumber, 'delivered')).status).toBe(202);
    await until('DELIVERED', async () => (await statusOf(orderId)) === 'DELIVERED');
    // its run has no line returns: the saga client tells (an update the run has no handler for)
    const client = createSagaClient(saga.temporal, { outcomeWaitMs: 1_000 });
    expect(await client.requestLineReturn(orderId, { lines: [], reason: 'probe' }, () => new ApiError(ErrorCodes.FULFILMENT_ENDED, 'ended'))).toBe('unsupported');

    const lines = await shop.call('POST', `/api/v1/orders/${orderId}/returns`, { token: buyer.token, body: { reason: 'one', lines: [{ productId: 'prod_mug', quantity: 1 }] } });
    expect(expectError(lines, 409, 'ORDER_NOT_RETURNABLE').message).toMatch(/only be returned as a whole/);
    const whole = await shop.call('POST', `/api/v1/orders/${orderId}/returns`, { token: buyer.token, body: { reason: 'all of it' } });
    expect({ status: whole.status, body: whole.body }).toEqual({ status: 200, body: { orderId, accepted: true, status: 'RETURN_REQUESTED' } });
    expect((await shop.call('POST', `/api/v1/admin/orders/${orderId}/return-received`, { token: operator, body: { note: 'fine' } })).status).toBe(202);
    await until('RETURNED', async () => (await statusOf(orderId)) === 'RETURNED');
    expect((await read(orderId)).money).toMatchObject({ authorised: 1250, captured: 1250, refunded: 1250 });
  });

  it('an order placed before per-shipment payments: its shipments are cancelled only with the whole order', async () => {
    const orderId = await chargedAtCheckout(3_600_000);
    await until('PROCESSING', async () => (await statusOf(orderId)) === 'PROCESSING');
    const refused = expectError(await shop.call('POST', `/api/v1/orders/${orderId}/shipments/cancel`, { token: buyer.token, body: {} }), 409, 'SHIPMENT_NOT_CANCELLABLE');
    expect(refused.message).toMatch(/only as a whole/);
    expect((await shop.call('POST', `/api/v1/orders/${orderId}/cancel`, { token: buyer.token, body: {} })).status).toBe(200);
    await until('CANCELLED', async () => (await saga.db.order.findUniqueOrThrow({ where: { id: orderId } })).status === 'CANCELLED');
  });
});
