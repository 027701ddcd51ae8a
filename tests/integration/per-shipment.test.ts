/**
 * Per-shipment payments with the real activities on a real PostgreSQL, driven
 * by the real workflow on the Java time-skipping test server: authorise at
 * checkout, capture each shipment at hand-over, void what is cancelled, refund
 * returned lines once received and inspected. After every step the money per
 * line (domain/books.ts over the payments rows), the provider's ledger and the
 * stock are read back from the database.
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { computeBooks, type OrderBooks } from '../../domain/books';
import type { OrderStatus } from '../../domain/order-status';
import { TestTokens } from '../../domain/payment';
import type { Db } from '../../prisma/client';
import { seed } from '../../prisma/seed';
import { placeOrder } from '../../workflows/place-order';
import { assertBooksBalance, initialStock, readBooks } from '../support/books';
import { freshDatabase } from '../support/db';
import { timeSkippingEnv } from '../support/temporal';
import { createWorkers, realActivities, runWorkers } from '../support/workers';
import { untilWorkflow } from '../support/workflow-state';
import { recordHistory } from '../workflows/support/harness';
import {
  TaskQueues,
  awaitOutcomeUpdate,
  cancelShipmentsUpdate,
  getStatusQuery,
  inspectReturnUpdate,
  markDeliveredSignal,
  orderWorkflowId,
  requestLineReturnUpdate,
  retryPaymentSignal,
  returnReceivedSignal,
  type OrderState,
  type PlaceOrderInput,
} from '../../temporal-config/place-order';

const HOUR = 3600_000;
let env: TestWorkflowEnvironment;
let db: Db;
let stopWorkers: () => Promise<void>;
let initial: Record<string, number>;

beforeAll(async () => {
  ({ db } = await freshDatabase('per_shipment'));
  await seed(db);
  initial = await initialStock(db);
  env = await timeSkippingEnv();
  const workers = await createWorkers(env.nativeConnection, realActivities(db, { latencyMs: 0, slowMs: 0, declineRate: 0, transientFailures: 2 }));
  stopWorkers = runWorkers(workers);
});

// Each test begins on an idle test server: the orders of the tests before it,
// their assertions done, are terminated, so none of their timers fires during
// a later test's sleep, and one that went wrong cannot stall the rest.
const started: Handle[] = [];
afterEach(async () => {
  for (const handle of started.splice(0)) {
    if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate('the test is over');
  }
});

afterAll(async () => {
  await stopWorkers?.();
  await env?.teardown();
  await db?.$disconnect();
});

const MUG = { productId: 'prod_mug', unitPriceAmount: 1250 }; // ships from "main"
const KETTLE = { productId: 'prod_kettle', unitPriceAmount: 6900 }; // ships from "north"
const TSHIRT = { productId: 'prod_tshirt', unitPriceAmount: 1999 }; // "main"

/** Two parcels: 2 mugs + 1 t-shirt from main (first, at 1 h), 1 kettle from north (second, at 2 h). */
function twoParcels(token: string = TestTokens.success, extra: Partial<PlaceOrderInput> = {}): PlaceOrderInput {
  const items = [
    { ...MUG, quantity: 2 },
    { ...TSHIRT, quantity: 1 },
    { ...KETTLE, quantity: 1 },
  ].map((i) => ({ ...i, sku: i.productId, name: i.productId }));
  return {
    orderId: randomUUID(),
    customerId: 'cust-ps',
    currency: 'USD',
    items,
    totalAmount: items.reduce((s, l) => s + l.quantity * l.unitPriceAmount, 0),
    shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' },
    paymentMethod: { token },
    fulfilment: { handlingMs: HOUR },
    ...extra,
  };
}

type Handle = WorkflowHandle<typeof placeOrder>;

/** Starts the saga and answers at the payment outcome, as the API does. */
async function place(input: PlaceOrderInput): Promise<{ state: OrderState; handle: Handle }> {
  const state = await env.client.workflow.executeUpdateWithStart(awaitOutcomeUpdate, {
    startWorkflowOperation: new WithStartWorkflowOperation(placeOrder, {
      workflowId: orderWorkflowId(input.orderId),
      taskQueue: TaskQueues.orders,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
    }),
  });
  const handle = env.client.workflow.getHandle<typeof placeOrder>(orderWorkflowId(input.orderId));
  started.push(handle);
  return { state, handle };
}

