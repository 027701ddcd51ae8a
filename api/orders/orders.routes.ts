import { createRoute, z } from '@hono/zod-openapi';
import { EVENT_STREAM_DEFAULTS } from '../../platform/config';
import { error, errors, json } from '../openapi';
import { MoneySchema, OrderOutcomeSchema, OrderRequestSchema, OrderSchema, page, PageQuery, StatusSchema, text } from '../schemas';

export const OrderIdParam = z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) });

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
    201: { description: 'confirmed', content: json(OrderOutcomeSchema) },
    202: { description: 'accepted; poll the Location', content: json(OrderOutcomeSchema) },
    ...errors(402, 409, 422),
  },
});

export const listOrders = createRoute({
  method: 'get',
  path: '/api/v1/orders',
  tags: ['orders'],
  summary: "The caller's orders, newest first",
  request: { query: PageQuery },
  responses: {
    200: { description: 'one page of orders', content: json(OrderPageSchema) },
    ...errors(),
  },
});

export const getOrder = createRoute({
  method: 'get',
  path: '/api/v1/orders/{id}',
  tags: ['orders'],
  summary: 'One of your orders with items, payments and timeline',
  request: { params: OrderIdParam },
  responses: {
    200: { description: 'the order', content: json(OrderSchema) },
    ...errors(404),
  },
});

export const cancelOrder = createRoute({
  method: 'post',
  path: '/api/v1/orders/{id}/cancel',
  tags: ['orders'],
  summary: 'Cancel one of your orders; 200 when accepted, 409 with the reason when refused',
  request: {
    params: OrderIdParam,
    body: { required: false, content: json(z.object({ reason: text(0, 500).optional() })) },
  },
  responses: {
    200: {
      description: 'cancellation accepted; compensations run in the background',
      content: json(z.object({ orderId: z.string().uuid(), accepted: z.literal(true), status: StatusSchema })),
    },
    ...errors(404, 409),
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
    `The server closes every stream after EVENT_STREAM_LIFETIME_MS (default ${EVENT_STREAM_DEFAULTS.lifetimeMs / 60_000} min); ` +
    'EventSource then reconnects with Last-Event-ID by itself and misses nothing. At most ' +
    `EVENT_STREAMS_PER_CUSTOMER (default ${EVENT_STREAM_DEFAULTS.perCustomer}) streams per customer and EVENT_STREAMS_PER_PROCESS ` +
    `(default ${EVENT_STREAM_DEFAULTS.perProcess}) in all are open at once per API process; one more is a 429 before the stream opens.`,
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
