/**
 * Checkout and orders over HTTP, in-process against a real PostgreSQL and a
 * real Temporal (the CLI's dev server) with the real activities: what a
 * customer sees, and what the books say afterwards (orders, the payment at
 * the provider, stock, the cart). Checkout authorises the total; nothing is
 * captured until a shipment is handed over, which here (the default handling
 * time of a minute) is after every test.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { TestTokens } from '../../domain/payment';
import { assertBooksBalance } from '../support/books';
import { apiClient, expectError, fieldPaths, newCustomer, type ApiClient } from './support/harness';
import { address, startSagaBackend } from './support/saga-backend';
import { sseReader } from './support/sse';
import { perSuite } from './support/suite';
import { until } from '../support/until';

const SLOW_MS = 2_500;
const backend = perSuite(() => startSagaBackend('checkout', { slowMs: SLOW_MS }));
/** waits up to 20 s for the payment outcome */
let api: ApiClient;
/** answers 202 after 300 ms */
let impatient: ApiClient;

beforeAll(() => {
  api = apiClient(backend.app({ outcomeWaitMs: 20_000, eventRereadMs: 100 }));
  impatient = apiClient(backend.app({ outcomeWaitMs: 300, eventRereadMs: 100 }));
});

const checkoutBody = (token: string = TestTokens.success) => ({ shippingAddress: address, paymentMethod: { token } });

async function shopper(items: Record<string, number>) {
  const customer = await newCustomer(api, 'shopper');
  for (const [productId, quantity] of Object.entries(items)) {
    expect((await api.call('POST', '/api/v1/cart/items', { token: customer.token, body: { productId, quantity } })).status).toBe(200);
  }
  return customer;
}

const checkout = (client: ApiClient, token: string, key: string | undefined, body: unknown = checkoutBody()) =>
  client.call('POST', '/api/v1/checkout', { token, body, headers: key ? { 'idempotency-key': key } : {} });

/** the provider's rows of an order, oldest first: [kind, amount] */
const ledgerOf = async (orderId: string) =>
  (await backend.db.gatewayTransaction.findMany({ where: { idempotencyKey: { startsWith: `order-${orderId}:` } }, orderBy: { createdAt: 'asc' } })).map((t) => [t.kind, t.amount]);
/** what GET /orders/:id says the order's money went through: the order's totals and each line's, by product */
async function moneyOf(token: string, orderId: string) {
  const read = await api.call('GET', `/api/v1/orders/${orderId}`, { token });
  expect(read.status).toBe(200);
  const { currency, authorised, captured, voided, refunded, lines } = read.body.money as {
    currency: string;
    authorised: number;
    captured: number;
    voided: number;
    refunded: number;
    lines: { productId: string; amount: number; authorised: number; captured: number; voided: number; refunded: number }[];
  };
  return {
    order: { currency, authorised, captured, voided, refunded },
    lines: Object.fromEntries(lines.map((l) => [l.productId, { amount: l.amount, authorised: l.authorised, captured: l.captured, voided: l.voided, refunded: l.refunded }])),
  };
}
/** authorised in full, nothing taken yet */
const authorisedOnly = (amount: number) => ({ amount, authorised: amount, captured: 0, voided: 0, refunded: 0 });
const cartOf = async (customerId: string) => (await backend.db.cartItem.findMany({ where: { customerId }, orderBy: { productId: 'asc' } })).map((i) => [i.productId, i.quantity]);

