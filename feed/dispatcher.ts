/**
 * The order event feed's dispatcher: sends the deliveries the fan-out trigger
 * wrote (one per event and subscription, in the event's own transaction), in
 * order per order and subscription, at least once.
 *
 * Why PostgreSQL and not a Temporal workflow per subscription: the outbox rows
 * already are the durable queue, written atomically with the order's state; a
 * workflow would copy every event into its history (200 orders × 10 events ×
 * N subscriptions of activities) and still need the rows to know what exists.
 * Here a dispatcher claims due rows with FOR UPDATE SKIP LOCKED and a lease, so
 * any number of them run side by side, and one killed mid-batch loses nothing:
 * its leases run out and another (or its restart) sends those rows again.
 *
 * Order: a row is due only when no earlier row of the same order and
 * subscription is still PENDING or FAILED. That is each (subscription, order)
 * pair's cursor, kept by the rows themselves: a receiver that is down holds back
 * only its own deliveries, and a FAILED one holds back the rest of its order
 * until an operator redelivers or skips it.
 */
import { Webhook } from 'standardwebhooks';
import { FEED_DELIVERIES_CHANNEL, feedEnvelope, type FeedEventRow } from '../domain/feed';
import type { NotificationKind } from '../domain/shipping';
import type { Logger } from '../platform/logger';
import type { AllowList } from '../platform/outbound-target';
import { listenPg, type PgListener } from '../platform/pg-listen';
import type { Db } from '../prisma/client';
import type { FeedMetrics } from './metrics';
import { postWebhook, type WebhookResult } from './webhook-client';

export interface FeedSettings {
  retryPeriodMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  requestTimeoutMs: number;
  batchSize: number;
  notificationRetryPeriodMs: number;
  /** delivered and skipped deliveries are kept this long (the operator's history), then deleted */
  retentionMs: number;
  allow: AllowList;
}

/** What the dispatcher needs of the notifications context (its activities' functions, called in-process). */
export interface NotificationPort {
  sendNotification(input: { orderId: string; customerId: string; kind: NotificationKind; idempotencyKey: string }): Promise<unknown>;
  recordNotificationFailure(input: { orderId: string; customerId: string; kind: NotificationKind; idempotencyKey: string; error: string }): Promise<void>;
}

export interface DispatcherDeps {
  db: Db;
  databaseUrl: string;
  log: Logger;
  settings: FeedSettings;
  notifications: NotificationPort;
  metrics?: FeedMetrics;
  /** how long to sleep with nothing due and no notification (the backstop for a missed NOTIFY) */
  idleMs?: number;
}

interface Claimed {
  id: bigint;
  attempts: number;
  first_attempt_at: Date;
  subscription_id: string;
  kind: 'webhook' | 'notifications';
  url: string | null;
  secret: string | null;
  previous_secret: string | null;
  previous_secret_until: Date | null;
  event_id: bigint;
  type: string;
  order_id: string;
  seq: number;
  status: string | null;
  detail: unknown;
  occurred_at: Date;
  customer_id: string;
  next_due: Date | null;
}

/** a claim outlives the request it covers, so a live dispatcher's claim never lapses under it */
const LEASE_MARGIN_MS = 5_000;
const IDLE_MS = 5_000;
/** lag, pending and failed gauges are re-read at most this often */
const METRICS_REFRESH_MS = 5_000;
/** old delivered rows are pruned this often */
const PRUNE_EVERY_MS = 60 * 60_000;
/** the longest error text kept on a delivery */
const ERROR_CHARS = 500;

/** d is the oldest undelivered row of its (subscription, order), of an active subscription: the only one that may go */
const IS_HEAD = `d.status = 'PENDING' AND s.status = 'ACTIVE'
    AND NOT EXISTS (
      SELECT 1 FROM feed_deliveries h
      WHERE h.subscription_id = d.subscription_id AND h.order_id = d.order_id AND h.status IN ('PENDING', 'FAILED')
        AND (h.seq < d.seq OR (h.seq = d.seq AND h.id < d.id)))`;

