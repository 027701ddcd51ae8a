import type { z } from '@hono/zod-openapi';
import type { Prisma } from '../../prisma/client';
import type { ProductSchema } from '../schemas';

export type ProductView = z.infer<typeof ProductSchema>;

export const withStock = { stock: true } as const;
type ProductRow = Prisma.ProductGetPayload<{ include: typeof withStock }>;

export const toProduct = (p: ProductRow): ProductView => ({
  id: p.id,
  sku: p.sku,
  name: p.name,
  description: p.description,
  category: p.category,
  price: { amount: p.priceAmount, currency: p.currency },
  available: p.stock?.available ?? 0,
  active: p.active,
});
