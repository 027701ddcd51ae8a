/**
 * The per-line activities of the per-shipment flow against a real PostgreSQL,
 * called as a worker would (and called again, as Temporal retries them): stock
 * counts, shipment statuses and the recorded returns are read back from the
 * database.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInventoryActivities } from '../../activities/inventory';
import { createOrdersActivities } from '../../activities/orders';
import { createShippingActivities } from '../../activities/shipping';
import type { Db } from '../../prisma/client';
import { TestTokens } from '../../domain/payment';
import { seed } from '../../prisma/seed';
import type { PlaceOrderInput, ReturnState } from '../../temporal-config/place-order';
import { initialStock, readBooks } from '../support/books';
import { freshDatabase } from '../support/db';

let db: Db;
let initial: Record<string, number>;
let inventory: ReturnType<typeof createInventoryActivities>;
let shipping: ReturnType<typeof createShippingActivities>;
let orders: ReturnType<typeof createOrdersActivities>;

beforeAll(async () => {
  ({ db } = await freshDatabase('lines'));
  await seed(db);
  initial = await initialStock(db);
  inventory = createInventoryActivities(db);
  shipping = createShippingActivities(db);
  orders = createOrdersActivities(db);
});

afterAll(async () => {
  await db?.$disconnect();
});

type Line = { productId: string; quantity: number };

/** An order's stock reserved and, unless told otherwise, sold (its payment secured). */
async function sold(items: Line[], commit = true): Promise<string> {
  const orderId = randomUUID();
  await inventory.reserveStock({ orderId, items });
  if (commit) await inventory.commitStock({ orderId });
  return orderId;
}

const stockOf = async (productId: string) => (await readBooks(db)).stock[productId];

/** Stock conservation: for every product, available + reserved + sold - returned is what it started with. */
async function conserved(): Promise<Record<string, number>> {
  return initialStock(db);
}

const reservationStatus = async (orderId: string) =>
  Object.fromEntries((await db.reservation.findMany({ where: { orderId } })).map((r) => [r.productId, r.status]));

/** What a failed activity says: its type (the error code) and whether Temporal may retry it. */
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => ({ type: 'none', nonRetryable: false }),
    (err: { type?: string; nonRetryable?: boolean }) => ({ type: err.type, nonRetryable: err.nonRetryable }),
  );

describe('inventory.releaseLines', () => {
  it('after commit, puts back only the named lines; a retry moves nothing; stock is conserved', async () => {
    const mug = await stockOf('prod_mug');
    const kettle = await stockOf('prod_kettle');
    const orderId = await sold([{ productId: 'prod_mug', quantity: 2 }, { productId: 'prod_kettle', quantity: 1 }]);

    expect(await inventory.releaseLines({ orderId, productIds: ['prod_kettle'] })).toEqual({ released: 1 });
    expect(await inventory.releaseLines({ orderId, productIds: ['prod_kettle'] })).toEqual({ released: 0 });

    expect(await stockOf('prod_kettle')).toEqual(kettle);
    expect(await stockOf('prod_mug')).toEqual({ ...mug, available: mug.available - 2, sold: mug.sold + 2 });
    expect(await reservationStatus(orderId)).toEqual({ prod_mug: 'COMMITTED', prod_kettle: 'RELEASED' });
    expect(await conserved()).toEqual(initial);
  });

  it('before commit, puts held units back from reserved', async () => {
    const hoodie = await stockOf('prod_hoodie');
    const tshirt = await stockOf('prod_tshirt');
    const orderId = await sold([{ productId: 'prod_hoodie', quantity: 2 }, { productId: 'prod_tshirt', quantity: 1 }], false);

    expect(await inventory.releaseLines({ orderId, productIds: ['prod_hoodie'] })).toEqual({ released: 2 });
    expect(await stockOf('prod_hoodie')).toEqual(hoodie);
    expect(await stockOf('prod_tshirt')).toEqual({ ...tshirt, available: tshirt.available - 1, reserved: tshirt.reserved + 1 });
    expect(await reservationStatus(orderId)).toEqual({ prod_hoodie: 'RELEASED', prod_tshirt: 'HELD' });
    expect(await conserved()).toEqual(initial);
  });

  it('concurrent releases of the same line put it back once', async () => {
    const backpack = await stockOf('prod_backpack');
    const orderId = await sold([{ productId: 'prod_backpack', quantity: 3 }]);
    const results = await Promise.all(Array.from({ length: 8 }, () => inventory.releaseLines({ orderId, productIds: ['prod_backpack'] })));
    expect(results.reduce((s, r) => s + r.released, 0)).toBe(3);
    expect(await stockOf('prod_backpack')).toEqual(backpack);
  });
});