describe('POST /checkout', () => {
  it('CONFIRMED → 201 {orderId, status, total} with Location; one order with the cart lines, one authorisation for the total and nothing captured before hand-over; the cart is emptied', async () => {
    const ada = await shopper({ prod_mug: 2, prod_tshirt: 1 });
    const res = await checkout(api, ada.token, 'k-confirm');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ orderId: expect.any(String), status: 'CONFIRMED', total: { amount: 4499, currency: 'USD' } });
    expect(res.headers.get('location')).toBe(`/api/v1/orders/${res.body.orderId}`);

    // confirmed on the secured payment; the stock is committed and the shipments planned right after: let it settle (PROCESSING)
    await until('PROCESSING', async () => (await backend.db.order.findUniqueOrThrow({ where: { id: res.body.orderId } })).status === 'PROCESSING');
    const order = await backend.db.order.findUniqueOrThrow({ where: { id: res.body.orderId }, include: { items: { orderBy: { productId: 'asc' } } } });
    expect(order).toMatchObject({ customerId: ada.id, status: 'PROCESSING', totalAmount: 4499 });
    expect(order.items.map((i) => [i.productId, i.quantity, i.unitPriceAmount])).toEqual([['prod_mug', 2, 1250], ['prod_tshirt', 1, 1999]]);
    expect(await ledgerOf(res.body.orderId)).toEqual([['AUTHORISATION', 4499]]);
    expect(await cartOf(ada.id)).toEqual([]);
    const read = await api.call('GET', `/api/v1/orders/${res.body.orderId}`, { token: ada.token });
    expect(read.body).toMatchObject({
      status: 'PROCESSING',
      total: { amount: 4499, currency: 'USD' },
      payments: [{ kind: 'AUTHORISATION', status: 'SUCCEEDED', amount: { amount: 4499, currency: 'USD' } }],
      shippingAddress: address,
    });
    expect(await moneyOf(ada.token, res.body.orderId)).toEqual({
      order: { currency: 'USD', authorised: 4499, captured: 0, voided: 0, refunded: 0 },
      lines: { prod_mug: authorisedOnly(2500), prod_tshirt: authorisedOnly(1999) },
    });

    const again = await checkout(api, ada.token, 'k-confirm');
    expect({ status: again.status, body: again.body, location: again.headers.get('location') }).toEqual({ status: 201, body: res.body, location: res.headers.get('location') });
    expect(await backend.db.order.count({ where: { customerId: ada.id } })).toBe(1);
    expect(await ledgerOf(res.body.orderId)).toEqual([['AUTHORISATION', 4499]]);
  });

  it('two concurrent checkouts with one key: identical answers, exactly one order and one authorisation', async () => {
    const bob = await shopper({ prod_hoodie: 1 });
    const [a, b] = await Promise.all([checkout(api, bob.token, 'k-race'), checkout(api, bob.token, 'k-race')]);
    expect(a.status).toBe(201);
    expect({ status: b.status, body: b.body }).toEqual({ status: a.status, body: a.body });
    expect(await backend.db.order.count({ where: { customerId: bob.id } })).toBe(1);
    expect(await backend.db.checkoutRequest.count({ where: { customerId: bob.id } })).toBe(1);
    expect(await ledgerOf(a.body.orderId)).toEqual([['AUTHORISATION', a.body.total.amount]]);
    expect(await cartOf(bob.id)).toEqual([]);
  });

  it('the same key with a different body → 422 IDEMPOTENCY_KEY_REUSED, nothing placed', async () => {
    const cy = await shopper({ prod_mug: 1 });
    const first = await checkout(api, cy.token, 'k-body');
    expect(first.status).toBe(201);
    await api.call('POST', '/api/v1/cart/items', { token: cy.token, body: { productId: 'prod_mug', quantity: 1 } });
    const other = await checkout(api, cy.token, 'k-body', { ...checkoutBody(), shippingAddress: { ...address, city: 'Paris' } });
    expectError(other, 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await backend.db.order.count({ where: { customerId: cy.id } })).toBe(1);
    // key order and whitespace trimmed away do not make a body different
    const reordered = await checkout(api, cy.token, 'k-body', { paymentMethod: { token: ' tok_visa ' }, shippingAddress: { ...address, name: 'Ada Lovelace  ' } });
    expect({ status: reordered.status, body: reordered.body }).toEqual({ status: 201, body: first.body });
  });

  it('keys are per customer: another customer with the same key gets their own order', async () => {
    const [p, q] = [await shopper({ prod_mug: 1 }), await shopper({ prod_mug: 1 })];
    const [rp, rq] = [await checkout(api, p.token, 'k-shared'), await checkout(api, q.token, 'k-shared')];
    expect([rp.status, rq.status]).toEqual([201, 201]);
    expect(rp.body.orderId).not.toBe(rq.body.orderId);
  });

  it('no Idempotency-Key → 400 naming it; an empty cart → 422 CART_EMPTY; neither writes anything', async () => {
    const dee = await newCustomer(api, 'dee');
    const missing = await checkout(api, dee.token, undefined);
    expectError(missing, 400, 'VALIDATION_FAILED');
    expect(fieldPaths(missing)).toEqual(['idempotency-key']);
    expectError(await checkout(api, dee.token, 'k-empty'), 422, 'CART_EMPTY');
    const bad = await checkout(api, dee.token, 'k-bad', { shippingAddress: { ...address, country: 'GBR' }, paymentMethod: {} });
    expect(fieldPaths(bad)).toEqual(['paymentMethod.token', 'shippingAddress.country']);
    expectError(await api.call('POST', '/api/v1/checkout', { headers: { 'idempotency-key': 'k' }, body: checkoutBody() }), 401, 'UNAUTHENTICATED');
    expect(await backend.db.checkoutRequest.count({ where: { customerId: dee.id } })).toBe(0);
    expect(await backend.db.order.count({ where: { customerId: dee.id } })).toBe(0);
  });

  it('an inactive product in the cart → 422 PRODUCT_INACTIVE, nothing written', async () => {
    const eli = await shopper({ prod_kettle: 1 });
    await backend.db.product.update({ where: { id: 'prod_kettle' }, data: { active: false } });
    try {
      expectError(await checkout(api, eli.token, 'k-inactive'), 422, 'PRODUCT_INACTIVE');
      expect(await backend.db.checkoutRequest.count({ where: { customerId: eli.id } })).toBe(0);
    } finally {
      await backend.db.product.update({ where: { id: 'prod_kettle' }, data: { active: true } });
    }
  });

  it('declined → 402 PAYMENT_DECLINED with the reason; the cart is kept; a repeat replays the 402', async () => {
    const fay = await shopper({ prod_backpack: 1 });
    const res = await checkout(api, fay.token, 'k-decline', checkoutBody(TestTokens.insufficientFunds));
    const body = expectError(res, 402, 'PAYMENT_DECLINED');
    expect(body.details).toMatchObject({ orderId: expect.any(String), reason: 'insufficient_funds' });
    expect(await cartOf(fay.id)).toEqual([['prod_backpack', 1]]);
    const again = await checkout(api, fay.token, 'k-decline', checkoutBody(TestTokens.insufficientFunds));
    expect({ status: again.status, body: again.body }).toEqual({ status: 402, body: res.body });
    expect((await ledgerOf(body.details.orderId)).map(([kind]) => kind)).toEqual(['DECLINE']);
    expect((await moneyOf(fay.token, body.details.orderId)).order).toEqual({ currency: 'USD', authorised: 0, captured: 0, voided: 0, refunded: 0 });
  });

  it('out of stock → 409 INVENTORY_UNAVAILABLE; nothing authorised, the cart is kept', async () => {
    const gus = await shopper({ prod_lamp: 4 });
    const body = expectError(await checkout(api, gus.token, 'k-stock'), 409, 'INVENTORY_UNAVAILABLE');
    expect(body.details).toMatchObject({ productId: 'prod_lamp', requested: 4, available: 3 });
    expect(await ledgerOf(body.details.orderId)).toEqual([]);
    expect(await cartOf(gus.id)).toEqual([['prod_lamp', 4]]);
  });

  it('a slow payment → 202 with Location; a repeat waits for the same saga and gets the 201; one authorisation', async () => {
    const hal = await shopper({ prod_mug: 1 });
    const started = Date.now();
    const res = await checkout(impatient, hal.token, 'k-slow', checkoutBody(TestTokens.slow));
    expect(Date.now() - started).toBeLessThan(SLOW_MS);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'PENDING', total: { amount: 1250, currency: 'USD' } });
    expect(res.headers.get('location')).toBe(`/api/v1/orders/${res.body.orderId}`);
    expect(await cartOf(hal.id)).toEqual([['prod_mug', 1]]); // not before it is confirmed

    const repeat = await checkout(api, hal.token, 'k-slow', checkoutBody(TestTokens.slow));
    expect(repeat.status).toBe(201);
    expect(repeat.body).toEqual({ orderId: res.body.orderId, status: 'CONFIRMED', total: { amount: 1250, currency: 'USD' } });
    expect(await ledgerOf(res.body.orderId)).toEqual([['AUTHORISATION', 1250]]);
    expect((await moneyOf(hal.token, res.body.orderId)).lines).toEqual({ prod_mug: authorisedOnly(1250) });
    expect(await cartOf(hal.id)).toEqual([]);
  });

  it('after a 202 with no repeat, the answer is still stored and the cart emptied once CONFIRMED', async () => {
    const ida = await shopper({ prod_tshirt: 2 });
    const res = await checkout(impatient, ida.token, 'k-later', checkoutBody(TestTokens.slow));
    expect(res.status).toBe(202);
    const row = await until('the stored answer', async () => {
      const r = await backend.db.checkoutRequest.findFirst({ where: { customerId: ida.id, idempotencyKey: 'k-later' } });
      return r?.responseStatus ? r : undefined;
    });
    expect(row.responseStatus).toBe(201);
    expect(await cartOf(ida.id)).toEqual([]);
  });
});

