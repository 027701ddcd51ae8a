import type { Db } from '../../prisma/client';

export interface Books {
  stock: Record<string, { available: number; reserved: number; sold: number; returned: number }>;
  charges: number;
  refunds: number;
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
  };
}

/**
 * The invariants every scenario ends with: for each product
 * initial = available + reserved + sold - returned, nothing negative; and for
 * each order, its money agrees with its status (charged once and kept,
 * charged and refunded once, or never charged), and only a RETURNED order's
 * stock is back as returned.
 */
export async function assertBooksBalance(db: Db, initial: Record<string, number>): Promise<string[]> {
  const problems: string[] = [];
  for (const s of await db.stock.findMany()) {
    const expected = initial[s.productId];
    if (expected === undefined) continue;
    if (s.available < 0 || s.reserved < 0 || s.sold < 0) problems.push(`${s.productId}: negative stock ${JSON.stringify(s)}`);
    if (s.available + s.reserved + s.sold - s.returned !== expected) {
      problems.push(`${s.productId}: ${s.available}+${s.reserved}+${s.sold}-${s.returned} != ${expected}`);
    }
  }
  const orders = await db.order.findMany({ select: { id: true, workflowId: true, status: true, totalAmount: true } });
  const ledger = await db.gatewayTransaction.findMany();
  const byKey = new Map(ledger.map((t) => [t.idempotencyKey, t]));
  for (const o of orders) {
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
    const holds = await db.reservation.count({ where: { orderId: o.id, status: { in: ['HELD', 'COMMITTED'] } } });
    if ((o.status === 'CANCELLED' || o.status === 'FAILED') && holds > 0) problems.push(`${o.id}: ${o.status} but still holds stock`);
    const returned = await db.reservation.count({ where: { orderId: o.id, status: 'RETURNED' } });
    if (returned > 0 && o.status !== 'RETURNED') problems.push(`${o.id}: ${o.status} but its stock was restocked as returned`);
  }
  return problems;
}

export async function initialStock(db: Db): Promise<Record<string, number>> {
  const rows = await db.stock.findMany();
  return Object.fromEntries(rows.map((r) => [r.productId, r.available + r.reserved + r.sold - r.returned]));
}
