import type { RouteHandler } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import { ErrorCodes } from '../../domain/errors';
import type { Db, Prisma } from '../../prisma/client';
import { ApiError } from '../errors';
import { decodeCursor, toPage } from '../pagination';
import { text } from '../schemas';
import type { AppEnv } from '../types';
import type * as routes from './catalog.routes';
import { toProduct, withStock } from './products';

const Cursor = z.object({ id: text(1, 100) });

/** LIKE treats % and _ as wildcards; a search for "50%" means the characters. */
const literal = (s: string) => s.replace(/[\\%_]/g, (ch) => `\\${ch}`);

export function createCatalogHandlers(db: Db) {
  const listProducts: RouteHandler<typeof routes.listProducts, AppEnv> = async (c) => {
    const { limit, cursor, q, category, minPrice, maxPrice } = c.req.valid('query');
    const after = decodeCursor(cursor, Cursor);
    const where: Prisma.ProductWhereInput = {
      active: true,
      ...(q ? { name: { contains: literal(q), mode: 'insensitive' } } : {}),
      // an insensitive `equals` is an ILIKE on PostgreSQL: escaped, so % and _ match only themselves
      ...(category ? { category: { equals: literal(category), mode: 'insensitive' } } : {}),
      ...(minPrice !== undefined || maxPrice !== undefined ? { priceAmount: { gte: minPrice, lte: maxPrice } } : {}),
      ...(after ? { id: { gt: after.id } } : {}),
    };
    const rows = await db.product.findMany({ where, include: withStock, orderBy: { id: 'asc' }, take: limit + 1 });
    const { rows: kept, nextCursor } = toPage(rows, limit, (p) => ({ id: p.id }));
    return c.json({ items: kept.map(toProduct), nextCursor }, 200);
  };

  const getProduct: RouteHandler<typeof routes.getProduct, AppEnv> = async (c) => {
    const product = await db.product.findUnique({ where: { id: c.req.valid('param').id }, include: withStock });
    if (!product) throw new ApiError(ErrorCodes.NOT_FOUND, 'product not found');
    return c.json(toProduct(product), 200);
  };

  return { listProducts, getProduct };
}
