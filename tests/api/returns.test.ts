/**
 * Returns over HTTP (issue 15, item 8: no refund before the goods are back),
 * in-process against a real PostgreSQL and a real Temporal (the CLI's dev
 * server) with the real activities. A return asked for leaves the money and
 * the stock where they are; only the warehouse recording the goods as received
 * (POST /api/v1/admin/orders/{id}/return-received) restocks and refunds. Goods
 * that never come back let the return lapse. The books are checked after each.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { TestTokens } from '../../domain/payment';
import { assertBooksBalance } from '../support/books';
import { until } from '../support/until';
import { apiClient, expectError, fieldPaths, newAdmin, newCustomer, type ApiClient } from './support/harness';
import { address, startSagaBackend } from './support/saga-backend';
import { perSuite } from './support/suite';
import { markDeliveredSignal, orderWorkflowId } from '../../temporal-config/place-order';

const DAY_MS = 86_400_000;
/** long enough that nothing lapses while a test runs */
const SHIPPING_MS = DAY_MS;
/** short enough to watch a return lapse in real time */
const LAPSING_MS = 1_500;

const backend = perSuite(() => startSagaBackend('returns', { slowMs: 1_000 }));
let api: ApiClient;
/** the same API, but its orders give returned goods 1.5 s to arrive */
let lapsing: ApiClient;
let customer: { id: string; token: string };
let admin: string;

beforeAll(async () => {
  api = apiClient(backend.app({ outcomeWaitMs: 20_000, fulfilment: { handlingMs: 200, returnShippingMs: SHIPPING_MS } }));
  lapsing = apiClient(backend.app({ outcomeWaitMs: 20_000, fulfilment: { handlingMs: 200, returnShippingMs: LAPSING_MS } }));
  customer = await newCustomer(api, 'returner');
  admin = (await newAdmin(api, backend.db)).token;
});

const statusOf = async (orderId: string) => (await backend.db.order.findUniqueOrThrow({ where: { id: orderId } })).status;
const ledgerOf = async (orderId: string) =>
  (await backend.db.gatewayTransaction.findMany({ where: { idempotencyKey: { startsWith: orderWorkflowId(orderId) } }, orderBy: { createdAt: 'asc' } })).map((t) => [
    t.kind,
    t.idempotencyKey.slice(orderWorkflowId(orderId).length),
    t.amount,
  ]);
const stockOf = async (productId: string) => {
  const { available, reserved, sold, returned } = await backend.db.stock.findUniqueOrThrow({ where: { productId } });
  return { available, reserved, sold, returned };
};
const returnIt = (client: ApiClient, orderId: string, token = customer.token) =>
  client.call('POST', `/api/v1/orders/${orderId}/return`, { token, body: { reason: 'does not fit' } });
const received = (orderId: string, token = admin, body: unknown = { note: 'all there' }) =>
  api.call('POST', `/api/v1/admin/orders/${orderId}/return-received`, { token, body });

/** Places an order for `quantity` of a product and has the carrier deliver it. */
async function deliveredOrder(client: ApiClient, productId: string, quantity: number): Promise<string> {
  const placed = await client.call('POST', '/api/v1/orders', {
    token: customer.token,
    body: { items: [{ productId, quantity }], shippingAddress: address, paymentMethod: { token: TestTokens.success } },
  });
  expect(placed.status).toBe(201);
  const { orderId } = placed.body as { orderId: string };
  await until(`${orderId} SHIPPED`, async () => (await statusOf(orderId)) === 'SHIPPED');
  await backend.env.client.workflow.getHandle(orderWorkflowId(orderId)).signal(markDeliveredSignal);
  await until(`${orderId} DELIVERED`, async () => (await statusOf(orderId)) === 'DELIVERED');
  return orderId;
}

