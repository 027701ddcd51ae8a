import { z } from '@hono/zod-openapi';
import type { OrderStatus } from '../../domain/order-status';
import { ErrorCodes } from '../../domain/errors';
import type { Db, Prisma } from '../../prisma/client';
import { ApiError } from '../errors';
import { decodeCursor, toPage } from '../pagination';
import type { OrderSchema } from '../schemas';
import type { AuthUser } from '../types';

const total = (o: { totalAmount: number; currency: string }) => ({ amount: o.totalAmount, currency: o.currency });

/**
 * The order if the caller may see it: its owner, or an admin. Anyone else
 * gets the same 404 as for an id that does not exist, so ids leak nothing.
 */
export async function findOwnedOrder(db: Db, id: string, user: AuthUser) {
  const order = await db.order.findUnique({ where: { id }, select: { id: true, customerId: true, status: true } });
  if (!order || (user.role !== 'ADMIN' && order.customerId !== user.id)) throw new ApiError(ErrorCodes.ORDER_NOT_FOUND, 'order not found');
  return order;
}

export async function loadOrder(db: Db, id: string): Promise<z.infer<typeof OrderSchema> | undefined> {
  const order = await db.order.findUnique({
    where: { id },
    include: { items: { orderBy: { id: 'asc' } }, timeline: { orderBy: { id: 'asc' } } },
  });
  if (!order) return undefined;
  const payments = await db.payment.findMany({ where: { orderId: id }, orderBy: { createdAt: 'asc' } });
  const shipments = await db.shipment.findMany({ where: { orderId: id }, orderBy: { warehouse: 'asc' } });
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
    payments: payments.map((p) => ({
      kind: p.kind,
      status: p.status,
      amount: { amount: p.amount, currency: p.currency },
      declineCode: p.declineCode,
      createdAt: p.createdAt.toISOString(),
    })),
    shipments: shipments.map((x) => ({
      warehouse: x.warehouse,
      carrier: x.carrier,
      trackingNumber: x.trackingNumber,
      status: x.status,
      estimatedDeliveryDays: x.estimatedDeliveryDays,
      handedOverAt: x.handedOverAt?.toISOString() ?? null,
      deliveredAt: x.deliveredAt?.toISOString() ?? null,
    })),
    timeline: order.timeline.map((e) => ({ type: e.type, status: e.status, detail: e.detail, occurredAt: e.occurredAt.toISOString() })),
  };
}

// PostgreSQL has no year 0 (ISO 0000 = 1 BC), so such a cursor would fail in the database, not here.
const Cursor = z.object({ c: z.string().datetime().refine((s) => new Date(s).getUTCFullYear() >= 1), i: z.string().uuid() });

/** One page of orders, newest first; (createdAt, id) orders ties, so no order is skipped or shown twice. */
export async function orderPage(
  db: Db,
  filter: { customerId?: string; status?: OrderStatus },
  pageReq: { limit: number; cursor?: string },
) {
  const after = decodeCursor(pageReq.cursor, Cursor);
  const where: Prisma.OrderWhereInput = {
    ...(filter.customerId ? { customerId: filter.customerId } : {}),
    ...(filter.status ? { status: filter.status } : {}),
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
  return {
    items: kept.map((o) => ({
      id: o.id,
      customerId: o.customerId,
      status: o.status,
      total: total(o),
      lineCount: o._count.items,
      createdAt: o.createdAt.toISOString(),
      updatedAt: o.updatedAt.toISOString(),
    })),
    nextCursor,
  };
}
