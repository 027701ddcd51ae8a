import { createRoute, z } from '@hono/zod-openapi';
import { EVENT_TYPE_FILTER, FeedDeliveryStatuses, FeedSubscriptionStatuses } from '../../domain/feed';
import { error, errors, json, response } from '../openapi';
import { page, PageQuery, text } from '../schemas';

const TAGS = ['webhooks'];
const SUBSCRIPTION_ID = '3f0c2a9e-5b7d-4c1e-9a8f-2d6b1e4c7a90';
/** PostgreSQL's bigint: a larger id names nothing (and must not reach the database as a 500) */
const MAX_BIGINT = 2n ** 63n - 1n;
const DIGITS = /^\d{1,19}$/;

/** An id of a bigint column (deliveries, order events, a page's cursor), as digits. */
export const BigintIdSchema = z
  .string()
  .regex(DIGITS, 'digits')
  // checked even when the regex failed (zod runs every check): BigInt only sees digits
  .refine((s) => !DIGITS.test(s) || BigInt(s) <= MAX_BIGINT, 'too large');

const bigintId = (description: string, example: string) => BigintIdSchema.openapi({ description, example });

const eventTypes = z
  .array(z.string().max(100).regex(EVENT_TYPE_FILTER, 'an event type (order.placed, order.status.confirmed) or a prefix ending in * (order.status.*)'))
  .max(50)
  .openapi({
    description: 'the event types sent (order.status.<status>, order.<event>); an entry ending in * takes every type it prefixes; empty: every type',
    example: ['order.status.*', 'order.shipment_captured'],
  });

// only parsed here: what a target may be is one rule (platform/outbound-target.ts), answered 422
const url = text(1, 2000)
  .refine((s) => URL.canParse(s), 'an absolute URL, e.g. https://shop.example.com/hooks/orders')
  .openapi({
    description: 'where deliveries are POSTed: http or https, no credentials; its host must be a public address (or be in FEED_ALLOWED_PRIVATE_TARGETS)',
    example: 'https://shop.example.com/hooks/orders',
  });

const description = text(0, 200).openapi({ description: 'what it is for, to tell subscriptions apart', example: 'ERP order sync' });

