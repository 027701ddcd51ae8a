import type { z } from '@hono/zod-openapi';
import type { Db, Prisma } from '../../prisma/client';
import type { CartSchema } from './cart.routes';
import { sumMoney } from '../../domain/money';
import { lineTotal } from '../../domain/order';

type Tx = Prisma.TransactionClient;
export type CartView = z.infer<typeof CartSchema>;

/** An empty cart still shows a total; the demo catalog is priced in USD. */
export const DEFAULT_CURRENCY = 'USD';

export async function loadCart(db: Db | Tx, customerId: string): Promise<CartView> {
  const lines = await db.cartItem.findMany({ where: { customerId }, orderBy: [{ addedAt: 'asc' }, { productId: 'asc' }] });
  const products = await db.product.findMany({ where: { id: { in: lines.map((l) => l.productId) } }, include: { stock: true } });
  const byId = new Map(products.map((p) => [p.id, p]));
  const items = lines.flatMap((l) => {
    const p = byId.get(l.productId);
    if (!p) return []; // products are deactivated, not deleted; a vanished one cannot be bought or shown
    const unitPrice = { amount: p.priceAmount, currency: p.currency };
    return [{
      productId: p.id,
      sku: p.sku,
      name: p.name,
      quantity: l.quantity,
      unitPrice,
      lineTotal: lineTotal({ unitPriceAmount: p.priceAmount, quantity: l.quantity }, p.currency),
      available: p.stock?.available ?? 0,
      active: p.active,
    }];
  });
  const currencies = new Set(items.map((i) => i.unitPrice.currency));
  const total = currencies.size > 1 ? null : sumMoney(items.map((i) => i.lineTotal), [...currencies][0] ?? DEFAULT_CURRENCY);
  return { items, itemCount: items.reduce((n, i) => n + i.quantity, 0), total };
}

/**
 * Runs a cart change alone: concurrent changes of one customer's cart queue
 * on a transaction-scoped advisory lock, so the line limit cannot be raced past.
 */
export async function changeCart<T>(db: Db, customerId: string, change: (tx: Tx) => Promise<T>): Promise<T> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`cart:${customerId}`}, 0))`;
    return change(tx);
  });
}

/** Currencies of the products already in the cart, except `productId`. */
export async function cartState(tx: Tx, customerId: string, productId: string) {
  const lines = await tx.cartItem.findMany({ where: { customerId }, select: { productId: true, quantity: true } });
  const others = lines.filter((l) => l.productId !== productId);
  const priced = await tx.product.findMany({ where: { id: { in: others.map((l) => l.productId) } }, select: { currency: true } });
  return {
    existing: lines.find((l) => l.productId === productId),
    lineCount: lines.length,
    currencies: new Set(priced.map((p) => p.currency)),
  };
}