describe('inventory.restockLines', () => {
  it('restocks a return once: the same returnId again puts nothing more back and answers the same', async () => {
    const orderId = await sold([{ productId: 'prod_mug', quantity: 3 }]);
    const mug = await stockOf('prod_mug');

    expect(await inventory.restockLines({ orderId, returnId: `ret-${orderId}-1`, lines: [{ productId: 'prod_mug', quantity: 2 }] })).toEqual({ restocked: 2 });
    expect(await inventory.restockLines({ orderId, returnId: `ret-${orderId}-1`, lines: [{ productId: 'prod_mug', quantity: 2 }] })).toEqual({ restocked: 2 });

    expect(await stockOf('prod_mug')).toEqual({ ...mug, available: mug.available + 2, returned: mug.returned + 2 });
    expect(await db.stockReturn.findMany({ where: { orderId }, select: { returnId: true, productId: true, quantity: true } })).toEqual([
      { returnId: `ret-${orderId}-1`, productId: 'prod_mug', quantity: 2 },
    ]);
    // the rest of the line is still sold
    expect(await reservationStatus(orderId)).toEqual({ prod_mug: 'COMMITTED' });
    expect(await conserved()).toEqual(initial);
  });

  it('refuses to restock more than was sold and not yet returned, and restocks nothing of a refused return', async () => {
    const orderId = await sold([{ productId: 'prod_mug', quantity: 3 }, { productId: 'prod_tshirt', quantity: 1 }]);
    await inventory.restockLines({ orderId, returnId: `ret-${orderId}-1`, lines: [{ productId: 'prod_mug', quantity: 2 }] });
    const before = await readBooks(db);

    const refused = await failureOf(
      inventory.restockLines({ orderId, returnId: `ret-${orderId}-2`, lines: [{ productId: 'prod_tshirt', quantity: 1 }, { productId: 'prod_mug', quantity: 2 }] }),
    );
    expect(refused).toEqual({ type: 'RETURN_QUANTITY_EXCEEDED', nonRetryable: true });
    // all or none: the t-shirt line of the refused return is not back either
    expect((await readBooks(db)).stock).toEqual(before.stock);
    expect(await db.stockReturn.count({ where: { returnId: `ret-${orderId}-2` } })).toBe(0);

    // a product the order never bought
    expect(await failureOf(inventory.restockLines({ orderId, returnId: `ret-${orderId}-3`, lines: [{ productId: 'prod_lamp', quantity: 1 }] }))).toEqual({
      type: 'RETURN_QUANTITY_EXCEEDED',
      nonRetryable: true,
    });

    // what is left of the line can still come back
    expect(await inventory.restockLines({ orderId, returnId: `ret-${orderId}-4`, lines: [{ productId: 'prod_mug', quantity: 1 }] })).toEqual({ restocked: 1 });
    expect(await failureOf(inventory.restockLines({ orderId, returnId: `ret-${orderId}-5`, lines: [{ productId: 'prod_mug', quantity: 1 }] }))).toMatchObject({
      type: 'RETURN_QUANTITY_EXCEEDED',
    });
    expect(await stockOf('prod_mug')).toEqual({ ...before.stock.prod_mug, available: before.stock.prod_mug.available + 1, returned: before.stock.prod_mug.returned + 1 });
    expect(await conserved()).toEqual(initial);
  });

  it('refuses to restock a cancelled (released) line', async () => {
    const orderId = await sold([{ productId: 'prod_hoodie', quantity: 1 }]);
    await inventory.releaseLines({ orderId, productIds: ['prod_hoodie'] });
    const before = await readBooks(db);
    expect(await failureOf(inventory.restockLines({ orderId, returnId: `ret-${orderId}-1`, lines: [{ productId: 'prod_hoodie', quantity: 1 }] }))).toEqual({
      type: 'RETURN_QUANTITY_EXCEEDED',
      nonRetryable: true,
    });
    expect((await readBooks(db)).stock).toEqual(before.stock);
  });

  it('concurrent returns of the same line together restock no more than was sold', async () => {
    const orderId = await sold([{ productId: 'prod_tshirt', quantity: 3 }]);
    const tshirt = await stockOf('prod_tshirt');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => inventory.restockLines({ orderId, returnId: `ret-${orderId}-${i}`, lines: [{ productId: 'prod_tshirt', quantity: 1 }] })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    expect(await stockOf('prod_tshirt')).toEqual({ ...tshirt, available: tshirt.available + 3, returned: tshirt.returned + 3 });
    expect(await conserved()).toEqual(initial);
  });

  it('restockReturn (whole order, older runs) works as before', async () => {
    const orderId = await sold([{ productId: 'prod_mug', quantity: 1 }]);
    const mug = await stockOf('prod_mug');
    expect(await inventory.restockReturn({ orderId })).toEqual({ restocked: 1 });
    expect(await inventory.restockReturn({ orderId })).toEqual({ restocked: 0 });
    expect(await stockOf('prod_mug')).toEqual({ ...mug, available: mug.available + 1, returned: mug.returned + 1 });
    expect(await reservationStatus(orderId)).toEqual({ prod_mug: 'RETURNED' });
  });
});

