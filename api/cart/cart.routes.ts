import { createRoute, z } from '@hono/zod-openapi';
import { errors, json } from '../openapi';
import { MoneySchema, text } from '../schemas';
import { MAX_CART_LINES, MAX_QUANTITY, MIN_QUANTITY } from './cart.rules';

const quantity = z.number().int().openapi({
  minimum: MIN_QUANTITY,
  maximum: MAX_QUANTITY,
  description: `${MIN_QUANTITY}–${MAX_QUANTITY}; outside that 422 QUANTITY_OUT_OF_RANGE`,
});

export const CartSchema = z
  .object({
    items: z.array(
      z.object({
        productId: z.string(),
        sku: z.string(),
        name: z.string(),
        quantity: z.number().int(),
        unitPrice: MoneySchema,
        lineTotal: MoneySchema,
        available: z.number().int().openapi({ description: 'stock available now; checked again at checkout' }),
        active: z.boolean().openapi({ description: 'false: no longer for sale, checkout will refuse it' }),
      }),
    ),
    itemCount: z.number().int().openapi({ description: 'sum of quantities' }),
    total: z.union([MoneySchema, z.null()]).openapi({ description: 'null only if the lines are priced in different currencies' }),
  })
  .openapi('Cart');

const ProductIdParam = z.object({ productId: text(1, 100).openapi({ param: { name: 'productId', in: 'path' }, example: 'prod_mug' }) });
const cartResponse = { 200: { description: 'the cart after the change', content: json(CartSchema) } };
const rules = `422: PRODUCT_NOT_FOUND, PRODUCT_INACTIVE, QUANTITY_OUT_OF_RANGE, CART_TOO_MANY_ITEMS (more than ${MAX_CART_LINES} products), CART_CURRENCY_MISMATCH`;

export const getCart = createRoute({
  method: 'get',
  path: '/api/v1/cart',
  tags: ['cart'],
  summary: 'Your cart with names, unit prices, line totals and the total',
  responses: { 200: { description: 'the cart', content: json(CartSchema) }, ...errors() },
});

export const addItem = createRoute({
  method: 'post',
  path: '/api/v1/cart/items',
  tags: ['cart'],
  summary: 'Add a product (adds to the quantity already in the cart)',
  description: rules,
  request: { body: { required: true, content: json(z.object({ productId: text(1, 100), quantity }).openapi('CartItemRequest')) } },
  responses: { ...cartResponse, ...errors(422) },
});

export const setItem = createRoute({
  method: 'put',
  path: '/api/v1/cart/items/{productId}',
  tags: ['cart'],
  summary: 'Set the quantity of a product (adds the line if absent)',
  description: rules,
  request: { params: ProductIdParam, body: { required: true, content: json(z.object({ quantity })) } },
  responses: { ...cartResponse, ...errors(422) },
});

export const removeItem = createRoute({
  method: 'delete',
  path: '/api/v1/cart/items/{productId}',
  tags: ['cart'],
  summary: 'Remove a product from the cart (no error if it was not there)',
  request: { params: ProductIdParam },
  responses: { ...cartResponse, ...errors() },
});

export const clearCart = createRoute({
  method: 'delete',
  path: '/api/v1/cart',
  tags: ['cart'],
  summary: 'Empty the cart',
  responses: { ...cartResponse, ...errors() },
});
