/**
 * An order's books (domain/books.ts): the computation per order and per line,
 * every rule they can break, and the allocation of legacy whole-order rows.
 * Then tests/support/books.ts, which every money-moving test ends with, on a
 * real PostgreSQL: rows written as the per-shipment flow writes them balance,
 * and each way they can go wrong is reported.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocateByWeight, booksProblems, computeBooks, parseLineShares, type BooksPayment, type OrderBooks } from '../../domain/books';
import type { Db } from '../../prisma/client';
import { authorisationKey, captureKey, orderWorkflowId, returnLineRefundKey, voidKey } from '../../temporal-config/place-order';
import { assertBooksBalance, readBooks } from '../support/books';
import { freshDatabase } from '../support/db';

const MUG = 'prod_mug';
const KETTLE = 'prod_kettle';
// a mug line of 2 x 1250 and a kettle line of 1 x 6900: 9400 in all
const lines = [
  { productId: MUG, quantity: 2, lineTotalAmount: 2500 },
  { productId: KETTLE, quantity: 1, lineTotalAmount: 6900 },
];
const order = { currency: 'USD', lines };
const row = (kind: BooksPayment['kind'], amount: number, shares?: Record<string, number>, status = 'SUCCEEDED'): BooksPayment => ({
  kind,
  status,
  amount,
  currency: 'USD',
  lines: shares ? Object.entries(shares).map(([productId, a]) => ({ productId, amount: a })) : [],
});
const line = (books: OrderBooks, productId: string) => books.lines.find((l) => l.productId === productId);
const moves = (authorised: number, captured: number, voided: number, refunded: number) => ({ authorised, captured, voided, refunded });

/** Authorised at checkout, the mug's shipment captured, the kettle's cancelled (voided), one mug returned and refunded. */
const perShipment = [
  row('AUTHORISATION', 9400, { [MUG]: 2500, [KETTLE]: 6900 }),
  row('CAPTURE', 2500, { [MUG]: 2500 }),
  row('VOID', 6900, { [KETTLE]: 6900 }),
  row('REFUND', 1250, { [MUG]: 1250 }),
];

describe('allocateByWeight', () => {
  it('splits exactly, in proportion, the remainder to the largest fractions, ties to the earlier weight', () => {
    expect(allocateByWeight(9400, [2500, 6900])).toEqual([2500, 6900]);
    expect(allocateByWeight(4700, [2500, 6900])).toEqual([1250, 3450]);
    expect(allocateByWeight(1000, [1, 1, 1])).toEqual([334, 333, 333]);
    expect(allocateByWeight(101, [1, 2])).toEqual([34, 67]); // 33.67 and 67.33: the 0.67 takes the cent
    expect(allocateByWeight(-1000, [1, 1, 1])).toEqual([-334, -333, -333]);
    expect(allocateByWeight(0, [5, 7])).toEqual([0, 0]);
  });
  it('allocates nothing over no weight, and refuses fractions and negative weights', () => {
    expect(allocateByWeight(500, [0, 0])).toEqual([0, 0]);
    expect(allocateByWeight(500, [])).toEqual([]);
    expect(() => allocateByWeight(1.5, [1])).toThrow(RangeError);
    expect(() => allocateByWeight(10, [1, -1])).toThrow(RangeError);
  });
  it('stays exact past 2^53 / weight (amount x weight is not a safe integer)', () => {
    const parts = allocateByWeight(Number.MAX_SAFE_INTEGER, [3, 7]);
    expect(parts[0] + parts[1]).toBe(Number.MAX_SAFE_INTEGER);
    expect(parts).toEqual([2702159776422297, 6305039478318694]);
  });
});

describe('parseLineShares', () => {
  it('keeps well-formed { productId, amount } entries and leaves the rest out', () => {
    expect(parseLineShares([{ productId: MUG, amount: 10 }, { productId: KETTLE, amount: 1.5 }, { amount: 3 }, null, 'x'])).toEqual([{ productId: MUG, amount: 10 }]);
    expect(parseLineShares({ productId: MUG, amount: 10 })).toEqual([]);
    expect(parseLineShares(undefined)).toEqual([]);
  });
});