describe('shipping per shipment', () => {
  const country = 'US';
  /** The mug ships from "main", the kettle from "north": two parcels. */
  const twoParcels = async () => {
    const orderId = randomUUID();
    const lines = [{ productId: 'prod_mug', quantity: 2 }, { productId: 'prod_kettle', quantity: 1 }];
    const plans = await shipping.planShipments({ orderId, lines, country });
    return { orderId, lines, plans };
  };
  const statuses = async (orderId: string) =>
    Object.fromEntries((await db.shipment.findMany({ where: { orderId } })).map((s) => [s.trackingNumber, s.status]));

  it('planShipments answers each parcel with its lines, the same on a retry', async () => {
    const { orderId, lines, plans } = await twoParcels();
    expect(plans.map((p) => [p.warehouse, p.items])).toEqual([
      ['main', [{ productId: 'prod_mug', quantity: 2 }]],
      ['north', [{ productId: 'prod_kettle', quantity: 1 }]],
    ]);
    expect(await shipping.planShipments({ orderId, lines, country })).toEqual(plans);
  });

  it('hands over only the named parcel; a retry hands over nothing more', async () => {
    const { orderId, plans } = await twoParcels();
    const [main, north] = plans.map((p) => p.trackingNumber);
    expect(await shipping.handToCarrier({ orderId, trackingNumber: main })).toEqual({ handedOver: 1 });
    expect(await shipping.handToCarrier({ orderId, trackingNumber: main })).toEqual({ handedOver: 0 });
    expect(await statuses(orderId)).toEqual({ [main]: 'HANDED_TO_CARRIER', [north]: 'CREATED' });
    const handed = await db.shipment.findUniqueOrThrow({ where: { trackingNumber: main } });
    expect(handed.handedOverAt).not.toBeNull();
  });

  it('cancels only the named parcel not yet handed over; one the carrier has stays with it', async () => {
    const { orderId, plans } = await twoParcels();
    const [main, north] = plans.map((p) => p.trackingNumber);
    await shipping.handToCarrier({ orderId, trackingNumber: main });
    expect(await shipping.cancelShipments({ orderId, trackingNumbers: [main] })).toEqual({ cancelled: 0 });
    expect(await shipping.cancelShipments({ orderId, trackingNumbers: [] })).toEqual({ cancelled: 0 });
    expect(await statuses(orderId)).toEqual({ [main]: 'HANDED_TO_CARRIER', [north]: 'CREATED' });
    expect(await shipping.cancelShipments({ orderId, trackingNumbers: [north] })).toEqual({ cancelled: 1 });
    expect(await shipping.cancelShipments({ orderId, trackingNumbers: [north] })).toEqual({ cancelled: 0 });
    expect(await statuses(orderId)).toEqual({ [main]: 'HANDED_TO_CARRIER', [north]: 'CANCELLED' });
    // a cancelled parcel is never handed over
    expect(await shipping.handToCarrier({ orderId, trackingNumber: north })).toEqual({ handedOver: 0 });
  });

  it('without tracking numbers, hand-over and cancel act on every parcel as before', async () => {
    const a = await twoParcels();
    expect(await shipping.handToCarrier({ orderId: a.orderId })).toEqual({ handedOver: 2 });
    const b = await twoParcels();
    expect(await shipping.cancelShipments({ orderId: b.orderId })).toEqual({ cancelled: 2 });
    expect(Object.values(await statuses(a.orderId))).toEqual(['HANDED_TO_CARRIER', 'HANDED_TO_CARRIER']);
    expect(Object.values(await statuses(b.orderId))).toEqual(['CANCELLED', 'CANCELLED']);
  });
});

