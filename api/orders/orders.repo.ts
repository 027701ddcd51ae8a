import { z } from '@hono/zod-openapi';
import { computeBooks, type BooksOrderLine, type BooksPayment } from '../../domain/books';
import type { OrderStatus } from '../../domain/order-status';
import { ErrorCodes } from '../../domain/errors';
import type { Db, Prisma } from '../../prisma/client';
import type { ReturnState } from '../../temporal-config/place-order';
import { ApiError } from '../errors';
import { decodeCursor, toPage } from '../pagination';
import type { MoneyBooksSchema, MoneyTotalsSchema, OrderSchema, ReturnSchema, ShipmentSchema } from '../schemas';
import type { AuthUser } from '../types';

const total = (o: { totalAmount: number; currency: string }) => ({ amount: o.totalAmount, currency: o.currency });

/**
 * The order if the caller may see it: its owner, or an admin. Anyone else
 * gets the same 404 as for an id that does not exist, so ids leak nothing.
 */
export async function findOwnedOrder(db: Db, id: string, user: AuthUser) {
  const order = await db.order.findUnique({ where: { id }, select: { id: true, customerId: true, status: true, currency: true } });
  if (!order || (user.role !== 'ADMIN' && order.customerId !== user.id)) throw new ApiError(ErrorCodes.ORDER_NOT_FOUND, 'order not found');
  return order;
}

type Return = z.infer<typeof ReturnSchema>;
type ReturnLines = ReturnState['lines'];
type ReturnTimeline = ReturnState['timeline'];

/** A return as the saga answered it (an update's result). */
export const returnFromState = (orderId: string, currency: string, r: ReturnState): Return => ({
  id: r.returnId,
  orderId,
  status: r.status,
  reason: r.reason,
  trackingNumber: r.trackingNumber,
  lines: r.lines,
  currency,
  refundAmount: r.refundAmount,
  requestedAt: r.requestedAt,
  receiveBy: r.receiveBy,
  timeline: r.timeline,
});

/** A return as the saga last recorded it in order_returns (recordReturn writes its JSON columns from a ReturnState). */
export const returnFromRow = (r: Prisma.OrderReturnGetPayload<true>): Return => ({
  id: r.id,
  orderId: r.orderId,
  status: r.status,
  reason: r.reason,
  trackingNumber: r.trackingNumber,
  lines: r.lines as unknown as ReturnLines,
  currency: r.currency,
  refundAmount: r.refundAmount,
  requestedAt: r.requestedAt.toISOString(),
  timeline: r.timeline as unknown as ReturnTimeline,
});

/** One return of this order, as order_returns has it, or a 404 RETURN_NOT_FOUND. */
export async function findReturn(db: Db, orderId: string, returnId: string): Promise<Return> {
  const row = await db.orderReturn.findFirst({ where: { id: returnId, orderId } });
  if (!row) throw new ApiError(ErrorCodes.RETURN_NOT_FOUND, `order ${orderId} has no return ${returnId}`);
  return returnFromRow(row);
}

/** The payments columns the books read. */
const booksColumns = { orderId: true, kind: true, status: true, amount: true, currency: true, lines: true } as const;

/** An order's books, per order and per line (domain/books.ts), with each line's sku and name. */
function moneyOf(order: { currency: string; items: (BooksOrderLine & { sku: string; name: string })[] }, payments: BooksPayment[]): z.infer<typeof MoneyBooksSchema> {
  const { currency, authorised, captured, voided, refunded, lines } = computeBooks({ currency: order.currency, lines: order.items }, payments);
  return {
    currency,
    authorised,
    captured,
    voided,
    refunded,
    lines: lines.map((l, i) => ({ ...l, sku: order.items[i].sku, name: order.items[i].name })),
  };
}

const totalsOf = ({ currency, authorised, captured, voided, refunded }: z.infer<typeof MoneyTotalsSchema>) => ({ currency, authorised, captured, voided, refunded });

const shipmentFrom = (x: Prisma.ShipmentGetPayload<true>): z.infer<typeof ShipmentSchema> => ({
  warehouse: x.warehouse,
  carrier: x.carrier,
  trackingNumber: x.trackingNumber,
  status: x.status,
  items: (x.items as { productId: string; quantity: number }[]).map(({ productId, quantity }) => ({ productId, quantity })),
  estimatedDeliveryDays: x.estimatedDeliveryDays,
  handedOverAt: x.handedOverAt?.toISOString() ?? null,
  deliveredAt: x.deliveredAt?.toISOString() ?? null,
});

