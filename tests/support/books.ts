import type { Db } from '../../prisma/client';
import { booksProblems, computeBooks, parseLineShares } from '../../domain/books';
import { authorisationKey } from '../../temporal-config/place-order';

export interface Books {
  stock: Record<string, { available: number; reserved: number; sold: number; returned: number }>;
  /** how many rows of each kind the provider's ledger holds */
  charges: number;
  refunds: number;
  authorisations: number;
  captures: number;
  voids: number;
}

/** What a bookkeeper would look at: stock per product and the provider's ledger. */
export async function readBooks(db: Db): Promise<Books> {
  const rows = await db.stock.findMany();
  const ledger = await db.gatewayTransaction.groupBy({ by: ['kind'], _count: { _all: true } });
  const count = (kind: string) => ledger.find((l) => l.kind === kind)?._count._all ?? 0;
  return {
    stock: Object.fromEntries(rows.map((r) => [r.productId, { available: r.available, reserved: r.reserved, sold: r.sold, returned: r.returned }])),
    charges: count('CHARGE'),
    refunds: count('REFUND'),
    authorisations: count('AUTHORISATION'),
    captures: count('CAPTURE'),
    voids: count('VOID'),
  };
}

type Stock = Awaited<ReturnType<Db['stock']['findMany']>>[number];
type Order = Awaited<ReturnType<typeof readOrders>>[number];
type Payment = Awaited<ReturnType<Db['payment']['findMany']>>[number];
type LedgerRow = Awaited<ReturnType<Db['gatewayTransaction']['findMany']>>[number];
type Shipment = Awaited<ReturnType<Db['shipment']['findMany']>>[number];
type Reservation = Awaited<ReturnType<Db['reservation']['findMany']>>[number];
type StockReturn = Awaited<ReturnType<Db['stockReturn']['findMany']>>[number];

/** Everything the books of one order are read from. */
interface OrderRecords {
  order: Order;
  payments: Payment[];
  shipments: Shipment[];
  reservations: Reservation[];
  stockReturns: StockReturn[];
  /** the provider's rows whose idempotency key is one of this order's (`<workflowId>:...`) */
  ledger: LedgerRow[];
  /** the provider's whole ledger by idempotency key */
  ledgerByKey: ReadonlyMap<string, LedgerRow>;
}

const readOrders = (db: Db) => db.order.findMany({ select: { id: true, workflowId: true, status: true, totalAmount: true, currency: true, items: true } });

const groupBy = <T, K>(rows: readonly T[], key: (row: T) => K): Map<K, T[]> => {
  const groups = new Map<K, T[]>();
  for (const row of rows) {
    const group = groups.get(key(row));
    if (group) group.push(row);
    else groups.set(key(row), [row]);
  }
  return groups;
};
const byOrder = <T extends { orderId: string }>(rows: readonly T[]) => groupBy(rows, (r) => r.orderId);
const sum = (rows: readonly { amount: number }[]) => rows.reduce((s, r) => s + r.amount, 0);

/** For each product: initial = available + reserved + sold - returned, nothing negative. */
function stockProblems(stock: readonly Stock[], initial: Record<string, number>): string[] {
  const problems: string[] = [];
  for (const s of stock) {
    const expected = initial[s.productId];
    if (expected === undefined) continue;
    if (s.available < 0 || s.reserved < 0 || s.sold < 0) problems.push(`${s.productId}: negative stock ${JSON.stringify(s)}`);
    if (s.available + s.reserved + s.sold - s.returned !== expected) {
      problems.push(`${s.productId}: ${s.available}+${s.reserved}+${s.sold}-${s.returned} != ${expected}`);
    }
  }
  return problems;
}

/**
 * The provider's own books, whatever order they belong to: what was captured
 * and voided of an authorisation never exceeds it, and what was refunded of a
 * capture (or a legacy charge) never exceeds it.
 */
