/**
 * Fault suite, scenarios 1, 2 and 7: many customers after the same scarce
 * product, one checkout sent twenty times at once, and cancels racing the
 * payment, each other and the hand-over to the carrier. Real stack, over HTTP.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootFaultStack, CONFIRMED_STATES, until, type Customer, type FaultStack } from './support/fault-stack';

const HANDLING_MS = 2_000;
let f: FaultStack;

beforeAll(async () => {
  // 200 sagas at once take a while on 2 cores: let every checkout wait for its real outcome
  f = await bootFaultStack('contention', { FULFILMENT_HANDLING_MS: String(HANDLING_MS), CHECKOUT_WAIT_MS: '240000' });
});
afterAll(async () => {
  await f?.stop();
});

const tally = (replies: { status: number; body: any }[]) =>
  replies.reduce<Record<string, number>>((acc, r) => {
    const key = `${r.status} ${r.body?.status ?? r.body?.code}`;
    acc[key] = (acc[key] ?? 0) + 1;
    return acc;
  }, {});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

describe('fault suite: contention and races (real stack)', () => {
  it('200 customers check out the last 25 units at once: exactly 25 confirmed, 175 INVENTORY_UNAVAILABLE, none stuck', async () => {
    const started = Date.now();
    const scarce = await f.product(25);
    const customers = await f.customers(200);
    const replies = await Promise.all(customers.map((c) => f.order(c, [{ productId: scarce, quantity: 1 }])));

    expect(tally(replies)).toEqual({ '201 CONFIRMED': 25, '409 INVENTORY_UNAVAILABLE': 175 });
    const orderIds = await orderIdsOf(customers);
    expect(orderIds).toHaveLength(200);
    await f.settle(orderIds, 60_000);
    expect(await f.db.stock.findUniqueOrThrow({ where: { productId: scarce } })).toMatchObject({ available: 0, reserved: 0, sold: 25 });
    expect(await f.report('contention-single-item', orderIds, started)).toEqual([]);
  }, 300_000);

  it('200 multi-item carts that all hold the scarce product: 25 confirmed, no partial reservation survives a rejected order', async () => {
    const started = Date.now();
    const scarce = await f.product(25, 500);
    const plenty = await f.product(1_000, 250);
    const more = await f.product(1_000, 125);
    const customers = await f.customers(200);
    // the scarce line sits first, in the middle or last, so rejected orders
    // have reserved other lines before they hit it (or not)
    await Promise.all(
      customers.map(async (c, i) => {
        const lines = [{ productId: plenty, quantity: 2 }, { productId: more, quantity: 1 }];
        lines.splice(i % 3, 0, { productId: scarce, quantity: 1 });
        for (const line of lines) expect((await f.api('POST', '/api/v1/cart/items', { token: c.token, body: line })).status).toBe(200);
      }),
    );
    const replies = await Promise.all(
      customers.map((c) =>
        f.api('POST', '/api/v1/checkout', {
          token: c.token,
          headers: { 'idempotency-key': randomUUID() },
          body: { shippingAddress: { name: 'A', line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' }, paymentMethod: { token: 'tok_visa' } },
        }),
      ),
    );

    expect(tally(replies)).toEqual({ '201 CONFIRMED': 25, '409 INVENTORY_UNAVAILABLE': 175 });
    const orderIds = await orderIdsOf(customers);
    await f.settle(orderIds, 60_000);
    const stock = async (id: string) => f.db.stock.findUniqueOrThrow({ where: { productId: id } });
    expect(await stock(scarce)).toMatchObject({ available: 0, reserved: 0, sold: 25 });
    expect(await stock(plenty)).toMatchObject({ available: 950, reserved: 0, sold: 50 });
    expect(await stock(more)).toMatchObject({ available: 975, reserved: 0, sold: 25 });
    const failed = (await f.db.order.findMany({ where: { id: { in: orderIds }, status: 'FAILED' }, select: { id: true } })).map((o) => o.id);
    expect(await f.db.reservation.count({ where: { orderId: { in: failed }, status: { in: ['HELD', 'COMMITTED'] } } })).toBe(0);
    expect(await f.report('contention-multi-item-carts', orderIds, started)).toEqual([]);
  }, 300_000);

  it('one Idempotency-Key sent 20 times at once: one order, one charge, 20 identical answers', async () => {
    const started = Date.now();
    const product = await f.product(10, 2_500);
    const [customer] = await f.customers(1);
    expect((await f.api('POST', '/api/v1/cart/items', { token: customer.token, body: { productId: product, quantity: 3 } })).status).toBe(200);
    const key = randomUUID();
    const body = { shippingAddress: { name: 'B', line1: '2 Main St', city: 'Springfield', postalCode: '12345', country: 'US' }, paymentMethod: { token: 'tok_visa' } };
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => f.api('POST', '/api/v1/checkout', { token: customer.token, headers: { 'idempotency-key': key }, body })),
    );

    expect(replies[0]).toMatchObject({ status: 201, body: { status: 'CONFIRMED', total: { amount: 7_500, currency: 'USD' } } });
    for (const r of replies) expect(r).toEqual(replies[0]);
    const orderIds = await orderIdsOf([customer]);
    expect(orderIds).toEqual([replies[0].body.orderId]);
    expect(await f.db.gatewayTransaction.count({ where: { idempotencyKey: { startsWith: `order-${orderIds[0]}` } } })).toBe(1);
    expect(await f.db.stock.findUniqueOrThrow({ where: { productId: product } })).toMatchObject({ available: 7, sold: 3 });
    expect(await f.report('double-submit', orderIds, started)).toEqual([]);
  });

  it('cancels landing at the moment of the payment: every order ends CANCELLED, refunded exactly when charged', async () => {
    const started = Date.now();
    const product = await f.product(100, 1_500);
    const customers = await f.customers(16);
    const outcomes: { orderId: string; placed: { status: number; body: any }; cancel: { status: number; body: any } }[] = [];
    // four at a time: each cancel is aimed at its own order's moment
    for (let batch = 0; batch < customers.length; batch += 4) {
      outcomes.push(
        ...(await Promise.all(
          customers.slice(batch, batch + 4).map(async (c, j) => {
            const i = batch + j;
            const orderId = randomUUID();
            const placed = f.order(c, [{ productId: product, quantity: 1 }], { orderId });
            if (i < 4) {
              // before the charge: as soon as the order exists
              await until('the order row', () => f.db.order.findUnique({ where: { id: orderId } }), 30_000, 3);
            } else {
              // the gateway has just said yes and the saga does not know yet, or has only just heard
              await until('the charge at the gateway', () => f.db.gatewayTransaction.findUnique({ where: { idempotencyKey: `order-${orderId}:charge` } }), 30_000, 3);
              await sleep((i % 4) * 8);
            }
            const cancel = await f.api('POST', `/api/v1/orders/${orderId}/cancel`, { token: c.token, body: { reason: 'race' } });
            return { orderId, placed: await placed, cancel };
          }),
        )),
      );
    }
    const orderIds = outcomes.map((o) => o.orderId);
    await f.settle(orderIds, 60_000, (s) => s === 'CANCELLED');
    for (const o of outcomes) {
      expect(o.cancel).toMatchObject({ status: 200, body: { accepted: true } });
      // the checkout answered one of the two outcomes, and said which
      expect([
        [201, 'CONFIRMED'],
        [409, 'ORDER_CANCELLED'],
      ]).toContainEqual([o.placed.status, o.placed.body.status ?? o.placed.body.code]);
    }
    const ledger = await f.db.gatewayTransaction.findMany({ where: { idempotencyKey: { in: orderIds.flatMap((id) => [`order-${id}:charge`, `order-${id}:refund`]) } } });
    const charged = ledger.filter((t) => t.kind === 'CHARGE').length;
    expect(charged).toBeGreaterThanOrEqual(12);
    expect(ledger.filter((t) => t.kind === 'REFUND').length).toBe(charged);
    console.log(`cancel-vs-payment: checkout answered ${JSON.stringify(tally(outcomes.map((o) => o.placed)))}`);
    expect(await f.report('cancel-vs-payment', orderIds, started)).toEqual([]);
  });

  it('two cancels at once: one cancellation, one refund', async () => {
    const started = Date.now();
    const product = await f.product(20, 3_000);
    const customers = await f.customers(5);
    const orderIds: string[] = [];
    for (const c of customers) {
      const placed = await f.order(c, [{ productId: product, quantity: 2 }]);
      expect(placed).toMatchObject({ status: 201, body: { status: 'CONFIRMED' } });
      const orderId = placed.body.orderId as string;
      orderIds.push(orderId);
      const cancels = await Promise.all([1, 2].map((n) => f.api('POST', `/api/v1/orders/${orderId}/cancel`, { token: c.token, body: { reason: `twice ${n}` } })));
      // both are told the order is being cancelled (the second changes nothing),
      // or the second arrives after the first finished and is refused
      for (const r of cancels) expect([200, 409]).toContain(r.status);
      expect(cancels.some((r) => r.status === 200)).toBe(true);
    }
    await f.settle(orderIds, 60_000, (s) => s === 'CANCELLED');
    for (const id of orderIds) {
      const ledger = await f.db.gatewayTransaction.findMany({ where: { idempotencyKey: { startsWith: `order-${id}` } } });
      expect(ledger.map((t) => [t.kind, t.amount]).sort()).toEqual([['CHARGE', 6_000], ['REFUND', 6_000]]);
    }
    expect(await f.report('double-cancel', orderIds, started)).toEqual([]);
  });

  it('cancels sent around the hand-over to the carrier: each order is either CANCELLED and refunded or SHIPPED and charged, as the answer said', async () => {
    const started = Date.now();
    const product = await f.product(50, 2_000);
    const customers = await f.customers(9);
    const results = await Promise.all(
      customers.map(async (c, i) => {
        const placed = await f.order(c, [{ productId: product, quantity: 1 }]);
        expect(placed.status).toBe(201);
        const orderId = placed.body.orderId as string;
        await until('PROCESSING', async () => (await f.db.order.findUniqueOrThrow({ where: { id: orderId } })).status === 'PROCESSING', 30_000, 10);
        // the warehouse timer starts once PROCESSING is written, so the
        // hand-over is due about HANDLING_MS from now: aim from 300 ms before to 500 ms after
        await sleep(HANDLING_MS + (i - 3) * 100);
        const cancel = await f.api('POST', `/api/v1/orders/${orderId}/cancel`, { token: c.token, body: { reason: 'late' } });
        return { orderId, cancel };
      }),
    );
    const orderIds = results.map((r) => r.orderId);
    await f.settle(orderIds, 60_000, (s) => s === 'CANCELLED' || s === 'SHIPPED');
    const final = new Map((await f.db.order.findMany({ where: { id: { in: orderIds } } })).map((o) => [o.id, o.status]));
    for (const r of results) {
      if (r.cancel.status === 200) expect(final.get(r.orderId)).toBe('CANCELLED');
      else {
        expect(r.cancel).toMatchObject({ status: 409, body: { code: 'ORDER_NOT_CANCELLABLE' } });
        expect(CONFIRMED_STATES).toContain(final.get(r.orderId));
      }
    }
    console.log(`hand-over race: ${[...final.values()].filter((s) => s === 'CANCELLED').length} cancelled, ${[...final.values()].filter((s) => s === 'SHIPPED').length} shipped`);
    expect(await f.report('cancel-vs-handover', orderIds, started)).toEqual([]);
  });
});

async function orderIdsOf(customers: Customer[]): Promise<string[]> {
  const rows = await f.db.order.findMany({ where: { customerId: { in: customers.map((c) => c.id) } }, select: { id: true } });
  return rows.map((r) => r.id);
}
