/**
 * Returns over HTTP (issue 15, item 8: no refund before the goods are back),
 * in-process against a real PostgreSQL and a real Temporal (the CLI's dev
 * server) with the real activities. The orders are per-shipment (authorised at
 * checkout, captured at hand-over), so the whole-order return
 * (POST /api/v1/orders/{id}/return) is a line return of every delivered unit.
 * A return asked for leaves the money and the stock where they are; only the
 * warehouse recording the goods as received
 * (POST /api/v1/admin/orders/{id}/return-received) restocks every line and
 * refunds each line's captured amount. Goods that never come back let the
 * return lapse. The money per line (GET /api/v1/orders/{id}) and the books are
 * checked after each.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MoneyMoves } from '../../domain/books';
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
/** the provider's rows of an order: the amounts of each kind, smallest first */
async function ledgerOf(orderId: string): Promise<Record<string, number[]>> {
  const rows = await backend.db.gatewayTransaction.findMany({ where: { idempotencyKey: { startsWith: `${orderWorkflowId(orderId)}:` } }, orderBy: { amount: 'asc' } });
  return Object.fromEntries([...new Set(rows.map((t) => t.kind))].map((kind) => [kind, rows.filter((t) => t.kind === kind).map((t) => t.amount)]));
}
const movesOf = ({ authorised, captured, voided, refunded }: MoneyMoves): MoneyMoves => ({ authorised, captured, voided, refunded });
/** the order's money as GET /api/v1/orders/{id} shows the customer: its totals, and each line's by product */
async function moneyOf(orderId: string) {
  const read = await api.call('GET', `/api/v1/orders/${orderId}`, { token: customer.token });
  expect(read.status).toBe(200);
  const money = read.body.money as MoneyMoves & { lines: (MoneyMoves & { productId: string })[] };
  return { ...movesOf(money), lines: Object.fromEntries(money.lines.map((l) => [l.productId, movesOf(l)])) };
}
/** one line's (or the order's) money once captured at hand-over, and what was refunded of it */
const captured = (amount: number, refunded = 0): MoneyMoves => ({ authorised: amount, captured: amount, voided: 0, refunded });
/** the order's returns as GET /api/v1/orders/{id} shows them, each one's lines by product */
async function returnsOf(orderId: string) {
  const { returns } = (await api.call('GET', `/api/v1/orders/${orderId}`, { token: customer.token })).body as { returns: { lines: { productId: string }[] }[] };
  return returns.map((r) => ({ ...r, lines: [...r.lines].sort((a, b) => a.productId.localeCompare(b.productId)) }));
}
const stockOf = async (productId: string) => {
  const { available, reserved, sold, returned } = await backend.db.stock.findUniqueOrThrow({ where: { productId } });
  return { available, reserved, sold, returned };
};
const returnIt = (client: ApiClient, orderId: string, token = customer.token) =>
  client.call('POST', `/api/v1/orders/${orderId}/return`, { token, body: { reason: 'does not fit' } });
const received = (orderId: string, token = admin, body: unknown = { note: 'all there' }) =>
  api.call('POST', `/api/v1/admin/orders/${orderId}/return-received`, { token, body });

/** Places an order of these products (one shipment per warehouse) and has the carrier deliver every parcel. */
async function deliveredOrder(client: ApiClient, quantities: Record<string, number>): Promise<string> {
  const items = Object.entries(quantities).map(([productId, quantity]) => ({ productId, quantity }));
  const placed = await client.call('POST', '/api/v1/orders', {
    token: customer.token,
    body: { items, shippingAddress: address, paymentMethod: { token: TestTokens.success } },
  });
  expect(placed.status).toBe(201);
  const { orderId } = placed.body as { orderId: string };
  await until(`${orderId} SHIPPED`, async () => (await statusOf(orderId)) === 'SHIPPED');
  await backend.env.client.workflow.getHandle(orderWorkflowId(orderId)).signal(markDeliveredSignal);
  await until(`${orderId} DELIVERED`, async () => (await statusOf(orderId)) === 'DELIVERED');
  return orderId;
}