function ledgerProblems(ledger: readonly LedgerRow[]): string[] {
  const problems: string[] = [];
  const children = groupBy(ledger.filter((t) => t.chargeId), (t) => t.chargeId);
  const of = (parent: LedgerRow, kind: string) => sum((children.get(parent.id) ?? []).filter((t) => t.kind === kind));
  for (const t of ledger) {
    if (t.kind === 'AUTHORISATION' && of(t, 'CAPTURE') + of(t, 'VOID') > t.amount) {
      problems.push(`ledger ${t.idempotencyKey}: captured ${of(t, 'CAPTURE')} + voided ${of(t, 'VOID')} > authorised ${t.amount}`);
    }
    if ((t.kind === 'CAPTURE' || t.kind === 'CHARGE') && of(t, 'REFUND') > t.amount) {
      problems.push(`ledger ${t.idempotencyKey}: refunded ${of(t, 'REFUND')} > ${t.kind === 'CAPTURE' ? 'captured' : 'charged'} ${t.amount}`);
    }
  }
  return problems;
}

/**
 * Our SUCCEEDED rows agree with the provider's: a row of the same kind and
 * amount under the same idempotency key. A void of nothing (it only
 * tombstoned an authorisation key that was never used) moved no money and
 * needs none.
 */
function agreementProblems({ order, payments, ledgerByKey }: OrderRecords): string[] {
  return payments
    .filter((p) => p.status === 'SUCCEEDED' && !(p.kind === 'VOID' && p.amount === 0))
    .flatMap((p) => {
      const t = ledgerByKey.get(p.idempotencyKey);
      if (!t) return [`${order.id}: ${p.kind} ${p.idempotencyKey} succeeded in our books, the provider has no row for it`];
      if (t.kind !== p.kind || t.amount !== p.amount) return [`${order.id}: ${p.idempotencyKey} is ${p.kind} ${p.amount} in our books, ${t.kind} ${t.amount} at the provider`];
      return [];
    });
}

/** A CANCELLED or FAILED order holds no stock. */
function heldStockProblems({ order, reservations }: OrderRecords): string[] {
  const holds = reservations.filter((r) => r.status === 'HELD' || r.status === 'COMMITTED').length;
  return (order.status === 'CANCELLED' || order.status === 'FAILED') && holds > 0 ? [`${order.id}: ${order.status} but still holds stock`] : [];
}

/**
 * Orders that charge at checkout (CHARGE / REFUND rows, or none): money agrees
 * with status (charged once and kept, charged and refunded once, or never
 * charged), and only a RETURNED order's stock is back as returned.
 */
