-- What schema.prisma cannot say (its snapshot equals the previous one): a return
-- puts back a positive number of units, and refunds are never negative.
ALTER TABLE "stock_returns" ADD CONSTRAINT "stock_returns_quantity_positive" CHECK ("quantity" > 0);
ALTER TABLE "order_returns" ADD CONSTRAINT "order_returns_refund_nonnegative" CHECK ("refund_amount" >= 0);
