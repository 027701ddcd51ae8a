/**
 * Issue 15, item 1: an order id is placed once, whatever Temporal remembers.
 * Temporal's retention deletes a closed run; the order's rows stay. Here the
 * run is deleted the way retention does it (DeleteWorkflowExecution on the
 * real dev server), then the same orderId comes again: over HTTP (the same
 * body is answered from the stored order, another body or customer is 422
 * ORDER_ID_REUSED) and as a saga started directly (it ends without any
 * compensation). Money and stock are read back from PostgreSQL.
 * Also: a 503 for a server-chosen orderId carries it, and checkout's
 * idempotency rows expire after 24 h (item 9).
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOrdersActivities } from '../../activities/orders';
import { IDEMPOTENCY_KEY_TTL_MS } from '../../api/checkout/idempotency';
import { TestTokens } from '../../domain/payment';
import { placeOrder } from '../../workflows/place-order';
import { assertBooksBalance, readBooks } from '../support/books';
import { until } from '../support/until';
import { apiClient, expectError, newCustomer, temporalClientAt, testApp, unreachableTemporal, type ApiClient } from './support/harness';
import { devServerEnv } from '../support/temporal';
import { address, startSagaBackend } from './support/saga-backend';
import { perSuite } from './support/suite';
import { TaskQueues, markDeliveredSignal, orderWorkflowId, type PlaceOrderInput } from '../../temporal-config/place-order';

const backend = perSuite(() => startSagaBackend('reuse'));
let api: ApiClient;
// short warehouse time and return window: an order is delivered and its run closed within seconds
const fulfilment = { handlingMs: 200, returnWindowMs: 500 };

beforeAll(() => {
  api = apiClient(backend.app({ outcomeWaitMs: 20_000, fulfilment }));
});

const orderBody = (orderId: string, quantity = 1) => ({
  orderId,
  items: [{ productId: 'prod_mug', quantity }],
  shippingAddress: address,
  paymentMethod: { token: TestTokens.success },
});

const runIsGone = (orderId: string) =>
  backend.env.client.workflow.getHandle(orderWorkflowId(orderId)).describe().then(() => false, (err) => err instanceof WorkflowNotFoundError);

/** Delivers every parcel and waits until the run has closed (return window over). */
async function deliver(orderId: string): Promise<void> {
  const handle = backend.env.client.workflow.getHandle(orderWorkflowId(orderId));
  await until('SHIPPED', async () => (await backend.db.order.findUnique({ where: { id: orderId } }))?.status === 'SHIPPED');
  await handle.signal(markDeliveredSignal);
  expect((await handle.result()).status).toBe('DELIVERED');
}

/** Delivers, then deletes the closed run as retention would. */
async function deliverAndForget(orderId: string): Promise<void> {
  await deliver(orderId);
  await backend.env.client.workflowService.deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: orderWorkflowId(orderId) } });
  // the dev server deletes in the background: about 20-30 s here
  await until('the run deleted', () => runIsGone(orderId), 90_000, 500);
}

/** Everything a repeat must not change: the provider's ledger, stock, reservations, payments, the order and its timeline. */
async function snapshot(orderId: string) {
  const order = await backend.db.order.findUniqueOrThrow({ where: { id: orderId }, include: { items: true } });
  return {
    books: await readBooks(backend.db),
    ledger: await backend.db.gatewayTransaction.findMany({ where: { idempotencyKey: { startsWith: orderWorkflowId(orderId) } }, orderBy: { idempotencyKey: 'asc' } }),
    reservations: await backend.db.reservation.findMany({ where: { orderId }, orderBy: { productId: 'asc' } }),
    payments: await backend.db.payment.findMany({ where: { orderId }, orderBy: { idempotencyKey: 'asc' } }),
    order: { ...order, updatedAt: undefined },
    timeline: await backend.db.orderEvent.count({ where: { orderId } }),
    notifications: await backend.db.notification.count({ where: { orderId } }),
  };
}


