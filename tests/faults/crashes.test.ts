/**
 * Fault suite, scenarios 3 and 5: worker processes SIGKILLed at each saga
 * step (the effect is written, Temporal has not heard of it) — including a
 * shipment's capture at hand-over — and a payment gateway that fails, hangs,
 * loses answers or crawls for a while. Real stack, over HTTP; the workers are
 * real processes restarted the way an operator would.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authorisationKey, captureKey, orderWorkflowId, voidKey } from '../../temporal-config/place-order';
import { bootFaultStack, until, type Customer, type FaultStack } from './support/fault-stack';

const TTL_MS = 25_000;
/** how long after the kill every order must have reached its end */
const BOUND_MS = 60_000;
let f: FaultStack;
let product: string;

beforeAll(async () => {
  f = await bootFaultStack('crashes', {
    RESERVATION_TTL_MS: String(TTL_MS),
    FULFILMENT_HANDLING_MS: '3600000', // confirmed orders wait in PROCESSING (still cancellable)
    PAYMENT_TIMEOUT_MS: '2000',
    PAYMENT_SLOW_MS: '3000',
  });
  product = await f.product(1_000, 1_200);
});
afterAll(async () => {
  await f?.stop();
});

/** Contexts whose worker runs with fault injection now, per stack. */
const faulty = new Map<FaultStack, Set<string>>();

/** Replaces a context's worker process: `signal` says how the old one goes, `env` what the new one does. */
async function restartWorker(context: string, signal: NodeJS.Signals, env: NodeJS.ProcessEnv = {}, on: FaultStack = f) {
  await on.stack.stopWorker(context, signal);
  on.stack.startWorker(context, env);
  const set = faulty.get(on) ?? new Set<string>();
  if (Object.keys(env).length > 0) set.add(context);
  else set.delete(context);
  faulty.set(on, set);
}

// A scenario that failed halfway leaves its fault armed (a worker that holds
// every result for a minute): put plain workers back, so the next scenario
// does not fail for it.
afterEach(async () => {
  for (const [on, contexts] of faulty) for (const context of [...contexts]) await restartWorker(context, 'SIGKILL', {}, on);
});

/** The money per order and per line, as its customer reads it (GET /api/v1/orders/:id). */
async function moneyOf(customer: Customer, orderId: string, on: FaultStack = f) {
  const res = await on.api('GET', `/api/v1/orders/${orderId}`, { token: customer.token });
  expect(res.status).toBe(200);
  return res.body.money;
}

const charges = (orderId: string) => f.db.gatewayTransaction.findMany({ where: { idempotencyKey: { startsWith: `order-${orderId}` } }, orderBy: { createdAt: 'asc' } });
const statusOf = async (orderId: string) => (await f.db.order.findUniqueOrThrow({ where: { id: orderId } })).status;

async function placeWhile(customer: Customer, effect: (orderId: string) => Promise<unknown>, extra: Record<string, unknown> = {}) {
  const orderId = randomUUID();
  const answer = f.order(customer, [{ productId: product, quantity: 1 }], { orderId, ...extra });
  await until('the effect to be written', () => effect(orderId), 30_000, 50);
  return { orderId, answer };
}

