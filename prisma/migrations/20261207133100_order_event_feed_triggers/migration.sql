-- What schema.prisma cannot say (its snapshot equals the previous one): the
-- feed's rules, kept in the database so that every writer of order_events obeys
-- them in the same transaction as the state the event describes (the outbox).
-- (The schema engine splits a migration at every semicolon, even inside quotes,
-- so the function bodies write each one as the escape \073.)

ALTER TABLE "feed_subscriptions" ADD CONSTRAINT "feed_subscriptions_valid"
  CHECK ("kind" IN ('webhook', 'notifications') AND "status" IN ('ACTIVE', 'PAUSED') AND ("kind" <> 'webhook' OR ("url" IS NOT NULL AND "secret" IS NOT NULL)));
ALTER TABLE "feed_deliveries" ADD CONSTRAINT "feed_deliveries_valid"
  CHECK ("status" IN ('PENDING', 'DELIVERED', 'FAILED', 'SKIPPED') AND "attempts" >= 0 AND "seq" > 0);

-- The public name of a timeline event (the envelope's "type", what subscriptions filter on):
-- a status change is order.status.<status>, any other event order.<its type> without a leading ORDER_.
CREATE FUNCTION "feed_event_type"("event_type" text, "event_status" text) RETURNS text LANGUAGE sql IMMUTABLE
  AS E'SELECT CASE WHEN "event_type" = ''STATUS_CHANGED'' THEN ''order.status.'' || lower("event_status") ELSE ''order.'' || lower(regexp_replace("event_type", ''^ORDER_'', '''')) END';

-- Whether a subscription's event-type filter takes a type: an empty filter takes all, an entry
-- ending in * takes the types it prefixes (order.status.*), any other only itself.
CREATE FUNCTION "feed_subscription_wants"("filter" text[], "event_type" text) RETURNS boolean LANGUAGE sql IMMUTABLE
  AS E'SELECT coalesce(cardinality("filter"), 0) = 0 OR "event_type" = ANY("filter") OR EXISTS (SELECT 1 FROM unnest("filter") p WHERE right(p, 1) = ''*'' AND starts_with("event_type", left(p, -1)))';

-- Each order's events are numbered 1, 2, 3... in commit order: the order's row is locked
-- first, so two transactions writing events of one order take their numbers one after the other.
CREATE FUNCTION "order_event_seq"() RETURNS trigger LANGUAGE plpgsql
  AS E'BEGIN PERFORM 1 FROM "orders" WHERE "id" = NEW."order_id" FOR UPDATE\073 SELECT coalesce(max("seq"), 0) + 1 INTO NEW."seq" FROM "order_events" WHERE "order_id" = NEW."order_id"\073 RETURN NEW\073 END\073';
CREATE TRIGGER "order_events_seq" BEFORE INSERT ON "order_events"
  FOR EACH ROW EXECUTE FUNCTION "order_event_seq"();

-- Every new event becomes a delivery for each subscription that wants its type (paused ones too:
-- they are held, not dropped), and wakes the dispatchers.
CREATE FUNCTION "fan_out_order_event"() RETURNS trigger LANGUAGE plpgsql
  AS E'DECLARE t text := feed_event_type(NEW."type", NEW."status"::text)\073 BEGIN INSERT INTO "feed_deliveries" ("subscription_id", "event_id", "order_id", "seq") SELECT s."id", NEW."id", NEW."order_id", NEW."seq" FROM "feed_subscriptions" s WHERE feed_subscription_wants(s."event_types", t)\073 IF FOUND THEN PERFORM pg_notify(''feed_deliveries'', NEW."order_id"::text)\073 END IF\073 RETURN NULL\073 END\073';
CREATE TRIGGER "order_events_fan_out" AFTER INSERT ON "order_events"
  FOR EACH ROW EXECUTE FUNCTION "fan_out_order_event"();

-- The customers' e-mail and SMS are the feed's first consumer: they hear every status change.
INSERT INTO "feed_subscriptions" ("id", "kind", "description", "event_types", "updated_at")
  VALUES (gen_random_uuid(), 'notifications', 'customer e-mail and SMS (built in)', ARRAY['order.status.*'], now());