const CLAIM_SQL = `
WITH due AS (
  SELECT d.id FROM feed_deliveries d
  JOIN feed_subscriptions s ON s.id = d.subscription_id
  WHERE ${IS_HEAD} AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until <= now())
  ORDER BY d.next_attempt_at, d.id
  LIMIT $1
  FOR UPDATE OF d SKIP LOCKED
), claimed AS (
  UPDATE feed_deliveries d
  SET lease_until = now() + make_interval(secs => $2::double precision / 1000), attempts = d.attempts + 1,
      first_attempt_at = coalesce(d.first_attempt_at, now())
  FROM due WHERE d.id = due.id
  RETURNING d.id, d.subscription_id, d.event_id, d.attempts, d.first_attempt_at
)
SELECT c.id, c.attempts, c.first_attempt_at, s.id AS subscription_id, s.kind, s.url, s.secret, s.previous_secret, s.previous_secret_until,
       e.id AS event_id, feed_event_type(e.type, e.status::text) AS type, e.order_id::text AS order_id, e.seq, e.status::text AS status,
       e.detail, e.occurred_at, o.customer_id, NULL::timestamptz AS next_due
FROM claimed c
JOIN feed_subscriptions s ON s.id = c.subscription_id
JOIN order_events e ON e.id = c.event_id
JOIN orders o ON o.id = e.order_id
ORDER BY e.order_id, e.seq`;

/**
 * When the next head falls due (null: none waiting). Only heads count: the rows queued behind a
 * head that waits out its backoff are not due, however old they are.
 */
const NEXT_DUE_SQL = `
SELECT min(greatest(d.next_attempt_at, coalesce(d.lease_until, d.next_attempt_at))) AS at
FROM feed_deliveries d JOIN feed_subscriptions s ON s.id = d.subscription_id
WHERE ${IS_HEAD}`;

/** delivered and skipped rows older than the retention are deleted (undelivered ones never are) */
const PRUNE_SQL = `
DELETE FROM feed_deliveries WHERE id IN (
  SELECT id FROM feed_deliveries WHERE status IN ('DELIVERED', 'SKIPPED') AND created_at < now() - make_interval(secs => $1::double precision / 1000) LIMIT 10000)`;

const truncate = (s: string) => (s.length > ERROR_CHARS ? `${s.slice(0, ERROR_CHARS)}…` : s);

/**
 * Exponential backoff with jitter: the n-th failed attempt (n ≥ 1) waits between half and all of
 * base·2^(n-1), capped at max ("equal jitter": never at once, never in lockstep with other dispatchers).
 */
