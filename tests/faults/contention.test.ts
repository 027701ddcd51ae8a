/**
 * Fault suite, scenarios 1, 2 and 7: many customers after the same scarce
 * product, one checkout sent twenty times at once, cancels racing the
 * payment, each other and the hand-over to the carrier, and a hundred orders
 * of two shipments whose second is cancelled around its hand-over while a
 * delivered line is returned and refunded. Real stack, over HTTP.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorisationKey, orderWorkflowId, voidKey } from '../../temporal-config/place-order';
import { bootFaultStack, CONFIRMED_STATES, until, type Customer, type FaultStack } from './support/fault-stack';
import { watchOrders } from './support/order-watch';

const HANDLING_MS = 2_000;
/** orders of two shipments in the partial-cancel-and-return race */
const ORDERS = 100;
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
/** The money per order and per line, as the order's customer reads it (GET /api/v1/orders/:id). */
const moneyOf = async (customer: Customer, orderId: string) => (await f.api('GET', `/api/v1/orders/${orderId}`, { token: customer.token })).body.money;

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
    // every delivery the carrier reported was taken in
    expect(await f.db.orderEvent.count({ where: { orderId: { in: orderIds }, type: 'DELIVERY_IGNORED' } })).toBe(0);
    const stock = async (id: string) => f.db.stock.findUniqueOrThrow({ where: { productId: id } });
    expect(await stock(scarce)).toMatchObject({ available: 0, reserved: 0, sold: 25 });
    expect(await stock(plenty)).toMatchObject({ available: 950, reserved: 0, sold: 50 });
    expect(await stock(more)).toMatchObject({ available: 975, reserved: 0, sold: 25 });
    const failed = (await f.db.order.findMany({ where: { id: { in: orderIds }, status: 'FAILED' }, select: { id: true } })).map((o) => o.id);
    expect(await f.db.reservation.count({ where: { orderId: { in: failed }, status: { in: ['HELD', 'COMMITTED'] } } })).toBe(0);
    expect(await f.report('contention-multi-item-carts', orderIds, started)).toEqual([]);
  }, 300_000);

  it('one Idempotency-Key sent 20 times at once: one order, one authorisation, 20 identical answers', async () => {
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
    // one authorisation; the hand-over's capture (HANDLING_MS after confirmation) may already be there when 20 answers took long
    expect(await f.db.gatewayTransaction.count({ where: { idempotencyKey: { startsWith: `order-${orderIds[0]}` }, kind: { not: 'CAPTURE' } } })).toBe(1);
    await f.settle(orderIds, 60_000); // confirmed on the secured payment: the stock is sold once the saga is past CONFIRMED
    expect(await f.db.stock.findUniqueOrThrow({ where: { productId: product } })).toMatchObject({ available: 7, sold: 3 });
    expect(await f.report('double-submit', orderIds, started)).toEqual([]);
  });

  it('cancels landing at the moment of the payment: every order ends CANCELLED, voided exactly when authorised', async () => {
    const started = Date.now();
    const product = await f.product(100, 1_500);
    const customers = await f.customers(16);
    const outcomes: { customer: Customer; orderId: string; placed: { status: number; body: any }; cancel: { status: number; body: any } }[] = [];
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
              await until('the authorisation at the gateway', () => f.db.gatewayTransaction.findUnique({ where: { idempotencyKey: authorisationKey(orderWorkflowId(orderId), 0) } }), 30_000, 3);
              await sleep((i % 4) * 8);
            }
            const cancel = await f.api('POST', `/api/v1/orders/${orderId}/cancel`, { token: c.token, body: { reason: 'race' } });
            return { customer: c, orderId, placed: await placed, cancel };
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
    let authorised = 0;
    for (const o of outcomes) {
      const wf = orderWorkflowId(o.orderId);
      const ledger = await f.db.gatewayTransaction.findMany({ where: { idempotencyKey: { startsWith: `${wf}:` } } });
      const rows = ledger.map((t) => [t.kind, t.idempotencyKey, t.amount]).sort();
      if (ledger.some((t) => t.kind === 'AUTHORISATION')) {
        // authorised, then every cent of it voided once
        authorised += 1;
        expect(rows).toEqual([['AUTHORISATION', authorisationKey(wf, 0), 1_500], ['VOID', voidKey(wf, 'rest'), 1_500]]);
        expect(await moneyOf(o.customer, o.orderId)).toMatchObject({ authorised: 1_500, captured: 0, voided: 1_500, refunded: 0 });
      } else {
        // cancelled first: nothing was held (the authorisation key is void if the saga had got that far)
        expect(ledger.filter((t) => t.kind !== 'VOID' || t.idempotencyKey !== authorisationKey(wf, 0) || t.amount !== 0)).toEqual([]);
        expect(await moneyOf(o.customer, o.orderId)).toMatchObject({ authorised: 0, captured: 0, voided: 0, refunded: 0 });
      }
    }
    expect(authorised).toBeGreaterThanOrEqual(12);
    console.log(`cancel-vs-payment: checkout answered ${JSON.stringify(tally(outcomes.map((o) => o.placed)))}`);
    expect(await f.report('cancel-vs-payment', orderIds, started)).toEqual([]);
  });

  it('two cancels at once: one cancellation, one void', async () => {
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
      expect(ledger.map((t) => [t.kind, t.amount]).sort()).toEqual([['AUTHORISATION', 6_000], ['VOID', 6_000]]);
    }
    expect(await f.report('double-cancel', orderIds, started)).toEqual([]);
  });

  it('cancels sent around the hand-over to the carrier: each order is either CANCELLED and voided or SHIPPED and captured, as the answer said', async () => {
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
        return { customer: c, orderId, cancel };
      }),
    );
    const orderIds = results.map((r) => r.orderId);
    await f.settle(orderIds, 60_000, (s) => s === 'CANCELLED' || s === 'SHIPPED');
    const final = new Map((await f.db.order.findMany({ where: { id: { in: orderIds } } })).map((o) => [o.id, o.status]));
    for (const r of results) {
      if (r.cancel.status === 200) {
        expect(final.get(r.orderId)).toBe('CANCELLED');
        expect(await moneyOf(r.customer, r.orderId)).toMatchObject({ authorised: 2_000, captured: 0, voided: 2_000 });
      } else {
        expect(r.cancel).toMatchObject({ status: 409, body: { code: 'ORDER_NOT_CANCELLABLE' } });
        expect(CONFIRMED_STATES).toContain(final.get(r.orderId));
        expect(await moneyOf(r.customer, r.orderId)).toMatchObject({ authorised: 2_000, captured: 2_000, voided: 0 });
      }
    }
    console.log(`hand-over race: ${[...final.values()].filter((s) => s === 'CANCELLED').length} cancelled, ${[...final.values()].filter((s) => s === 'SHIPPED').length} shipped`);
    expect(await f.report('cancel-vs-handover', orderIds, started)).toEqual([]);
  });

  it(`${ORDERS} orders of two shipments at once: the second cancelled around its hand-over, a delivered line returned and received, at staggered times: books balance, nothing refunded twice, stock conserved`, async () => {
    const started = Date.now();
    const mugs = await f.product(2 * ORDERS, 1_250, 'main');
    const kettles = await f.product(ORDERS, 6_900, 'north');
    const customers = await f.customers(ORDERS);
    const operator = await f.admin();
    const replies = await Promise.all(customers.map((c) => f.order(c, [{ productId: mugs, quantity: 2 }, { productId: kettles, quantity: 1 }])));
    expect(tally(replies)).toEqual({ '201 CONFIRMED': ORDERS });
    const orderIds = replies.map((r) => r.body.orderId as string);

    const watch = watchOrders(f.db, orderIds);
    let outcomes: Undone[];
    try {
      outcomes = await Promise.all(customers.map((c, i) => undoPart({ watch, customer: c, orderId: orderIds[i], plan: planFor(i), mugs, operator })));
      // every parcel left or was cancelled, every payment call answered, every return decided
      await until('every order at rest', async () => {
        const [inWarehouse, pending, busy] = await Promise.all([
          f.db.shipment.count({ where: { orderId: { in: orderIds }, status: 'CREATED' } }),
          f.db.payment.count({ where: { orderId: { in: orderIds }, status: 'PENDING' } }),
          f.db.order.count({ where: { id: { in: orderIds }, status: { in: ['PROCESSING', 'PARTIALLY_SHIPPED', 'RETURN_REQUESTED', 'NEEDS_ATTENTION'] } } }),
        ]);
        return inWarehouse + pending + busy === 0;
      }, 120_000, 250);
    } finally {
      await watch.stop();
    }

    const ledger = await f.db.gatewayTransaction.findMany({ where: { OR: orderIds.map((id) => ({ idempotencyKey: { startsWith: `${orderWorkflowId(id)}:` } })) } });
    let cancelled = 0;
    let restocked = 0;
    for (const o of outcomes) {
      const { plan } = o;
      const kept = o.cancel?.status !== 202;
      if (o.cancel && kept) expect(o.cancel).toMatchObject({ status: 409, body: { code: 'SHIPMENT_NOT_CANCELLABLE' } });
      if (!kept) cancelled += 1;
      const refunded = plan.returned > 0 && plan.outcome !== 'REJECT' ? 1_250 * plan.returned : 0;
      if (plan.outcome === 'RESTOCK') restocked += plan.returned;

      const { body: order } = await f.api('GET', `/api/v1/orders/${o.orderId}`, { token: o.customer.token });
      const shipments = new Map((order.shipments as { warehouse: string; status: string }[]).map((s) => [s.warehouse, s.status]));
      expect([shipments.get('main'), shipments.get('north')], o.orderId).toEqual([plan.returned > 0 ? 'DELIVERED' : 'HANDED_TO_CARRIER', kept ? 'HANDED_TO_CARRIER' : 'CANCELLED']);
      expect(order.money, o.orderId).toMatchObject({
        authorised: 9_400, captured: kept ? 9_400 : 2_500, voided: kept ? 0 : 6_900, refunded,
        lines: expect.arrayContaining([
          expect.objectContaining({ productId: mugs, authorised: 2_500, captured: 2_500, voided: 0, refunded }),
          expect.objectContaining({ productId: kettles, authorised: 6_900, captured: kept ? 6_900 : 0, voided: kept ? 0 : 6_900, refunded: 0 }),
        ]),
      });
      expect(order.returns, o.orderId).toEqual(
        plan.returned > 0 ? [expect.objectContaining({ id: o.returnId, status: refunded ? 'REFUNDED' : 'REJECTED', refundAmount: refunded })] : [],
      );
      // at the provider: one capture per parcel that left, one void per parcel cancelled, at most one refund per return
      const wf = orderWorkflowId(o.orderId);
      const mine = ledger.filter((t) => t.idempotencyKey.startsWith(`${wf}:`) && t.amount > 0);
      const sums = (kind: string) => mine.filter((t) => t.kind === kind).map((t) => t.amount).sort();
      expect([sums('AUTHORISATION'), sums('CAPTURE'), sums('VOID'), sums('REFUND'), sums('REFUSED')], o.orderId).toEqual([
        [9_400],
        kept ? [2_500, 6_900] : [2_500],
        kept ? [] : [6_900],
        refunded ? [refunded] : [],
        [],
      ]);
    }
    // every delivery the carrier reported was taken in
    expect(await f.db.orderEvent.count({ where: { orderId: { in: orderIds }, type: 'DELIVERY_IGNORED' } })).toBe(0);
    const stock = async (id: string) => f.db.stock.findUniqueOrThrow({ where: { productId: id }, select: { available: true, reserved: true, sold: true, returned: true } });
    expect(await stock(kettles)).toEqual({ available: cancelled, reserved: 0, sold: ORDERS - cancelled, returned: 0 });
    expect(await stock(mugs)).toEqual({ available: restocked, reserved: 0, sold: 2 * ORDERS, returned: restocked });
    const asked = outcomes.filter((o) => o.cancel).length;
    console.log(
      `partial-cancel-and-return: ${cancelled} of ${asked} cancels taken before the hand-over, ${asked - cancelled} too late; ` +
        `${outcomes.filter((o) => o.returnId).length} returns`,
    );
    expect(await f.report('partial-cancel-and-return', orderIds, started)).toEqual([]);
  }, 300_000);
});