describe('returns: refunded when received, not when asked for', () => {
  it('asked for: RETURN_REQUESTED, no refund, stock unchanged; received: every line restocked and refunded once from its capture, RETURNED', async () => {
    // two shipments: the mugs from main, the kettle from north, each captured as it was handed over
    const orderId = await deliveredOrder(api, { prod_mug: 2, prod_kettle: 1 });
    const delivered = { mug: await stockOf('prod_mug'), kettle: await stockOf('prod_kettle') };
    // nothing asked for yet: the warehouse cannot receive it
    expect(expectError(await received(orderId), 409, 'RETURN_NOT_REQUESTED').details).toEqual({ status: 'DELIVERED' });

    const asked = await returnIt(api, orderId);
    expect(asked.status).toBe(200);
    expect(asked.body).toEqual({ orderId, accepted: true, status: 'RETURN_REQUESTED' });
    // the answer comes once PostgreSQL says so too
    expect(await statusOf(orderId)).toBe('RETURN_REQUESTED');
    expect((await api.call('GET', `/api/v1/orders/${orderId}`, { token: customer.token })).body.status).toBe('RETURN_REQUESTED');
    expect(await ledgerOf(orderId)).toEqual({ AUTHORISATION: [9400], CAPTURE: [2500, 6900] });
    expect(await moneyOf(orderId)).toEqual({ ...captured(9400), lines: { prod_mug: captured(2500), prod_kettle: captured(6900) } });
    // every delivered unit, in one return
    expect(await returnsOf(orderId)).toMatchObject([
      { status: 'REQUESTED', refundAmount: 0, lines: [{ productId: 'prod_kettle', quantity: 1 }, { productId: 'prod_mug', quantity: 2 }] },
    ]);
    expect(await backend.db.payment.count({ where: { orderId, kind: 'REFUND' } })).toBe(0);
    expect({ mug: await stockOf('prod_mug'), kettle: await stockOf('prod_kettle') }).toEqual(delivered);
    expect(await assertBooksBalance(backend.db, backend.initial)).toEqual([]);
    expectError(await returnIt(api, orderId), 409, 'ORDER_NOT_RETURNABLE');
    // the warehouse's worklist
    const awaiting = await api.call('GET', '/api/v1/admin/orders?status=RETURN_REQUESTED', { token: admin });
    expect(awaiting.body.items.map((o: { id: string }) => o.id)).toContain(orderId);

    const recorded = await received(orderId);
    expect(recorded.status).toBe(202);
    expect(recorded.body).toEqual({ orderId, accepted: true, status: 'RETURN_REQUESTED' });
    await until('RETURNED', async () => (await statusOf(orderId)) === 'RETURNED');
    // one refund per capture, each of its own lines
    expect(await ledgerOf(orderId)).toEqual({ AUTHORISATION: [9400], CAPTURE: [2500, 6900], REFUND: [2500, 6900] });
    const refunds = await backend.db.payment.findMany({ where: { orderId, kind: 'REFUND' }, orderBy: { amount: 'asc' } });
    expect(refunds.map((r) => [r.status, r.amount, r.currency, r.lines])).toEqual([
      ['SUCCEEDED', 2500, 'USD', [{ productId: 'prod_mug', amount: 2500 }]],
      ['SUCCEEDED', 6900, 'USD', [{ productId: 'prod_kettle', amount: 6900 }]],
    ]);
    expect(await moneyOf(orderId)).toEqual({ ...captured(9400, 9400), lines: { prod_mug: captured(2500, 2500), prod_kettle: captured(6900, 6900) } });
    expect(await returnsOf(orderId)).toMatchObject([
      {
        status: 'REFUNDED',
        refundAmount: 9400,
        lines: [
          { productId: 'prod_kettle', quantity: 1, outcome: 'RESTOCK', refundAmount: 6900 },
          { productId: 'prod_mug', quantity: 2, outcome: 'RESTOCK', refundAmount: 2500 },
        ],
      },
    ]);
    expect({ mug: await stockOf('prod_mug'), kettle: await stockOf('prod_kettle') }).toEqual({
      mug: { ...delivered.mug, available: delivered.mug.available + 2, returned: delivered.mug.returned + 2 },
      kettle: { ...delivered.kettle, available: delivered.kettle.available + 1, returned: delivered.kettle.returned + 1 },
    });
    // the return's steps, then the order RETURNED
    const timeline = (await backend.db.orderEvent.findMany({ where: { orderId }, orderBy: { id: 'asc' } }))
      .filter((e) => e.type.startsWith('RETURN_') || e.status === 'RETURNED')
      .map((e) => [e.type, e.status]);
    expect(timeline).toEqual([
      ['RETURN_REQUESTED', null],
      ['RETURN_RECEIVED', null],
      ['RETURN_INSPECTED', null],
      ['RETURN_RESTOCKED', null],
      ['RETURN_REFUNDED', null],
      ['STATUS_CHANGED', 'RETURNED'],
    ]);
    expect((await backend.db.orderEvent.findFirstOrThrow({ where: { orderId, type: 'RETURN_RECEIVED' } })).detail).toMatchObject({ note: 'all there' });
    expect(await assertBooksBalance(backend.db, backend.initial)).toEqual([]);

    // received twice: refused, nothing moves again
    expect(expectError(await received(orderId), 409, 'RETURN_NOT_REQUESTED').details).toEqual({ status: 'RETURNED' });
    expect(await backend.db.payment.count({ where: { orderId, kind: 'REFUND' } })).toBe(2);
  });

  it('goods that never arrive: the return lapses, DELIVERED again with the capture kept; receiving it then is refused', async () => {
    const orderId = await deliveredOrder(lapsing, { prod_mug: 1 });
    const delivered = await stockOf('prod_mug');
    expect((await returnIt(lapsing, orderId)).body.status).toBe('RETURN_REQUESTED');
    await until('the return to lapse', async () => (await statusOf(orderId)) === 'DELIVERED', 15_000);
    expect(await backend.db.orderEvent.count({ where: { orderId, type: 'RETURN_LAPSED' } })).toBe(1);

    expect(expectError(await received(orderId), 409, 'RETURN_NOT_REQUESTED').details).toEqual({ status: 'DELIVERED' });
    expect(await ledgerOf(orderId)).toEqual({ AUTHORISATION: [1250], CAPTURE: [1250] });
    expect(await moneyOf(orderId)).toEqual({ ...captured(1250), lines: { prod_mug: captured(1250) } });
    expect(await returnsOf(orderId)).toMatchObject([{ status: 'LAPSED', refundAmount: 0 }]);
    expect(await stockOf('prod_mug')).toEqual(delivered);
    expect(await assertBooksBalance(backend.db, backend.initial)).toEqual([]);
  });

  it('return-received is for admins: 401 without a token, 403 for a customer (even the owner), 404 for an unknown order, 400 for a bad note', async () => {
    const orderId = await deliveredOrder(api, { prod_lamp: 1 });
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
    expect(await ledgerOf(orderId)).toEqual({ AUTHORISATION: [3499], CAPTURE: [3499], REFUND: [3499] });
    expect(await moneyOf(orderId)).toEqual({ ...captured(3499, 3499), lines: { prod_lamp: captured(3499, 3499) } });
    expect(await assertBooksBalance(backend.db, backend.initial)).toEqual([]);
  });
});