export async function loadOrder(db: Db, id: string): Promise<z.infer<typeof OrderSchema> | undefined> {
  const order = await db.order.findUnique({
    where: { id },
    include: { items: { orderBy: { id: 'asc' } }, timeline: { orderBy: { id: 'asc' } } },
  });
  if (!order) return undefined;
  const payments = await db.payment.findMany({ where: { orderId: id }, orderBy: { createdAt: 'asc' } });
  const shipments = await db.shipment.findMany({ where: { orderId: id }, orderBy: { warehouse: 'asc' } });
  const returns = await db.orderReturn.findMany({ where: { orderId: id }, orderBy: [{ requestedAt: 'asc' }, { id: 'asc' }] });
  return {
    id: order.id,
    customerId: order.customerId,
    workflowId: order.workflowId,
    status: order.status,
    total: total(order),
    failureCode: order.failureCode,
    failureReason: order.failureReason,
    cancelReason: order.cancelReason,
    shippingAddress: order.shippingAddress as z.infer<typeof OrderSchema>['shippingAddress'],
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    items: order.items.map((i) => ({
      productId: i.productId,
      sku: i.sku,
      name: i.name,
      quantity: i.quantity,
      unitPrice: { amount: i.unitPriceAmount, currency: i.currency },
      lineTotal: { amount: i.lineTotalAmount, currency: i.currency },
    })),
    money: moneyOf(order, payments),
    payments: payments.map((p) => ({
      kind: p.kind,
      status: p.status,
      amount: { amount: p.amount, currency: p.currency },
      reference: p.reference,
      declineCode: p.declineCode,
      createdAt: p.createdAt.toISOString(),
    })),
    shipments: shipments.map(shipmentFrom),
    returns: returns.map(returnFromRow),
    timeline: order.timeline.map((e) => ({ type: e.type, status: e.status, detail: e.detail, occurredAt: e.occurredAt.toISOString() })),
  };
}

// PostgreSQL has no year 0 (ISO 0000 = 1 BC), so such a cursor would fail in the database, not here.
const Cursor = z.object({ c: z.string().datetime().refine((s) => new Date(s).getUTCFullYear() >= 1), i: z.string().uuid() });

/**
 * One page of orders, newest first; (createdAt, id) orders ties, so no order is skipped or shown twice.
 * `matching`: only the orders it matches as well (an admin's search).
 */
export async function orderPage(
  db: Db,
  filter: { customerId?: string; status?: OrderStatus; matching?: Prisma.OrderWhereInput },
  pageReq: { limit: number; cursor?: string },
) {
  const after = decodeCursor(pageReq.cursor, Cursor);
  const where: Prisma.OrderWhereInput = {
    ...(filter.customerId ? { customerId: filter.customerId } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.matching ? { AND: [filter.matching] } : {}),
    ...(after
      ? { OR: [{ createdAt: { lt: new Date(after.c) } }, { createdAt: new Date(after.c), id: { lt: after.i } }] }
      : {}),
  };
  const rows = await db.order.findMany({
    where,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: pageReq.limit + 1,
    include: { _count: { select: { items: true } } },
  });
  const { rows: kept, nextCursor } = toPage(rows, pageReq.limit, (o) => ({ c: o.createdAt.toISOString(), i: o.id }));
  // the page's books in two queries, whatever its length
  const ids = kept.map((o) => o.id);
  const lines = await db.orderItem.findMany({ where: { orderId: { in: ids } }, orderBy: { id: 'asc' }, select: { orderId: true, productId: true, quantity: true, lineTotalAmount: true } });
  const payments = await db.payment.findMany({ where: { orderId: { in: ids } }, orderBy: { createdAt: 'asc' }, select: booksColumns });
  const money = (o: { id: string; currency: string }) =>
    totalsOf(computeBooks({ currency: o.currency, lines: lines.filter((l) => l.orderId === o.id) }, payments.filter((p) => p.orderId === o.id)));
  return {
    items: kept.map((o) => ({
      id: o.id,
      customerId: o.customerId,
      status: o.status,
      total: total(o),
      lineCount: o._count.items,
      money: money(o),
      createdAt: o.createdAt.toISOString(),
      updatedAt: o.updatedAt.toISOString(),
    })),
    nextCursor,
  };
}
