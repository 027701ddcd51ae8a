import { ApplicationFailure } from '@temporalio/activity';
import { Prisma, type Db } from '../../prisma/client';
import { ErrorCodes } from '../../domain/errors';
import type { ReturnLine } from '../../temporal-config/place-order';

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

export interface RestockLinesInput {
  orderId: string;
  /** the return the units come back with: each (return, product) is restocked once */
  returnId: string;
  lines: ReturnLine[];
}

/**
 * Each of the order's reservations in `from` goes to `to`, and its units move
 * between stock counts with it (`stockChange`: the SET list of the stock row,
 * where `m.units` are the units moved of its product), all in one statement.
 * The status change is conditional, so a retry moves nothing twice; stock rows
 * are locked in product-id order, as reserveStock locks them. Returns the units moved.
 */
async function moveReservations(db: Db, orderId: string, from: ReservationStatus, to: ReservationStatus, stockChange: Prisma.Sql): Promise<number> {
  const [{ moved }] = await db.$queryRaw<{ moved: number }[]>`
    WITH moved AS (
      UPDATE reservations SET status = ${to}::"ReservationStatus", updated_at = now()
      WHERE order_id = ${orderId}::uuid AND status = ${from}::"ReservationStatus"
      RETURNING product_id, quantity),
    m AS (SELECT product_id, sum(quantity)::int AS units FROM moved GROUP BY product_id),
    locked AS MATERIALIZED (SELECT product_id FROM stock WHERE product_id IN (SELECT product_id FROM m) ORDER BY product_id FOR UPDATE),
    counted AS (
      UPDATE stock s SET ${stockChange}, updated_at = now()
      FROM m JOIN locked USING (product_id)
      WHERE s.product_id = m.product_id)
    SELECT coalesce(sum(units), 0)::int AS moved FROM m`;
  return moved;
}

type Tx = Prisma.TransactionClient;

/** One line per product (quantities of a product named twice added up), in product-id order so concurrent writers lock stock rows alike. */
function linesByProduct(lines: ReturnLine[]): ReturnLine[] {
  const byProduct = new Map<string, number>();
  for (const l of lines) {
    if (!Number.isInteger(l.quantity) || l.quantity <= 0) {
      throw ApplicationFailure.create({
        type: ErrorCodes.VALIDATION_FAILED,
        message: `a returned quantity must be a positive whole number: ${l.productId} x ${l.quantity}`,
        nonRetryable: true,
      });
    }
    byProduct.set(l.productId, (byProduct.get(l.productId) ?? 0) + l.quantity);
  }
  return [...byProduct].sort(([a], [b]) => (a < b ? -1 : 1)).map(([productId, quantity]) => ({ productId, quantity }));
}

/**
 * Restocks one line of a return, once: the stock_returns row and the stock
 * change commit together. The order's reservation of the product is locked
 * first, so concurrent returns of the same product queue and cannot together
 * put back more than was sold. Returns the units this return has back of it.
 */
async function restockLine(tx: Tx, orderId: string, returnId: string, line: ReturnLine): Promise<number> {
  const [reservation] = await tx.$queryRaw<{ status: ReservationStatus; quantity: number }[]>`
    SELECT status, quantity FROM reservations WHERE order_id = ${orderId}::uuid AND product_id = ${line.productId} FOR UPDATE`;
  const { count } = await tx.stockReturn.createMany({ data: [{ returnId, orderId, productId: line.productId, quantity: line.quantity }], skipDuplicates: true });
  if (count === 0) {
    // a retry: this return's units of it are back already
    const done = await tx.stockReturn.findUniqueOrThrow({ where: { returnId_productId: { returnId, productId: line.productId } } });
    return done.quantity;
  }
  const sold = reservation?.status === 'COMMITTED' ? reservation.quantity : 0;
  const { _sum } = await tx.stockReturn.aggregate({ where: { orderId, productId: line.productId }, _sum: { quantity: true } });
  const returned = _sum.quantity ?? 0;
  if (returned > sold) {
    const returnable = sold - (returned - line.quantity);
    throw ApplicationFailure.create({
      type: ErrorCodes.RETURN_QUANTITY_EXCEEDED,
      message: `order ${orderId} can take back ${returnable} more of ${line.productId}, not ${line.quantity}`,
      nonRetryable: true,
      details: [{ productId: line.productId, requested: line.quantity, returnable }],
    });
  }
  await tx.stock.update({ where: { productId: line.productId }, data: { available: { increment: line.quantity }, returned: { increment: line.quantity } } });
  return line.quantity;
}

/**
 * Puts the units of these reservations back on the shelf: each HELD or
 * COMMITTED one becomes RELEASED by a conditional status change, so a retry
 * (or a concurrent release) moves nothing twice. Returns the units moved.
 */
