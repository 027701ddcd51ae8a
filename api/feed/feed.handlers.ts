import { randomBytes } from 'node:crypto';
import { z, type RouteHandler } from '@hono/zod-openapi';
import { ErrorCodes } from '../../domain/errors';
import { FEED_DELIVERIES_CHANNEL, FEED_TYPE_SQL, SECRET_PREFIX, type FeedDeliveryStatus, type FeedSubscriptionStatus } from '../../domain/feed';
import { checkTarget, type AllowList } from '../../platform/outbound-target';
import { Prisma, type Db } from '../../prisma/client';
import { ApiError } from '../errors';
import { decodeCursor, toPage } from '../pagination';
import type { AppEnv } from '../types';
import { BigintIdSchema } from './feed.routes';
import type * as routes from './feed.routes';

export interface FeedDeps {
  db: Db;
  /** private addresses a webhook may target after all (FEED_ALLOWED_PRIVATE_TARGETS) */
  allow: AllowList;
  /** after a rotation, the previous secret still signs for this long */
  secretGraceMs: number;
}

/** What the admin API touches: the built-in notifications subscription is not a webhook. */
const WEBHOOK = 'webhook';
const OPERATOR_PAUSE = 'paused by an operator';

type Subscription = Prisma.FeedSubscriptionGetPayload<object>;

const iso = (d: Date | null) => d?.toISOString() ?? null;

const webhookView = (s: Subscription) => ({
  id: s.id,
  url: s.url ?? '',
  description: s.description,
  eventTypes: s.eventTypes,
  status: s.status as FeedSubscriptionStatus,
  pausedReason: s.pausedReason,
  previousSecretUntil: iso(s.previousSecretUntil),
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});

interface DeliveryRow {
  id: bigint;
  event_id: bigint;
  order_id: string;
  seq: number;
  type: string;
  status: FeedDeliveryStatus;
  attempts: number;
  last_error: string | null;
  last_status_code: number | null;
  next_attempt_at: Date;
  delivered_at: Date | null;
  replay: boolean;
  created_at: Date;
}

const deliveryView = (d: DeliveryRow) => ({
  id: String(d.id),
  eventId: String(d.event_id),
  orderId: d.order_id,
  sequence: d.seq,
  type: d.type,
  status: d.status,
  attempts: d.attempts,
  lastError: d.last_error,
  lastStatusCode: d.last_status_code,
  nextAttemptAt: d.status === 'PENDING' ? d.next_attempt_at.toISOString() : null,
  deliveredAt: iso(d.delivered_at),
  replay: d.replay,
  createdAt: d.created_at.toISOString(),
});

/** Standard Webhooks' form: whsec_ + base64 of 32 random bytes. */
const newSecret = () => SECRET_PREFIX + randomBytes(32).toString('base64');

const DeliveryCursor = z.object({ i: BigintIdSchema });

