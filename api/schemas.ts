import { z } from '@hono/zod-openapi';
import { OrderStatuses } from '../domain/order-status';

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
    name: z.string().trim().min(1).max(200),
    line1: z.string().trim().min(1).max(200),
    line2: z.string().trim().max(200).optional(),
    city: z.string().trim().min(1).max(100),
    postalCode: z.string().trim().min(1).max(20),
    country: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 code, e.g. US'),
  })
  .openapi('ShippingAddress');

export const PaymentMethodSchema = z
  .object({ token: z.string().min(1).max(100).openapi({ example: 'tok_visa' }) })
  .openapi('PaymentMethod', { description: 'a payment token from the provider (test tokens: see README); never a card number' });

export const OrderRequestSchema = z
  .object({
    orderId: z.string().uuid().optional().openapi({ description: 'client-chosen id; sending the same id again never places a second order' }),
    customerId: z.string().trim().min(1).max(100),
    items: z
      .array(z.object({ productId: z.string().min(1).max(100), quantity: z.number().int().min(1).max(99) }))
      .min(1)
      .max(50)
      .refine((items) => new Set(items.map((i) => i.productId)).size === items.length, 'each product may appear only once'),
    shippingAddress: AddressSchema,
    paymentMethod: PaymentMethodSchema,
  })
  .openapi('OrderRequest');

export const StatusSchema = z.enum(OrderStatuses).openapi('OrderStatus');

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