async function releaseReservations(tx: Tx, rows: Prisma.ReservationModel[]): Promise<number> {
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
  return released;
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
      const items = [...input.items].sort((a, b) => (a.productId < b.productId ? -1 : 1));
      // One statement, all or none: the stock rows are locked (in product-id order) and
      // checked first; only when every line has enough are they all taken and held.
      // A reservation of the order already there (a retry, or releaseStock's tombstones)
      // takes nothing: the answer is what it holds. Two reserves of one order at once:
      // the second's INSERT fails on (order_id, product_id) and undoes its stock change.
      const rows = await db.$queryRaw<{ held: boolean; productId: string; quantity: number; available: number | null }[]>`
        WITH wanted AS (
          SELECT * FROM jsonb_to_recordset(${JSON.stringify(items)}::jsonb) AS w("productId" text, quantity int)),
        existing AS (
          SELECT product_id, quantity FROM reservations WHERE order_id = ${input.orderId}::uuid),
        locked AS MATERIALIZED (
          SELECT product_id, available FROM stock
          WHERE product_id IN (SELECT "productId" FROM wanted) AND NOT EXISTS (SELECT 1 FROM existing)
          ORDER BY product_id FOR UPDATE),
        enough AS (
          SELECT NOT EXISTS (SELECT 1 FROM existing)
            AND count(*) = (SELECT count(*) FROM wanted) AS ok
          FROM wanted w JOIN locked l ON l.product_id = w."productId" WHERE l.available >= w.quantity),
        taken AS (
          UPDATE stock s SET available = s.available - w.quantity, reserved = s.reserved + w.quantity, updated_at = now()
          FROM wanted w, enough WHERE enough.ok AND s.product_id = w."productId"),
        held AS (
          INSERT INTO reservations (id, order_id, product_id, quantity, updated_at)
          SELECT gen_random_uuid(), ${input.orderId}::uuid, w."productId", w.quantity, now() FROM wanted w, enough WHERE enough.ok)
        SELECT true AS held, product_id AS "productId", quantity, NULL::int AS available FROM existing
        UNION ALL
        SELECT false, w."productId", w.quantity, l.available
        FROM wanted w LEFT JOIN locked l ON l.product_id = w."productId"
        WHERE NOT EXISTS (SELECT 1 FROM existing)`;
      const existing = rows.filter((r) => r.held);
      if (existing.length > 0) return { items: existing.map(({ productId, quantity }) => ({ productId, quantity })) };
      // nothing was taken unless every line had enough (no stock row: none)
      const short = rows.find((r) => (r.available ?? 0) < r.quantity);
      if (short) {
        const available = short.available ?? 0;
        throw ApplicationFailure.create({
          type: ErrorCodes.INVENTORY_UNAVAILABLE,
          message: `not enough stock for ${short.productId}: requested ${short.quantity}, available ${available}`,
          nonRetryable: true,
          details: [{ productId: short.productId, requested: short.quantity, available }],
        });
      }
      return { items: items.map(({ productId, quantity }) => ({ productId, quantity })) };
    },

    /** Reserved → sold, once payment has succeeded. */
    async commitStock(input: { orderId: string }): Promise<{ committed: number }> {
      const committed = await moveReservations(db, input.orderId, 'HELD', 'COMMITTED', Prisma.sql`reserved = s.reserved - m.units, sold = s.sold + m.units`);
      return { committed };
    },

    /** A delivered order came back: its units are sellable again, counted as returned. */
    async restockReturn(input: { orderId: string }): Promise<{ restocked: number }> {
      const restocked = await moveReservations(db, input.orderId, 'COMMITTED', 'RETURNED', Prisma.sql`available = s.available + m.units, returned = s.returned + m.units`);
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
        const released = await releaseReservations(tx, rows);
        return { released };
      });
    },

    /**
     * Partial cancel: puts back these products' units of the order (held or
     * sold, not yet shipped), leaving its other lines as they are. A retry
     * finds them RELEASED and moves nothing; `released` counts this call's units.
     */
    async releaseLines(input: { orderId: string; productIds: string[] }): Promise<{ released: number }> {
      if (input.productIds.length === 0) return { released: 0 };
      return db.$transaction(async (tx) => {
        const rows = await tx.reservation.findMany({
          where: { orderId: input.orderId, productId: { in: input.productIds }, status: { in: ['HELD', 'COMMITTED'] } },
          orderBy: { productId: 'asc' },
        });
        return { released: await releaseReservations(tx, rows) };
      });
    },

    /**
     * Returned lines back on the shelf (available and counted as returned), all
     * or none, once per (return, product): a retry restocks nothing again and
     * answers the same `restocked` (this return's units back, for its lines).
     * Refused (RETURN_QUANTITY_EXCEEDED) beyond what the order bought and has
     * not yet sent back. The reservation stays COMMITTED: the rest of the line
     * is still sold.
     */
    async restockLines(input: RestockLinesInput): Promise<{ restocked: number }> {
      const lines = linesByProduct(input.lines);
      if (lines.length === 0) return { restocked: 0 };
      return db.$transaction(async (tx) => {
        let restocked = 0;
        for (const line of lines) restocked += await restockLine(tx, input.orderId, input.returnId, line);
        return { restocked };
      });
    },
  };
}
