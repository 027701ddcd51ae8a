import { createRoute, z } from '@hono/zod-openapi';
import { API_DEFAULTS } from '../settings';
import { error, errors, json, response } from '../openapi';
import {
  MoneySchema,
  MoneyTotalsSchema,
  OrderIdParam,
  OrderOutcomeSchema,
  OrderRequestSchema,
  OrderSchema,
  page,
  PageQuery,
  RequestAcceptedSchema,
  ReturnLinesSchema,
  ReturnSchema,
  StatusSchema,
  text,
} from '../schemas';

export const OrderSummarySchema = z
  .object({
    id: z.string().uuid(),
    customerId: z.string(),
    status: StatusSchema,
    total: MoneySchema,
    lineCount: z.number().int(),
    money: MoneyTotalsSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('OrderSummary');

export const OrderPageSchema = page(OrderSummarySchema, 'OrderPage');

/** Why the customer cancels or returns the order (optional). */
const reason = z.object({ reason: text(0, 500).optional() });

export const placeOrder = createRoute({
  method: 'post',
  path: '/api/v1/orders',
  tags: ['orders'],
  summary: 'Place an order directly (without the cart); answers when the payment outcome is known',
  description:
    'Idempotent per orderId: a repeat with the same orderId and body from the same customer places nothing and gets the ' +
    "order's stored state (201 with its status, 202 while PENDING, or its failure); the same orderId with another body, or " +
    "another customer's orderId, is 422 ORDER_ID_REUSED and changes nothing. A 503 carries details.orderId: retry with it.",
  request: { body: { required: true, content: json(OrderRequestSchema) } },
  responses: {
    201: response('confirmed', OrderOutcomeSchema),
    202: response('accepted; poll the Location', OrderOutcomeSchema),
    ...errors(402, 409, 422),
  },
});

export const listOrders = createRoute({
  method: 'get',
  path: '/api/v1/orders',
  tags: ['orders'],
  summary: "The caller's orders, newest first",
  request: { query: PageQuery },
  responses: { 200: response('one page of orders', OrderPageSchema), ...errors() },
});

export const getOrder = createRoute({
  method: 'get',
  path: '/api/v1/orders/{id}',
  tags: ['orders'],
  summary: 'One of your orders with items, payments and timeline',
  request: { params: OrderIdParam },
  responses: { 200: response('the order', OrderSchema), ...errors(404) },
});

type Refusal = ReturnType<typeof error>;

/**
 * POST about one order, handed to its saga (cancel, return, goods received), with a note (optional
 * unless `required`): the order's status once the saga took it, or why it was refused. Requests
 * about a part of the order name it in more path parameters (`params`, which include the order's id).
 */
export const orderRequest = <
  Path extends string,
  Note extends z.ZodTypeAny,
  Success extends { [status in 200 | 202]?: ReturnType<typeof response> },
  Params extends z.ZodObject<typeof OrderIdParam.shape> = typeof OrderIdParam,
>(o: {
  path: Path;
  tags: string[];
  summary: string;
  description?: string;
  params?: Params;
  note: Note;
  required?: boolean;
  success: Success;
  refused: { 404: Refusal; 409: Refusal; 400?: Refusal; 422?: Refusal };
}) =>
  createRoute({
    method: 'post',
    path: o.path,
    tags: o.tags,
    summary: o.summary,
    ...(o.description ? { description: o.description } : {}),
    request: { params: o.params ?? (OrderIdParam as unknown as Params), body: { required: o.required ?? false, content: json(o.note) } },
    responses: { ...o.success, ...errors(), ...o.refused },
  });

export const cancelOrder = orderRequest({
  path: '/api/v1/orders/{id}/cancel',
  tags: ['orders'],
  summary: 'Cancel one of your orders; 200 when accepted, 409 with the reason when refused',
  description:
    'Accepted until the carrier has every parcel: what is still in the warehouse is cancelled, its stock released and its amount voided (refunded, for an order charged at checkout). ' +
    'An order paid per shipment and held in NEEDS_ATTENTION (a refused capture or authorisation renewal) drops the shipments still in the warehouse, as POST /api/v1/orders/{id}/shipments/cancel does.',
  note: reason,
  success: { 200: response('cancellation accepted; compensations run in the background', RequestAcceptedSchema) },
  refused: { 404: error(404), 409: error(409) },
});

export const returnOrder = orderRequest({
  path: '/api/v1/orders/{id}/return',
  tags: ['orders'],
  summary: 'Ask to return a delivered order within the return window: RETURN_REQUESTED; refunded and restocked once the warehouse receives the goods',
  description:
    'For an order that takes its money per shipment this is a return (POST /api/v1/orders/{id}/returns) of every delivered unit not yet returned; ' +
    'the answer is the order\'s status once the return is recorded.',
  note: reason,
  success: {
    200: response(
      'return requested: the order is RETURN_REQUESTED (nothing refunded yet); an order placed before refund-on-receipt answers DELIVERED and is refunded at once',
      RequestAcceptedSchema,
    ),
  },
  refused: { 404: error(404, 'ORDER_NOT_FOUND: no such order of yours'), 409: error(409, 'ORDER_NOT_RETURNABLE (not delivered) or RETURN_WINDOW_CLOSED') },
});

export const ReturnRequestSchema = z
  .object({
    reason: text(1, 500).openapi({ example: 'does not fit' }),
    lines: ReturnLinesSchema.optional().openapi({ description: 'the lines and units to send back; leave out to return every delivered unit not yet returned' }),
  })
  .openapi('ReturnRequest');

export const requestLineReturn = orderRequest({
  path: '/api/v1/orders/{id}/returns',
  tags: ['returns'],
  summary: 'Return some delivered lines (several returns per order): a new return, REQUESTED; refunded once the goods are received and inspected',
  description:
    'Each line at most its delivered quantity less what earlier returns took, each within its shipment\'s return window. ' +
    'Send the parcel with the return\'s trackingNumber; nothing is refunded until the warehouse has it. An order placed ' +
    'before per-shipment payments can only be returned as a whole: without lines it is (200, as POST /api/v1/orders/{id}/return), with lines 409.',
  note: ReturnRequestSchema,
  required: true,
  success: {
    202: response('the new return, REQUESTED (follow GET /api/v1/orders/{id}: its returns)', ReturnSchema),
    200: response('an order placed before per-shipment payments, returned as a whole: RETURN_REQUESTED', RequestAcceptedSchema),
  },
  refused: {
    404: error(404, 'ORDER_NOT_FOUND: no such order of yours'),
    409: error(409, 'ORDER_NOT_RETURNABLE (nothing delivered left to return, or an older order returned by lines) or RETURN_WINDOW_CLOSED'),
    422: error(422, 'RETURN_QUANTITY_EXCEEDED: more than was delivered and not yet returned, or a product the order does not have'),
  },
});

export const ShipmentsCancelSchema = z
  .object({
    trackingNumbers: z
      .array(text(4, 40))
      .min(1)
      .max(50)
      .refine((t) => new Set(t).size === t.length, 'each tracking number may appear only once')
      .optional()
      .openapi({ description: 'the shipments to cancel; leave out to cancel every one not yet handed to the carrier' }),
    reason: text(0, 500).optional(),
  })
  .openapi('ShipmentsCancel');

export const ShipmentsCancelledSchema = RequestAcceptedSchema.extend({
  shipments: z.array(
    z.object({
      trackingNumber: z.string(),
      warehouse: z.string(),
      carrier: z.string(),
      status: z.enum(['CREATED', 'HANDED_TO_CARRIER', 'DELIVERED', 'OVERDUE', 'CANCELLED']),
      items: z.array(z.object({ productId: z.string(), quantity: z.number().int() })).optional(),
      amount: z.number().int().optional().openapi({ description: 'its share of the order, minor units' }),
      held: z.string().optional().openapi({ description: 'why it waits for an operator (a capture the gateway refused)' }),
    }),
  ),
}).openapi('ShipmentsCancelled');

export const cancelShipments = orderRequest({
  path: '/api/v1/orders/{id}/shipments/cancel',
  tags: ['fulfilment'],
  summary: 'Cancel the shipments of one of your orders that the carrier does not have yet: their stock is released, their amount voided',
  description:
    'Shipments already handed to the carrier are unaffected. Before any shipment is handed over, cancelling all of them cancels the order. ' +
    'POST /api/v1/orders/{id}/cancel cancels whatever is not yet handed over too.',
  note: ShipmentsCancelSchema,
  success: { 202: response('accepted: the named shipments are CANCELLED, their amount voided in the background', ShipmentsCancelledSchema) },
  refused: {
    404: error(404, 'ORDER_NOT_FOUND: no such order of yours'),
    409: error(
      409,
      'SHIPMENT_NOT_CANCELLABLE: one named is not in the warehouse any more (handed over, being handed over, cancelled, or not this order\'s), none is left, ' +
        'or the order was placed before per-shipment payments (cancel it as a whole)',
    ),
  },
});

export const orderEvents = createRoute({
  method: 'get',
  path: '/api/v1/orders/{id}/events',
  tags: ['orders'],
  summary: 'Server-Sent Events: the timeline so far, then each new event; ends after CANCELLED or FAILED',
  description:
    'Each event has `id:` = the order_events row id and `data:` = an OrderEvent as JSON. Reconnect with ' +
    'Last-Event-ID to receive only newer events. A `: heartbeat` comment comes every 15 s. After CANCELLED or ' +
    'FAILED the last message is `event: end` with data {"status": ...}; close the EventSource on it, or it reconnects. ' +
    `The server closes every stream after EVENT_STREAM_LIFETIME_MS (default ${API_DEFAULTS.eventStreamLifetimeMs / 60_000} min); ` +
    'EventSource then reconnects with Last-Event-ID by itself and misses nothing. At most ' +
    `EVENT_STREAMS_PER_CUSTOMER (default ${API_DEFAULTS.eventStreamsPerCustomer}) streams per customer and EVENT_STREAMS_PER_PROCESS ` +
    `(default ${API_DEFAULTS.eventStreamsPerProcess}) in all are open at once per API process; one more is a 429 before the stream opens.`,
  request: {
    params: OrderIdParam,
    headers: z.object({
      'last-event-id': z
        .string()
        .regex(/^\d{1,18}$/, 'an event id this stream sent')
        .optional()
        .openapi({ param: { name: 'last-event-id', in: 'header' } }),
    }),
  },
  responses: {
    200: {
      description: 'text/event-stream of OrderEvent',
      content: {
        'text/event-stream': {
          schema: z.string().openapi({ example: 'id: 42\ndata: {"id":"42","sequence":1,"type":"ORDER_PLACED","status":"PENDING","detail":{},"occurredAt":"..."}\n\n' }),
        },
      },
    },
    ...errors(404),
    429: error(429, 'RATE_LIMITED: too many open event streams (details.scope: customer or process); retry after Retry-After seconds'),
  },
});

export const OrderEventSchema = z
  .object({
    id: z.string().openapi({ description: 'the event id: the same as the webhook envelope id' }),
    sequence: z.number().int().openapi({ description: "1, 2, 3... per order without gaps: the webhook envelope's sequence" }),
    type: z.string(),
    status: z.union([StatusSchema, z.null()]),
    detail: z.unknown(),
    occurredAt: z.string(),
  })
  .openapi('OrderEvent');
