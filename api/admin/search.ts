import { z } from '@hono/zod-openapi';
import { ErrorCodes } from '../../domain/errors';
import type { Db, Prisma } from '../../prisma/client';
import { ApiError } from '../errors';

/** An e-mail prefix matching more customers than this is refused: type more of it. */
export const MAX_EMAIL_MATCHES = 500;

/** LIKE treats %, _ and \ as special; Prisma passes them on as they are, so a search for "50%" escapes them to mean the characters. */
export const likeLiteral = (s: string): string => s.replace(/[\\%_]/g, '\\$&');

/**
 * The products the stock page's search box and warehouse filter find: q in the name
 * (anywhere) or at the start of the SKU, and the warehouse named, each in any case.
 */
export function productSearch({ q, warehouse }: { q?: string; warehouse?: string }): Prisma.ProductWhereInput {
  return {
    ...(q ? { OR: [{ name: { contains: likeLiteral(q), mode: 'insensitive' } }, { sku: { startsWith: likeLiteral(q), mode: 'insensitive' } }] } : {}),
    // an insensitive `equals` is an ILIKE on PostgreSQL: escaped, so % and _ match only themselves
    ...(warehouse ? { warehouse: { equals: likeLiteral(warehouse), mode: 'insensitive' } } : {}),
  };
}

/**
 * The orders the operator's search box finds, as a filter of orderPage: by the order's id
 * (q is a uuid), by the customer's e-mail (starting with q, whatever its case: accounts
 * keep their e-mail in lower case), or by a tracking number (exactly q): a shipment's,
 * or a return's parcel on its way back.
 */
export async function orderSearch(db: Db, q: string): Promise<Prisma.OrderWhereInput> {
  const customers = await db.user.findMany({
    // Prisma passes LIKE's wildcards on as they are: here they are plain characters
    where: { email: { startsWith: likeLiteral(q.toLowerCase()) } },
    select: { id: true },
    take: MAX_EMAIL_MATCHES + 1,
  });
  if (customers.length > MAX_EMAIL_MATCHES) {
    const message = `more than ${MAX_EMAIL_MATCHES} customers' e-mails start with this: type more of it`;
    throw new ApiError(ErrorCodes.VALIDATION_FAILED, 'invalid request: q', { fields: [{ path: 'q', message }] });
  }
  const shipments = await db.shipment.findMany({ where: { trackingNumber: q }, select: { orderId: true } });
  const returns = await db.orderReturn.findMany({ where: { trackingNumber: q }, select: { orderId: true } });
  const ids = [...(z.string().uuid().safeParse(q).success ? [q] : []), ...shipments.map((s) => s.orderId), ...returns.map((r) => r.orderId)];
  return { OR: [{ id: { in: ids } }, { customerId: { in: customers.map((c) => c.id) } }] };
}