describe('orders.recordReturn', () => {
  const placeOrder = async (): Promise<string> => {
    const input: PlaceOrderInput = {
      orderId: randomUUID(),
      customerId: 'cust-lines',
      currency: 'USD',
      items: [{ productId: 'prod_mug', sku: 'MUG-001', name: 'mug', quantity: 2, unitPriceAmount: 1250 }],
      totalAmount: 2500,
      shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' },
      paymentMethod: { token: TestTokens.success },
    };
    await orders.createOrder(input);
    return input.orderId;
  };
  const at = (minute: number) => new Date(Date.UTC(2026, 11, 7, 9, minute)).toISOString();
  const requested = (orderId: string): ReturnState => ({
    returnId: `${orderId}-r1`,
    status: 'REQUESTED',
    reason: 'too small',
    trackingNumber: `RT${orderId.slice(0, 8)}`,
    lines: [{ productId: 'prod_mug', quantity: 1 }],
    requestedAt: at(0),
    receiveBy: at(59),
    refundAmount: 0,
    timeline: [{ type: 'RETURN_REQUESTED', occurredAt: at(0) }],
  });
  const received = (orderId: string): ReturnState => {
    const r = requested(orderId);
    return { ...r, status: 'RECEIVED', timeline: [...r.timeline, { type: 'RETURN_RECEIVED', occurredAt: at(5) }] };
  };
  const refunded = (orderId: string): ReturnState => {
    const r = received(orderId);
    return {
      ...r,
      status: 'REFUNDED',
      lines: [{ productId: 'prod_mug', quantity: 1, outcome: 'RESTOCK', refundAmount: 1250 }],
      refundAmount: 1250,
      timeline: [...r.timeline, { type: 'RETURN_INSPECTED', occurredAt: at(6) }, { type: 'RETURN_REFUNDED', occurredAt: at(7), detail: { amount: 1250 } }],
    };
  };
  const row = (id: string) => db.orderReturn.findUniqueOrThrow({ where: { id } });

  it('records a return as it moves on, with its order events once', async () => {
    const orderId = await placeOrder();
    const events = [{ key: '100-RETURN_REQUESTED', type: 'RETURN_REQUESTED', occurredAt: at(0), detail: { returnId: `${orderId}-r1` } }];
    expect(await orders.recordReturn({ orderId, currency: 'USD', ret: requested(orderId), events })).toEqual({ recorded: true });
    expect(await orders.recordReturn({ orderId, currency: 'USD', ret: requested(orderId), events })).toEqual({ recorded: true });
    expect(await row(`${orderId}-r1`)).toMatchObject({ orderId, status: 'REQUESTED', reason: 'too small', currency: 'USD', refundAmount: 0, requestedAt: new Date(at(0)) });
    expect(await db.orderEvent.count({ where: { orderId, type: 'RETURN_REQUESTED' } })).toBe(1);

    await orders.recordReturn({ orderId, currency: 'USD', ret: refunded(orderId) });
    expect(await row(`${orderId}-r1`)).toMatchObject({
      status: 'REFUNDED',
      refundAmount: 1250,
      lines: [{ productId: 'prod_mug', quantity: 1, outcome: 'RESTOCK', refundAmount: 1250 }],
    });
    expect(((await row(`${orderId}-r1`)).timeline as unknown[]).length).toBe(4);
  });

  it('ignores a write that would take a return backwards: a retried older write never undoes a newer one', async () => {
    const orderId = await placeOrder();
    const id = `${orderId}-r1`;
    await orders.recordReturn({ orderId, currency: 'USD', ret: received(orderId) });
    expect(await orders.recordReturn({ orderId, currency: 'USD', ret: requested(orderId) })).toEqual({ recorded: false });
    expect(await row(id)).toMatchObject({ status: 'RECEIVED', timeline: received(orderId).timeline });

    await orders.recordReturn({ orderId, currency: 'USD', ret: refunded(orderId) });
    expect(await orders.recordReturn({ orderId, currency: 'USD', ret: received(orderId) })).toEqual({ recorded: false });
    // a return that ended stays as it ended
    expect(await orders.recordReturn({ orderId, currency: 'USD', ret: { ...refunded(orderId), status: 'REJECTED' } })).toEqual({ recorded: false });
    expect(await row(id)).toMatchObject({ status: 'REFUNDED', refundAmount: 1250 });

    // the same status with less of the timeline is an older write too
    const other = await placeOrder();
    const inspected = { ...received(other), status: 'INSPECTED' as const };
    const longer = { ...inspected, attention: 'refund refused', timeline: [...inspected.timeline, { type: 'RETURN_REFUND_REFUSED', occurredAt: at(8) }] };
    await orders.recordReturn({ orderId: other, currency: 'USD', ret: longer });
    expect(await orders.recordReturn({ orderId: other, currency: 'USD', ret: inspected })).toEqual({ recorded: false });
    expect(((await row(`${other}-r1`)).timeline as unknown[]).length).toBe(3);
  });

  it('the events of an ignored write are still recorded, once', async () => {
    const orderId = await placeOrder();
    await orders.recordReturn({ orderId, currency: 'USD', ret: received(orderId) });
    const events = [{ key: '200-RETURN_NOTE', type: 'RETURN_NOTE', occurredAt: at(9) }];
    expect(await orders.recordReturn({ orderId, currency: 'USD', ret: requested(orderId), events })).toEqual({ recorded: false });
    expect(await orders.recordReturn({ orderId, currency: 'USD', ret: requested(orderId), events })).toEqual({ recorded: false });
    expect(await db.orderEvent.count({ where: { orderId, type: 'RETURN_NOTE' } })).toBe(1);
  });
});