describe('an orderId whose run Temporal has forgotten', () => {
  it('POST /orders again: the same body gets the stored DELIVERED order, another body or customer 422 ORDER_ID_REUSED; no saga, no void or refund, stock unchanged', async () => {
    const ada = await newCustomer(api, 'ada');
    const orderId = randomUUID();
    const first = await api.call('POST', '/api/v1/orders', { token: ada.token, body: orderBody(orderId) });
    expect(first.status).toBe(201);
    await deliverAndForget(orderId);
    const before = await snapshot(orderId);
    expect(before.order.status).toBe('DELIVERED');

    const repeat = await api.call('POST', '/api/v1/orders', { token: ada.token, body: orderBody(orderId) });
    expect({ status: repeat.status, body: repeat.body }).toEqual({ status: 201, body: { orderId, status: 'DELIVERED', total: { amount: 1250, currency: 'USD' } } });
    expect(repeat.headers.get('location')).toBe(`/api/v1/orders/${orderId}`);

    // another body (it used to answer 201 with the new total while the order kept its old lines)
    expectError(await api.call('POST', '/api/v1/orders', { token: ada.token, body: orderBody(orderId, 3) }), 422, 'ORDER_ID_REUSED');
    const bob = await newCustomer(api, 'bob');
    expectError(await api.call('POST', '/api/v1/orders', { token: bob.token, body: orderBody(orderId) }), 422, 'ORDER_ID_REUSED');

    expect(await runIsGone(orderId)).toBe(true); // no saga was started
    expect(await snapshot(orderId)).toEqual(before);
    // authorised at checkout, captured at hand-over, and nothing since
    expect(before.ledger.map((t) => [t.kind, t.amount])).toEqual([['AUTHORISATION', 1250], ['CAPTURE', 1250]]);
    const { money } = (await api.call('GET', `/api/v1/orders/${orderId}`, { token: ada.token })).body;
    expect(money).toMatchObject({ authorised: 1250, captured: 1250, voided: 0, refunded: 0, lines: [{ productId: 'prod_mug', amount: 1250, authorised: 1250, captured: 1250, voided: 0, refunded: 0 }] });
    expect(await assertBooksBalance(backend.db, backend.initial)).toEqual([]);
  });

  // the new run must not void (per-shipment) nor refund (charge-at-checkout, how runs before it were started) the first run's money
  it.each([
    { payments: 'per-shipment', ledger: [['AUTHORISATION', 3998], ['CAPTURE', 3998]] },
    { payments: 'charge-at-checkout', ledger: [['CHARGE', 3998]] },
  ] as const)('a saga started directly for it (a new run, $payments) ends FAILED ORDER_ALREADY_EXISTS without any compensation: no void or refund, stock and order untouched', async ({ payments, ledger }) => {
    const customer = await newCustomer(api, 'cy');
    const input: PlaceOrderInput = {
      orderId: randomUUID(),
      customerId: customer.id,
      currency: 'USD',
      items: [{ productId: 'prod_tshirt', sku: 'TSHIRT', name: 'T-shirt', quantity: 2, unitPriceAmount: 1999 }],
      totalAmount: 3998,
      shippingAddress: address,
      paymentMethod: { token: TestTokens.success },
      fulfilment,
      payments,
    };
    // A new run for a closed one is what a start after retention gets; ALLOW_DUPLICATE gets it without waiting for a deletion.
    const start = () =>
      backend.env.client.workflow.start(placeOrder, {
        workflowId: orderWorkflowId(input.orderId),
        taskQueue: TaskQueues.orders,
        args: [input],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      });
    const first = await start();
    await deliver(input.orderId);
    const before = await snapshot(input.orderId);

    const again = await start();
    expect(again.firstExecutionRunId).not.toBe(first.firstExecutionRunId);
    const state = await again.result();
    expect(state).toMatchObject({ status: 'FAILED', failure: { code: 'ORDER_ALREADY_EXISTS' }, completedSteps: [], compensations: [] });
    expect(await snapshot(input.orderId)).toEqual(before);
    expect(before.ledger.map((t) => [t.kind, t.amount])).toEqual(ledger);
    expect(await assertBooksBalance(backend.db, backend.initial)).toEqual([]);
  });
});

