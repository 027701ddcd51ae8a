import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { ErrorCodes, type ErrorCode } from '../domain/errors';
import type { Db } from '../prisma/client';
import {
  CARRIER_SIGNATURE_FORMAT,
  CARRIER_SIGNATURE_HEADER,
  CARRIER_SIGNATURE_TOLERANCE_SECONDS,
  CARRIER_TIMESTAMP_FORMAT,
  CARRIER_TIMESTAMP_HEADER,
  verifyCarrierDelivery,
} from './carrier-signature';
import { ApiError, errorResponse } from './errors';
import { error, errors, json, response } from './openapi';
import type { SagaClient } from './orders';
import { text } from './schemas';
import type { AppEnv } from './types';

/**
 * Most carrier deliveries the API records for one order (every signed delivery
 * for a known tracking number counts, refused ones too): an order has a few
 * parcels and a carrier retries a few times; beyond this it is a flood.
 */
export const MAX_CARRIER_EVENTS_PER_ORDER = 20;

export interface CarrierWebhookDeps {
  db: Db;
  saga: SagaClient;
  /** HMAC-SHA256 key of X-Carrier-Signature */
  secret: string;
}

/** Where a "delivered" event is news: the parcel is with the carrier. */
const IN_TRANSIT = ['HANDED_TO_CARRIER', 'OVERDUE'];

const Accepted = z.object({ orderId: z.string().uuid(), trackingNumber: z.string() });

/**
 * delivered: the carrier delivered a parcel, to the customer (a shipment's
 * tracking number) or to the warehouse (a return's); return_received says the
 * latter outright.
 */
const CarrierEvents = ['delivered', 'return_received'] as const;
type CarrierEvent = (typeof CarrierEvents)[number];

/** A return is news to the saga only while it awaits its goods; after that it is received already, or it lapsed. */
const RECEIVED = ['RECEIVED', 'INSPECTED', 'REFUNDED', 'REJECTED'];

const webhookRoute = (verify: ReturnType<typeof verifySignature>) =>
  createRoute({
    method: 'post',
    path: '/api/v1/webhooks/carrier',
    tags: ['fulfilment'],
    summary: 'Carrier tracking events, signed with HMAC-SHA256 over the timestamp and the raw body',
    description:
      `Sign each attempt afresh: ${CARRIER_SIGNATURE_HEADER} = v1=<hex HMAC-SHA256(secret, "<${CARRIER_TIMESTAMP_HEADER}>.<raw body>")>. ` +
      `A timestamp more than ${CARRIER_SIGNATURE_TOLERANCE_SECONDS} s from the server's clock, or a wrong signature, is 401; ` +
      `a signature already seen is 409 CARRIER_DELIVERY_REPLAYED; at most ${MAX_CARRIER_EVENTS_PER_ORDER} deliveries per order are recorded. ` +
      'A return parcel reaching the warehouse (event return_received, or delivered, with the return\'s tracking number) marks the return received.',
    middleware: [verify],
    security: [{ carrierSignature: [] }],
    request: {
      headers: z.object({
        [CARRIER_TIMESTAMP_HEADER]: z.string().regex(CARRIER_TIMESTAMP_FORMAT).openapi({ description: 'unix seconds when the carrier signed the delivery', example: '1767225600' }),
        [CARRIER_SIGNATURE_HEADER]: z.string().regex(CARRIER_SIGNATURE_FORMAT).openapi({ description: 'v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>' }),
      }),
      body: {
        required: true,
        content: json(
          z.object({
            trackingNumber: text(4, 40),
            event: z.enum(CarrierEvents).openapi({ description: 'delivered: a parcel reached its addressee; return_received: a return parcel reached the warehouse' }),
          }),
        ),
      },
    },
    responses: {
      202: response('recorded: the order workflow is told', Accepted),
      200: response('the parcel was already delivered (or the return already received): nothing to do (same body as the first answer)', Accepted),
      ...errors(),
      401: error(401, 'UNAUTHENTICATED: missing or wrong X-Carrier-Signature, or a stale X-Carrier-Timestamp'),
      404: error(404, 'NOT_FOUND: unknown tracking number (for return_received: no return has it)'),
      409: error(
        409,
        'SHIPMENT_NOT_IN_TRANSIT (still in the warehouse, or cancelled), RETURN_NOT_REQUESTED (the return lapsed), ' +
          'FULFILMENT_ENDED (the order is no longer tracked), CARRIER_DELIVERY_REPLAYED (this signature was seen before) or CARRIER_EVENT_LIMIT_REACHED',
      ),
    },
  });

/**
 * Authenticates before anything parses the body: the MAC covers the raw bytes,
 * which are read here once (Hono caches them for the JSON validator after it).
 */
const verifySignature = (secret: string) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const timestamp = c.req.header(CARRIER_TIMESTAMP_HEADER);
    const signature = c.req.header(CARRIER_SIGNATURE_HEADER);
    const body = timestamp && signature ? new Uint8Array(await c.req.arrayBuffer()) : new Uint8Array();
    const verdict = verifyCarrierDelivery({ secret, timestamp, signature, body });
    if (!verdict.ok) return errorResponse(c, ErrorCodes.UNAUTHENTICATED, verdict.reason);
    deliveryIds.set(c.req.raw, verdict.deliveryId);
    await next();
  });
const deliveryIds = new WeakMap<Request, string>();

