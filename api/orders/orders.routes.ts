import { createRoute, z } from '@hono/zod-openapi';
import { API_DEFAULTS } from '../settings';
import { error, errors, json, response } from '../openapi';
import { MoneySchema, OrderIdParam, OrderOutcomeSchema, OrderRequestSchema, OrderSchema, page, PageQuery, RequestAcceptedSchema, StatusSchema, text } from '../schemas';

export const OrderSummarySchema = z
  .object({
    id: z.string().uuid(),
    customerId: z.string(),
    status: StatusSchema,
    total: MoneySchema,
    lineCount: z.number().int(),
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

/**
 * POST about one order, handed to its saga (cancel, return, goods received), with an optional note:
 * the order's status once the saga took it, or why it was refused.
 */
export const orderRequest = <Path extends string, Note extends z.ZodTypeAny, Success extends { [status in 200 | 202]?: ReturnType<typeof response> }>(o: {
  path: Path;
  tags: string[];
  summary: string;
  note: Note;
  success: Success;
  refused: { 404: ReturnType<typeof error>; 409: ReturnType<typeof error> };
}) =>
  createRoute({
    method: 'post',
    path: o.path,
    tags: o.tags,
    summary: o.summary,
    request: { params: OrderIdParam, body: { required: false, content: json(o.note) } },
    responses: { ...o.success, ...errors(), ...o.refused },
  });

export const cancelOrder = orderRequest({
  path: '/api/v1/orders/{id}/cancel',
  tags: ['orders'],
  summary: 'Cancel one of your orders; 200 when accepted, 409 with the reason when refused',
  note: reason,
  success: { 200: response('cancellation accepted; compensations run in the background', RequestAcceptedSchema) },
  refused: { 404: error(404), 409: error(409) },
});

export const returnOrder = orderRequest({
  path: '/api/v1/orders/{id}/return',
  tags: ['orders'],
  summary: 'Ask to return a delivered order within the return window: RETURN_REQUESTED; refunded and restocked once the warehouse receives the goods',
  note: reason,
  success: {
    200: response(
      'return requested: the order is RETURN_REQUESTED (nothing refunded yet); an order placed before refund-on-receipt answers DELIVERED and is refunded at once',
      RequestAcceptedSchema,
    ),
  },
  refused: { 404: error(404, 'ORDER_NOT_FOUND: no such order of yours'), 409: error(409, 'ORDER_NOT_RETURNABLE (not delivered) or RETURN_WINDOW_CLOSED') },
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
          schema: z.string().openapi({ example: 'id: 42\ndata: {"id":"42","type":"ORDER_PLACED","status":"PENDING","detail":{},"occurredAt":"..."}\n\n' }),
        },
      },
    },
    ...errors(404),
    429: error(429, 'RATE_LIMITED: too many open event streams (details.scope: customer or process); retry after Retry-After seconds'),
  },
});

export const OrderEventSchema = z
  .object({ id: z.string(), type: z.string(), status: StatusSchema.nullable(), detail: z.unknown(), occurredAt: z.string() })
  .openapi('OrderEvent');