describe('createOrder is the guard', () => {
  const input = (): PlaceOrderInput => ({
    orderId: randomUUID(),
    customerId: 'cust-guard',
    currency: 'USD',
    items: [{ productId: 'prod_mug', sku: 'MUG', name: 'Mug', quantity: 1, unitPriceAmount: 1250 }],
    totalAmount: 1250,
    shippingAddress: address,
    paymentMethod: { token: TestTokens.success },
  });

  it('a retry of the same saga is a no-op; another saga, or a row placed before the stamp existed, is refused (non-retryable)', async () => {
    const orders = createOrdersActivities(backend.db);
    const mine = input();
    await orders.createOrder(mine, { placedByRun: 'run-1' });
    await orders.createOrder(mine, { placedByRun: 'run-1' });
    expect(await backend.db.order.findUniqueOrThrow({ where: { id: mine.orderId } })).toMatchObject({ placedByRun: 'run-1', status: 'PENDING' });
    await expect(orders.createOrder(mine, { placedByRun: 'run-2' })).rejects.toMatchObject({ type: 'ORDER_ALREADY_EXISTS', nonRetryable: true });

    const legacy = input();
    await orders.createOrder(legacy); // how a run scheduled before the stamp existed creates it
    await expect(orders.createOrder(legacy, { placedByRun: 'run-3' })).rejects.toMatchObject({ type: 'ORDER_ALREADY_EXISTS' });
    expect(await backend.db.order.count({ where: { id: { in: [mine.orderId, legacy.orderId] } } })).toBe(2);
  });
});

describe('a 503 for an orderId the server chose', () => {
  it('carries the orderId (and Retry-After); retrying with it places exactly that order', async () => {
    const down = await unreachableTemporal();
    try {
      const offline = apiClient(testApp({ db: backend.db, temporal: down.temporal, outcomeWaitMs: 20_000 }));
      const dee = await newCustomer(api, 'dee');
      const { orderId: _none, ...body } = orderBody(randomUUID());
      const res = await offline.call('POST', '/api/v1/orders', { token: dee.token, body });
      const err = expectError(res, 503, 'DEPENDENCY_UNAVAILABLE');
      expect(err.details).toEqual({ orderId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      expect(res.headers.get('retry-after')).toBe('5');

      const retried = await api.call('POST', '/api/v1/orders', { token: dee.token, body: { ...body, orderId: err.details.orderId } });
      expect(retried.status).toBe(201);
      expect(await backend.db.order.findMany({ where: { customerId: dee.id }, select: { id: true } })).toEqual([{ id: err.details.orderId }]);
    } finally {
      await down.close();
    }
  });
});

describe('a saga Temporal has taken but no worker has run yet', () => {
  it('is 202 PENDING once the wait runs out, never 503: the order exists and goes on when a worker comes', async () => {
    // a dev server with no workers: the saga is started, its first workflow task waits
    const idle = await devServerEnv();
    const client = temporalClientAt(idle.address);
    try {
      // a wait longer than the start's own 5 s deadline (the case that once answered 503)
      const waiting = apiClient(testApp({ db: backend.db, temporal: client.temporal, outcomeWaitMs: 5_500 }));
      const fay = await newCustomer(api, 'fay');
      const orderId = randomUUID();
      const res = await waiting.call('POST', '/api/v1/orders', { token: fay.token, body: orderBody(orderId) });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ orderId, status: 'PENDING' });
      const run = await client.temporal.workflow.getHandle(orderWorkflowId(orderId)).describe();
      expect(run.status.name).toBe('RUNNING');
    } finally {
      await client.close();
      await idle.teardown();
    }
  });
});

