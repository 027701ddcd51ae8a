/**
 * Fault suite, scenarios 3 and 5: worker processes SIGKILLed at each saga
 * step (the effect is written, Temporal has not heard of it), and a payment
 * gateway that fails, hangs, loses answers or crawls for a while. Real stack,
 * over HTTP; the workers are real processes restarted the way an operator would.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/** Replaces a context's worker process: `signal` says how the old one goes, `env` what the new one does. */
async function restartWorker(context: string, signal: NodeJS.Signals, env: NodeJS.ProcessEnv = {}) {
  await f.stack.stopWorker(context, signal);
  f.stack.startWorker(context, env);
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
    expect((await charges(orderId)).map((t) => t.kind)).toEqual(['CHARGE']);
    expect(await f.report('crash-inventory-after-reserve', [orderId], started)).toEqual([]);
  });

  it('payments worker killed after the gateway charged, before it reports: exactly one charge, the order confirms', async () => {
    const started = Date.now();
    const [c] = await f.customers(1);
    await restartWorker('payments', 'SIGTERM', { FAULT_PAYMENT_HOLD_AFTER_CHARGE_MS: '60000' });
    const { orderId, answer } = await placeWhile(c, (id) => f.db.gatewayTransaction.findUnique({ where: { idempotencyKey: `order-${id}:charge` } }));
    await restartWorker('payments', 'SIGKILL');
    await f.settle([orderId], BOUND_MS, (s) => s === 'PROCESSING');
    expect([201, 202]).toContain((await answer).status);
    expect((await charges(orderId)).map((t) => t.kind)).toEqual(['CHARGE']);
    const payment = await f.db.payment.findFirstOrThrow({ where: { orderId, kind: 'CHARGE' } });
    expect(payment).toMatchObject({ status: 'SUCCEEDED', amount: 1_200 });
    expect(payment.attempts).toBeGreaterThanOrEqual(2);
    expect(await f.report('crash-payments-after-charge', [orderId], started)).toEqual([]);
  });

  it('orders worker (it also runs the workflows) killed after writing CONFIRMED, before reporting: the saga resumes on the new process', async () => {
    const started = Date.now();
    const [c] = await f.customers(1);
    await restartWorker('orders', 'SIGTERM', { FAULT_HOLD_AFTER_ACTIVITIES: 'recordOrderStatus', FAULT_HOLD_MS: '60000' });
    const { orderId, answer } = await placeWhile(c, async (id) => (await f.db.order.findUnique({ where: { id } }))?.status === 'CONFIRMED');
    await restartWorker('orders', 'SIGKILL');
    await f.settle([orderId], BOUND_MS, (s) => s === 'PROCESSING');
    expect([201, 202]).toContain((await answer).status);
    expect((await charges(orderId)).map((t) => t.kind)).toEqual(['CHARGE']);
    expect(await f.db.stock.findUniqueOrThrow({ where: { productId: product } })).toMatchObject({ reserved: 0 });
    expect(await f.report('crash-orders-after-confirm', [orderId], started)).toEqual([]);
  });

  it('payments worker killed during the refund of a cancelled order: refunded exactly once', async () => {
    const started = Date.now();
    const [c] = await f.customers(1);
    const placed = await f.order(c, [{ productId: product, quantity: 2 }]);
    expect(placed).toMatchObject({ status: 201, body: { status: 'CONFIRMED' } });
    const orderId = placed.body.orderId as string;
    await restartWorker('payments', 'SIGTERM', { FAULT_HOLD_AFTER_ACTIVITIES: 'refundPayment', FAULT_HOLD_MS: '60000' });
    expect(await f.api('POST', `/api/v1/orders/${orderId}/cancel`, { token: c.token, body: { reason: 'crash test' } })).toMatchObject({ status: 200 });
    await until('the refund at the gateway', () => f.db.gatewayTransaction.findUnique({ where: { idempotencyKey: `order-${orderId}:refund` } }), 30_000, 50);
    await restartWorker('payments', 'SIGKILL');
    await f.settle([orderId], BOUND_MS, (s) => s === 'CANCELLED');
    expect((await charges(orderId)).map((t) => [t.kind, t.amount])).toEqual([['CHARGE', 2_400], ['REFUND', 2_400]]);
    expect(await f.db.payment.count({ where: { orderId, kind: 'REFUND' } })).toBe(1);
    expect(await f.report('crash-payments-during-refund', [orderId], started)).toEqual([]);
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
    it(`gateway ${mode === 'error' ? 'answering 5xx' : mode === 'timeout' ? 'not answering' : 'losing its answers'} for 6 s: charges retry with backoff, every order confirms, charged once`, async () => {
      const started = Date.now();
      const customers = await f.customers(4);
      await outage(mode, 6_000);
      const replies = await Promise.all(customers.map((c) => f.order(c, [{ productId: product, quantity: 1 }])));
      for (const r of replies) expect(r).toMatchObject({ status: 201, body: { status: 'CONFIRMED' } });
      const orderIds = replies.map((r) => r.body.orderId as string);
      for (const id of orderIds) {
        expect((await charges(id)).map((t) => t.kind)).toEqual(['CHARGE']);
        const payment = await f.db.payment.findFirstOrThrow({ where: { orderId: id, kind: 'CHARGE' } });
        expect(payment.attempts).toBeGreaterThanOrEqual(2); // it did have to retry
      }
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
    for (const id of orderIds) expect((await charges(id)).map((t) => t.kind)).toEqual(['CHARGE']);
    expect(await f.report('gateway-slow', orderIds, started)).toEqual([]);
  });

  it('gateway down past the reservation deadline: orders fail RESERVATION_EXPIRED, stock released, nothing charged', async () => {
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
      // the refund found no charge and voided the key: a charge that lands late is refused
      expect((await charges(id)).map((t) => t.kind)).toEqual(['VOID']);
    }
    expect(await f.db.stock.findUniqueOrThrow({ where: { productId: product } })).toMatchObject({ available: before.available, reserved: before.reserved });
    expect(await f.report('gateway-down-past-deadline', orderIds, started)).toEqual([]);
    await restartWorker('payments', 'SIGTERM');
  }, 180_000);
});
