import { randomBytes } from 'node:crypto';
import type { RouteHandler } from '@hono/zod-openapi';
import { ErrorCodes } from '../../domain/errors';
import { Prisma, type Db } from '../../prisma/client';
import { toProduct, withStock } from '../catalog/products';
import { ApiError } from '../errors';
import { orderPage, type SagaClient } from '../orders';
import type { AppEnv } from '../types';
import type * as routes from './admin.routes';

const isUniqueViolation = (err: unknown) => err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
const stockView = (s: { productId: string; available: number; reserved: number; sold: number; returned: number }) => ({
  productId: s.productId,
  available: s.available,
  reserved: s.reserved,
  sold: s.sold,
  returned: s.returned,
});

export function createAdminHandlers(db: Db, saga: SagaClient) {
  const createProduct: RouteHandler<typeof routes.createProduct, AppEnv> = async (c) => {
    const { id, price, stock, ...fields } = c.req.valid('json');
    try {
      const product = await db.product.create({
        data: {
          id: id ?? `prod_${randomBytes(6).toString('hex')}`,
          ...fields,
          priceAmount: price.amount,
          currency: price.currency,
          stock: { create: { available: stock } },
        },
        include: withStock,
      });
      return c.json(toProduct(product), 201);
    } catch (err) {
      if (isUniqueViolation(err)) throw new ApiError(ErrorCodes.PRODUCT_EXISTS, 'a product with this id or sku already exists');
      throw err;
    }
  };

  const updateProduct: RouteHandler<typeof routes.updateProduct, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    const { price, ...fields } = c.req.valid('json');
    const changed = await db.product.updateMany({
      where: { id },
      data: { ...fields, ...(price ? { priceAmount: price.amount, currency: price.currency } : {}) },
    });
    if (changed.count === 0) throw new ApiError(ErrorCodes.NOT_FOUND, 'product not found');
    return c.json(toProduct(await db.product.findUniqueOrThrow({ where: { id }, include: withStock })), 200);
  };

  const setInventory: RouteHandler<typeof routes.setInventory, AppEnv> = async (c) => {
    const { productId } = c.req.valid('param');
    const change = c.req.valid('json');
    const product = await db.product.findUnique({ where: { id: productId }, select: { id: true } });
    if (!product) throw new ApiError(ErrorCodes.NOT_FOUND, 'product not found');
    await db.stock.createMany({ data: [{ productId, available: 0 }], skipDuplicates: true });
    if (change.available !== undefined) {
      if (change.available < 0) throw new ApiError(ErrorCodes.STOCK_BELOW_ZERO, 'available stock cannot be negative', { available: change.available });
      return c.json(stockView(await db.stock.update({ where: { productId }, data: { available: change.available } })), 200);
    }
    const add = change.add!;
    // one conditional UPDATE: concurrent reservations can never push it below zero
    const moved = await db.stock.updateMany({ where: { productId, available: { gte: -add } }, data: { available: { increment: add } } });
    const stock = await db.stock.findUniqueOrThrow({ where: { productId } });
    if (moved.count === 0) {
      throw new ApiError(ErrorCodes.STOCK_BELOW_ZERO, `cannot remove ${-add}: only ${stock.available} available`, { available: stock.available, add });
    }
    return c.json(stockView(stock), 200);
  };

  const listAllOrders: RouteHandler<typeof routes.listAllOrders, AppEnv> = async (c) => {
    const { status, ...pageReq } = c.req.valid('query');
    return c.json(await orderPage(db, { status }, pageReq), 200);
  };

  /**
   * Records a return as received. PostgreSQL says whether a return awaits the
   * goods (the workflow writes RETURN_REQUESTED there before it answers the
   * customer); the workflow ignores, on its timeline, a receipt that races a lapse.
   */
  const returnReceived: RouteHandler<typeof routes.returnReceived, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    const note = c.req.valid('json').note || undefined;
    const order = await db.order.findUnique({ where: { id }, select: { status: true } });
    if (!order) throw new ApiError(ErrorCodes.ORDER_NOT_FOUND, 'order not found');
    const notAwaited = () => new ApiError(ErrorCodes.RETURN_NOT_REQUESTED, `order is ${order.status}; no return awaits its goods`, { status: order.status });
    if (order.status !== 'RETURN_REQUESTED') throw notAwaited();
    await saga.returnReceived(id, note, notAwaited);
    return c.json({ orderId: id, accepted: true as const, status: order.status }, 202);
  };

  return { createProduct, updateProduct, setInventory, listAllOrders, returnReceived };
}