describe('computeBooks', () => {
  it('sums each kind per order and per line, next to what each line costs', () => {
    const books = computeBooks(order, perShipment);
    expect(books).toMatchObject({ currency: 'USD', amount: 9400, ...moves(9400, 2500, 6900, 1250), unallocated: moves(0, 0, 0, 0) });
    expect(line(books, MUG)).toEqual({ productId: MUG, quantity: 2, amount: 2500, ...moves(2500, 2500, 0, 1250) });
    expect(line(books, KETTLE)).toEqual({ productId: KETTLE, quantity: 1, amount: 6900, ...moves(6900, 0, 6900, 0) });
    expect(booksProblems(books, { ended: true })).toEqual([]);
  });

  it('counts only SUCCEEDED rows', () => {
    const books = computeBooks(order, [...perShipment, row('CAPTURE', 6900, { [KETTLE]: 6900 }, 'PENDING'), row('REFUND', 2500, { [MUG]: 2500 }, 'FAILED')]);
    expect(books).toMatchObject(moves(9400, 2500, 6900, 1250));
  });

  it('has no lines and no money for an order without payments', () => {
    const books = computeBooks({ currency: 'EUR', lines: [] }, []);
    expect(books).toEqual({ currency: 'EUR', amount: 0, lines: [], unallocated: moves(0, 0, 0, 0), ...moves(0, 0, 0, 0) });
  });

  it('balances across a renewal: the remainder authorised again, the old remainder voided', () => {
    const renewed = [
      row('AUTHORISATION', 9400, { [MUG]: 2500, [KETTLE]: 6900 }),
      row('CAPTURE', 2500, { [MUG]: 2500 }),
      row('AUTHORISATION', 6900, { [KETTLE]: 6900 }), // authorisationKey(wf, 1), renewing the first
      row('VOID', 6900, { [KETTLE]: 6900 }), // voidKey(wf, 'auth-0')
      row('CAPTURE', 6900, { [KETTLE]: 6900 }),
    ];
    const books = computeBooks(order, renewed);
    expect(books).toMatchObject(moves(16300, 9400, 6900, 0));
    expect(line(books, KETTLE)).toMatchObject(moves(13800, 6900, 6900, 0));
    expect(booksProblems(books, { ended: true })).toEqual([]);
    // before the kettle is captured the order has not ended, and nothing is wrong
    expect(booksProblems(computeBooks(order, renewed.slice(0, 4)), { ended: false })).toEqual([]);
  });

  it('spreads a legacy CHARGE (no lines) over the lines by their totals, as authorised and captured; a legacy REFUND likewise as refunded', () => {
    const books = computeBooks(order, [row('CHARGE', 9400), row('REFUND', 9400)]);
    expect(books).toMatchObject({ ...moves(9400, 9400, 0, 9400), unallocated: moves(0, 0, 0, 0) });
    expect(line(books, MUG)).toMatchObject(moves(2500, 2500, 0, 2500));
    expect(line(books, KETTLE)).toMatchObject(moves(6900, 6900, 0, 6900));
    expect(booksProblems(books, { ended: true })).toEqual([]);
  });

  it('allocates a legacy amount that is not the lines total in proportion, to the cent', () => {
    const books = computeBooks({ currency: 'USD', lines: [lines[0], { productId: 'prod_tee', quantity: 1, lineTotalAmount: 2500 }, { productId: 'prod_cap', quantity: 1, lineTotalAmount: 2500 }] }, [row('CHARGE', 1000)]);
    expect(books.lines.map((l) => l.captured)).toEqual([334, 333, 333]);
    expect(books.unallocated).toEqual(moves(0, 0, 0, 0));
  });

  it('takes a CHARGE that names its lines as it says', () => {
    const books = computeBooks(order, [row('CHARGE', 9400, { [MUG]: 9400 })]);
    expect(line(books, MUG)).toMatchObject(moves(9400, 9400, 0, 0));
    expect(booksProblems(books, { ended: true })).toEqual([`line ${MUG}: captured 9400 > its total 2500`]);
  });

  it('keeps what no line accounts for as unallocated: shares short of the amount, or of a product the order lacks', () => {
    const books = computeBooks(order, [row('AUTHORISATION', 9400, { [MUG]: 2500, prod_ghost: 900 })]);
    expect(books.authorised).toBe(9400);
    expect(line(books, MUG)?.authorised).toBe(2500);
    expect(line(books, KETTLE)?.authorised).toBe(0);
    expect(books.unallocated).toEqual(moves(6900, 0, 0, 0));
    expect(booksProblems(books, { ended: false })).toEqual(['order: 6900 authorised not allocated to its lines']);
  });

  it('refuses a row in another currency, unless it moved nothing', () => {
    expect(() => computeBooks(order, [{ ...row('CAPTURE', 100, { [MUG]: 100 }), currency: 'EUR' }])).toThrow(/CAPTURE of 100 EUR on an order in USD/);
    expect(computeBooks(order, [{ ...row('VOID', 0), currency: 'XXX' }])).toMatchObject(moves(0, 0, 0, 0));
  });
});