/** What one of the two-shipment orders goes through: i picks the mix and the moments. */
interface Plan {
  /** cancel the second shipment (north), this long after its hand-over is due (negative: before) */
  cancelAtMs?: number;
  /** mugs returned from the first shipment, once delivered (0: none) */
  returned: number;
  outcome: 'RESTOCK' | 'WRITE_OFF' | 'REJECT';
  /** how long after the return is asked for the warehouse receives it */
  receiveAfterMs: number;
  /** the warehouse's receipt sent twice at once */
  twice: boolean;
}

const planFor = (i: number): Plan => ({
  // from 900 ms before the hand-over is due to 1.2 s after it
  cancelAtMs: i % 4 === 1 ? undefined : (((i * 7) % 15) - 6) * 150,
  returned: [0, 1, 1, 2][i % 4],
  outcome: (['RESTOCK', 'WRITE_OFF', 'REJECT'] as const)[i % 3],
  receiveAfterMs: (i % 5) * 400,
  twice: i % 4 === 3,
});

interface Undone {
  customer: Customer;
  orderId: string;
  plan: Plan;
  cancel?: { status: number; body: any };
  returnId?: string;
}

/** One order's part: the cancel of its second shipment, and the return of its first shipment's mugs, side by side. */
async function undoPart(o: { watch: ReturnType<typeof watchOrders>; customer: Customer; orderId: string; plan: Plan; mugs: string; operator: string }): Promise<Undone> {
  const { watch, customer, orderId, plan } = o;
  const processingAt = await watch.until(orderId, 'PROCESSING', (s) => s.processingAt, 120_000);
  const [main, north] = await watch.until(orderId, 'two shipments', (s) => s.shipments.length === 2 && s.shipments, 120_000);

  const cancel = async () => {
    if (plan.cancelAtMs === undefined) return undefined;
    // shipment i leaves handlingMs × (i + 1) after PROCESSING
    await sleep(processingAt + 2 * HANDLING_MS + plan.cancelAtMs - Date.now());
    return f.api('POST', `/api/v1/orders/${orderId}/shipments/cancel`, { token: customer.token, body: { trackingNumbers: [north.trackingNumber], reason: 'changed my mind' } });
  };

  const giveBack = async () => {
    if (plan.returned === 0) return {};
    // Waits for the saga to have taken in the hand-over (its timeline), not just the shipment row: a
    // delivery signalled in between is answered 202 and then ignored by the saga (DELIVERY_IGNORED).
    await watch.until(orderId, 'the first parcel with the carrier', (s) => s.handedOver.has(main.trackingNumber), 120_000);
    expect((await f.carrier(main.trackingNumber, 'delivered')).status).toBe(202);
    // likewise a return asked for between the row and the saga is refused (ORDER_NOT_RETURNABLE)
    await watch.until(orderId, 'the first parcel delivered', (s) => s.delivered.has(main.trackingNumber), 120_000);
    const asked = await f.api('POST', `/api/v1/orders/${orderId}/returns`, { token: customer.token, body: { reason: 'too many mugs', lines: [{ productId: o.mugs, quantity: plan.returned }] } });
    expect(asked, orderId).toMatchObject({ status: 202, body: { status: 'REQUESTED' } });
    const returnId = asked.body.id as string;
    await sleep(plan.receiveAfterMs);
    const inspection = [{ productId: o.mugs, quantity: plan.returned, outcome: plan.outcome, ...(plan.outcome === 'REJECT' ? { reason: 'used' } : {}) }];
    const receipts = await Promise.all(
      Array.from({ length: plan.twice ? 2 : 1 }, () => f.api('POST', `/api/v1/admin/orders/${orderId}/returns/${returnId}/received`, { token: o.operator, body: { note: 'back', inspection } })),
    );
    // a receipt is taken once; a second one at the same moment is told so, or changes nothing
    expect(receipts.some((r) => r.status === 202), orderId).toBe(true);
    for (const r of receipts) expect([[202, undefined], [409, 'RETURN_NOT_REQUESTED']]).toContainEqual([r.status, r.body?.code]);
    await watch.until(orderId, 'the return decided', (s) => ['REFUNDED', 'REJECTED'].includes(s.returns.get(returnId) ?? ''), 120_000);
    return { returnId };
  };

  const [cancelled, returned] = await Promise.all([cancel(), giveBack()]);
  return { customer, orderId, plan, cancel: cancelled, returnId: returned.returnId };
}

async function orderIdsOf(customers: Customer[]): Promise<string[]> {
  const rows = await f.db.order.findMany({ where: { customerId: { in: customers.map((c) => c.id) } }, select: { id: true } });
  return rows.map((r) => r.id);
}
