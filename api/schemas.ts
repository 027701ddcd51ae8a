import { z } from '@hono/zod-openapi';
import { OrderStatuses } from '../domain/order-status';

/** A UTF-16 surrogate without its pair: not Unicode, and jsonb refuses its \u escape. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * A bounded string PostgreSQL can store: a NUL byte or an unpaired surrogate
 * would make the database, not the client, fail (a 500 for client input, or
 * a saga that cannot write the order).
 */
export const text = (min: number, max: number) =>
  z
    .string()
    .trim()
    .min(min)
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
    .refine((s) => !LONE_SURROGATE.test(s), 'must not contain unpaired UTF-16 surrogates');

export const MoneySchema = z
  .object({ amount: z.number().int().openapi({ example: 1999 }), currency: z.string().length(3).openapi({ example: 'USD' }) })
  .openapi('Money', { description: 'integer minor units plus ISO-4217 currency' });

export const ErrorSchema = z
  .object({
    code: z.string().openapi({ example: 'VALIDATION_FAILED' }),
    message: z.string(),
    details: z.unknown().optional(),
    requestId: z.string(),
  })
  .openapi('Error');

export const AddressSchema = z
  .object({
    name: text(1, 200),
    line1: text(1, 200),
    line2: text(0, 200).optional(),
    city: text(1, 100),
    postalCode: text(1, 20),
    country: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 code, e.g. US'),
  })
  .openapi('ShippingAddress');

export const PaymentMethodSchema = z
  .object({ token: text(1, 100).openapi({ example: 'tok_visa' }) })
  .openapi('PaymentMethod', { description: 'a payment token from the provider (test tokens: see README); never a card number' });

export const OrderRequestSchema = z
  .object({
    orderId: z.string().uuid().optional().openapi({ description: 'client-chosen id; sending the same id again never places a second order' }),
    items: z
      .array(z.object({ productId: text(1, 100), quantity: z.number().int().min(1).max(99) }))
      .min(1)
      .max(50)
      .refine((items) => new Set(items.map((i) => i.productId)).size === items.length, 'each product may appear only once'),
    shippingAddress: AddressSchema,
    paymentMethod: PaymentMethodSchema,
  })
  .openapi('OrderRequest', { description: 'the customer is the bearer of the access token' });

export const StatusSchema = z.enum(OrderStatuses).openapi('OrderStatus');

/** The order's id in a route's path. */
export const OrderIdParam = z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) });

/** The answer to a request the order's saga has taken (cancel, return, goods received): the order's status now. */
export const RequestAcceptedSchema = z
  .object({ orderId: z.string().uuid(), accepted: z.literal(true), status: StatusSchema })
  .openapi('RequestAccepted');

export const OrderOutcomeSchema = z
  .object({
    orderId: z.string().uuid(),
    status: StatusSchema,
    total: MoneySchema,
    location: z.string().optional(),
  })
  .openapi('OrderOutcome');

export const OrderSchema = z
  .object({
    id: z.string().uuid(),
    customerId: z.string(),
    workflowId: z.string(),
    status: StatusSchema,
    total: MoneySchema,
    failureCode: z.string().nullable(),
    failureReason: z.string().nullable(),
    cancelReason: z.string().nullable(),
    shippingAddress: AddressSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
    items: z.array(
      z.object({ productId: z.string(), sku: z.string(), name: z.string(), quantity: z.number().int(), unitPrice: MoneySchema, lineTotal: MoneySchema }),
    ),
    payments: z.array(
      z.object({ kind: z.enum(['CHARGE', 'REFUND']), status: z.enum(['PENDING', 'SUCCEEDED', 'FAILED']), amount: MoneySchema, declineCode: z.string().nullable(), createdAt: z.string() }),
    ),
    shipments: z.array(
      z.object({
        warehouse: z.string(),
        carrier: z.string(),
        trackingNumber: z.string(),
        status: z.enum(['CREATED', 'HANDED_TO_CARRIER', 'DELIVERED', 'OVERDUE', 'CANCELLED']),
        estimatedDeliveryDays: z.number().int(),
        handedOverAt: z.string().nullable(),
        deliveredAt: z.string().nullable(),
      }),
    ),
    timeline: z.array(z.object({ type: z.string(), status: StatusSchema.nullable(), detail: z.unknown(), occurredAt: z.string() })),
  })
  .openapi('Order');

export const ProductSchema = z
  .object({
    id: z.string(),
    sku: z.string(),
    name: z.string(),
    description: z.string(),
    category: z.string(),
    price: MoneySchema,
    available: z.number().int(),
    active: z.boolean(),
  })
  .openapi('Product');

/** ?limit=&cursor= for every list; the cursor is opaque to clients. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ param: { name: 'limit', in: 'query' }, example: 20 }),
  cursor: z.string().max(500).optional().openapi({ param: { name: 'cursor', in: 'query' }, description: 'nextCursor of the previous page' }),
});

export const page = <T extends z.ZodTypeAny>(item: T, name: string) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable().openapi({ description: 'null on the last page' }) }).openapi(name);
