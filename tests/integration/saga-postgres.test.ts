/**
 * The real activities against a real PostgreSQL, driven by the real workflow
 * on the Java time-skipping test server: balances, stock and the payment
 * provider's ledger are read back from the database.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInventoryActivities } from '../../activities/inventory';
import { createPaymentsActivities } from '../../activities/payments';
import { SimulatedGateway } from '../../activities/payments/gateway';
import { TestTokens } from '../../domain/payment';
import type { Db } from '../../prisma/client';
import { seed } from '../../prisma/seed';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { placeOrder } from '../../workflows/place-order';
import { assertBooksBalance, initialStock, readBooks } from '../support/books';
import { freshDatabase } from '../support/db';
import { timeSkippingEnv } from '../support/temporal';
import { createWorkers, realActivities, runWorkers } from '../support/workers';
import { until } from '../support/until';
import { TaskQueues, awaitOutcomeUpdate, cancelOrderSignal, getStatusQuery, markDeliveredSignal, orderWorkflowId, requestReturnUpdate, returnReceivedSignal, type PlaceOrderInput } from '../../temporal-config/place-order';

let env: TestWorkflowEnvironment;
let db: Db;
let stopWorkers: () => Promise<void>;
let initial: Record<string, number>;
const SLOW_MS = 1500;

beforeAll(async () => {
  ({ db } = await freshDatabase('saga'));
  await seed(db);
  initial = await initialStock(db);
  env = await timeSkippingEnv();
  const workers = await createWorkers(env.nativeConnection, realActivities(db, { latencyMs: 0, slowMs: SLOW_MS, declineRate: 0, transientFailures: 2 }));
  stopWorkers = runWorkers(workers);
});

afterAll(async () => {
  await stopWorkers?.();
  await env?.teardown();
  await db?.$disconnect();
});

const order = (items: { productId: string; quantity: number; unitPriceAmount: number }[], token: string = TestTokens.success): PlaceOrderInput => {
  const lines = items.map((i) => ({ ...i, sku: i.productId, name: i.productId }));
  return {
    orderId: randomUUID(),
    customerId: 'cust-int',
    currency: 'USD',
    items: lines,
    totalAmount: lines.reduce((s, l) => s + l.quantity * l.unitPriceAmount, 0),
    shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' },
    paymentMethod: { token },
    // the charge-at-checkout flow (orders started before per-shipment payments); per-shipment orders: per-shipment.test.ts
    payments: 'charge-at-checkout',
  };
};

/** Starts the saga and answers at the payment outcome, as the API does (the order then lives on). */
const run = (input: PlaceOrderInput) =>
  env.client.workflow.executeUpdateWithStart(awaitOutcomeUpdate, {
    startWorkflowOperation: new WithStartWorkflowOperation(placeOrder, {
      workflowId: orderWorkflowId(input.orderId),
      taskQueue: TaskQueues.orders,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
    }),
  });

/**
 * Confirmed once the payment is secured, the saga then commits the stock (reserved → sold) and plans
 * the shipments: waits for PROCESSING, so no later reading of the stock sees this order half-way.
 */
const settled = (orderId: string) => until(`${orderId} PROCESSING`, async () => (await db.order.findUniqueOrThrow({ where: { id: orderId } })).status === 'PROCESSING');

const ledgerFor = (orderId: string) => db.gatewayTransaction.findMany({ where: { idempotencyKey: { startsWith: orderWorkflowId(orderId) } } });