describe('checkout idempotency rows expire after 24 h (item 9)', () => {
  const checkoutBody = { shippingAddress: address, paymentMethod: { token: TestTokens.success } };
  const fill = (token: string) => api.call('POST', '/api/v1/cart/items', { token, body: { productId: 'prod_mug', quantity: 1 } });
  const row = (customerId: string, key: string) => backend.db.checkoutRequest.findUnique({ where: { customerId_idempotencyKey: { customerId, idempotencyKey: key } } });
  const age = (id: string, ms: number) => backend.db.checkoutRequest.update({ where: { id }, data: { createdAt: new Date(Date.now() - ms) } });

  it('an answered row keeps the answer only (no payment token, no address); past 24 h the key is not replayed but starts a new checkout', async () => {
    const eve = await newCustomer(api, 'eve');
    await fill(eve.token);
    const first = await api.call('POST', '/api/v1/checkout', { token: eve.token, body: checkoutBody, headers: { 'idempotency-key': 'k-day' } });
    expect(first.status).toBe(201);
    const stored = await row(eve.id, 'k-day');
    expect(stored!.responseBody).toEqual(first.body);
    expect(JSON.stringify(stored)).not.toMatch(/tok_visa|Analytical/);

    // just inside the window it still replays
    await age(stored!.id, IDEMPOTENCY_KEY_TTL_MS - 60_000);
    const replay = await api.call('POST', '/api/v1/checkout', { token: eve.token, body: checkoutBody, headers: { 'idempotency-key': 'k-day' } });
    expect({ status: replay.status, body: replay.body }).toEqual({ status: 201, body: first.body });

    await age(stored!.id, IDEMPOTENCY_KEY_TTL_MS + 60_000);
    await fill(eve.token);
    const fresh = await api.call('POST', '/api/v1/checkout', { token: eve.token, body: checkoutBody, headers: { 'idempotency-key': 'k-day' } });
    expect(fresh.status).toBe(201);
    expect(fresh.body.orderId).not.toBe(first.body.orderId);
    expect(await backend.db.order.count({ where: { customerId: eve.id } })).toBe(2);
    expect((await row(eve.id, 'k-day'))!.orderId).toBe(fresh.body.orderId);
  });

  it('expired rows of keys never used again, the frozen input with the token and address included, are swept at the next checkout', async () => {
    const fay = await newCustomer(api, 'fay');
    const frozen = { input: { orderId: randomUUID(), customerId: fay.id, paymentMethod: { token: TestTokens.success }, shippingAddress: address } };
    const old = await backend.db.checkoutRequest.create({ data: { customerId: fay.id, idempotencyKey: 'k-abandoned', requestHash: 'x', orderId: frozen.input.orderId, responseBody: frozen } });
    const recent = await backend.db.checkoutRequest.create({ data: { customerId: fay.id, idempotencyKey: 'k-recent', requestHash: 'x', orderId: randomUUID(), responseBody: frozen } });
    await age(old.id, IDEMPOTENCY_KEY_TTL_MS + 60_000);
    await age(recent.id, IDEMPOTENCY_KEY_TTL_MS - 60_000);

    // another customer's checkout, in a process that has not swept yet
    const other = apiClient(backend.app({ outcomeWaitMs: 20_000 }));
    const gus = await newCustomer(other, 'gus');
    await fill(gus.token);
    expect((await other.call('POST', '/api/v1/checkout', { token: gus.token, body: checkoutBody, headers: { 'idempotency-key': 'k-gus' } })).status).toBe(201);
    expect(await row(fay.id, 'k-abandoned')).toBeNull();
    expect(await row(fay.id, 'k-recent')).not.toBeNull();
  });
});
