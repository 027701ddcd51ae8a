-- AlterEnum
ALTER TYPE "OrderStatus" ADD VALUE 'RETURN_REQUESTED';

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "token_version" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "placed_by_run" TEXT,
ADD COLUMN     "request_hash" TEXT;

-- CreateTable
CREATE TABLE "carrier_deliveries" (
    "id" TEXT NOT NULL,
    "order_id" UUID,
    "tracking_number" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "carrier_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rate_limits" (
    "key" VARCHAR(255) NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "expire" BIGINT,

    CONSTRAINT "rate_limits_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "carrier_deliveries_order_id_idx" ON "carrier_deliveries"("order_id");

-- CreateIndex
CREATE INDEX "carrier_deliveries_received_at_idx" ON "carrier_deliveries"("received_at");