describe('booksProblems', () => {
  const problems = (rows: BooksPayment[], ended = false) => booksProblems(computeBooks(order, rows), { ended });

  it('refunded > captured, per order and per line', () => {
    expect(problems([row('AUTHORISATION', 9400, { [MUG]: 2500, [KETTLE]: 6900 }), row('CAPTURE', 2500, { [MUG]: 2500 }), row('REFUND', 3000, { [MUG]: 3000 })])).toEqual([
      'order: refunded 3000 > captured 2500',
      `line ${MUG}: refunded 3000 > captured 2500`,
    ]);
  });

  it('refunded > captured on one line only: the order looks fine, the line does not', () => {
    const rows = [row('AUTHORISATION', 9400, { [MUG]: 2500, [KETTLE]: 6900 }), row('CAPTURE', 9400, { [MUG]: 2500, [KETTLE]: 6900 }), row('REFUND', 3000, { [MUG]: 3000 })];
    expect(problems(rows)).toEqual([`line ${MUG}: refunded 3000 > captured 2500`]);
  });

  it('captured > authorised, per order and per line', () => {
    expect(problems([row('AUTHORISATION', 2000, { [MUG]: 2000 }), row('CAPTURE', 2500, { [MUG]: 2500 })])).toEqual([
      'order: captured 2500 > authorised 2000',
      `line ${MUG}: captured 2500 > authorised 2000`,
    ]);
    // the order's sums hold; the capture took the kettle's money for the mug
    expect(problems([row('AUTHORISATION', 9400, { [MUG]: 2500, [KETTLE]: 6900 }), row('CAPTURE', 2600, { [MUG]: 2600 })])).toEqual([
      `line ${MUG}: captured 2600 > authorised 2500`,
      `line ${MUG}: captured 2600 > its total 2500`,
    ]);
  });

  it('captured + voided > authorised, per order and per line', () => {
    const rows = [row('AUTHORISATION', 9400, { [MUG]: 2500, [KETTLE]: 6900 }), row('CAPTURE', 2500, { [MUG]: 2500 }), row('VOID', 7000, { [MUG]: 100, [KETTLE]: 6900 })];
    expect(problems(rows)).toEqual(['order: captured 2500 + voided 7000 > authorised 9400', `line ${MUG}: captured 2500 + voided 100 > authorised 2500`]);
  });

  it('nothing captured beyond what the order or a line costs, even when authorised', () => {
    const rows = [row('AUTHORISATION', 10000, { [MUG]: 3100, [KETTLE]: 6900 }), row('CAPTURE', 9500, { [MUG]: 2600, [KETTLE]: 6900 })];
    expect(problems(rows)).toEqual(['order: captured 9500 > its total 9400', `line ${MUG}: captured 2600 > its total 2500`]);
  });

  it('negative amounts, per order and per line', () => {
    // only a row's shares can be negative (the tables refuse negative amounts)
    const rows = [row('AUTHORISATION', 9400, { [MUG]: 9500, [KETTLE]: -100 })];
    expect(problems(rows)).toEqual([`line ${KETTLE}: authorised is negative (-100)`, `line ${KETTLE}: captured 0 > authorised -100`]);
    expect(booksProblems(computeBooks({ currency: 'USD', lines: [{ productId: MUG, quantity: 1, lineTotalAmount: -5 }] }, []), { ended: false })).toEqual([
      'order: amount is negative (-5)',
      `line ${MUG}: amount is negative (-5)`,
    ]);
  });

  it('at the end of the order, captured + voided = authorised, per order and per line; before it, money may wait', () => {
    const waiting = [row('AUTHORISATION', 9400, { [MUG]: 2500, [KETTLE]: 6900 }), row('CAPTURE', 2500, { [MUG]: 2500 })];
    expect(problems(waiting, false)).toEqual([]);
    expect(problems(waiting, true)).toEqual([
      'order: ended with captured 2500 + voided 0 != authorised 9400',
      `line ${KETTLE}: ended with captured 0 + voided 0 != authorised 6900`,
    ]);
  });

  it('a cancelled order authorised and wholly voided, or never authorised, balances', () => {
    expect(problems([row('AUTHORISATION', 9400, { [MUG]: 2500, [KETTLE]: 6900 }), row('VOID', 9400, { [MUG]: 2500, [KETTLE]: 6900 })], true)).toEqual([]);
    expect(problems([row('AUTHORISATION', 9400, { [MUG]: 2500, [KETTLE]: 6900 }, 'FAILED'), row('VOID', 0)], true)).toEqual([]);
  });
});

