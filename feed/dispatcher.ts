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
import { FEED_DELIVERIES_CHANNEL, FEED_TYPE_SQL, feedEnvelope, type FeedEventRow, type FeedSubscriptionKind } from '../domain/feed';
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
  kind: FeedSubscriptionKind;
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
  /** its place in the run claimed behind its order's head (0: the head) */
  pos: number;
}

/** a claim outlives the request it covers, so a live dispatcher's claim never lapses under it */
const LEASE_MARGIN_MS = 5_000;
/** rows of one order sent one after another in a round, at most */
const RUN_LENGTH = 20;
/**
 * After a wake-up, events committed within this long go out in the same round: under load one
 * round carries many orders' events instead of one round per commit (it adds at most this much
 * to a delivery's latency).
 */
const COALESCE_MS = 100;
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

/**
 * Claims the due heads (oldest first) and, behind each, the run of its order's next PENDING rows
 * that nobody holds, up to $3 rows: they go out one after another in one round instead of one
 * round each. Row k of a run is leased for (k + 1) request timeouts plus a margin: long enough for
 * the sends before it and its own, so no other dispatcher takes it while this one may still send it.
 */
const CLAIM_SQL = `
WITH due AS (
  SELECT d.id, d.subscription_id, d.order_id FROM feed_deliveries d
  JOIN feed_subscriptions s ON s.id = d.subscription_id
  WHERE ${IS_HEAD} AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until <= now())
  ORDER BY d.next_attempt_at, d.id
  LIMIT $1
  FOR UPDATE OF d SKIP LOCKED
), run AS (
  SELECT r.id, r.pos FROM due
  CROSS JOIN LATERAL (
    SELECT x.id, (row_number() OVER w)::int - 1 AS pos,
           count(*) FILTER (WHERE x.status <> 'PENDING' OR (x.id <> due.id AND x.lease_until > now())) OVER w AS blocked
    FROM (SELECT y.id, y.seq, y.status, y.lease_until FROM feed_deliveries y
          WHERE y.subscription_id = due.subscription_id AND y.order_id = due.order_id AND y.status IN ('PENDING', 'FAILED')
          ORDER BY y.seq, y.id LIMIT $3) x
    WINDOW w AS (ORDER BY x.seq, x.id)
  ) r
  WHERE r.blocked = 0
), claimed AS (
  UPDATE feed_deliveries d
  SET lease_until = now() + make_interval(secs => ((run.pos + 1) * $2::double precision + $4::double precision) / 1000), attempts = d.attempts + 1,
      first_attempt_at = coalesce(d.first_attempt_at, now())
  FROM run WHERE d.id = run.id
  RETURNING d.id, d.subscription_id, d.event_id, d.attempts, d.first_attempt_at, run.pos
)
SELECT c.id, c.attempts, c.first_attempt_at, c.pos, s.id AS subscription_id, s.kind, s.url, s.secret, s.previous_secret, s.previous_secret_until,
       e.id AS event_id, ${FEED_TYPE_SQL} AS type, e.order_id::text AS order_id, e.seq, e.status::text AS status,
       e.detail, e.occurred_at, o.customer_id
FROM claimed c
JOIN feed_subscriptions s ON s.id = c.subscription_id
JOIN order_events e ON e.id = c.event_id
JOIN orders o ON o.id = e.order_id
ORDER BY c.subscription_id, e.order_id, c.pos`;

/** the deliveries that went through in a round, in one statement (fenced by the attempt that sent them) */
const DELIVERED_SQL = `
UPDATE feed_deliveries d SET status = 'DELIVERED', delivered_at = now(), lease_until = NULL, last_status_code = v.code, last_error = NULL
FROM unnest($1::bigint[], $2::int[], $3::int[]) AS v(id, attempts, code)
WHERE d.id = v.id AND d.attempts = v.attempts AND d.status = 'PENDING'`;