function chargeAtCheckoutProblems({ order: o, reservations, stockReturns, ledgerByKey: byKey }: OrderRecords): string[] {
  const problems: string[] = [];
  const charge = byKey.get(`${o.workflowId}:charge`);
  const refund = byKey.get(`${o.workflowId}:refund`) ?? byKey.get(`${o.workflowId}:return-refund`);
  const charged = charge?.kind === 'CHARGE';
  if (charged && charge.amount !== o.totalAmount) problems.push(`${o.id}: charged ${charge.amount} for a total of ${o.totalAmount}`);
  if (refund && !charged) problems.push(`${o.id}: refunded without a charge`);
  if (refund && charged && refund.amount !== charge.amount) problems.push(`${o.id}: refunded ${refund.amount} of ${charge.amount}`);
  if (byKey.has(`${o.workflowId}:refund`) && byKey.has(`${o.workflowId}:return-refund`)) problems.push(`${o.id}: refunded twice`);
  // a return asked for but not yet received keeps the charge, and the stock stays sold
  const keeps = ['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'DELIVERY_OVERDUE', 'RETURN_REQUESTED'].includes(o.status);
  if (keeps && (!charged || refund)) problems.push(`${o.id}: ${o.status} but charged=${charged} refunded=${!!refund}`);
  if (o.status === 'RETURNED' && !(charged && refund)) problems.push(`${o.id}: RETURNED but charged=${charged} refunded=${!!refund}`);
  if ((o.status === 'CANCELLED' || o.status === 'FAILED') && charged && !refund) problems.push(`${o.id}: ${o.status} but charge kept`);
  const returned = reservations.some((r) => r.status === 'RETURNED');
  if (returned && o.status !== 'RETURNED') problems.push(`${o.id}: ${o.status} but its stock was restocked as returned`);
  if (stockReturns.length > 0) problems.push(`${o.id}: charged at checkout, yet lines restocked by returns ${stockReturns.map((r) => r.returnId).join(', ')}`);
  return problems;
}

/** Statuses of a per-shipment order whose shipments are not all past the warehouse yet. */
const beforeHandOver = ['PENDING', 'CONFIRMED', 'PROCESSING', 'PARTIALLY_SHIPPED'];

/**
 * Whether a per-shipment order's life has ended, money-wise: nothing more will
 * be captured or voided, so captured + voided must equal authorised. Either it
 * is over (CANCELLED, FAILED, RETURNED), or it has shipments, none of them
 * still waiting in the warehouse (CREATED), no payment call is in flight (no
 * PENDING row), and its status is past hand-over. Not while PENDING or
 * CONFIRMED with no shipments yet: the money is authorised and waits, rightly,
 * for shipments to capture it.
 */
function hasEnded({ order, payments, shipments }: OrderRecords): boolean {
  if (['CANCELLED', 'FAILED', 'RETURNED'].includes(order.status)) return true;
  return (
    shipments.length > 0 &&
    !shipments.some((s) => s.status === 'CREATED') &&
    !payments.some((p) => p.status === 'PENDING') &&
    !beforeHandOver.includes(order.status)
  );
}

/** The products (and quantities) a shipment's items JSON names. */
const shipmentItems = (s: Shipment): { productId: string; quantity: number }[] =>
  Array.isArray(s.items) ? (s.items as { productId: string; quantity: number }[]) : [];

/**
 * Orders that authorise at checkout and capture per shipment: the books of
 * domain/books.ts balance per order and per line; the checkout authorisation
 * is for the order's total, line by line; once ended, every movement at the
 * provider is in our books and a cancelled shipment's stock is released; stock
 * comes back as returned only through the order's stock_returns, never more
 * of a product than the order has.
 */
function perShipmentProblems(records: OrderRecords): string[] {
  const { order: o, payments, shipments, reservations, stockReturns, ledger } = records;
  const ended = hasEnded(records);
  const problems: string[] = [];
  try {
    const books = computeBooks({ currency: o.currency, lines: o.items }, payments);
    problems.push(...booksProblems(books, { ended }).map((p) => `${o.id}: ${p}`));
  } catch (err) {
    problems.push(`${o.id}: books unreadable: ${(err as Error).message}`);
  }

  const checkout = payments.find((p) => p.idempotencyKey === authorisationKey(o.workflowId, 0));
  if (checkout?.status === 'SUCCEEDED') {
    if (checkout.amount !== o.totalAmount) problems.push(`${o.id}: authorised ${checkout.amount} at checkout for a total of ${o.totalAmount}`);
    const shares = new Map(parseLineShares(checkout.lines).map((l) => [l.productId, l.amount]));
    for (const item of o.items) {
      if (shares.get(item.productId) !== item.lineTotalAmount) {
        problems.push(`${o.id}: line ${item.productId}: authorised ${shares.get(item.productId) ?? 0} at checkout for a line total of ${item.lineTotalAmount}`);
      }
    }
  }

  if (ended) {
    const ours = new Set(payments.filter((p) => p.status === 'SUCCEEDED').map((p) => p.idempotencyKey));
    for (const t of ledger) {
      if (['AUTHORISATION', 'CAPTURE', 'VOID', 'REFUND'].includes(t.kind) && t.amount !== 0 && !ours.has(t.idempotencyKey)) {
        problems.push(`${o.id}: the provider has ${t.kind} ${t.amount} under ${t.idempotencyKey}, our books do not`);
      }
    }
    const held = new Set(reservations.filter((r) => r.status === 'HELD' || r.status === 'COMMITTED').map((r) => r.productId));
    for (const s of shipments.filter((x) => x.status === 'CANCELLED')) {
      for (const item of shipmentItems(s)) if (held.has(item.productId)) problems.push(`${o.id}: shipment ${s.trackingNumber} cancelled, its ${item.productId} still held`);
    }
  }

  const restocked = groupBy(stockReturns, (r) => r.productId);
  for (const r of reservations.filter((x) => x.status === 'RETURNED')) {
    if (!restocked.has(r.productId)) problems.push(`${o.id}: ${r.productId} restocked as returned without a return`);
  }
  for (const [productId, rows] of restocked) {
    const ordered = o.items.find((i) => i.productId === productId)?.quantity ?? 0;
    const back = rows.reduce((s, r) => s + r.quantity, 0);
    if (back > ordered) problems.push(`${o.id}: ${back} of ${productId} restocked by returns, ${ordered} ordered`);
  }
  return problems;
}

/** An order that authorises (per-shipment) has AUTHORISATION, CAPTURE or VOID rows; one that charges at checkout has none. */
const isPerShipment = (payments: readonly Payment[]) => payments.some((p) => p.kind === 'AUTHORISATION' || p.kind === 'CAPTURE' || p.kind === 'VOID');

/**
 * The invariants every scenario ends with; empty when the books balance.
 * Stock: per product initial = available + reserved + sold - returned, nothing
 * negative. The provider's ledger: captures + voids ≤ each authorisation,
 * refunds ≤ each capture or charge. Each order: our SUCCEEDED payments agree
 * with the ledger, a CANCELLED or FAILED one holds no stock, and its money by
 * its flow (chargeAtCheckoutProblems, perShipmentProblems).
 */
export async function assertBooksBalance(db: Db, initial: Record<string, number>): Promise<string[]> {
  const [stock, orders, payments, ledger, shipments, reservations, stockReturns] = await Promise.all([
    db.stock.findMany(),
    readOrders(db),
    db.payment.findMany(),
    db.gatewayTransaction.findMany(),
    db.shipment.findMany(),
    db.reservation.findMany(),
    db.stockReturn.findMany(),
  ]);
  const ledgerByKey = new Map(ledger.map((t) => [t.idempotencyKey, t]));
  const ledgerByWorkflow = groupBy(ledger, (t) => t.idempotencyKey.split(':')[0]);
  const [paymentsOf, shipmentsOf, reservationsOf, returnsOf] = [byOrder(payments), byOrder(shipments), byOrder(reservations), byOrder(stockReturns)];
  const problems = [...stockProblems(stock, initial), ...ledgerProblems(ledger)];
  for (const order of orders) {
    const records: OrderRecords = {
      order,
      payments: paymentsOf.get(order.id) ?? [],
      shipments: shipmentsOf.get(order.id) ?? [],
      reservations: reservationsOf.get(order.id) ?? [],
      stockReturns: returnsOf.get(order.id) ?? [],
      ledger: ledgerByWorkflow.get(order.workflowId) ?? [],
      ledgerByKey,
    };
    problems.push(
      ...agreementProblems(records),
      ...heldStockProblems(records),
      ...(isPerShipment(records.payments) ? perShipmentProblems(records) : chargeAtCheckoutProblems(records)),
    );
  }
  return problems;
}

export async function initialStock(db: Db): Promise<Record<string, number>> {
  const rows = await db.stock.findMany();
  return Object.fromEntries(rows.map((r) => [r.productId, r.available + r.reserved + r.sold - r.returned]));
}
