-- CreateEnum
CREATE TYPE "ReturnStatus" AS ENUM ('REQUESTED', 'RECEIVED', 'INSPECTED', 'REFUNDED', 'REJECTED', 'LAPSED');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "OrderStatus" ADD VALUE 'PARTIALLY_SHIPPED';
ALTER TYPE "OrderStatus" ADD VALUE 'PARTIALLY_RETURNED';

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "PaymentKind" ADD VALUE 'AUTHORISATION';
ALTER TYPE "PaymentKind" ADD VALUE 'CAPTURE';
ALTER TYPE "PaymentKind" ADD VALUE 'VOID';

-- AlterTable
ALTER TABLE "payments" ADD COLUMN     "expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "lines" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "parent_key" TEXT,
ADD COLUMN     "reference" TEXT;

-- AlterTable
ALTER TABLE "gateway_transactions" ADD COLUMN     "expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "token" TEXT;

-- CreateTable
CREATE TABLE "stock_returns" (
    "return_id" TEXT NOT NULL,
    "order_id" UUID NOT NULL,
    "product_id" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stock_returns_pkey" PRIMARY KEY ("return_id","product_id")
);

-- CreateTable
CREATE TABLE "order_returns" (
    "id" TEXT NOT NULL,
    "order_id" UUID NOT NULL,
    "status" "ReturnStatus" NOT NULL DEFAULT 'REQUESTED',
    "reason" TEXT NOT NULL,
    "tracking_number" TEXT NOT NULL,
    "lines" JSONB NOT NULL,
    "timeline" JSONB NOT NULL DEFAULT '[]',
    "refund_amount" INTEGER NOT NULL DEFAULT 0,
    "currency" CHAR(3) NOT NULL,
    "requested_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "order_returns_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "stock_returns_order_id_idx" ON "stock_returns"("order_id");

-- CreateIndex
CREATE UNIQUE INDEX "order_returns_tracking_number_key" ON "order_returns"("tracking_number");

-- CreateIndex
CREATE INDEX "order_returns_order_id_idx" ON "order_returns"("order_id");

-- CreateIndex
CREATE INDEX "gateway_transactions_charge_id_idx" ON "gateway_transactions"("charge_id");
