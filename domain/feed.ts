/**
 * The order event feed: what a subscriber receives and the rules of its
 * delivery. The database holds the rest (migration order_event_feed_triggers):
 * each event's number per order, its public type, and one delivery row per
 * subscription written in the transaction that writes the event.
 */

/** The envelope's version: a change a receiver must handle differently gets a new one. */
export const FEED_PAYLOAD_VERSION = 1;

/** The channel the fan-out trigger notifies when it wrote deliveries (dispatchers LISTEN on it). */
export const FEED_DELIVERIES_CHANNEL = 'feed_deliveries';

export const FeedSubscriptionStatuses = ['ACTIVE', 'PAUSED'] as const;
export type FeedSubscriptionStatus = (typeof FeedSubscriptionStatuses)[number];
export const FeedDeliveryStatuses = ['PENDING', 'DELIVERED', 'FAILED', 'SKIPPED'] as const;
export type FeedDeliveryStatus = (typeof FeedDeliveryStatuses)[number];
/** webhook: a shop system's URL; notifications: the customers' e-mail and SMS (one, built in) */
export type FeedSubscriptionKind = 'webhook' | 'notifications';

/** What every delivery's body is: the same for every attempt of one event. */
export interface FeedEnvelope {
  /** the event's id: unique across the feed, the same on every attempt and replay (receivers dedupe on it) */
  id: string;
  /** order.status.<status> (order.status.confirmed, order.status.needs_attention...) or order.<event> (order.placed, order.shipment_captured, order.return_refunded...) */
  type: string;
  orderId: string;
  /** 1, 2, 3... per order, without gaps: a receiver that sees n+2 after n knows it missed one */
  sequence: number;
  occurredAt: string;
  version: typeof FEED_PAYLOAD_VERSION;
  data: Record<string, unknown>;
}

/** An order_events row as the feed reads it (type already mapped by feed_event_type in SQL). */
export interface FeedEventRow {
  id: bigint | number | string;
  type: string;
  orderId: string;
  seq: number;
  status: string | null;
  detail: unknown;
  occurredAt: Date;
}

/** The envelope of one event; its JSON text is what is signed and sent. */
export function feedEnvelope(e: FeedEventRow): FeedEnvelope {
  const detail = e.detail && typeof e.detail === 'object' && !Array.isArray(e.detail) ? (e.detail as Record<string, unknown>) : {};
  return {
    id: String(e.id),
    type: e.type,
    orderId: e.orderId,
    sequence: e.seq,
    occurredAt: e.occurredAt.toISOString(),
    version: FEED_PAYLOAD_VERSION,
    data: { ...(e.status ? { status: e.status } : {}), ...detail },
  };
}

/** The SQL expression of an order_events row's public type (the function is the one definition). */
export const FEED_TYPE_SQL = 'feed_event_type(e."type", e."status"::text)';

/**
 * Subscription event-type filters: exact types, or a prefix ending in * (order.status.*, order.return_*).
 * The fan-out trigger applies the same rule; this one validates what the API accepts.
 */
export const EVENT_TYPE_FILTER = /^order\.[a-z_.]*\*?$/;

/** The delivery rules' defaults (each overridable by a FEED_* setting, platform/config.ts). */
export const FeedDefaults = {
  /** a delivery failing for this long is FAILED (later events of its order wait behind it) */
  retryPeriodMs: 3 * 24 * 60 * 60_000,
  /** the first retry's delay; each next one doubles, up to retryMaxMs */
  retryBaseMs: 5_000,
  retryMaxMs: 60 * 60_000,
  /** a receiver that has not answered after this long failed this attempt */
  requestTimeoutMs: 10_000,
  /** deliveries claimed per round by one dispatcher (each is the head of its order, so they go in parallel) */
  batchSize: 50,
  /** the previous secret still signs for this long after a rotation */
  secretGraceMs: 24 * 60 * 60_000,
  /** delivered and skipped deliveries are kept this long for operators, then deleted */
  retentionDays: 30,
  /** notifications: a message failing for this long is recorded FAILED and the order's next ones go on */
  notificationRetryPeriodMs: 2 * 60 * 60_000,
} as const;

/** A signing secret as Standard Webhooks writes it: whsec_ + base64 of 32 random bytes. */
export const SECRET_PREFIX = 'whsec_';