describe('orders of a real saga', () => {
  it('POST /orders places directly for the token bearer; someone else may not reuse its orderId (422 ORDER_ID_REUSED)', async () => {
    const jo = await newCustomer(api, 'jo');
    const orderId = randomUUID();
    const body = { orderId, items: [{ productId: 'prod_mug', quantity: 1 }], shippingAddress: address, paymentMethod: { token: TestTokens.success } };
    const res = await api.call('POST', '/api/v1/orders', { token: jo.token, body: { ...body, customerId: 'someone-else' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ orderId, status: 'CONFIRMED', total: { amount: 1250, currency: 'USD' } });
    expect((await backend.db.order.findUniqueOrThrow({ where: { id: orderId } })).customerId).toBe(jo.id);

    const list = await api.call('GET', '/api/v1/orders', { token: jo.token });
    expect(list.body.items.map((o: { id: string }) => o.id)).toEqual([orderId]);

    const kim = await newCustomer(api, 'kim');
    expectError(await api.call('POST', '/api/v1/orders', { token: kim.token, body }), 422, 'ORDER_ID_REUSED');
    expectError(await api.call('POST', '/api/v1/orders', { body }), 401, 'UNAUTHENTICATED');
  });

  it('the event stream replays a CONFIRMED timeline; Last-Event-ID resumes after a given event', async () => {
    const lee = await shopper({ prod_mug: 1 });
    const { body } = await checkout(api, lee.token, 'k-sse');
    const first = sseReader(await api.raw('GET', `/api/v1/orders/${body.orderId}/events`, { token: lee.token }));
    // confirmed once the payment is secured; the stock is committed and the shipments planned after (side by side), then PROCESSING
    const seen = await first.events((e) => e.status === 'PROCESSING');
    await first.close();
    expect(seen.events.map((e) => e.type)).toEqual([
      'ORDER_PLACED', 'ORDER_CREATED', 'STOCK_RESERVED', 'PAYMENT_AUTHORISED', 'ORDER_CONFIRMED', 'STATUS_CHANGED', 'STOCK_COMMITTED', 'SHIPMENTS_PLANNED', 'STATUS_CHANGED',
    ]);
    expect(seen.events.filter((e) => e.type === 'STATUS_CHANGED').map((e) => e.status)).toEqual(['CONFIRMED', 'PROCESSING']);
    const ids = seen.events.map((e) => BigInt(e.id));
    expect(ids).toEqual([...ids].sort((x, y) => (x < y ? -1 : 1)));

    const authorised = seen.events.find((e) => e.type === 'PAYMENT_AUTHORISED')!;
    const resumed = sseReader(await api.raw('GET', `/api/v1/orders/${body.orderId}/events`, { token: lee.token, headers: { 'last-event-id': authorised.id } }));
    const rest = await resumed.events((e) => e.status === 'PROCESSING');
    await resumed.close();
    expect(rest.events.map((e) => e.type)).toEqual(['ORDER_CONFIRMED', 'STATUS_CHANGED', 'STOCK_COMMITTED', 'SHIPMENTS_PLANNED', 'STATUS_CHANGED']);
  });

  it('cancel while the payment is pending: 200 accepted; the stream shows it live and ends after CANCELLED; a stranger gets 404', async () => {
    const mo = await shopper({ prod_hoodie: 1 });
    const placed = await checkout(impatient, mo.token, 'k-cancel', checkoutBody(TestTokens.slow));
    expect(placed.status).toBe(202);
    const orderId = placed.body.orderId as string;
    const stream = sseReader(await api.raw('GET', `/api/v1/orders/${orderId}/events`, { token: mo.token }));
    expect((await stream.events((e) => e.type === 'ORDER_PLACED')).events.map((e) => e.type)).toEqual(['ORDER_PLACED']);

    const stranger = await newCustomer(api, 'stranger');
    expectError(await api.call('POST', `/api/v1/orders/${orderId}/cancel`, { token: stranger.token }), 404, 'ORDER_NOT_FOUND');
    expectError(await api.call('GET', `/api/v1/orders/${orderId}/events`, { token: stranger.token }), 404, 'ORDER_NOT_FOUND');

    const cancel = await api.call('POST', `/api/v1/orders/${orderId}/cancel`, { token: mo.token, body: { reason: 'changed my mind' } });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ orderId, accepted: true });

    const rest = await stream.events(() => false);
    expect(rest).toMatchObject({ ended: true, end: { status: 'CANCELLED' } });
    expect(rest.events.filter((e) => e.status === 'CANCELLED').map((e) => e.type)).toEqual(['STATUS_CHANGED']);
    expect(rest.events.map((e) => e.type)).toContain('COMPENSATED');
    expect((await backend.db.order.findUniqueOrThrow({ where: { id: orderId } })).cancelReason).toBe('changed my mind');
    // the authorisation is voided (or, still in flight, refused for good): nothing captured, nothing to refund
    const compensated = await backend.db.orderEvent.findMany({ where: { orderId, type: 'COMPENSATED' } });
    expect(compensated.map((e) => (e.detail as { compensation?: string }).compensation)).toContain('voidPayment');
    const { order: money } = await moneyOf(mo.token, orderId);
    expect(money).toEqual({ currency: 'USD', authorised: money.authorised, captured: 0, voided: money.authorised, refunded: 0 });
    expect((await ledgerOf(orderId)).filter(([kind]) => kind === 'CAPTURE' || kind === 'REFUND')).toEqual([]);

    // the checkout's answer becomes the cancellation; the cart was never emptied
    const repeat = await checkout(api, mo.token, 'k-cancel', checkoutBody(TestTokens.slow));
    expectError(repeat, 409, 'ORDER_CANCELLED');
    expect(await cartOf(mo.id)).toEqual([['prod_hoodie', 1]]);
    const again = expectError(await api.call('POST', `/api/v1/orders/${orderId}/cancel`, { token: mo.token }), 409, 'ORDER_NOT_CANCELLABLE');
    expect(again.details).toEqual({ status: 'CANCELLED' });
  });

  it('the books balance: stock, authorisations, captures, voids and refunds agree with every order', async () => {
    expect(await assertBooksBalance(backend.db, backend.initial)).toEqual([]);
  });
});

it('every checkout and orders route was exercised and matched the document', () => {
  const seen = new Set([...api.contract.covered.keys(), ...impatient.contract.covered.keys()]);
  const ops = api.contract.operations(['checkout', 'orders']).filter((op) => !op.endsWith('/return'));
  expect(ops.filter((op) => !seen.has(op))).toEqual([]);
});
