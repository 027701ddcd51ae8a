-- AlterTable
ALTER TABLE "order_events" ADD COLUMN     "seq" INTEGER NOT NULL DEFAULT 0;

-- the events already written get their per-order numbers, in the order they were written
UPDATE "order_events" e SET "seq" = n."seq"
  FROM (SELECT "id", row_number() OVER (PARTITION BY "order_id" ORDER BY "id") AS "seq" FROM "order_events") n
  WHERE e."id" = n."id";

-- CreateTable
CREATE TABLE "feed_subscriptions" (
    "id" UUID NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'webhook',
    "url" TEXT,
    "description" TEXT,
    "event_types" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "status" TEXT NOT NULL DEFAULT 'ACTIVE',
    "paused_reason" TEXT,
    "secret" TEXT,
    "previous_secret" TEXT,
    "previous_secret_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "feed_subscriptions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "feed_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "subscription_id" UUID NOT NULL,
    "event_id" BIGINT NOT NULL,
    "order_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lease_until" TIMESTAMPTZ(3),
    "first_attempt_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "last_status_code" INTEGER,
    "delivered_at" TIMESTAMPTZ(3),
    "replay" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "feed_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "feed_deliveries_subscription_id_order_id_seq_idx" ON "feed_deliveries"("subscription_id", "order_id", "seq");

-- CreateIndex
CREATE INDEX "feed_deliveries_status_next_attempt_at_idx" ON "feed_deliveries"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "feed_deliveries_subscription_id_id_idx" ON "feed_deliveries"("subscription_id", "id");

-- CreateIndex
CREATE INDEX "feed_deliveries_event_id_idx" ON "feed_deliveries"("event_id");

-- CreateIndex
CREATE UNIQUE INDEX "order_events_order_id_seq_key" ON "order_events"("order_id", "seq");

-- AddForeignKey
ALTER TABLE "feed_deliveries" ADD CONSTRAINT "feed_deliveries_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "feed_subscriptions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "feed_deliveries" ADD CONSTRAINT "feed_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "order_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;