/** rows of a run never sent (one before them failed): back as they were, for the next round */
const RELEASE_SQL = `
UPDATE feed_deliveries d SET lease_until = NULL, attempts = d.attempts - 1, first_attempt_at = CASE WHEN d.attempts = 1 THEN NULL ELSE d.first_attempt_at END
FROM unnest($1::bigint[], $2::int[]) AS v(id, attempts)
WHERE d.id = v.id AND d.attempts = v.attempts AND d.status = 'PENDING'`;

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
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  let rung = false;
  const ring = () => {
    rung = true;
    wakeUp?.();
  };

  /** records a failed attempt: retried later, FAILED (SKIPPED for a customer message) past the retry period, or the subscription paused on 410 */
  async function settleFailure(row: Claimed, outcome: { error: string; code?: number; gone?: boolean }): Promise<void> {
    const fence = { id: row.id, attempts: row.attempts };
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

  /** sends one delivery: { code } when it went through (the receiver's status), else why not */
  async function send(row: Claimed): Promise<{ ok: true; code: number | null } | { ok: false; error: string; code?: number; gone?: boolean }> {
    try {
      if (row.kind === 'notifications') {
        const kind = notifyKind(row.detail);
        if (kind) await deps.notifications.sendNotification({ orderId: row.order_id, customerId: row.customer_id, kind, idempotencyKey: notificationKeyOf(row) });
        return { ok: true, code: null };
      }
      const body = JSON.stringify(feedEnvelope(toEventRow(row)));
      const headers = signedHeaders(signingSecrets(row), String(row.event_id), body);
      const result: WebhookResult = await postWebhook(row.url!, body, headers, { timeoutMs: settings.requestTimeoutMs, allow: settings.allow });
      return result.ok ? { ok: true, code: result.status } : { ok: false, error: result.error, code: result.status, gone: result.status === 410 };
    } catch (err) {
      // a send that threw (the notification provider, a database hiccup): retried like any failure
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /**
   * One order's run, in order: each row is sent only after the one before it went through. At the
   * first failure that row is recorded as failed and the rest are released untouched.
   */
  async function sendRun(run: Claimed[], delivered: { row: Claimed; code: number | null }[]): Promise<void> {
    for (const [i, row] of run.entries()) {
      const failure = await send(row);
      if (failure.ok) {
        delivered.push({ row, code: failure.code });
        deps.metrics?.attempt(row.subscription_id, row.kind, 'delivered');
        continue;
      }
      const rest = run.slice(i + 1);
      try {
        await settleFailure(row, failure);
        if (rest.length > 0) await db.$executeRawUnsafe(RELEASE_SQL, rest.map((r) => String(r.id)), rest.map((r) => r.attempts));
      } catch (err) {
        log.warn({ err, deliveryId: String(row.id) }, 'could not record a delivery attempt; its lease runs out and it is sent again');
      }
      return;
    }
  }

  /** sends one round; true when it may have left due rows behind (a full batch, or a run cut at its length) */
  async function round(): Promise<{ sent: number; more: boolean }> {
    const rows = await db.$queryRawUnsafe<Claimed[]>(CLAIM_SQL, settings.batchSize, settings.requestTimeoutMs, RUN_LENGTH, LEASE_MARGIN_MS);
    // one run per (subscription, order), in the order claimed; the runs go out side by side
    const runs = new Map<string, Claimed[]>();
    for (const row of rows) {
      const key = `${row.subscription_id}/${row.order_id}`;
      const run = runs.get(key);
      if (run) run.push(row);
      else runs.set(key, [row]);
    }
    const delivered: { row: Claimed; code: number | null }[] = [];
    await Promise.all([...runs.values()].map((run) => sendRun(run, delivered)));
    const more = runs.size >= settings.batchSize || [...runs.values()].some((run) => run.length >= RUN_LENGTH);
    if (delivered.length > 0) {
      // a row sent but not recorded (this update lost, the process killed) is sent again once its lease runs out
      await db.$executeRawUnsafe(DELIVERED_SQL, delivered.map((d) => String(d.row.id)), delivered.map((d) => d.row.attempts), delivered.map((d) => d.code));
    }
    return { sent: rows.length, more };
  }

  /**
   * Rounds until none may have left a due row behind. Rows that fall due later (a retry's backoff,
   * a lease) are found by nextDueAt; rows of new events ring the LISTEN connection.
   */
  async function drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const { sent, more } = await round();
      total += sent;
      if (!more || stopped) return total;
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
      if (!stopped && !rung) {
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
      // woken by new events: let the ones committed right after them join the same round
      if (rung && !stopped) await new Promise((resolve) => setTimeout(resolve, COALESCE_MS));
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