export function createFeedHandlers({ db, allow, secretGraceMs }: FeedDeps) {
  const subscriptionNotFound = () => new ApiError(ErrorCodes.SUBSCRIPTION_NOT_FOUND, 'webhook subscription not found');
  const deliveryNotFound = () => new ApiError(ErrorCodes.DELIVERY_NOT_FOUND, 'no such delivery of this webhook subscription');

  const findWebhook = async (id: string) => {
    const s = await db.feedSubscription.findFirst({ where: { id, kind: WEBHOOK } });
    if (!s) throw subscriptionNotFound();
    return s;
  };

  /** The URL as it will be called, once the target rule allows it; nothing is written otherwise. */
  const allowedUrl = async (url: string) => {
    const verdict = await checkTarget(url, allow);
    if (!verdict.ok) throw new ApiError(ErrorCodes.WEBHOOK_TARGET_FORBIDDEN, `the webhook URL may not be a target: ${verdict.reason}`, { reason: verdict.reason });
    return new URL(url).href;
  };

  /** Changes a webhook subscription; its view after the change. */
  const change = async (id: string, data: Prisma.FeedSubscriptionUpdateManyMutationInput) => {
    const changed = await db.feedSubscription.updateMany({ where: { id, kind: WEBHOOK }, data });
    const s = changed.count === 0 ? null : await db.feedSubscription.findFirst({ where: { id, kind: WEBHOOK } });
    if (!s) throw subscriptionNotFound();
    return webhookView(s);
  };

  /** Dispatchers LISTEN on the channel: deliveries the API made sendable go now, not at their next poll. */
  const wakeDispatchers = () => db.$executeRaw`SELECT pg_notify(${FEED_DELIVERIES_CHANNEL}, '')`;

  const deliveries = (where: Prisma.Sql, limit: number) => db.$queryRaw<DeliveryRow[]>`
    SELECT d."id", d."event_id", d."order_id"::text AS "order_id", d."seq", ${Prisma.raw(FEED_TYPE_SQL)} AS "type", d."status", d."attempts",
           d."last_error", d."last_status_code", d."next_attempt_at", d."delivered_at", d."replay", d."created_at"
    FROM "feed_deliveries" d JOIN "order_events" e ON e."id" = d."event_id"
    WHERE ${where}
    ORDER BY d."id" DESC
    LIMIT ${limit}`;

  const delivery = async (subscriptionId: string, deliveryId: bigint) => {
    const [d] = await deliveries(Prisma.sql`d."id" = ${deliveryId} AND d."subscription_id" = ${subscriptionId}::uuid`, 1);
    if (!d) throw deliveryNotFound();
    return d;
  };

  const createWebhook: RouteHandler<typeof routes.createWebhook, AppEnv> = async (c) => {
    const { url, eventTypes, description } = c.req.valid('json');
    const secret = newSecret();
    const s = await db.feedSubscription.create({ data: { kind: WEBHOOK, url: await allowedUrl(url), eventTypes, description: description || null, secret } });
    return c.json({ ...webhookView(s), secret }, 201);
  };

  const listWebhooks: RouteHandler<typeof routes.listWebhooks, AppEnv> = async (c) => {
    const rows = await db.feedSubscription.findMany({ where: { kind: WEBHOOK }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    return c.json({ items: rows.map(webhookView) }, 200);
  };

  const getWebhook: RouteHandler<typeof routes.getWebhook, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    const s = await findWebhook(id);
    const [counts] = await db.$queryRaw<{ pending: number; failed: number; delivered: number; skipped: number; oldest_pending_at: Date | null }[]>`
      SELECT count(*) FILTER (WHERE "status" = 'PENDING')::int AS "pending",
             count(*) FILTER (WHERE "status" = 'FAILED')::int AS "failed",
             count(*) FILTER (WHERE "status" = 'DELIVERED')::int AS "delivered",
             count(*) FILTER (WHERE "status" = 'SKIPPED')::int AS "skipped",
             min("created_at") FILTER (WHERE "status" = 'PENDING') AS "oldest_pending_at"
      FROM "feed_deliveries" WHERE "subscription_id" = ${id}::uuid`;
    const { oldest_pending_at, ...byStatus } = counts;
    return c.json({ ...webhookView(s), deliveries: { ...byStatus, oldestPendingAt: iso(oldest_pending_at) } }, 200);
  };

  const updateWebhook: RouteHandler<typeof routes.updateWebhook, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    const { url, eventTypes, description } = c.req.valid('json');
    await findWebhook(id);
    return c.json(
      await change(id, {
        ...(url !== undefined ? { url: await allowedUrl(url) } : {}),
        ...(eventTypes !== undefined ? { eventTypes } : {}),
        ...(description !== undefined ? { description: description || null } : {}),
      }),
      200,
    );
  };

  const deleteWebhook: RouteHandler<typeof routes.deleteWebhook, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    const removed = await db.feedSubscription.deleteMany({ where: { id, kind: WEBHOOK } });
    if (removed.count === 0) throw subscriptionNotFound();
    return c.body(null, 204);
  };

  const pauseWebhook: RouteHandler<typeof routes.pauseWebhook, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await change(id, { status: 'PAUSED', pausedReason: OPERATOR_PAUSE }), 200);
  };

  const resumeWebhook: RouteHandler<typeof routes.resumeWebhook, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    const resumed = await change(id, { status: 'ACTIVE', pausedReason: null });
    await wakeDispatchers();
    return c.json(resumed, 200);
  };

  /** One statement, so two rotations at once cannot lose a secret that signed. */
  const rotateWebhookSecret: RouteHandler<typeof routes.rotateWebhookSecret, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    const secret = newSecret();
    const until = new Date(Date.now() + secretGraceMs);
    const [rotated] = await db.$queryRaw<{ previous_secret_until: Date }[]>`
      UPDATE "feed_subscriptions"
      SET "previous_secret" = "secret", "secret" = ${secret}, "previous_secret_until" = ${until.toISOString()}::timestamptz, "updated_at" = now()
      WHERE "id" = ${id}::uuid AND "kind" = ${WEBHOOK}
      RETURNING "previous_secret_until"`;
    if (!rotated) throw subscriptionNotFound();
    return c.json({ secret, previousSecretUntil: rotated.previous_secret_until.toISOString() }, 200);
  };

  const listWebhookDeliveries: RouteHandler<typeof routes.listWebhookDeliveries, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    const { status, limit, cursor } = c.req.valid('query');
    const after = decodeCursor(cursor, DeliveryCursor);
    await findWebhook(id);
    const rows = await deliveries(
      Prisma.sql`d."subscription_id" = ${id}::uuid
        ${status ? Prisma.sql`AND d."status" = ${status}` : Prisma.empty}
        ${after ? Prisma.sql`AND d."id" < ${BigInt(after.i)}` : Prisma.empty}`,
      limit + 1,
    );
    const { rows: kept, nextCursor } = toPage(rows, limit, (d) => ({ i: String(d.id) }));
    return c.json({ items: kept.map(deliveryView), nextCursor }, 200);
  };

  /**
   * A delivery not yet delivered starts over (sent now, its retry period anew); one delivered or
   * skipped is sent again as a new delivery of the same event (replay), its own history kept.
   */
  const redeliver: RouteHandler<typeof routes.redeliver, AppEnv> = async (c) => {
    const { id, deliveryId } = c.req.valid('param');
    await findWebhook(id);
    const queued = await db.$transaction(async (tx) => {
      const [d] = await tx.$queryRaw<{ id: bigint; status: FeedDeliveryStatus }[]>`
        SELECT "id", "status" FROM "feed_deliveries" WHERE "id" = ${BigInt(deliveryId)} AND "subscription_id" = ${id}::uuid FOR UPDATE`;
      if (!d) throw deliveryNotFound();
      if (d.status === 'PENDING' || d.status === 'FAILED') {
        await tx.$executeRaw`
          UPDATE "feed_deliveries" SET "status" = 'PENDING', "next_attempt_at" = now(), "first_attempt_at" = NULL, "lease_until" = NULL
          WHERE "id" = ${d.id}`;
        return d.id;
      }
      const [made] = await tx.$queryRaw<{ id: bigint }[]>`
        INSERT INTO "feed_deliveries" ("subscription_id", "event_id", "order_id", "seq", "replay")
        SELECT "subscription_id", "event_id", "order_id", "seq", true FROM "feed_deliveries" WHERE "id" = ${d.id}
        RETURNING "id"`;
      return made.id;
    });
    await wakeDispatchers();
    return c.json(deliveryView(await delivery(id, queued)), 202);
  };

  const skipDelivery: RouteHandler<typeof routes.skipDelivery, AppEnv> = async (c) => {
    const { id, deliveryId } = c.req.valid('param');
    await findWebhook(id);
    const skipped = await db.$executeRaw`
      UPDATE "feed_deliveries" SET "status" = 'SKIPPED', "lease_until" = NULL
      WHERE "id" = ${BigInt(deliveryId)} AND "subscription_id" = ${id}::uuid AND "status" IN ('PENDING', 'FAILED')`;
    // the order's later events were waiting behind it
    if (skipped > 0) await wakeDispatchers();
    const d = await delivery(id, BigInt(deliveryId));
    if (d.status === 'DELIVERED') throw new ApiError(ErrorCodes.DELIVERY_ALREADY_DELIVERED, `delivery ${deliveryId} was delivered already`, { status: d.status });
    return c.json(deliveryView(d), 200);
  };

  /** One statement: the events from there on that the subscription takes, in event order. */
  const replayWebhook: RouteHandler<typeof routes.replayWebhook, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    const { fromEventId, fromTime, orderId } = c.req.valid('json');
    await findWebhook(id);
    const from = fromEventId !== undefined ? Prisma.sql`e."id" >= ${BigInt(fromEventId)}` : Prisma.sql`e."occurred_at" >= ${fromTime}::timestamptz`;
    const queued = await db.$executeRaw`
      INSERT INTO "feed_deliveries" ("subscription_id", "event_id", "order_id", "seq", "replay")
      SELECT s."id", e."id", e."order_id", e."seq", true
      FROM "feed_subscriptions" s JOIN "order_events" e ON ${from} ${orderId ? Prisma.sql`AND e."order_id" = ${orderId}::uuid` : Prisma.empty}
      WHERE s."id" = ${id}::uuid AND s."kind" = ${WEBHOOK} AND feed_subscription_wants(s."event_types", ${Prisma.raw(FEED_TYPE_SQL)})
      ORDER BY e."id"`;
    if (queued > 0) await wakeDispatchers();
    return c.json({ queued }, 202);
  };

  return {
    createWebhook,
    listWebhooks,
    getWebhook,
    updateWebhook,
    deleteWebhook,
    pauseWebhook,
    resumeWebhook,
    rotateWebhookSecret,
    listWebhookDeliveries,
    redeliver,
    skipDelivery,
    replayWebhook,
  };
}
