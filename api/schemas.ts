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

const minor = z.number().int().openapi({ description: 'integer minor units of the order\'s currency' });

/** What the money of an order (or of one line) has been through; minor units of `currency`. */
const moneyMoves = {
  authorised: minor.openapi({ description: 'authorised on the customer\'s card (a renewal authorises the uncaptured remainder again, and voids the old one)' }),
  captured: minor.openapi({ description: 'taken: each shipment\'s share as it is handed to the carrier (a legacy charge counts as authorised and captured)' }),
  voided: minor.openapi({ description: 'released without being taken: cancelled shipments, the remainder of a replaced authorisation, the rest of a cancelled order' }),
  refunded: minor.openapi({ description: 'given back from what was captured (returned lines)' }),
};

const moneyTotals = { currency: z.string().length(3).openapi({ example: 'USD' }), ...moneyMoves };

/** The per-order totals of the books, as in a list of orders. */
export const MoneyTotalsSchema = z
  .object(moneyTotals)
  .openapi('OrderMoneyTotals', { description: 'refunded ≤ captured ≤ authorised; once the order has ended, captured + voided = authorised' });

export const MoneyBooksSchema = z.object({
  ...moneyTotals,
  lines: z.array(
    z.object({
      productId: z.string(),
      sku: z.string(),
      name: z.string(),
      quantity: z.number().int(),
      amount: minor.openapi({ description: 'the line\'s total (unit price × quantity)' }),
      ...moneyMoves,
    }),
  ),
}).openapi('OrderMoney', {
  description: 'the order\'s books, per order and per line (minor units): refunded ≤ captured ≤ authorised, and once the order has ended captured + voided = authorised, for the order and for every line',
});

export const ReturnStatusSchema = z.enum(['REQUESTED', 'RECEIVED', 'INSPECTED', 'REFUNDED', 'REJECTED', 'LAPSED']).openapi('ReturnStatus', {
  description: 'REQUESTED → RECEIVED → INSPECTED → REFUNDED, or REJECTED (every line rejected at inspection), or LAPSED (the goods never arrived)',
});

export const InspectionOutcomeSchema = z
  .enum(['RESTOCK', 'WRITE_OFF', 'REJECT'])
  .openapi('InspectionOutcome', { description: 'RESTOCK: back to available stock, refunded; WRITE_OFF: refunded, not restocked; REJECT: not refunded (with a reason)' });

export const ReturnSchema = z
  .object({
    id: z.string(),
    orderId: z.string().uuid(),
    status: ReturnStatusSchema,
    reason: z.string(),
    trackingNumber: z.string().openapi({ description: 'the parcel\'s tracking number on its way back; the carrier webhook\'s return_received event names it' }),
    lines: z.array(
      z.object({
        productId: z.string(),
        quantity: z.number().int(),
        outcome: InspectionOutcomeSchema.optional(),
        rejectReason: z.string().optional(),
        refundAmount: minor.optional(),
      }),
    ),
    currency: z.string().length(3),
    refundAmount: minor.openapi({ description: 'refunded for this return so far' }),
    requestedAt: z.string(),
    receiveBy: z.string().optional().openapi({ description: 'the goods must reach the warehouse by then, or the return lapses' }),
    timeline: z.array(z.object({ type: z.string(), occurredAt: z.string(), detail: z.unknown().optional() })),
  })
  .openapi('Return', { description: 'one return of some delivered lines; refunded once the goods are received and inspected' });

export const ShipmentSchema = z
  .object({
    warehouse: z.string(),
    carrier: z.string(),
    trackingNumber: z.string(),
    status: z.enum(['CREATED', 'HANDED_TO_CARRIER', 'DELIVERED', 'OVERDUE', 'CANCELLED']),
    items: z.array(z.object({ productId: z.string(), quantity: z.number().int() })),
    estimatedDeliveryDays: z.number().int(),
    handedOverAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
  })
  .openapi('Shipment', { description: 'one parcel, from one warehouse; its lines\' share is captured as it is handed to the carrier' });

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
    money: MoneyBooksSchema,
    payments: z.array(
      z.object({
        kind: z.enum(['CHARGE', 'REFUND', 'AUTHORISATION', 'CAPTURE', 'VOID']),
        status: z.enum(['PENDING', 'SUCCEEDED', 'FAILED']),
        amount: MoneySchema,
        reference: z.string().nullable().openapi({ description: 'what it is for: a shipment\'s tracking number, a return id, or rest' }),
        declineCode: z.string().nullable(),
        createdAt: z.string(),
      }),
    ),
    shipments: z.array(ShipmentSchema),
    returns: z.array(ReturnSchema),
    timeline: z.array(z.object({ type: z.string(), status: z.union([StatusSchema, z.null()]), detail: z.unknown(), occurredAt: z.string() })),
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

/** Most lines one request about an order's lines may name (an order has at most 50). */
export const MAX_REQUEST_LINES = 100;

/** One to MAX_REQUEST_LINES lines. */
const someLines = <T extends z.ZodTypeAny>(line: T) => z.array(line).min(1).max(MAX_REQUEST_LINES);

const lineFields = {
  productId: text(1, 100),
  quantity: z.number().int().min(1).max(99).openapi({ description: 'units, a positive integer' }),
};

/** Some units of some lines of an order, each product once. */
export const ReturnLinesSchema = someLines(z.object(lineFields)).refine(
  (lines) => new Set(lines.map((l) => l.productId)).size === lines.length,
  'each product may appear only once',
);

/**
 * The warehouse's verdict per returned line; a product's units may be split
 * between outcomes (one mug back on the shelf, one broken). A rejected line is
 * not refunded, so the customer is owed a reason.
 */
export const InspectionSchema = someLines(
  z
    .object({ ...lineFields, outcome: InspectionOutcomeSchema, reason: text(1, 500).optional().openapi({ description: 'why; required for REJECT' }) })
    .refine((line) => line.outcome !== 'REJECT' || line.reason !== undefined, { path: ['reason'], message: 'a rejected line needs a reason' }),
).openapi('Inspection', { description: `the warehouse's verdict on every returned unit, at most ${MAX_REQUEST_LINES} lines: per product the quantities add up to the units returned (split a product between outcomes with one line each); REJECT needs a reason` });