describe('returns: refunded when received, not when asked for', () => {
  it('asked for: RETURN_REQUESTED, no refund, stock unchanged; received: restocked, the total refunded once, RETURNED', async () => {
    const orderId = await deliveredOrder(api, 'prod_mug', 2);
    const delivered = await stockOf('prod_mug');
    // nothing asked for yet: the warehouse cannot receive it
    expect(expectError(await received(orderId), 409, 'RETURN_NOT_REQUESTED').details).toEqual({ status: 'DELIVERED' });

    const asked = await returnIt(api, orderId);
    expect(asked.status).toBe(200);
    expect(asked.body).toEqual({ orderId, accepted: true, status: 'RETURN_REQUESTED' });
    // the answer comes once PostgreSQL says so too
    expect(await statusOf(orderId)).toBe('RETURN_REQUESTED');
    expect((await api.call('GET', `/api/v1/orders/${orderId}`, { token: customer.token })).body.status).toBe('RETURN_REQUESTED');
    expect(await ledgerOf(orderId)).toEqual([['CHARGE', ':charge', 2500]]);
    expect(await backend.db.payment.count({ where: { orderId, kind: 'REFUND' } })).toBe(0);
    expect(await stockOf('prod_mug')).toEqual(delivered);
    expect(await assertBooksBalance(backend.db, backend.initial)).toEqual([]);
    expectError(await returnIt(api, orderId), 409, 'ORDER_NOT_RETURNABLE');
    // the warehouse's worklist
    const awaiting = await api.call('GET', '/api/v1/admin/orders?status=RETURN_REQUESTED', { token: admin });
    expect(awaiting.body.items.map((o: { id: string }) => o.id)).toContain(orderId);

    const recorded = await received(orderId);
    expect(recorded.status).toBe(202);
    expect(recorded.body).toEqual({ orderId, accepted: true, status: 'RETURN_REQUESTED' });
    await until('RETURNED', async () => (await statusOf(orderId)) === 'RETURNED');
    expect(await ledgerOf(orderId)).toEqual([['CHARGE', ':charge', 2500], ['REFUND', ':return-refund', 2500]]);
    expect(await backend.db.payment.findFirstOrThrow({ where: { orderId, kind: 'REFUND' } })).toMatchObject({ status: 'SUCCEEDED', amount: 2500, currency: 'USD' });
    expect(await stockOf('prod_mug')).toEqual({ ...delivered, available: delivered.available + 2, returned: delivered.returned + 2 });
    const timeline = (await backend.db.orderEvent.findMany({ where: { orderId }, orderBy: { id: 'asc' } })).map((e) => e.type);
    expect(timeline).toEqual(expect.arrayContaining(['RETURN_REQUESTED', 'RETURN_RECEIVED', 'RETURNED']));
    expect((await backend.db.orderEvent.findFirstOrThrow({ where: { orderId, type: 'RETURN_RECEIVED' } })).detail).toEqual({ note: 'all there' });
    expect(await assertBooksBalance(backend.db, backend.initial)).toEqual([]);

    // received twice: refused, nothing moves again
    expect(expectError(await received(orderId), 409, 'RETURN_NOT_REQUESTED').details).toEqual({ status: 'RETURNED' });
    expect(await backend.db.payment.count({ where: { orderId, kind: 'REFUND' } })).toBe(1);
  });

  it('goods that never arrive: the return lapses, DELIVERED again with the charge kept; receiving it then is refused', async () => {
    const orderId = await deliveredOrder(lapsing, 'prod_mug', 1);
    const delivered = await stockOf('prod_mug');
    expect((await returnIt(lapsing, orderId)).body.status).toBe('RETURN_REQUESTED');
    await until('the return to lapse', async () => (await statusOf(orderId)) === 'DELIVERED', 15_000);
    expect(await backend.db.orderEvent.count({ where: { orderId, type: 'RETURN_LAPSED' } })).toBe(1);

    expect(expectError(await received(orderId), 409, 'RETURN_NOT_REQUESTED').details).toEqual({ status: 'DELIVERED' });
    expect(await ledgerOf(orderId)).toEqual([['CHARGE', ':charge', 1250]]);
    expect(await stockOf('prod_mug')).toEqual(delivered);
    expect(await assertBooksBalance(backend.db, backend.initial)).toEqual([]);
  });

  it('return-received is for admins: 401 without a token, 403 for a customer (even the owner), 404 for an unknown order, 400 for a bad note', async () => {
    const orderId = await deliveredOrder(api, 'prod_lamp', 1);
    expect((await returnIt(api, orderId)).body.status).toBe('RETURN_REQUESTED');

    expectError(await api.call('POST', `/api/v1/admin/orders/${orderId}/return-received`, { body: {} }), 401, 'UNAUTHENTICATED');
    expectError(await received(orderId, customer.token), 403, 'FORBIDDEN');
    expectError(await received(randomUUID()), 404, 'ORDER_NOT_FOUND');
    expect(fieldPaths(await received(orderId, admin, { note: 'a\u0000b' }))).toEqual(['note']);
    expect(fieldPaths(await received('not-a-uuid'))).toEqual(['id']);
    expect(await statusOf(orderId)).toBe('RETURN_REQUESTED');
    expect(await backend.db.payment.count({ where: { orderId, kind: 'REFUND' } })).toBe(0);

    // no body at all is fine: received without a note
    const res = await api.call('POST', `/api/v1/admin/orders/${orderId}/return-received`, { token: admin });
    expect(res.status).toBe(202);
    await until('RETURNED', async () => (await statusOf(orderId)) === 'RETURNED');
    expect(await ledgerOf(orderId)).toEqual([['CHARGE', ':charge', 3499], ['REFUND', ':return-refund', 3499]]);
    expect(await assertBooksBalance(backend.db, backend.initial)).toEqual([]);
  });
});