describe('fault suite: worker crashes (real worker processes, SIGKILL)', () => {
  it('inventory worker killed after reserving, before reporting: the reservation is reused, the order confirms', async () => {
    const started = Date.now();
    const [c] = await f.customers(1);
    await restartWorker('inventory', 'SIGTERM', { FAULT_HOLD_AFTER_ACTIVITIES: 'reserveStock', FAULT_HOLD_MS: '60000' });
    const { orderId, answer } = await placeWhile(c, (id) => f.db.reservation.findFirst({ where: { orderId: id, status: 'HELD' } }));
    await restartWorker('inventory', 'SIGKILL');
    await f.settle([orderId], BOUND_MS, (s) => s === 'PROCESSING');
    expect([201, 202]).toContain((await answer).status);
    expect(await f.db.reservation.findMany({ where: { orderId } })).toMatchObject([{ status: 'COMMITTED', quantity: 1 }]);
    expect((await charges(orderId)).map((t) => t.kind)).toEqual(['AUTHORISATION']);
    expect(await f.report('crash-inventory-after-reserve', [orderId], started)).toEqual([]);
  });

  it('payments worker killed after the gateway authorised, before it reports: exactly one authorisation, the order confirms', async () => {
    const started = Date.now();
    const [c] = await f.customers(1);
    await restartWorker('payments', 'SIGTERM', { FAULT_PAYMENT_HOLD_AFTER_CHARGE_MS: '60000' });
    const { orderId, answer } = await placeWhile(c, (id) => f.db.gatewayTransaction.findUnique({ where: { idempotencyKey: authorisationKey(orderWorkflowId(id), 0) } }));
    await restartWorker('payments', 'SIGKILL');
    await f.settle([orderId], BOUND_MS, (s) => s === 'PROCESSING');
    expect([201, 202]).toContain((await answer).status);
    expect((await charges(orderId)).map((t) => t.kind)).toEqual(['AUTHORISATION']);
    const payment = await f.db.payment.findFirstOrThrow({ where: { orderId, kind: 'AUTHORISATION' } });
    expect(payment).toMatchObject({ status: 'SUCCEEDED', amount: 1_200 });
    expect(payment.attempts).toBeGreaterThanOrEqual(2);
    expect(await f.report('crash-payments-after-authorise', [orderId], started)).toEqual([]);
  });

  it('orders worker (it also runs the workflows) killed after writing CONFIRMED, before reporting: the saga resumes on the new process', async () => {
    const started = Date.now();
    const [c] = await f.customers(1);
    await restartWorker('orders', 'SIGTERM', { FAULT_HOLD_AFTER_ACTIVITIES: 'recordOrderStatus', FAULT_HOLD_MS: '60000' });
    const { orderId, answer } = await placeWhile(c, async (id) => (await f.db.order.findUnique({ where: { id } }))?.status === 'CONFIRMED');
    await restartWorker('orders', 'SIGKILL');
    await f.settle([orderId], BOUND_MS, (s) => s === 'PROCESSING');
    expect([201, 202]).toContain((await answer).status);
    expect((await charges(orderId)).map((t) => t.kind)).toEqual(['AUTHORISATION']);
    expect(await f.db.stock.findUniqueOrThrow({ where: { productId: product } })).toMatchObject({ reserved: 0 });
    expect(await f.report('crash-orders-after-confirm', [orderId], started)).toEqual([]);
  });

  it('payments worker killed while voiding the authorisation of a cancelled order: voided exactly once', async () => {
    const started = Date.now();
    const [c] = await f.customers(1);
    const placed = await f.order(c, [{ productId: product, quantity: 2 }]);
    expect(placed).toMatchObject({ status: 201, body: { status: 'CONFIRMED' } });
    const orderId = placed.body.orderId as string;
    await restartWorker('payments', 'SIGTERM', { FAULT_HOLD_AFTER_ACTIVITIES: 'voidPayment', FAULT_HOLD_MS: '60000' });
    expect(await f.api('POST', `/api/v1/orders/${orderId}/cancel`, { token: c.token, body: { reason: 'crash test' } })).toMatchObject({ status: 200 });
    await until('the void at the gateway', () => f.db.gatewayTransaction.findUnique({ where: { idempotencyKey: voidKey(orderWorkflowId(orderId), 'rest') } }), 30_000, 50);
    await restartWorker('payments', 'SIGKILL');
    await f.settle([orderId], BOUND_MS, (s) => s === 'CANCELLED');
    expect((await charges(orderId)).map((t) => [t.kind, t.amount])).toEqual([['AUTHORISATION', 2_400], ['VOID', 2_400]]);
    expect(await f.db.payment.findMany({ where: { orderId, kind: 'VOID' } })).toMatchObject([{ status: 'SUCCEEDED', amount: 2_400 }]);
    expect(await moneyOf(c, orderId)).toMatchObject({ authorised: 2_400, captured: 0, voided: 2_400, refunded: 0 });
    expect(await f.report('crash-payments-during-void', [orderId], started)).toEqual([]);
  });

  it('inventory worker killed while releasing the stock of a declined order: released exactly once', async () => {
    const started = Date.now();
    const [c] = await f.customers(1);
    const before = await f.db.stock.findUniqueOrThrow({ where: { productId: product } });
    await restartWorker('inventory', 'SIGTERM', { FAULT_HOLD_AFTER_ACTIVITIES: 'releaseStock', FAULT_HOLD_MS: '60000' });
    const { orderId, answer } = await placeWhile(
      c,
      (id) => f.db.reservation.findFirst({ where: { orderId: id, status: 'RELEASED' } }),
      { paymentMethod: { token: 'tok_chargeDeclined' } },
    );
    await restartWorker('inventory', 'SIGKILL');
    await f.settle([orderId], BOUND_MS);
    expect(await statusOf(orderId)).toBe('FAILED');
    expect(await answer).toMatchObject({ status: 402, body: { code: 'PAYMENT_DECLINED' } });
    expect(await f.db.stock.findUniqueOrThrow({ where: { productId: product } })).toMatchObject({ available: before.available, reserved: before.reserved });
    expect(await f.report('crash-inventory-during-release', [orderId], started)).toEqual([]);
  });
});

