-- AlterEnum
ALTER TYPE "ReservationStatus" ADD VALUE 'RETURNED';

-- AlterEnum
ALTER TYPE "ShipmentStatus" ADD VALUE 'CANCELLED';