describe('assertBooksBalance on PostgreSQL', () => {
  let db: Db;
  const initial: Record<string, number> = {};

  beforeAll(async () => {
    ({ db } = await freshDatabase('books'));
  });
  afterAll(async () => {
    await db?.$disconnect();
  });

  /** A product of its own with 10 units. */
  async function product(priceAmount: number, warehouse: string): Promise<string> {
    const id = `prod_${randomUUID().slice(0, 8)}`;
    await db.product.create({ data: { id, sku: id, name: id, category: 'test', priceAmount, currency: 'USD', warehouse, stock: { create: { available: 10 } } } });
    initial[id] = 10;
    return id;
  }

  /**
   * What the per-shipment flow leaves behind for: 2 mugs (main) and a kettle
   * (north) authorised at checkout; the mugs' shipment captured, handed over
   * and delivered; the kettle's cancelled before it left (released, voided);
   * one mug returned, restocked and refunded.
   */
  async function deliveredWithOneReturned() {
    const [mug, kettle] = [await product(1250, 'main'), await product(6900, 'north')];
    const orderId = randomUUID();
    const wf = orderWorkflowId(orderId);
    const [mugShipment, kettleShipment, returnId] = [`SM${orderId.slice(0, 8)}`, `SN${orderId.slice(0, 8)}`, `ret_${orderId.slice(0, 8)}`];
    await db.order.create({
      data: {
        id: orderId, customerId: 'c', workflowId: wf, status: 'PARTIALLY_RETURNED', currency: 'USD', totalAmount: 9400, shippingAddress: {},
        items: { create: [
          { productId: mug, sku: mug, name: mug, quantity: 2, unitPriceAmount: 1250, lineTotalAmount: 2500, currency: 'USD' },
          { productId: kettle, sku: kettle, name: kettle, quantity: 1, unitPriceAmount: 6900, lineTotalAmount: 6900, currency: 'USD' },
        ] },
      },
    });
    await db.reservation.createMany({ data: [{ orderId, productId: mug, quantity: 2, status: 'COMMITTED' }, { orderId, productId: kettle, quantity: 1, status: 'RELEASED' }] });
    await db.stock.update({ where: { productId: mug }, data: { available: 9, sold: 2, returned: 1 } }); // 2 sold, 1 back on the shelf
    await db.stockReturn.create({ data: { returnId, orderId, productId: mug, quantity: 1 } });
    const shipment = (trackingNumber: string, warehouse: string, status: 'DELIVERED' | 'CANCELLED', productId: string, quantity: number) => ({
      orderId, warehouse, carrier: 'test', trackingNumber, status, items: [{ productId, quantity }], weightGrams: 1, estimatedDeliveryDays: 1,
    });
    await db.shipment.createMany({ data: [shipment(mugShipment, 'main', 'DELIVERED', mug, 2), shipment(kettleShipment, 'north', 'CANCELLED', kettle, 1)] });

    const keys = {
      auth: authorisationKey(wf, 0),
      capture: captureKey(wf, mugShipment, 1),
      void: voidKey(wf, kettleShipment),
      refund: returnLineRefundKey(wf, returnId, mugShipment, 1),
    };
    const ids = { auth: `au_${orderId}`, capture: `cp_${orderId}`, void: `vo_${orderId}`, refund: `re_${orderId}` };
    await db.gatewayTransaction.createMany({ data: [
      { id: ids.auth, idempotencyKey: keys.auth, kind: 'AUTHORISATION', amount: 9400, currency: 'USD' },
      { id: ids.capture, idempotencyKey: keys.capture, kind: 'CAPTURE', amount: 2500, currency: 'USD', chargeId: ids.auth },
      { id: ids.void, idempotencyKey: keys.void, kind: 'VOID', amount: 6900, currency: 'USD', chargeId: ids.auth },
      { id: ids.refund, idempotencyKey: keys.refund, kind: 'REFUND', amount: 1250, currency: 'USD', chargeId: ids.capture },
    ] });
    const payment = (kind: 'AUTHORISATION' | 'CAPTURE' | 'VOID' | 'REFUND', key: string, amount: number, shares: [string, number][]) => ({
      orderId, kind, status: 'SUCCEEDED' as const, idempotencyKey: key, amount, currency: 'USD', lines: shares.map(([productId, a]) => ({ productId, amount: a })),
    });
    await db.payment.createMany({ data: [
      payment('AUTHORISATION', keys.auth, 9400, [[mug, 2500], [kettle, 6900]]),
      payment('CAPTURE', keys.capture, 2500, [[mug, 2500]]),
      payment('VOID', keys.void, 6900, [[kettle, 6900]]),
      payment('REFUND', keys.refund, 1250, [[mug, 1250]]),
    ] });
    return { orderId, wf, mug, kettle, keys, ids, kettleShipment };
  }

  /** The problems reported about one order (its id is in each). */
  const problemsOf = async (orderId: string) => (await assertBooksBalance(db, initial)).filter((p) => p.includes(orderId));

  it('balances the books the per-shipment flow leaves, and readBooks counts the ledger by kind', async () => {
    const { orderId } = await deliveredWithOneReturned();
    expect(await assertBooksBalance(db, initial)).toEqual([]);
    expect(await readBooks(db)).toMatchObject({ charges: 0, refunds: 1, authorisations: 1, captures: 1, voids: 1 });
    expect(orderId).toBeDefined();
  });

  it('an order in the warehouse has not ended: authorised money may wait for its capture', async () => {
    const { orderId, keys, kettleShipment, kettle } = await deliveredWithOneReturned();
    await db.payment.delete({ where: { idempotencyKey: keys.void } });
    await db.gatewayTransaction.delete({ where: { idempotencyKey: keys.void } });
    await db.shipment.update({ where: { trackingNumber: kettleShipment }, data: { status: 'CREATED' } });
    await db.reservation.update({ where: { orderId_productId: { orderId, productId: kettle } }, data: { status: 'COMMITTED' } });
    await db.stock.update({ where: { productId: kettle }, data: { available: 9, sold: 1 } });
    expect(await problemsOf(orderId)).toEqual([]);
    // and once the shipment is cancelled, the kettle's 6900 must be voided
    await db.shipment.update({ where: { trackingNumber: kettleShipment }, data: { status: 'CANCELLED' } });
    expect(await problemsOf(orderId)).toEqual([
      `${orderId}: order: ended with captured 2500 + voided 0 != authorised 9400`,
      `${orderId}: line ${kettle}: ended with captured 0 + voided 0 != authorised 6900`,
      `${orderId}: shipment ${kettleShipment} cancelled, its ${kettle} still held`,
    ]);
  });

  it('a refund past its capture at the provider, and money the provider moved that our books lack', async () => {
    const { orderId, wf, ids, mug } = await deliveredWithOneReturned();
    await db.gatewayTransaction.create({ data: { id: `re2_${orderId}`, idempotencyKey: `${wf}:refund:again`, kind: 'REFUND', amount: 1500, currency: 'USD', chargeId: ids.capture } });
    expect(await problemsOf(orderId)).toEqual([
      `ledger ${captureKey(wf, `SM${orderId.slice(0, 8)}`, 1)}: refunded 2750 > captured 2500`,
      `${orderId}: the provider has REFUND 1500 under ${wf}:refund:again, our books do not`,
    ]);
    expect(mug).toBeDefined();
  });

  it('captures and voids past the authorisation at the provider', async () => {
    const { orderId, wf, ids, keys } = await deliveredWithOneReturned();
    await db.gatewayTransaction.create({ data: { id: `cp2_${orderId}`, idempotencyKey: `${wf}:capture:x:1`, kind: 'CAPTURE', amount: 100, currency: 'USD', chargeId: ids.auth } });
    expect(await problemsOf(orderId)).toEqual([
      `ledger ${keys.auth}: captured 2600 + voided 6900 > authorised 9400`,
      `${orderId}: the provider has CAPTURE 100 under ${wf}:capture:x:1, our books do not`,
    ]);
  });

  it('our SUCCEEDED row and the provider disagree, or the provider has none', async () => {
    const { orderId, keys } = await deliveredWithOneReturned();
    await db.gatewayTransaction.update({ where: { idempotencyKey: keys.refund }, data: { amount: 1000 } });
    await db.gatewayTransaction.delete({ where: { idempotencyKey: keys.void } });
    expect(await problemsOf(orderId)).toEqual([
      `${orderId}: VOID ${keys.void} succeeded in our books, the provider has no row for it`,
      `${orderId}: ${keys.refund} is REFUND 1250 in our books, REFUND 1000 at the provider`,
    ]);
  });

  it('the checkout authorisation is for the order total, line by line', async () => {
    const { orderId, keys, mug, kettle } = await deliveredWithOneReturned();
    await db.payment.update({ where: { idempotencyKey: keys.auth }, data: { lines: [{ productId: mug, amount: 3000 }, { productId: kettle, amount: 6400 }] } });
    expect(await problemsOf(orderId)).toEqual([
      `${orderId}: line ${mug}: ended with captured 2500 + voided 0 != authorised 3000`,
      `${orderId}: line ${kettle}: captured 0 + voided 6900 > authorised 6400`,
      `${orderId}: line ${kettle}: ended with captured 0 + voided 6900 != authorised 6400`,
      `${orderId}: line ${mug}: authorised 3000 at checkout for a line total of 2500`,
      `${orderId}: line ${kettle}: authorised 6400 at checkout for a line total of 6900`,
    ]);
  });

  it('stock restocked as returned only through the order`s returns, never more than ordered; a CANCELLED order holds none', async () => {
    const { orderId, kettle, mug } = await deliveredWithOneReturned();
    await db.reservation.update({ where: { orderId_productId: { orderId, productId: kettle } }, data: { status: 'RETURNED' } });
    await db.stockReturn.create({ data: { returnId: 'ret_more', orderId, productId: mug, quantity: 2 } });
    await db.stock.update({ where: { productId: mug }, data: { available: 11, returned: 3 } });
    expect(await problemsOf(orderId)).toEqual([`${orderId}: ${kettle} restocked as returned without a return`, `${orderId}: 3 of ${mug} restocked by returns, 2 ordered`]);

    const cancelled = await deliveredWithOneReturned();
    await db.order.update({ where: { id: cancelled.orderId }, data: { status: 'CANCELLED' } });
    expect(await problemsOf(cancelled.orderId)).toContain(`${cancelled.orderId}: CANCELLED but still holds stock`);
  });

  it('stock that is not conserved', async () => {
    const { mug } = await deliveredWithOneReturned();
    await db.stock.update({ where: { productId: mug }, data: { available: 8 } });
    expect((await assertBooksBalance(db, initial)).filter((p) => p.includes(mug))).toEqual([`${mug}: 8+0+2-1 != 10`]);
    await db.stock.update({ where: { productId: mug }, data: { available: 9 } });
  });

  it('an order charged at checkout keeps today`s rules: charged once for the total and kept, no line returns', async () => {
    const mug = await product(1250, 'main');
    const orderId = randomUUID();
    const wf = orderWorkflowId(orderId);
    await db.order.create({
      data: {
        id: orderId, customerId: 'c', workflowId: wf, status: 'DELIVERED', currency: 'USD', totalAmount: 2500, shippingAddress: {},
        items: { create: [{ productId: mug, sku: mug, name: mug, quantity: 2, unitPriceAmount: 1250, lineTotalAmount: 2500, currency: 'USD' }] },
      },
    });
    await db.reservation.create({ data: { orderId, productId: mug, quantity: 2, status: 'COMMITTED' } });
    await db.stock.update({ where: { productId: mug }, data: { available: 8, sold: 2 } });
    await db.gatewayTransaction.create({ data: { id: `ch_${orderId}`, idempotencyKey: `${wf}:charge`, kind: 'CHARGE', amount: 2500, currency: 'USD' } });
    await db.payment.create({ data: { orderId, kind: 'CHARGE', status: 'SUCCEEDED', idempotencyKey: `${wf}:charge`, amount: 2500, currency: 'USD' } });
    expect(await problemsOf(orderId)).toEqual([]);

    await db.stockReturn.create({ data: { returnId: 'ret_legacy', orderId, productId: mug, quantity: 1 } });
    await db.order.update({ where: { id: orderId }, data: { status: 'CANCELLED' } });
    expect(await problemsOf(orderId)).toEqual([
      `${orderId}: CANCELLED but still holds stock`,
      `${orderId}: CANCELLED but charge kept`,
      `${orderId}: charged at checkout, yet lines restocked by returns ret_legacy`,
    ]);
  });
});
