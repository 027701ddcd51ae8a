import type { RouteHandler } from '@hono/zod-openapi';
import type { Db, Prisma } from '../../prisma/client';
import type { AppEnv } from '../types';
import { cartState, changeCart, loadCart } from './cart.repo';
import type * as routes from './cart.routes';
import { checkNewLine, checkProduct, checkQuantity } from './cart.rules';

export function createCartHandlers(db: Db) {
  /** Writes `quantity` (or existing + quantity) for a product after checking every cart rule. */
  const put = async (customerId: string, productId: string, quantity: number, mode: 'add' | 'set') => {
    // Refusals first, without the cart's lock: a flood of requests against a
    // full cart then never queues on it (nor holds pool connections while it waits).
    checkQuantity(quantity);
    const known = await db.product.findUnique({ where: { id: productId }, select: { id: true, active: true, currency: true } });
    checkProduct(known, productId);
    const seen = await cartState(db, customerId, productId);
    if (!seen.existing) checkNewLine(seen.lineCount, seen.currencies, known.currency);
    // ...then again under the lock, where the answer cannot be raced past
    return changeCart(db, customerId, async (tx: Prisma.TransactionClient) => {
      checkQuantity(quantity);
      const product = await tx.product.findUnique({ where: { id: productId }, select: { id: true, active: true, currency: true } });
      checkProduct(product, productId);
      const { existing, lineCount, currencies } = await cartState(tx, customerId, productId);
      if (!existing) checkNewLine(lineCount, currencies, product.currency);
      const next = mode === 'add' && existing ? existing.quantity + quantity : quantity;
      checkQuantity(next, existing ? { inCart: existing.quantity } : {});
      await tx.cartItem.upsert({
        where: { customerId_productId: { customerId, productId } },
        create: { customerId, productId, quantity: next },
        update: { quantity: next },
      });
    });
  };

  const getCart: RouteHandler<typeof routes.getCart, AppEnv> = async (c) => c.json(await loadCart(db, c.get('user')!.id), 200);

  const addItem: RouteHandler<typeof routes.addItem, AppEnv> = async (c) => {
    const customerId = c.get('user')!.id;
    const { productId, quantity } = c.req.valid('json');
    await put(customerId, productId, quantity, 'add');
    return c.json(await loadCart(db, customerId), 200);
  };

  const setItem: RouteHandler<typeof routes.setItem, AppEnv> = async (c) => {
    const customerId = c.get('user')!.id;
    await put(customerId, c.req.valid('param').productId, c.req.valid('json').quantity, 'set');
    return c.json(await loadCart(db, customerId), 200);
  };

  const removeItem: RouteHandler<typeof routes.removeItem, AppEnv> = async (c) => {
    const customerId = c.get('user')!.id;
    await db.cartItem.deleteMany({ where: { customerId, productId: c.req.valid('param').productId } });
    return c.json(await loadCart(db, customerId), 200);
  };

  const clearCart: RouteHandler<typeof routes.clearCart, AppEnv> = async (c) => {
    const customerId = c.get('user')!.id;
    await db.cartItem.deleteMany({ where: { customerId } });
    return c.json(await loadCart(db, customerId), 200);
  };

  return { getCart, addItem, setItem, removeItem, clearCart };
}