export const WebhookSchema = z
  .object({
    id: z.string().uuid().openapi({ example: SUBSCRIPTION_ID }),
    url: z.string(),
    description: z.string().nullable(),
    eventTypes: z.array(z.string()),
    status: z.enum(FeedSubscriptionStatuses).openapi({ description: 'PAUSED: deliveries are kept, not sent, until it is resumed' }),
    pausedReason: z.string().nullable().openapi({ description: 'who paused it and why: an operator, or the receiver answering 410 Gone', example: null }),
    previousSecretUntil: z.string().nullable().openapi({ description: 'after a rotation, the previous secret also signs deliveries until then' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Webhook', { description: 'a webhook subscription of the order event feed (its secret is shown only when made or rotated)' });

const secret = z.string().openapi({
  description: 'the Standard Webhooks signing secret (whsec_ + base64 of 32 bytes): shown now only, keep it',
  example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw6tXyXFVwQ7g=',
});

export const NewWebhookSchema = z
  .object({ url, eventTypes: eventTypes.default([]), description: description.optional() })
  .openapi('NewWebhook', { example: { url: 'https://shop.example.com/hooks/orders', eventTypes: ['order.status.*'], description: 'ERP order sync' } });

export const WebhookPatchSchema = z
  .object({ url, eventTypes, description: description.openapi({ description: 'empty clears it' }) })
  .partial()
  .refine((p) => Object.values(p).some((v) => v !== undefined), 'send at least one of url, eventTypes or description')
  .openapi('WebhookPatch', { description: 'eventTypes apply to events written from now on', example: { eventTypes: ['order.placed', 'order.status.*'] } });

export const CreatedWebhookSchema = WebhookSchema.extend({ secret }).openapi('CreatedWebhook');

export const WebhookListSchema = z.object({ items: z.array(WebhookSchema) }).openapi('WebhookList');

export const WebhookDetailSchema = WebhookSchema.extend({
  deliveries: z
    .object({
      pending: z.number().int(),
      failed: z.number().int().openapi({ description: 'retry period over: the later events of their orders wait behind them (redeliver or skip)' }),
      delivered: z.number().int(),
      skipped: z.number().int(),
      oldestPendingAt: z.string().nullable().openapi({ description: 'when the oldest pending delivery was queued: how far behind the receiver is' }),
    })
    .openapi({ description: 'its deliveries by status' }),
}).openapi('WebhookDetail');

export const RotatedSecretSchema = z
  .object({ secret, previousSecretUntil: z.string().openapi({ description: 'the previous secret also signs deliveries until then' }) })
  .openapi('RotatedWebhookSecret');

export const DeliverySchema = z
  .object({
    id: z.string().openapi({ example: '1042' }),
    eventId: z.string().openapi({ description: "the event's id: the envelope's id, the same on every attempt and replay", example: '877' }),
    orderId: z.string().uuid(),
    sequence: z.number().int().openapi({ description: "the event's number within its order (1, 2, 3...)" }),
    type: z.string().openapi({ example: 'order.status.confirmed' }),
    status: z.enum(FeedDeliveryStatuses).openapi({ description: 'FAILED: given up after the retry period, the later events of its order wait; SKIPPED: an operator gave up on it' }),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    lastStatusCode: z.number().int().nullable().openapi({ description: "the receiver's last HTTP status (null: no answer)" }),
    nextAttemptAt: z.string().nullable().openapi({ description: 'PENDING: when it is sent next (null otherwise)' }),
    deliveredAt: z.string().nullable(),
    replay: z.boolean().openapi({ description: "made by a redelivery or a replay, not by the event's own write" }),
    createdAt: z.string(),
  })
  .openapi('WebhookDelivery');

export const DeliveryPageSchema = page(DeliverySchema, 'WebhookDeliveryPage');

export const ReplaySchema = z
  .object({
    fromEventId: bigintId('replay the events with this id and later', '870').optional(),
    fromTime: z.string().datetime({ offset: true }).optional().openapi({ description: 'replay the events that occurred at or after this time', example: '2026-12-07T13:00:00Z' }),
    orderId: z.string().uuid().optional().openapi({ description: "only this order's events" }),
  })
  .refine((b) => (b.fromEventId === undefined) !== (b.fromTime === undefined), 'send exactly one of fromEventId or fromTime')
  .openapi('WebhookReplay', { description: 'queues again, in event order, the events from there on that the subscription takes (replay: true)', example: { fromEventId: '870' } });

export const ReplayQueuedSchema = z.object({ queued: z.number().int().openapi({ example: 12 }) }).openapi('WebhookReplayQueued');

const WebhookIdParam = z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' }, example: SUBSCRIPTION_ID }) });
const DeliveryParams = WebhookIdParam.extend({ deliveryId: bigintId('a delivery of this subscription', '1042').openapi({ param: { name: 'deliveryId', in: 'path' } }) });

const notFound = error(404, 'SUBSCRIPTION_NOT_FOUND: no such webhook subscription');
const deliveryNotFound = error(404, 'SUBSCRIPTION_NOT_FOUND, or DELIVERY_NOT_FOUND (no such delivery of this subscription)');
const targetForbidden = error(422, 'WEBHOOK_TARGET_FORBIDDEN: the URL may not be a target (the message says why: a private, loopback or link-local address, a name that does not resolve, credentials, another scheme)');
const WAKES = 'The dispatchers are woken at once.';

export const createWebhook = createRoute({
  method: 'post',
  path: '/api/v1/admin/webhooks',
  tags: TAGS,
  summary: 'Subscribe a URL to the order event feed: answers the signing secret, this once',
  description: 'Events written from now on are delivered (POST, signed per Standard Webhooks), in order per order; earlier ones by replay.',
  request: { body: { required: true, content: json(NewWebhookSchema) } },
  responses: { 201: response('subscribed; keep the secret', CreatedWebhookSchema), ...errors(), 422: targetForbidden },
});

export const listWebhooks = createRoute({
  method: 'get',
  path: '/api/v1/admin/webhooks',
  tags: TAGS,
  summary: 'The webhook subscriptions, oldest first (without secrets)',
  responses: { 200: response('every webhook subscription', WebhookListSchema), ...errors() },
});

export const getWebhook = createRoute({
  method: 'get',
  path: '/api/v1/admin/webhooks/{id}',
  tags: TAGS,
  summary: 'One webhook subscription with its deliveries counted by status',
  request: { params: WebhookIdParam },
  responses: { 200: response('the subscription', WebhookDetailSchema), ...errors(), 404: notFound },
});

export const updateWebhook = createRoute({
  method: 'patch',
  path: '/api/v1/admin/webhooks/{id}',
  tags: TAGS,
  summary: 'Change the URL (checked again), the event types or the description of a webhook subscription',
  request: { params: WebhookIdParam, body: { required: true, content: json(WebhookPatchSchema) } },
  responses: { 200: response('the subscription after the change', WebhookSchema), ...errors(), 404: notFound, 422: targetForbidden },
});

export const deleteWebhook = createRoute({
  method: 'delete',
  path: '/api/v1/admin/webhooks/{id}',
  tags: TAGS,
  summary: 'Remove a webhook subscription and its deliveries',
  request: { params: WebhookIdParam },
  responses: { 204: { description: 'removed' }, ...errors(), 404: notFound },
});

export const pauseWebhook = createRoute({
  method: 'post',
  path: '/api/v1/admin/webhooks/{id}/pause',
  tags: TAGS,
  summary: 'Stop sending to a webhook: its deliveries are kept (new events too) until it is resumed',
  request: { params: WebhookIdParam },
  responses: { 200: response('the subscription, PAUSED', WebhookSchema), ...errors(), 404: notFound },
});

export const resumeWebhook = createRoute({
  method: 'post',
  path: '/api/v1/admin/webhooks/{id}/resume',
  tags: TAGS,
  summary: 'Send to a paused webhook again, from where it stopped',
  description: WAKES,
  request: { params: WebhookIdParam },
  responses: { 200: response('the subscription, ACTIVE', WebhookSchema), ...errors(), 404: notFound },
});

export const rotateWebhookSecret = createRoute({
  method: 'post',
  path: '/api/v1/admin/webhooks/{id}/rotate-secret',
  tags: TAGS,
  summary: 'A new signing secret; the previous one also signs until previousSecretUntil (FEED_SECRET_GRACE_MS)',
  description: 'While both are valid each delivery carries two signatures, so the receiver can switch secrets without missing one.',
  request: { params: WebhookIdParam },
  responses: { 200: response('the new secret, this once', RotatedSecretSchema), ...errors(), 404: notFound },
});

export const listWebhookDeliveries = createRoute({
  method: 'get',
  path: '/api/v1/admin/webhooks/{id}/deliveries',
  tags: TAGS,
  summary: "A webhook subscription's deliveries, newest first, optionally by status",
  request: { params: WebhookIdParam, query: PageQuery.extend({ status: z.enum(FeedDeliveryStatuses).optional().openapi({ param: { name: 'status', in: 'query' }, example: 'FAILED' }) }) },
  responses: { 200: response('one page of deliveries', DeliveryPageSchema), ...errors(), 404: notFound },
});

export const redeliver = createRoute({
  method: 'post',
  path: '/api/v1/admin/webhooks/{id}/deliveries/{deliveryId}/redeliver',
  tags: TAGS,
  summary: 'Send a delivery again: a PENDING or FAILED one now (its retry period starts over), a DELIVERED or SKIPPED one as a new delivery',
  description: WAKES,
  request: { params: DeliveryParams },
  responses: { 202: response('queued: the delivery that will be sent', DeliverySchema), ...errors(), 404: deliveryNotFound },
});

export const skipDelivery = createRoute({
  method: 'post',
  path: '/api/v1/admin/webhooks/{id}/deliveries/{deliveryId}/skip',
  tags: TAGS,
  summary: 'Give up on a PENDING or FAILED delivery: SKIPPED, and the later events of its order go on (a SKIPPED one stays so)',
  description: WAKES,
  request: { params: DeliveryParams },
  responses: {
    200: response('the delivery, SKIPPED', DeliverySchema),
    ...errors(),
    404: deliveryNotFound,
    409: error(409, 'DELIVERY_ALREADY_DELIVERED: the receiver has it already'),
  },
});

export const replayWebhook = createRoute({
  method: 'post',
  path: '/api/v1/admin/webhooks/{id}/replay',
  tags: TAGS,
  summary: 'Queue again the events from an event id or a time on (optionally of one order) that the subscription takes',
  description: `Receivers get the same event ids again and dedupe on them. ${WAKES}`,
  request: { params: WebhookIdParam, body: { required: true, content: json(ReplaySchema) } },
  responses: { 202: response('queued', ReplayQueuedSchema), ...errors(), 404: notFound },
});