const statusOf = async (handle: Handle) => (await handle.query(getStatusQuery)).status;
const reach = (handle: Handle, status: OrderStatus) => untilWorkflow(handle, status, async () => (await statusOf(handle)) === status);

/** The books as GET /api/v1/orders/:id shows them: per order and per line, from the payments rows. */
async function books(orderId: string): Promise<OrderBooks> {
  const order = await db.order.findUniqueOrThrow({ where: { id: orderId }, include: { items: true } });
  const payments = await db.payment.findMany({ where: { orderId } });
  return computeBooks({ currency: order.currency, lines: order.items }, payments);
}
const line = (b: OrderBooks, productId: string) => {
  const found = b.lines.find((l) => l.productId === productId);
  if (!found) throw new Error(`no line ${productId}`);
  const { authorised, captured, voided, refunded } = found;
  return { authorised, captured, voided, refunded };
};
const money = (b: OrderBooks) => ({ authorised: b.authorised, captured: b.captured, voided: b.voided, refunded: b.refunded });
const shipmentsOf = (orderId: string) => db.shipment.findMany({ where: { orderId }, orderBy: { warehouse: 'asc' } });

describe('per-shipment payments with real activities on PostgreSQL', () => {
  it('authorises at checkout, captures the first parcel at hand-over, voids the cancelled second, refunds one returned line once received', async () => {
    const input = twoParcels();
    const { state, handle } = await place(input);
    expect(state.status).toBe('CONFIRMED');
    // checkout authorised the whole order and captured nothing
    expect(money(await books(input.orderId))).toEqual({ authorised: 11399, captured: 0, voided: 0, refunded: 0 });

    await env.sleep(HOUR + 1000); // the first parcel (main) leaves the warehouse
    await reach(handle, 'PARTIALLY_SHIPPED');
    const [main, north] = await shipmentsOf(input.orderId);
    expect([main.status, north.status]).toEqual(['HANDED_TO_CARRIER', 'CREATED']);
    let b = await books(input.orderId);
    expect(line(b, 'prod_mug')).toEqual({ authorised: 2500, captured: 2500, voided: 0, refunded: 0 });
    expect(line(b, 'prod_tshirt')).toEqual({ authorised: 1999, captured: 1999, voided: 0, refunded: 0 });
    expect(line(b, 'prod_kettle')).toEqual({ authorised: 6900, captured: 0, voided: 0, refunded: 0 });

    // the second parcel is cancelled before it leaves: its amount voided, its stock back
    const kettleBefore = (await readBooks(db)).stock.prod_kettle;
    const cancelled = await handle.executeUpdate(cancelShipmentsUpdate, { args: [{ trackingNumbers: [north.trackingNumber], reason: 'no longer needed' }] });
    expect(cancelled.shipments?.map((s) => s.status)).toEqual(['HANDED_TO_CARRIER', 'CANCELLED']);
    expect((await readBooks(db)).stock.prod_kettle).toEqual({ ...kettleBefore, available: kettleBefore.available + 1, sold: kettleBefore.sold - 1 });
    b = await books(input.orderId);
    expect(line(b, 'prod_kettle')).toEqual({ authorised: 6900, captured: 0, voided: 6900, refunded: 0 });
    await reach(handle, 'SHIPPED');

    await handle.signal(markDeliveredSignal, main.trackingNumber);
    await reach(handle, 'DELIVERED');

    // one of the two mugs comes back
    const ret = await handle.executeUpdate(requestLineReturnUpdate, { args: [{ lines: [{ productId: 'prod_mug', quantity: 1 }], reason: 'one is enough' }] });
    expect(ret).toMatchObject({ status: 'REQUESTED', lines: [{ productId: 'prod_mug', quantity: 1 }] });
    expect(ret.returnId).toBe(`${input.orderId}-R1`);
    expect(ret.trackingNumber).toMatch(/^RT[0-9A-F]{16}1$/);
    await reach(handle, 'RETURN_REQUESTED');
    // asked for, not back: nothing refunded or restocked yet
    expect(line(await books(input.orderId), 'prod_mug').refunded).toBe(0);
    const mugBefore = (await readBooks(db)).stock.prod_mug;

    await handle.signal(returnReceivedSignal, { returnId: ret.returnId, note: 'box dented', inspection: [{ productId: 'prod_mug', quantity: 1, outcome: 'RESTOCK' }] });
    await reach(handle, 'PARTIALLY_RETURNED');
    b = await books(input.orderId);
    expect(line(b, 'prod_mug')).toEqual({ authorised: 2500, captured: 2500, voided: 0, refunded: 1250 });
    expect(money(b)).toEqual({ authorised: 11399, captured: 4499, voided: 6900, refunded: 1250 });
    expect((await readBooks(db)).stock.prod_mug).toEqual({ ...mugBefore, available: mugBefore.available + 1, returned: mugBefore.returned + 1 });
    const row = await db.orderReturn.findUniqueOrThrow({ where: { id: ret.returnId } });
    expect([row.status, row.refundAmount]).toEqual(['REFUNDED', 1250]);
    expect((row.timeline as { type: string }[]).map((e) => e.type)).toEqual(['RETURN_REQUESTED', 'RETURN_RECEIVED', 'RETURN_INSPECTED', 'RETURN_RESTOCKED', 'RETURN_REFUNDED']);

    const final = await handle.result(); // the return window passes
    expect(final.status).toBe('PARTIALLY_RETURNED');
    expect(final.payment).toMatchObject({ authorisedAmount: 11399, capturedAmount: 4499, voidedAmount: 6900, refundedAmount: 1250 });
    const statuses = (await db.orderEvent.findMany({ where: { orderId: input.orderId, type: 'STATUS_CHANGED' }, orderBy: { id: 'asc' } })).map((e) => e.status);
    expect(statuses).toEqual(['CONFIRMED', 'PROCESSING', 'PARTIALLY_SHIPPED', 'SHIPPED', 'DELIVERED', 'RETURN_REQUESTED', 'PARTIALLY_RETURNED']);
    expect(await assertBooksBalance(db, initial)).toEqual([]);
    await recordHistory(handle, 'per-shipment-capture-void-line-return');
  });

  it('renews an authorisation that would expire before the parcels leave, then captures under the new one', async () => {
    // Authorisations of this card live 2 h and are renewed an hour before they lapse: at about
    // 1 h, 2 h, 3 h, ... The parcels leave at 3 h 20 min and 6 h 40 min, off that grid: the
    // time-skipping test server strands a run whose workflow task cancels a timer that fired
    // while the task was with the worker (it refuses the completion, "invalid history builder
    // state for action", and never hands the task out again), and a capture finishing the
    // instant the guard's timer fires does just that. (The real server drops the firing instead.)
    const handlingMs = 3 * HOUR + 20 * 60_000;
    const input = twoParcels(TestTokens.authExpiresEarly, { fulfilment: { handlingMs } });
    const { handle } = await place(input);
    await env.sleep(handlingMs + 1000);
    await reach(handle, 'PARTIALLY_SHIPPED');
    let state = await handle.query(getStatusQuery);
    expect(state.payment?.authorisations).toBeGreaterThanOrEqual(2);
    const renewals = await db.orderEvent.count({ where: { orderId: input.orderId, type: 'AUTHORISATION_RENEWED' } });
    expect(renewals).toBe(state.payment!.authorisations - 1);
    await env.sleep(handlingMs);
    await reach(handle, 'SHIPPED');
    state = await handle.query(getStatusQuery);
    const b = await books(input.orderId);
    expect(b.captured).toBe(11399);
    // every renewal re-authorised the uncaptured rest and voided it on the old authorisation
    expect(b.authorised - b.voided).toBe(11399);
    expect(b.voided).toBeGreaterThan(0);
    const ledger = await db.gatewayTransaction.findMany({ where: { idempotencyKey: { startsWith: orderWorkflowId(input.orderId) } } });
    expect(ledger.filter((t) => t.kind === 'AUTHORISATION')).toHaveLength(state.payment!.authorisations);
    expect(ledger.filter((t) => t.kind === 'CAPTURE').map((t) => t.amount).sort()).toEqual([4499, 6900]);
    expect(await assertBooksBalance(db, initial)).toEqual([]);
    await handle.signal(markDeliveredSignal);
    await reach(handle, 'DELIVERED');
    expect((await handle.result()).status).toBe('DELIVERED'); // the return window passes
    await recordHistory(handle, 'per-shipment-authorisation-renewed');
  });

  it('a declined renewal waits in NEEDS_ATTENTION; cancelling the rest voids it and lets the order go on', async () => {
    const input = twoParcels(TestTokens.reauthDeclined, { fulfilment: { handlingMs: 3 * HOUR } });
    const { handle } = await place(input);
    await env.sleep(HOUR + 1000); // the guard tries to renew an hour before the 2 h expiry
    await reach(handle, 'NEEDS_ATTENTION');
    const state = await handle.query(getStatusQuery);
    expect(state.attention).toMatchObject({ code: 'PAYMENT_DECLINED' });
    expect(state.attention?.reason).toMatch(/renewal was declined/);
    const cancelled = await handle.executeUpdate(cancelShipmentsUpdate, { args: [{ reason: 'card no longer valid' }] });
    expect(cancelled.status).toBe('CANCELLED');
    const final = await handle.result();
    expect(final.status).toBe('CANCELLED');
    expect(money(await books(input.orderId))).toEqual({ authorised: 11399, captured: 0, voided: 11399, refunded: 0 });
    expect((await db.order.findUniqueOrThrow({ where: { id: input.orderId } })).status).toBe('CANCELLED');
    expect(await db.reservation.count({ where: { orderId: input.orderId, status: { in: ['HELD', 'COMMITTED'] } } })).toBe(0);
    expect(await assertBooksBalance(db, initial)).toEqual([]);
    await recordHistory(handle, 'per-shipment-renewal-declined-rest-cancelled');
  });

  it('a capture that fails transiently is retried and captures once', async () => {
    const input = twoParcels(TestTokens.captureTransient);
    const { handle } = await place(input);
    await env.sleep(2 * HOUR + 1000);
    await reach(handle, 'SHIPPED');
    const captures = await db.payment.findMany({ where: { orderId: input.orderId, kind: 'CAPTURE' }, orderBy: { amount: 'asc' } });
    expect(captures.map((c) => [c.amount, c.status, c.attempts])).toEqual([
      [4499, 'SUCCEEDED', 3],
      [6900, 'SUCCEEDED', 3],
    ]);
    const ledger = await db.gatewayTransaction.count({ where: { idempotencyKey: { startsWith: orderWorkflowId(input.orderId) }, kind: 'CAPTURE' } });
    expect(ledger).toBe(2);
    expect(await assertBooksBalance(db, initial)).toEqual([]);
    await handle.signal(markDeliveredSignal);
    await reach(handle, 'DELIVERED');
    expect((await handle.result()).status).toBe('DELIVERED');
    await recordHistory(handle, 'per-shipment-capture-transient');
  });

  it('a capture refused for good holds its parcel in NEEDS_ATTENTION until an operator retries it', async () => {
    const input = twoParcels(TestTokens.captureRefused);
    const { handle } = await place(input);
    await env.sleep(HOUR + 1000);
    await reach(handle, 'NEEDS_ATTENTION');
    const held = await handle.query(getStatusQuery);
    expect(held.attention).toMatchObject({ code: 'CAPTURE_REFUSED' });
    expect(held.shipments?.[0].held).toMatch(/CAPTURE_REFUSED/);
    const [main] = await shipmentsOf(input.orderId);
    expect(main.status).toBe('CREATED'); // not handed over
    expect((await books(input.orderId)).captured).toBe(0);

    await handle.signal(retryPaymentSignal);
    await untilWorkflow(handle, 'first parcel handed over', async () => (await shipmentsOf(input.orderId))[0].status === 'HANDED_TO_CARRIER');
    expect(line(await books(input.orderId), 'prod_mug').captured).toBe(2500);
    await env.sleep(HOUR + 1000);
    await reach(handle, 'SHIPPED');
    expect((await books(input.orderId)).captured).toBe(11399);
    expect(await assertBooksBalance(db, initial)).toEqual([]);
    await handle.signal(markDeliveredSignal);
    await reach(handle, 'DELIVERED');
    expect((await handle.result()).status).toBe('DELIVERED');
    await recordHistory(handle, 'per-shipment-capture-refused-retried');
  });

  it('a parcel held by a refused capture is cancelled instead of retried: the whole order voided and unwound', async () => {
    const input = twoParcels(TestTokens.captureRefused);
    const { handle } = await place(input);
    await env.sleep(HOUR + 1000);
    await reach(handle, 'NEEDS_ATTENTION');
    await handle.executeUpdate(cancelShipmentsUpdate, { args: [{ reason: 'the card will not do' }] });
    const final = await handle.result();
    expect(final.status).toBe('CANCELLED');
    expect(final.attention).toBeUndefined();
    expect(money(await books(input.orderId))).toEqual({ authorised: 11399, captured: 0, voided: 11399, refunded: 0 });
    expect((await shipmentsOf(input.orderId)).map((s) => s.status)).toEqual(['CANCELLED', 'CANCELLED']);
    expect(await db.reservation.count({ where: { orderId: input.orderId, status: { in: ['HELD', 'COMMITTED'] } } })).toBe(0);
    expect(await assertBooksBalance(db, initial)).toEqual([]);
    await recordHistory(handle, 'per-shipment-capture-refused-cancelled');
  });

  it('two returns of different lines, one partly rejected at inspection; a refused refund waits for the operator', async () => {
    const input = twoParcels(TestTokens.refundRefused);
    const { handle } = await place(input);
    await env.sleep(2 * HOUR + 1000);
    await reach(handle, 'SHIPPED');
    await handle.signal(markDeliveredSignal);
    await reach(handle, 'DELIVERED');

    const first = await handle.executeUpdate(requestLineReturnUpdate, { args: [{ lines: [{ productId: 'prod_kettle', quantity: 1 }], reason: 'leaks' }] });
    const second = await handle.executeUpdate(requestLineReturnUpdate, { args: [{ lines: [{ productId: 'prod_mug', quantity: 2 }], reason: 'wrong colour' }] });
    // more mugs than are left to return is refused, and changes nothing
    await expect(handle.executeUpdate(requestLineReturnUpdate, { args: [{ lines: [{ productId: 'prod_mug', quantity: 1 }], reason: 'again' }] })).rejects.toMatchObject({
      cause: { type: 'RETURN_QUANTITY_EXCEEDED' },
    });
    expect((await handle.query(getStatusQuery)).returns).toHaveLength(2);

    // the kettle comes back and is written off (refunded, not restocked); the refund is refused once
    const kettleBefore = (await readBooks(db)).stock.prod_kettle;
    await handle.signal(returnReceivedSignal, { returnId: first.returnId });
    await untilWorkflow(handle, 'first return received', async () => (await handle.query(getStatusQuery)).returns?.[0].status === 'RECEIVED');
    await handle.executeUpdate(inspectReturnUpdate, { args: [{ returnId: first.returnId, lines: [{ productId: 'prod_kettle', quantity: 1, outcome: 'WRITE_OFF' }] }] });
    await reach(handle, 'NEEDS_ATTENTION');
    expect((await handle.query(getStatusQuery)).attention).toMatchObject({ code: 'REFUND_REFUSED' });
    expect(line(await books(input.orderId), 'prod_kettle').refunded).toBe(0);
    await handle.signal(retryPaymentSignal);
    await untilWorkflow(handle, 'first return refunded', async () => (await handle.query(getStatusQuery)).returns?.[0].status === 'REFUNDED');
    expect(line(await books(input.orderId), 'prod_kettle')).toEqual({ authorised: 6900, captured: 6900, voided: 0, refunded: 6900 });
    expect((await readBooks(db)).stock.prod_kettle).toEqual(kettleBefore);

    // the mugs: one restocked, one rejected (not refunded)
    const mugBefore = (await readBooks(db)).stock.prod_mug;
    await handle.signal(returnReceivedSignal, { returnId: second.returnId });
    await untilWorkflow(handle, 'second return received', async () => (await handle.query(getStatusQuery)).returns?.[1].status === 'RECEIVED');
    const inspected = await handle.executeUpdate(inspectReturnUpdate, {
      args: [{ returnId: second.returnId, lines: [{ productId: 'prod_mug', quantity: 1, outcome: 'RESTOCK' }, { productId: 'prod_mug', quantity: 1, outcome: 'REJECT', reason: 'used, not in its box' }] }],
    });
    expect(inspected.status).not.toBe('RECEIVED');
    await untilWorkflow(handle, 'second return refunded', async () => (await handle.query(getStatusQuery)).returns?.[1].status === 'REFUNDED');
    expect(line(await books(input.orderId), 'prod_mug')).toEqual({ authorised: 2500, captured: 2500, voided: 0, refunded: 1250 });
    expect((await readBooks(db)).stock.prod_mug).toEqual({ ...mugBefore, available: mugBefore.available + 1, returned: mugBefore.returned + 1 });
    await reach(handle, 'PARTIALLY_RETURNED');
    expect(money(await books(input.orderId))).toEqual({ authorised: 11399, captured: 11399, voided: 0, refunded: 8150 });
    expect(await assertBooksBalance(db, initial)).toEqual([]);
    expect((await handle.result()).status).toBe('PARTIALLY_RETURNED');
    await recordHistory(handle, 'per-shipment-two-returns-refund-refused');
  });

  it('a return whose every line is rejected at inspection refunds nothing and restocks nothing', async () => {
    const input = twoParcels();
    const { handle } = await place(input);
    await env.sleep(2 * HOUR + 1000);
    await reach(handle, 'SHIPPED');
    await handle.signal(markDeliveredSignal);
    await reach(handle, 'DELIVERED');
    const before = await readBooks(db);
    const ret = await handle.executeUpdate(requestLineReturnUpdate, { args: [{ lines: [{ productId: 'prod_tshirt', quantity: 1 }], reason: 'did not fit' }] });
    await handle.signal(returnReceivedSignal, { returnId: ret.returnId, inspection: [{ productId: 'prod_tshirt', quantity: 1, outcome: 'REJECT', reason: 'worn and washed' }] });
    await untilWorkflow(handle, 'return rejected', async () => (await handle.query(getStatusQuery)).returns?.[0].status === 'REJECTED');
    await reach(handle, 'DELIVERED');
    expect((await books(input.orderId)).refunded).toBe(0);
    expect((await readBooks(db)).stock).toEqual(before.stock);
    const row = await db.orderReturn.findUniqueOrThrow({ where: { id: ret.returnId } });
    expect(row.status).toBe('REJECTED');
    expect(row.lines).toMatchObject([{ productId: 'prod_tshirt', quantity: 1, outcome: 'REJECT', rejectReason: 'worn and washed' }]);
    expect(await assertBooksBalance(db, initial)).toEqual([]);
    expect((await handle.result()).status).toBe('DELIVERED');
    await recordHistory(handle, 'per-shipment-return-rejected');
  });

  it('cancelled before any parcel leaves: the whole order unwinds, the authorisation voided', async () => {
    const input = twoParcels();
    const { handle } = await place(input);
    const before = await readBooks(db);
    const state = await handle.executeUpdate(cancelShipmentsUpdate, { args: [{}] });
    expect(['CANCELLED', 'PROCESSING', 'CONFIRMED']).toContain(state.status);
    const final = await handle.result();
    expect(final.status).toBe('CANCELLED');
    expect(final.compensations.map((c) => [c.name, c.outcome])).toEqual([
      ['cancelShipments', 'done'],
      ['voidPayment', 'done'],
      ['releaseStock', 'done'],
    ]);
    expect(money(await books(input.orderId))).toEqual({ authorised: 11399, captured: 0, voided: 11399, refunded: 0 });
    const stock = (await readBooks(db)).stock;
    for (const p of ['prod_mug', 'prod_tshirt', 'prod_kettle']) expect(stock[p].available).toBe(before.stock[p].available + input.items.find((i) => i.productId === p)!.quantity);
    expect(await assertBooksBalance(db, initial)).toEqual([]);
    await recordHistory(handle, 'per-shipment-cancelled-before-hand-over');
  });
});