export function retryDelayMs(attempt: number, base: number, max: number, random: () => number = Math.random): number {
  const ceiling = Math.min(max, base * 2 ** Math.min(Math.max(attempt - 1, 0), 40));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The secrets a delivery is signed with now: the current one, and the previous one during its grace period. */
export function signingSecrets(row: Pick<Claimed, 'secret' | 'previous_secret' | 'previous_secret_until'>, now = new Date()): string[] {
  const out = row.secret ? [row.secret] : [];
  if (row.previous_secret && row.previous_secret_until && row.previous_secret_until > now) out.push(row.previous_secret);
  return out;
}

/** Standard Webhooks headers for one attempt: one v1 signature per secret, space-separated. */
export function signedHeaders(secrets: string[], msgId: string, body: string, at = new Date()): Record<string, string> {
  const signature = secrets.map((s) => new Webhook(s).sign(msgId, at, body)).join(' ');
  return { 'webhook-id': msgId, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature };
}

export interface FeedDispatcher {
  /** claims and sends until nothing is due (tests and the wake-up loop use it) */
  drain(): Promise<number>;
  /** deletes delivered and skipped rows past the retention; the number deleted */
  prune(): Promise<number>;
  /** stops claiming, waits for the sends in flight and closes the LISTEN connection */
  stop(): Promise<void>;
}

export function startFeedDispatcher(deps: DispatcherDeps): FeedDispatcher {
  const { db, log, settings } = deps;
  const leaseMs = settings.requestTimeoutMs + LEASE_MARGIN_MS;
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  let rung = false;
  const ring = () => {
    rung = true;
    wakeUp?.();
  };

  async function settle(row: Claimed, outcome: { ok: true; code?: number } | { ok: false; error: string; code?: number; gone?: boolean }): Promise<void> {
    const fence = { id: row.id, attempts: row.attempts };
    if (outcome.ok) {
      await db.$executeRaw`UPDATE feed_deliveries SET status = 'DELIVERED', delivered_at = now(), lease_until = NULL, last_status_code = ${outcome.code ?? null}, last_error = NULL
        WHERE id = ${fence.id} AND attempts = ${fence.attempts} AND status = 'PENDING'`;
      deps.metrics?.attempt(row.subscription_id, row.kind, 'delivered');
      return;
    }
    const error = truncate(outcome.error);
    if (outcome.gone) {
      // the receiver says the endpoint is gone for good: hold everything, an operator resumes it
      await db.$transaction([
        db.$executeRaw`UPDATE feed_subscriptions SET status = 'PAUSED', paused_reason = ${`the receiver answered 410 Gone at ${new Date().toISOString()}`}, updated_at = now() WHERE id = ${row.subscription_id}::uuid`,
        db.$executeRaw`UPDATE feed_deliveries SET lease_until = NULL, next_attempt_at = now(), last_error = ${error}, last_status_code = 410
          WHERE id = ${fence.id} AND attempts = ${fence.attempts} AND status = 'PENDING'`,
      ]);
      deps.metrics?.attempt(row.subscription_id, row.kind, 'gone');
      log.warn({ subscriptionId: row.subscription_id, url: row.url }, 'webhook receiver answered 410 Gone: subscription paused');
      return;
    }
    const period = row.kind === 'notifications' ? settings.notificationRetryPeriodMs : settings.retryPeriodMs;
    const elapsed = Date.now() - row.first_attempt_at.getTime();
    if (elapsed >= period) {
      if (row.kind === 'notifications') {
        // a customer message that never went out is recorded as such; the order's next ones go on
        const kind = notifyKind(row.detail);
        if (kind) {
          await deps.notifications
            .recordNotificationFailure({ orderId: row.order_id, customerId: row.customer_id, kind, idempotencyKey: notificationKeyOf(row), error })
            .catch((err: unknown) => log.warn({ err, deliveryId: String(row.id) }, 'could not record a failed notification'));
        }
        await db.$executeRaw`UPDATE feed_deliveries SET status = 'SKIPPED', lease_until = NULL, last_error = ${error}, last_status_code = ${outcome.code ?? null}
          WHERE id = ${fence.id} AND attempts = ${fence.attempts} AND status = 'PENDING'`;
      } else {
        await db.$executeRaw`UPDATE feed_deliveries SET status = 'FAILED', lease_until = NULL, last_error = ${error}, last_status_code = ${outcome.code ?? null}
          WHERE id = ${fence.id} AND attempts = ${fence.attempts} AND status = 'PENDING'`;
        log.error({ subscriptionId: row.subscription_id, deliveryId: String(row.id), orderId: row.order_id, attempts: row.attempts, error }, 'webhook delivery failed for good: later events of this order wait until an operator redelivers or skips it');
      }
      deps.metrics?.attempt(row.subscription_id, row.kind, 'gave_up');
      return;
    }
    const delay = retryDelayMs(row.attempts, settings.retryBaseMs, settings.retryMaxMs);
    await db.$executeRaw`UPDATE feed_deliveries SET lease_until = NULL, next_attempt_at = now() + make_interval(secs => ${delay}::double precision / 1000),
        last_error = ${error}, last_status_code = ${outcome.code ?? null}
      WHERE id = ${fence.id} AND attempts = ${fence.attempts} AND status = 'PENDING'`;
    deps.metrics?.attempt(row.subscription_id, row.kind, 'retry');
  }

  async function deliver(row: Claimed): Promise<void> {
    try {
      if (row.kind === 'notifications') {
        const kind = notifyKind(row.detail);
        if (kind) await deps.notifications.sendNotification({ orderId: row.order_id, customerId: row.customer_id, kind, idempotencyKey: notificationKeyOf(row) });
        await settle(row, { ok: true });
        return;
      }
      const body = JSON.stringify(feedEnvelope(toEventRow(row)));
      const headers = signedHeaders(signingSecrets(row), String(row.event_id), body);
      const result: WebhookResult = await postWebhook(row.url!, body, headers, { timeoutMs: settings.requestTimeoutMs, allow: settings.allow });
      if (result.ok) await settle(row, { ok: true, code: result.status });
      else await settle(row, { ok: false, error: result.error, code: result.status, gone: result.status === 410 });
    } catch (err) {
      // a send that threw (the notification provider, a database hiccup): retried like any failure
      await settle(row, { ok: false, error: err instanceof Error ? err.message : String(err) }).catch((e: unknown) =>
        log.warn({ err: e, deliveryId: String(row.id) }, 'could not record a delivery attempt; its lease runs out and it is sent again'),
      );
    }
  }

  async function round(): Promise<number> {
    const rows = await db.$queryRawUnsafe<Claimed[]>(CLAIM_SQL, settings.batchSize, leaseMs);
    // each row heads its own (subscription, order): they go out side by side
    await Promise.all(rows.map(deliver));
    return rows.length;
  }

  async function drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await round();
      total += n;
      if (n === 0 || stopped) return total;
    }
  }

  async function prune(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await db.$executeRawUnsafe(PRUNE_SQL, settings.retentionMs);
      total += n;
      if (n < 10_000 || stopped) return total;
    }
  }

  const listener: PgListener = listenPg({
    connectionString: deps.databaseUrl,
    channel: FEED_DELIVERIES_CHANNEL,
    applicationName: 'feed-dispatcher',
    onNotify: ring,
    onListening: ring,
    log,
  });

  let refreshedAt = 0;
  let prunedAt = 0;
  const loop = (async () => {
    while (!stopped) {
      rung = false;
      let waitMs = deps.idleMs ?? IDLE_MS;
      try {
        await drain();
        if (deps.metrics && Date.now() - refreshedAt >= METRICS_REFRESH_MS) {
          refreshedAt = Date.now();
          await deps.metrics.refresh(db).catch((err: unknown) => log.warn({ err }, 'feed metrics not refreshed'));
        }
        if (Date.now() - prunedAt >= PRUNE_EVERY_MS) {
          prunedAt = Date.now();
          const pruned = await prune();
          if (pruned > 0) log.info({ pruned }, 'old delivered feed deliveries deleted');
        }
        const next = await nextDueAt(db);
        if (next) waitMs = Math.max(0, Math.min(waitMs, next.getTime() - Date.now() + 10));
      } catch (err) {
        log.warn({ err }, 'feed dispatcher round failed; trying again shortly');
      }
      if (stopped || rung) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitMs);
        wakeUp = done;
        function done() {
          clearTimeout(timer);
          wakeUp = undefined;
          resolve();
        }
      });
    }
  })();

  log.info({ batchSize: settings.batchSize, retryPeriodMs: settings.retryPeriodMs }, 'event feed dispatcher running');
  return {
    drain,
    prune,
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
      await listener.close();
    },
  };
}

/** When the next delivery of an active subscription falls due (null: none waits); the dispatcher sleeps until then. */
export async function nextDueAt(db: Db): Promise<Date | null> {
  const [next] = await db.$queryRawUnsafe<{ at: Date | null }[]>(NEXT_DUE_SQL);
  return next?.at ?? null;
}

function toEventRow(row: Claimed): FeedEventRow {
  return { id: row.event_id, type: row.type, orderId: row.order_id, seq: row.seq, status: row.status, detail: row.detail, occurredAt: row.occurred_at };
}

/** the customer notification an event asks for: the saga puts it in the status change's detail */
function notifyKind(detail: unknown): NotificationKind | undefined {
  const kind = detail && typeof detail === 'object' ? (detail as { notify?: unknown }).notify : undefined;
  return typeof kind === 'string' ? (kind as NotificationKind) : undefined;
}

/** one notification per event (and channel): a retried or replayed delivery sends nothing twice */
const notificationKeyOf = (row: Pick<Claimed, 'event_id'>) => `event:${String(row.event_id)}`;