describe('fault suite: payment gateway trouble (simulated provider, real workers)', () => {
  /**
   * Puts the payments worker behind an outage of `mode` lasting `forMs` from
   * the moment the new worker is ready (orders placed before that wait for it),
   * so a slow restart on a busy machine cannot eat the outage.
   */
  const outage = (mode: string, forMs: number) => restartWorker('payments', 'SIGTERM', { PAYMENT_FAULT: mode, PAYMENT_FAULT_FOR_MS: String(forMs) });

  for (const mode of ['error', 'timeout', 'lost_response'] as const) {
    it(`gateway ${mode === 'error' ? 'answering 5xx' : mode === 'timeout' ? 'not answering' : 'losing its answers'} for 6 s: authorisations retry with backoff, every order confirms, authorised once`, async () => {
      const started = Date.now();
      const customers = await f.customers(4);
      await outage(mode, 6_000);
      const replies = await Promise.all(customers.map((c) => f.order(c, [{ productId: product, quantity: 1 }])));
      for (const r of replies) expect(r).toMatchObject({ status: 201, body: { status: 'CONFIRMED' } });
      const orderIds = replies.map((r) => r.body.orderId as string);
      for (const id of orderIds) {
        expect((await charges(id)).map((t) => t.kind)).toEqual(['AUTHORISATION']);
        const payment = await f.db.payment.findFirstOrThrow({ where: { orderId: id, kind: 'AUTHORISATION' } });
        expect(payment.attempts).toBeGreaterThanOrEqual(2); // it did have to retry
      }
      await f.settle(orderIds, BOUND_MS); // confirmed on the secured payment: the stock is committed and the shipments planned after the answer
      expect(await f.report(`gateway-${mode}`, orderIds, started)).toEqual([]);
    });
  }

  it('gateway slow (3 s per call) for a while: orders confirm, just later', async () => {
    const started = Date.now();
    const customers = await f.customers(4);
    await outage('slow', 10_000);
    const replies = await Promise.all(customers.map((c) => f.order(c, [{ productId: product, quantity: 1 }])));
    for (const r of replies) expect(r).toMatchObject({ status: 201, body: { status: 'CONFIRMED' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    const orderIds = replies.map((r) => r.body.orderId as string);
    for (const id of orderIds) expect((await charges(id)).map((t) => t.kind)).toEqual(['AUTHORISATION']);
    await f.settle(orderIds, BOUND_MS);
    expect(await f.report('gateway-slow', orderIds, started)).toEqual([]);
  });

  it('gateway down past the reservation deadline: orders fail RESERVATION_EXPIRED, stock released, nothing authorised', async () => {
    const started = Date.now();
    const customers = await f.customers(3);
    const before = await f.db.stock.findUniqueOrThrow({ where: { productId: product } });
    // down for longer than the reservation lives; back before the compensations give up
    await outage('error', TTL_MS + 8_000);
    const replies = await Promise.all(customers.map((c) => f.order(c, [{ productId: product, quantity: 1 }])));
    for (const r of replies) expect(r).toMatchObject({ status: 409, body: { code: 'RESERVATION_EXPIRED' } });
    const orderIds = (await f.db.order.findMany({ where: { customerId: { in: customers.map((c) => c.id) } } })).map((o) => o.id);
    await f.settle(orderIds, BOUND_MS);
    for (const id of orderIds) {
      expect(await statusOf(id)).toBe('FAILED');
      // the void found no authorisation and voided its key: an authorisation that lands late is refused
      expect((await charges(id)).map((t) => [t.kind, t.idempotencyKey, t.amount])).toEqual([['VOID', authorisationKey(orderWorkflowId(id), 0), 0]]);
    }
    expect(await f.db.stock.findUniqueOrThrow({ where: { productId: product } })).toMatchObject({ available: before.available, reserved: before.reserved });
    expect(await f.report('gateway-down-past-deadline', orderIds, started)).toEqual([]);
    await restartWorker('payments', 'SIGTERM');
  }, 180_000);
});

/**
 * A shipment's capture at hand-over, on a stack of its own whose parcels
 * leave soon after PROCESSING (the main stack keeps its orders in the
 * warehouse, so they stay cancellable).
 */
describe('fault suite: a worker crash at a shipment\'s capture (real worker processes, SIGKILL)', () => {
  /** the first parcel leaves this long after PROCESSING, the second twice as long */
  const HANDLING_MS = 8_000;
  let g: FaultStack;

  beforeAll(async () => {
    g = await bootFaultStack('crashes-capture', { FULFILMENT_HANDLING_MS: String(HANDLING_MS) });
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('payments worker killed after the gateway captured a shipment, before it recorded the capture: one capture per shipment, recorded, books balance', async () => {
    const started = Date.now();
    const [c] = await g.customers(1);
    const mugs = await g.product(10, 1_500, 'main');
    const kettle = await g.product(10, 4_000, 'north');
    const placed = await g.order(c, [{ productId: mugs, quantity: 2 }, { productId: kettle, quantity: 1 }]);
    expect(placed).toMatchObject({ status: 201, body: { status: 'CONFIRMED' } });
    const orderId = placed.body.orderId as string;
    const wf = orderWorkflowId(orderId);
    // authorised; before the first parcel leaves, the gateway's answers start being held
    await restartWorker('payments', 'SIGTERM', { FAULT_PAYMENT_HOLD_AFTER_CHARGE_MS: '60000' }, g);
    const held = await until(
      'a capture at the gateway',
      () => g.db.gatewayTransaction.findFirst({ where: { idempotencyKey: { startsWith: `${wf}:capture:` }, kind: 'CAPTURE' } }),
      HANDLING_MS + 30_000,
      50,
    );
    // the provider has taken the money; our books still wait for its answer
    expect(await g.db.payment.findUniqueOrThrow({ where: { idempotencyKey: held.idempotencyKey } })).toMatchObject({ kind: 'CAPTURE', status: 'PENDING' });
    await restartWorker('payments', 'SIGKILL', {}, g);
    await g.settle([orderId], BOUND_MS, (s) => s === 'SHIPPED');

    const shipments = await g.db.shipment.findMany({ where: { orderId }, orderBy: { warehouse: 'asc' } });
    expect(shipments.map((s) => [s.warehouse, s.status])).toEqual([['main', 'HANDED_TO_CARRIER'], ['north', 'HANDED_TO_CARRIER']]);
    const captures = await g.db.gatewayTransaction.findMany({ where: { idempotencyKey: { startsWith: `${wf}:capture:` } } });
    // exactly one per shipment, for its share
    expect(captures.map((t) => [t.kind, t.idempotencyKey, t.amount]).sort()).toEqual([
      ['CAPTURE', captureKey(wf, shipments[0].trackingNumber, 1), 3_000],
      ['CAPTURE', captureKey(wf, shipments[1].trackingNumber, 1), 4_000],
    ].sort());
    const ours = await g.db.payment.findMany({ where: { orderId, kind: 'CAPTURE' } });
    expect(ours.map((p) => [p.idempotencyKey, p.status, p.amount]).sort()).toEqual(captures.map((t) => [t.idempotencyKey, 'SUCCEEDED', t.amount]).sort());
    // the held one was recorded by the restarted worker's retry
    expect(ours.find((p) => p.idempotencyKey === held.idempotencyKey)!.attempts).toBeGreaterThanOrEqual(2);
    expect(await moneyOf(c, orderId, g)).toMatchObject({
      authorised: 7_000, captured: 7_000, voided: 0, refunded: 0,
      lines: [
        expect.objectContaining({ productId: mugs, authorised: 3_000, captured: 3_000 }),
        expect.objectContaining({ productId: kettle, authorised: 4_000, captured: 4_000 }),
      ],
    });
    expect(await g.report('crash-payments-after-capture', [orderId], started)).toEqual([]);
  });
});
