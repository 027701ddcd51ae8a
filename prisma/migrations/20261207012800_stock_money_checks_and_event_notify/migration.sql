-- What schema.prisma cannot say (its snapshot equals the previous one): CHECK
-- constraints and a trigger. The drift test applies such migrations verbatim.

-- Stock and money never go below zero, whatever code writes them.
ALTER TABLE "stock" ADD CONSTRAINT "stock_counts_nonnegative"
  CHECK ("available" >= 0 AND "reserved" >= 0 AND "sold" >= 0 AND "returned" >= 0);
ALTER TABLE "products" ADD CONSTRAINT "products_price_nonnegative" CHECK ("price_amount" >= 0 AND "weight_grams" >= 0);
-- a release written before its reservation (a compensation racing the reserve) is a quantity-0 tombstone
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_quantity_nonnegative" CHECK ("quantity" >= 0);
ALTER TABLE "cart_items" ADD CONSTRAINT "cart_items_quantity_positive" CHECK ("quantity" > 0);
ALTER TABLE "orders" ADD CONSTRAINT "orders_total_nonnegative" CHECK ("total_amount" >= 0);
ALTER TABLE "order_items" ADD CONSTRAINT "order_items_amounts_valid"
  CHECK ("quantity" > 0 AND "unit_price_amount" >= 0 AND "line_total_amount" >= 0);
ALTER TABLE "payments" ADD CONSTRAINT "payments_amount_nonnegative" CHECK ("amount" >= 0);
ALTER TABLE "gateway_transactions" ADD CONSTRAINT "gateway_transactions_amount_nonnegative" CHECK ("amount" >= 0);

-- Every new timeline row wakes the API processes' event streams (one LISTEN
-- connection per process), whichever worker wrote it. Identical notifications
-- in one transaction are delivered once.
-- (The schema engine splits a migration at every semicolon, even inside dollar
-- quotes or comments, so the body writes each one as the escape \073.)
CREATE FUNCTION "notify_order_event"() RETURNS trigger LANGUAGE plpgsql
  AS E'BEGIN PERFORM pg_notify(''order_events'', NEW."order_id"::text)\073 RETURN NULL\073 END\073';
CREATE TRIGGER "order_events_notify" AFTER INSERT ON "order_events"
  FOR EACH ROW EXECUTE FUNCTION "notify_order_event"();