type Recorded = 'recorded' | 'replayed' | 'limit';

/**
 * Records one signed delivery under its signature's hash. The order's row is
 * locked so concurrent deliveries for one order count one at a time.
 */
async function record(db: Db, delivery: { id: string; orderId: string; trackingNumber: string; event: string }): Promise<Recorded> {
  return db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM orders WHERE id = ${delivery.orderId}::uuid FOR UPDATE`;
    if (await tx.carrierDelivery.findUnique({ where: { id: delivery.id }, select: { id: true } })) return 'replayed';
    if ((await tx.carrierDelivery.count({ where: { orderId: delivery.orderId } })) >= MAX_CARRIER_EVENTS_PER_ORDER) return 'limit';
    await tx.carrierDelivery.create({ data: delivery });
    return 'recorded';
  });
}

/** A parcel the carrier names, as stored: whose it is, whether the news is old, and why it cannot be news. */
interface Parcel {
  orderId: string;
  /** set for a return's parcel */
  returnId?: string;
  /** delivered (or received) already: nothing to do */
  delivered: boolean;
  refusal?: { code: ErrorCode; message: string };
  details: Record<string, unknown>;
}

/** The shipment (to the customer) or the return (to the warehouse) with this tracking number. */
async function findParcel(db: Db, trackingNumber: string, event: CarrierEvent): Promise<Parcel | undefined> {
  const shipment = event === 'delivered' ? await db.shipment.findUnique({ where: { trackingNumber }, select: { orderId: true, status: true } }) : null;
  if (shipment) {
    const inTransit = IN_TRANSIT.includes(shipment.status);
    return {
      orderId: shipment.orderId,
      delivered: shipment.status === 'DELIVERED',
      details: { shipmentStatus: shipment.status },
      ...(inTransit ? {} : { refusal: { code: ErrorCodes.SHIPMENT_NOT_IN_TRANSIT, message: `shipment ${trackingNumber} is ${shipment.status}, not with the carrier` } }),
    };
  }
  const ret = await db.orderReturn.findUnique({ where: { trackingNumber }, select: { id: true, orderId: true, status: true } });
  if (!ret) return undefined;
  return {
    orderId: ret.orderId,
    returnId: ret.id,
    delivered: RECEIVED.includes(ret.status),
    details: { returnId: ret.id, returnStatus: ret.status },
    ...(ret.status === 'REQUESTED' ? {} : { refusal: { code: ErrorCodes.RETURN_NOT_REQUESTED, message: `return ${ret.id} is ${ret.status}; it does not await its goods` } }),
  };
}

export function registerCarrierWebhook(app: OpenAPIHono<AppEnv>, deps: CarrierWebhookDeps): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'carrierSignature', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Carrier-Signature',
    description:
      `v1=<hex HMAC-SHA256(CARRIER_WEBHOOK_SECRET, "<X-Carrier-Timestamp>.<raw body>")>, with X-Carrier-Timestamp (unix seconds) ` +
      `within ${CARRIER_SIGNATURE_TOLERANCE_SECONDS} s of the server's clock`,
  });
  app.openapi(webhookRoute(verifySignature(deps.secret)), async (c) => {
    const { trackingNumber, event } = c.req.valid('json');
    const parcel = await findParcel(deps.db, trackingNumber, event);
    if (!parcel) {
      const what = event === 'return_received' ? 'return tracking number' : 'tracking number';
      return errorResponse(c, ErrorCodes.NOT_FOUND, `unknown ${what} ${trackingNumber}`) as never;
    }
    const { orderId } = parcel;
    const id = deliveryIds.get(c.req.raw)!;

    const recorded = await record(deps.db, { id, orderId, trackingNumber, event });
    if (recorded === 'replayed') return errorResponse(c, ErrorCodes.CARRIER_DELIVERY_REPLAYED, 'this delivery was received before; sign each attempt afresh') as never;
    if (recorded === 'limit') {
      return errorResponse(c, ErrorCodes.CARRIER_EVENT_LIMIT_REACHED, `order already has ${MAX_CARRIER_EVENTS_PER_ORDER} carrier deliveries`, { limit: MAX_CARRIER_EVENTS_PER_ORDER }) as never;
    }

    // Answer from the stored state: only a parcel the carrier has can be delivered.
    if (parcel.delivered) return c.json({ orderId, trackingNumber }, 200);
    const order = await deps.db.order.findUnique({ where: { id: orderId }, select: { status: true } });
    const details = { ...parcel.details, orderStatus: order?.status };
    if (parcel.refusal) return errorResponse(c, parcel.refusal.code, parcel.refusal.message, details) as never;
    // the run has ended (or retention removed it): nothing tracks this parcel any more
    const ended = () => new ApiError(ErrorCodes.FULFILMENT_ENDED, `order ${orderId} is ${order?.status} and no longer tracked`, details);
    try {
      await (parcel.returnId === undefined ? deps.saga.deliver(orderId, trackingNumber, ended) : deps.saga.returnReceived(orderId, { returnId: parcel.returnId }, ended));
    } catch (err) {
      // the workflow was not told (its run had not ended): the carrier's retry, signed afresh, must not find this delivery counted against the cap
      if (!(err instanceof ApiError)) await deps.db.carrierDelivery.delete({ where: { id } }).catch(() => undefined);
      throw err;
    }
    return c.json({ orderId, trackingNumber }, 202);
  });
}
