-- The reservation TTL is the saga's, on the workflow clock (chargeBefore): this column was
-- written and never read. Workers that still write it fail their reserve and are retried.

-- DropIndex
DROP INDEX "reservations_status_expires_at_idx";

-- AlterTable
ALTER TABLE "reservations" DROP COLUMN "expires_at";
