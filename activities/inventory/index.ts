import { ApplicationFailure } from '@temporalio/activity';
import type { Db, Prisma } from '../../prisma/client';
import { ErrorCodes } from '../../domain/errors';

export interface ReserveStockInput {
  orderId: string;
  items: { productId: string; quantity: number }[];
  /** accepted for the workflow that sends it and its recorded histories, never stored: the saga enforces the TTL on its own clock (chargeBefore) */
  expiresAt?: string;
}

export interface ReservedItem {
  productId: string;
  quantity: number;
}

type ReservationStatus = Prisma.ReservationModel['status'];

/**
 * Each of the order's reservations in `from` goes to `to`, and its units move
 * between stock counts with it. The status change is conditional, so a retry
 * moves nothing twice. Returns the units moved.
 */
async function moveReservations(
  db: Db,
  orderId: string,
  from: ReservationStatus,
  to: ReservationStatus,
  stockChange: (units: number) => Prisma.StockUpdateInput,
): Promise<number> {
  return db.$transaction(async (tx) => {
    const rows = await tx.reservation.findMany({ where: { orderId, status: from } });
    let moved = 0;
    for (const r of rows) {
      const { count } = await tx.reservation.updateMany({ where: { id: r.id, status: from }, data: { status: to } });
      if (count === 0) continue;
      await tx.stock.update({ where: { productId: r.productId }, data: stockChange(r.quantity) });
      moved += r.quantity;
    }
    return moved;
  });
}

/**
 * Inventory context: touches only products, stock and reservations.
 * Every effect is idempotent per order, so a retried activity repeats nothing.
 */
export function createInventoryActivities(db: Db) {
  return {
    /**
     * Holds all items or none. Each decrement is one conditional UPDATE, so
     * available stock never goes below zero under any concurrency; rows are
     * locked in product-id order so concurrent orders cannot deadlock.
     */
    async reserveStock(input: ReserveStockInput): Promise<{ items: ReservedItem[] }> {
      return db.$transaction(async (tx) => {
        const existing = await tx.reservation.findMany({ where: { orderId: input.orderId } });
        if (existing.length > 0) {
          return { items: existing.map(({ productId, quantity }) => ({ productId, quantity })) };
        }
        const items = [...input.items].sort((a, b) => (a.productId < b.productId ? -1 : 1));
        for (const item of items) {
          const { count } = await tx.stock.updateMany({
            where: { productId: item.productId, available: { gte: item.quantity } },
            data: { available: { decrement: item.quantity }, reserved: { increment: item.quantity } },
          });
          if (count === 0) {
            const stock = await tx.stock.findUnique({ where: { productId: item.productId } });
            throw ApplicationFailure.create({
              type: ErrorCodes.INVENTORY_UNAVAILABLE,
              message: `not enough stock for ${item.productId}: requested ${item.quantity}, available ${stock?.available ?? 0}`,
              nonRetryable: true,
              details: [{ productId: item.productId, requested: item.quantity, available: stock?.available ?? 0 }],
            });
          }
        }
        await tx.reservation.createMany({ data: items.map(({ productId, quantity }) => ({ orderId: input.orderId, productId, quantity })) });
        return { items: items.map(({ productId, quantity }) => ({ productId, quantity })) };
      });
    },

    /** Reserved → sold, once payment has succeeded. */
    async commitStock(input: { orderId: string }): Promise<{ committed: number }> {
      const committed = await moveReservations(db, input.orderId, 'HELD', 'COMMITTED', (n) => ({ reserved: { decrement: n }, sold: { increment: n } }));
      return { committed };
    },

    /** A delivered order came back: its units are sellable again, counted as returned. */
    async restockReturn(input: { orderId: string }): Promise<{ restocked: number }> {
      const restocked = await moveReservations(db, input.orderId, 'COMMITTED', 'RETURNED', (n) => ({ available: { increment: n }, returned: { increment: n } }));
      return { restocked };
    },

    /**
     * Compensation: puts back whatever this order holds or took, in any state.
     * With `items`, it also tombstones lines never reserved, so a reserve that
     * timed out and lands late finds the order already released.
     */
    async releaseStock(input: { orderId: string; items?: ReservedItem[] }): Promise<{ released: number }> {
      return db.$transaction(async (tx) => {
        // Tombstones first: one that meets a reserve still in flight (its rows
        // not yet committed) waits for it, so the read below sees what it reserved
        // and releases it; a reserve that comes later finds the tombstones and holds nothing.
        if (input.items?.length) {
          await tx.reservation.createMany({
            data: input.items.map((i) => ({
              orderId: input.orderId,
              productId: i.productId,
              quantity: 0,
              status: 'RELEASED' as const,
            })),
            skipDuplicates: true,
          });
        }
        const rows = await tx.reservation.findMany({ where: { orderId: input.orderId, status: { in: ['HELD', 'COMMITTED'] } } });
        let released = 0;
        for (const r of rows) {
          // A commitStock still in flight (its cancel not yet delivered) may turn
          // HELD into COMMITTED under our feet: then release what it is now.
          let status = r.status;
          for (;;) {
            const { count } = await tx.reservation.updateMany({ where: { id: r.id, status }, data: { status: 'RELEASED' } });
            if (count === 1) break;
            const now = await tx.reservation.findUnique({ where: { id: r.id }, select: { status: true } });
            if (now?.status !== 'HELD' && now?.status !== 'COMMITTED') {
              status = 'RELEASED';
              break;
            }
            status = now.status;
          }
          if (status === 'RELEASED') continue;
          await tx.stock.update({
            where: { productId: r.productId },
            data:
              status === 'HELD'
                ? { reserved: { decrement: r.quantity }, available: { increment: r.quantity } }
                : { sold: { decrement: r.quantity }, available: { increment: r.quantity } },
          });
          released += r.quantity;
        }
        return { released };
      });
    },
  };
}