describe('PlaceOrder with real activities on PostgreSQL', () => {
  it('confirms: stock moves from available to sold, one charge for the total', async () => {
    const before = await readBooks(db);
    const input = order([{ productId: 'prod_mug', quantity: 2, unitPriceAmount: 1250 }, { productId: 'prod_tshirt', quantity: 1, unitPriceAmount: 1999 }]);
    const state = await run(input);
    expect(state.status).toBe('CONFIRMED');
    await settled(input.orderId);

    const after = await readBooks(db);
    expect(after.stock.prod_mug).toEqual({ ...before.stock.prod_mug, available: before.stock.prod_mug.available - 2, sold: before.stock.prod_mug.sold + 2 });
    expect(after.stock.prod_tshirt.available).toBe(before.stock.prod_tshirt.available - 1);
    const ledger = await ledgerFor(input.orderId);
    expect(ledger.map((t) => [t.kind, t.amount])).toEqual([['CHARGE', 4499]]);

    const row = await db.order.findUniqueOrThrow({ where: { id: input.orderId }, include: { items: true, timeline: { orderBy: { id: 'asc' } } } });
    expect(row.status).toBe('PROCESSING');
    expect(row.totalAmount).toBe(4499);
    expect(await assertBooksBalance(db, initial)).toEqual([]);
    expect(row.items.map((i) => i.lineTotalAmount).sort()).toEqual([1999, 2500]);
    expect(row.timeline.map((e) => e.type).slice(0, 9)).toEqual([
      'ORDER_PLACED', 'ORDER_CREATED', 'STOCK_RESERVED', 'PAYMENT_CHARGED', 'ORDER_CONFIRMED', 'STATUS_CHANGED', 'STOCK_COMMITTED', 'SHIPMENTS_PLANNED', 'STATUS_CHANGED',
    ]);
    expect(row.timeline.filter((e) => e.type === 'STATUS_CHANGED').map((e) => e.status).slice(0, 2)).toEqual(['CONFIRMED', 'PROCESSING']);
    expect(await db.payment.findMany({ where: { orderId: input.orderId } })).toMatchObject([{ kind: 'CHARGE', status: 'SUCCEEDED', amount: 4499 }]);
  });

  it('out of stock: nothing is reserved, nothing is charged', async () => {
    const before = await readBooks(db);
    const input = order([{ productId: 'prod_tshirt', quantity: 1, unitPriceAmount: 1999 }, { productId: 'prod_lamp', quantity: 99, unitPriceAmount: 3499 }]);
    const state = await run(input);
    expect(state.status).toBe('FAILED');
    expect(state.failure).toMatchObject({ code: 'INVENTORY_UNAVAILABLE', details: { productId: 'prod_lamp', requested: 99, available: 3 } });
    expect((await readBooks(db)).stock).toEqual(before.stock); // the t-shirt line was not kept either
    expect(await ledgerFor(input.orderId)).toEqual([]);
    expect((await db.order.findUniqueOrThrow({ where: { id: input.orderId } })).failureCode).toBe('INVENTORY_UNAVAILABLE');
  });

  it('declined: stock is released and no money moves', async () => {
    const before = await readBooks(db);
    const input = order([{ productId: 'prod_hoodie', quantity: 3, unitPriceAmount: 4950 }], TestTokens.insufficientFunds);
    const state = await run(input);
    expect(state.status).toBe('FAILED');
    expect(state.failure).toMatchObject({ code: 'PAYMENT_DECLINED', details: { reason: 'insufficient_funds' } });
    expect((await readBooks(db)).stock).toEqual(before.stock);
    expect((await ledgerFor(input.orderId)).map((t) => t.kind)).toEqual(['DECLINE']);
    expect(await db.reservation.findMany({ where: { orderId: input.orderId } })).toMatchObject([{ status: 'RELEASED', quantity: 3 }]);
  });

  it('a gateway that times out twice is retried and charges exactly once', async () => {
    const input = order([{ productId: 'prod_mug', quantity: 1, unitPriceAmount: 1250 }], TestTokens.transient);
    const state = await run(input);
    expect(state.status).toBe('CONFIRMED');
    await settled(input.orderId); // its stock sold before the next test reads the books
    expect((await ledgerFor(input.orderId)).map((t) => t.kind)).toEqual(['CHARGE']);
    const payment = await db.payment.findFirstOrThrow({ where: { orderId: input.orderId, kind: 'CHARGE' } });
    expect(payment.attempts).toBe(3);
    expect(payment.status).toBe('SUCCEEDED');
  });

  it('lives on: split shipments → SHIPPED → DELIVERED → RETURN_REQUESTED (nothing refunded or restocked) → received → RETURNED, with refund, restock, timeline and notifications in PostgreSQL', async () => {
    const before = await readBooks(db);
    // the mug ships from "main", the kettle from "north": two parcels. notifications: 'activities' keeps the
    // saga sending them itself (sendNotification, as runs from before the order event feed do), so this test
    // still proves that path's rows in the notifications table; orders left to the feed write only the kind on
    // their STATUS_CHANGED events (tests/workflows/place-order.test.ts, n.), and the feed's dispatcher sends them.
    const input: PlaceOrderInput = {
      ...order([{ productId: 'prod_mug', quantity: 1, unitPriceAmount: 1250 }, { productId: 'prod_kettle', quantity: 1, unitPriceAmount: 6900 }]),
      fulfilment: { handlingMs: 60_000 },
      notifications: 'activities',
    };
    expect((await run(input)).status).toBe('CONFIRMED');
    const handle = env.client.workflow.getHandle(orderWorkflowId(input.orderId));
    const statusIs = (status: string) => until(status, async () => (await handle.query(getStatusQuery)).status === status);

    await env.sleep(61_000); // warehouse handling passes on the test server's clock
    await statusIs('SHIPPED');
    const shipments = await db.shipment.findMany({ where: { orderId: input.orderId }, orderBy: { warehouse: 'asc' } });
    expect(shipments.map((x) => [x.warehouse, x.status])).toEqual([['main', 'HANDED_TO_CARRIER'], ['north', 'HANDED_TO_CARRIER']]);

    await handle.signal(markDeliveredSignal, shipments[0].trackingNumber);
    await until('first parcel delivered', async () => (await handle.query(getStatusQuery)).shipments?.filter((x) => x.status === 'DELIVERED').length === 1);
    expect((await handle.query(getStatusQuery)).status).toBe('SHIPPED');
    await handle.signal(markDeliveredSignal, shipments[1].trackingNumber);
    await statusIs('DELIVERED');

    await env.sleep(3 * 24 * 3600_000);
    const requested = await handle.executeUpdate(requestReturnUpdate, { args: ['too small'] });
    expect(requested.status).toBe('RETURN_REQUESTED');
    // asked for, not back yet: the order says so, no refund row, the stock still sold
    expect((await db.order.findUniqueOrThrow({ where: { id: input.orderId } })).status).toBe('RETURN_REQUESTED');
    expect((await ledgerFor(input.orderId)).map((t) => t.kind)).toEqual(['CHARGE']);
    expect(await db.payment.count({ where: { orderId: input.orderId, kind: 'REFUND' } })).toBe(0);
    const waiting = await readBooks(db);
    expect(waiting.stock.prod_mug).toEqual({ ...before.stock.prod_mug, available: before.stock.prod_mug.available - 1, sold: before.stock.prod_mug.sold + 1 });
    expect(await assertBooksBalance(db, initial)).toEqual([]);

    await env.sleep(4 * 24 * 3600_000);
    await handle.signal(returnReceivedSignal, 'all parts there');
    const final = await handle.result();
    expect(final.status).toBe('RETURNED');

    const after = await readBooks(db);
    expect(after.stock.prod_mug).toEqual({ ...before.stock.prod_mug, sold: before.stock.prod_mug.sold + 1, returned: before.stock.prod_mug.returned + 1 });
    expect(after.stock.prod_kettle.available).toBe(before.stock.prod_kettle.available);
    const ledger = await ledgerFor(input.orderId);
    expect(ledger.map((t) => [t.kind, t.idempotencyKey.split(':')[1], t.amount]).sort()).toEqual([['CHARGE', 'charge', 8150], ['REFUND', 'return-refund', 8150]]);
    expect((await db.shipment.findMany({ where: { orderId: input.orderId } })).map((x) => x.status)).toEqual(['DELIVERED', 'DELIVERED']);

    const sent = await db.notification.findMany({ where: { orderId: input.orderId, status: 'SENT' } });
    expect(sent.map((n) => `${n.kind}/${n.channel}`).sort()).toEqual(
      ['ORDER_CONFIRMED', 'ORDER_DELIVERED', 'ORDER_REFUNDED', 'ORDER_SHIPPED'].flatMap((k) => [`${k}/email`, `${k}/sms`]),
    );
    const statuses = (await db.orderEvent.findMany({ where: { orderId: input.orderId, type: 'STATUS_CHANGED' }, orderBy: { id: 'asc' } })).map((e) => e.status);
    expect(statuses).toEqual(['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'RETURN_REQUESTED', 'RETURNED']);
    const types = (await db.orderEvent.findMany({ where: { orderId: input.orderId }, orderBy: { key: 'asc' } })).map((e) => e.type);
    for (const t of ['SHIPMENTS_PLANNED', 'HANDED_TO_CARRIER', 'SHIPMENT_DELIVERED', 'DELIVERED', 'RETURN_REQUESTED', 'RETURN_RECEIVED', 'RETURNED']) expect(types).toContain(t);
    expect((await db.order.findUniqueOrThrow({ where: { id: input.orderId } })).status).toBe('RETURNED');
    const refund = await db.payment.findFirstOrThrow({ where: { orderId: input.orderId, kind: 'REFUND' } });
    expect(refund).toMatchObject({ status: 'SUCCEEDED', amount: 8150, currency: 'USD' });
    expect(await assertBooksBalance(db, initial)).toEqual([]);
  });

  it('a return whose goods never come back lapses: DELIVERED again in PostgreSQL, the charge kept, the stock still sold', async () => {
    const input = { ...order([{ productId: 'prod_mug', quantity: 2, unitPriceAmount: 1250 }]), fulfilment: { handlingMs: 60_000, returnShippingMs: 3 * 24 * 3600_000 } };
    expect((await run(input)).status).toBe('CONFIRMED');
    const handle = env.client.workflow.getHandle(orderWorkflowId(input.orderId));
    await env.sleep(61_000);
    await until('SHIPPED', async () => (await handle.query(getStatusQuery)).status === 'SHIPPED');
    await handle.signal(markDeliveredSignal);
    await until('DELIVERED', async () => (await handle.query(getStatusQuery)).status === 'DELIVERED');
    const before = await readBooks(db);
    expect((await handle.executeUpdate(requestReturnUpdate, { args: ['never mind'] })).status).toBe('RETURN_REQUESTED');

    const final = await handle.result(); // the 3 days pass on the test server's clock
    expect(final.status).toBe('DELIVERED');
    expect(final.returnRequest?.lapsedAt).toBeDefined();
    expect((await db.order.findUniqueOrThrow({ where: { id: input.orderId } })).status).toBe('DELIVERED');
    expect((await ledgerFor(input.orderId)).map((t) => [t.kind, t.amount])).toEqual([['CHARGE', 2500]]);
    expect((await readBooks(db)).stock.prod_mug).toEqual(before.stock.prod_mug);
    const statuses = (await db.orderEvent.findMany({ where: { orderId: input.orderId, type: 'STATUS_CHANGED' }, orderBy: { id: 'asc' } })).map((e) => e.status);
    expect(statuses.slice(-3)).toEqual(['DELIVERED', 'RETURN_REQUESTED', 'DELIVERED']);
    expect(await db.orderEvent.count({ where: { orderId: input.orderId, type: 'RETURN_LAPSED' } })).toBe(1);
    expect(await assertBooksBalance(db, initial)).toEqual([]);
  });

  // Runs last of the time-skipping tests: the Java test server stops skipping
  // time for good once a workflow ends while one of its activities still runs.
  it('cancelled while the charge is in flight: the charge key is voided, no money moves, stock restored', async () => {
    const before = await readBooks(db);
    const input = order([{ productId: 'prod_backpack', quantity: 2, unitPriceAmount: 8900 }], TestTokens.slow);
    const handle = await env.client.workflow.start(placeOrder, { workflowId: orderWorkflowId(input.orderId), taskQueue: TaskQueues.orders, args: [input] });
    // wait (in real time: the slow card sleeps in real time) until the charge is under way
    for (let i = 0; i < 100 && !(await db.payment.count({ where: { orderId: input.orderId } })); i++) await new Promise((r) => setTimeout(r, 50));
    await handle.signal(cancelOrderSignal, 'changed my mind');
    const state = await handle.result();
    expect(state.status).toBe('CANCELLED');
    expect(state.cancellation).toMatchObject({ requested: true, reason: 'changed my mind' });
    expect(state.compensations.map((c) => [c.name, c.outcome])).toEqual([['refundPayment', 'done'], ['releaseStock', 'done']]);
    // the refund found no charge yet and voided the key; the charge that then
    // arrived at the provider was refused
    await new Promise((r) => setTimeout(r, SLOW_MS + 500));
    expect((await ledgerFor(input.orderId)).map((t) => t.kind)).toEqual(['VOID']);
    expect(await db.payment.findMany({ where: { orderId: input.orderId } })).toMatchObject([{ kind: 'CHARGE', status: 'FAILED', declineCode: 'voided' }]);
    expect((await readBooks(db)).stock).toEqual(before.stock);
    const row = await db.order.findUniqueOrThrow({ where: { id: input.orderId } });
    expect([row.status, row.cancelReason]).toEqual(['CANCELLED', 'changed my mind']);
  });

  it('every order agrees with its money and every product with its stock', async () => {
    expect(await assertBooksBalance(db, initial)).toEqual([]);
    const finished = await env.client.workflow.getHandle(orderWorkflowId((await db.order.findFirstOrThrow()).id)).query(getStatusQuery);
    expect(finished.orderId).toBeDefined();
  });
});

describe('activities are idempotent', () => {
  it('reserving twice for one order reserves once; releasing twice releases once', async () => {
    const inventory = createInventoryActivities(db);
    const orderId = randomUUID();
    const before = (await readBooks(db)).stock.prod_kettle;
    const req = { orderId, items: [{ productId: 'prod_kettle', quantity: 2 }], expiresAt: new Date(Date.now() + 60_000).toISOString() };
    await Promise.all([inventory.reserveStock(req).catch(() => inventory.reserveStock(req)), inventory.reserveStock(req).catch(() => inventory.reserveStock(req))]);
    await inventory.reserveStock(req);
    expect((await readBooks(db)).stock.prod_kettle).toMatchObject({ available: before.available - 2, reserved: before.reserved + 2 });
    expect(await inventory.releaseStock({ orderId })).toEqual({ released: 2 });
    expect(await inventory.releaseStock({ orderId })).toEqual({ released: 0 });
    expect((await readBooks(db)).stock.prod_kettle).toEqual(before);
  });

  it('a release that lands before a late reserve leaves the stock untouched', async () => {
    const inventory = createInventoryActivities(db);
    const orderId = randomUUID();
    const before = (await readBooks(db)).stock.prod_kettle;
    await inventory.releaseStock({ orderId, items: [{ productId: 'prod_kettle', quantity: 1 }] });
    await inventory.reserveStock({ orderId, items: [{ productId: 'prod_kettle', quantity: 1 }], expiresAt: new Date().toISOString() });
    expect((await readBooks(db)).stock.prod_kettle).toEqual(before);
  });

  it('a release racing a commit still in flight (a cancel at the moment of payment) always ends released', async () => {
    // found by tests/faults/contention.test.ts: the release read HELD, the commit
    // turned it COMMITTED, the release's conditional update missed and skipped it
    const inventory = createInventoryActivities(db);
    const before = (await readBooks(db)).stock.prod_mug;
    const orderIds = Array.from({ length: 40 }, () => randomUUID());
    for (const orderId of orderIds) {
      await inventory.reserveStock({ orderId, items: [{ productId: 'prod_mug', quantity: 1 }], expiresAt: new Date(Date.now() + 60_000).toISOString() });
    }
    await Promise.all(orderIds.map((orderId, i) => Promise.all(i % 2 ? [inventory.commitStock({ orderId }), inventory.releaseStock({ orderId })] : [inventory.releaseStock({ orderId }), inventory.commitStock({ orderId })])));
    expect(await db.reservation.count({ where: { orderId: { in: orderIds }, status: { not: 'RELEASED' } } })).toBe(0);
    expect((await readBooks(db)).stock.prod_mug).toEqual(before);
  });

  it('a release racing a reserve still in flight (a cancel right after the order is created) always ends released', async () => {
    // found by tests/faults/contention.test.ts: the release saw no rows yet, its
    // tombstones were skipped against the reserve's, and the reserve's hold stayed
    const inventory = createInventoryActivities(db);
    const before = (await readBooks(db)).stock.prod_mug;
    const orderIds = Array.from({ length: 40 }, () => randomUUID());
    const items = [{ productId: 'prod_mug', quantity: 1 }];
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    await Promise.all(
      orderIds.map((orderId) =>
        Promise.all([inventory.reserveStock({ orderId, items, expiresAt }).catch(() => undefined), inventory.releaseStock({ orderId, items })]),
      ),
    );
    expect(await db.reservation.count({ where: { orderId: { in: orderIds }, status: { not: 'RELEASED' } } })).toBe(0);
    expect((await readBooks(db)).stock.prod_mug).toEqual(before);
  });

  it('charging twice with one key charges once; a refund before the charge voids it', async () => {
    const gateway = new SimulatedGateway(db, { latencyMs: 0, slowMs: 0, declineRate: 0, transientFailures: 0 });
    const payments = createPaymentsActivities(db, gateway);
    const orderId = randomUUID();
    const charge = { orderId, idempotencyKey: `test-${orderId}:charge`, amount: 500, currency: 'USD', token: TestTokens.success };
    const [a, b] = await Promise.all([payments.chargePayment(charge), payments.chargePayment(charge)]);
    expect(a.providerRef).toBe(b.providerRef);
    const refund = { orderId, chargeKey: charge.idempotencyKey, refundKey: `test-${orderId}:refund` };
    expect(await payments.refundPayment(refund)).toEqual({ refunded: true, amount: 500 });
    expect(await payments.refundPayment(refund)).toEqual({ refunded: true, amount: 500 });
    const rows = await db.gatewayTransaction.findMany({ where: { idempotencyKey: { startsWith: `test-${orderId}` } } });
    expect(rows.map((r) => r.kind).sort()).toEqual(['CHARGE', 'REFUND']);

    const late = { ...charge, orderId: randomUUID(), idempotencyKey: `test-late-${orderId}:charge` };
    expect(await payments.refundPayment({ orderId: late.orderId, chargeKey: late.idempotencyKey, refundKey: `${late.idempotencyKey}:refund` })).toEqual({ refunded: false, amount: 0 });
    await expect(payments.chargePayment(late)).rejects.toMatchObject({ type: 'PAYMENT_VOIDED' });
  });

  it('concurrent reservations never oversell', async () => {
    const inventory = createInventoryActivities(db);
    await db.stock.update({ where: { productId: 'prod_lamp' }, data: { available: 3 } });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        inventory.reserveStock({ orderId: randomUUID(), items: [{ productId: 'prod_lamp', quantity: 1 }], expiresAt: new Date().toISOString() }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r).reason.type)).toEqual(Array(17).fill('INVENTORY_UNAVAILABLE'));
    expect((await readBooks(db)).stock.prod_lamp).toMatchObject({ available: 0, reserved: 3 });
  });
});
