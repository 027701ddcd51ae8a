import { createRoute, z } from '@hono/zod-openapi';
import { errors } from '../openapi';
import { page, PageQuery, ProductSchema, text } from '../schemas';

const minorUnits = z.coerce.number().int().min(0).max(1_000_000_000);

export const ProductQuery = PageQuery.extend({
  q: text(1, 100).optional().openapi({ param: { name: 'q', in: 'query' }, description: 'part of the name, any case' }),
  category: text(1, 50).optional().openapi({ param: { name: 'category', in: 'query' }, example: 'kitchen' }),
  minPrice: minorUnits.optional().openapi({ param: { name: 'minPrice', in: 'query' }, description: 'minor units, inclusive' }),
  maxPrice: minorUnits.optional().openapi({ param: { name: 'maxPrice', in: 'query' }, description: 'minor units, inclusive' }),
}).superRefine((q, ctx) => {
  if (q.minPrice !== undefined && q.maxPrice !== undefined && q.minPrice > q.maxPrice) {
    ctx.addIssue({ code: 'custom', path: ['maxPrice'], message: 'must not be below minPrice' });
  }
});

export const ProductIdParam = z.object({ id: text(1, 100).openapi({ param: { name: 'id', in: 'path' }, example: 'prod_mug' }) });

export const listProducts = createRoute({
  method: 'get',
  path: '/api/v1/products',
  tags: ['catalog'],
  summary: 'Products for sale with price and available stock (by id; cursor pagination)',
  request: { query: ProductQuery },
  responses: {
    200: { description: 'one page of products', content: { 'application/json': { schema: page(ProductSchema, 'ProductPage') } } },
    ...errors(),
  },
});

export const getProduct = createRoute({
  method: 'get',
  path: '/api/v1/products/{id}',
  tags: ['catalog'],
  summary: 'One product with price and available stock',
  request: { params: ProductIdParam },
  responses: {
    200: { description: 'the product', content: { 'application/json': { schema: ProductSchema } } },
    ...errors(404),
  },
});
