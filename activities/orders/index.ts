import { ApplicationFailure } from '@temporalio/activity';
import { ErrorCodes } from '../../domain/errors';
import { Prisma, type Db } from '../../prisma/client';
import { canTransition, OrderStatuses, type OrderStatus } from '../../domain/order-status';
import { lineTotal } from '../../domain/order';
import { orderWorkflowId, type OrderState, type PlaceOrderInput, type ReturnState, type ReturnStatus, type TimelineEvent } from '../../temporal-config/place-order';

/** A list of plain records as a JSON column takes it (it came through Temporal as JSON, so it is JSON). */
const toJsonArray = (items: readonly object[]): Prisma.InputJsonArray => items;

/** Which saga places an order: the workflow chain's first run id (kept across retries, resets and continue-as-new). */
export interface OrderPlacement {
  placedByRun: string;
}

export interface RecordOrderStatusInput {
  orderId: string;
  status: OrderStatus;
  events: TimelineEvent[];
  failure?: OrderState['failure'];
  cancelReason?: string;
}

export interface RecordReturnInput {
  orderId: string;
  currency: string;
  /** the return as the saga now knows it */
  ret: ReturnState;
  /** timeline events of the order to write with it */
  events?: TimelineEvent[];
}

/** How far a return has come: REFUNDED, REJECTED and LAPSED are where it ends. */
const returnProgress: Record<ReturnStatus, number> = { REQUESTED: 0, RECEIVED: 1, INSPECTED: 2, REFUNDED: 3, REJECTED: 3, LAPSED: 3 };

/**
 * Whether a write of a return takes it forwards (or keeps it where it is with
 * at least the timeline it has: the saga only ever appends to it), so a retried
 * older write never undoes a newer one. A return that ended stays as it ended.
 */
export function isReturnForward(stored: { status: ReturnStatus; timelineLength: number }, next: { status: ReturnStatus; timelineLength: number }): boolean {
  if (returnProgress[stored.status] === 3 && next.status !== stored.status) return false;
  if (returnProgress[next.status] !== returnProgress[stored.status]) return returnProgress[next.status] > returnProgress[stored.status];
  return next.timelineLength >= stored.timelineLength;
}

type Tx = Prisma.TransactionClient;

/**
 * The INSERT of timeline events for the order `order` yields (a query with one
 * `id` column), in the given order; (orderId, key) is unique, so a retried
 * write adds nothing. A fragment, so a status change and its events (the feed's
 * outbox rows, made by triggers) are one statement.
 */
const insertEvents = (order: Prisma.Sql, events: readonly TimelineEvent[]): Prisma.Sql => Prisma.sql`
  INSERT INTO order_events (order_id, key, type, status, detail, occurred_at)
  SELECT o.id, e.key, e.type, e.status::"OrderStatus", coalesce(e.detail, '{}'), e."occurredAt"
  FROM (${order}) o,
    ROWS FROM (jsonb_to_recordset(${JSON.stringify(events)}::jsonb) AS (key text, type text, status text, detail jsonb, "occurredAt" timestamptz)) WITH ORDINALITY AS e(key, type, status, detail, "occurredAt", n)
  ORDER BY e.n
  ON CONFLICT DO NOTHING`;

/** Writes the order's timeline events (see insertEvents). */
async function writeEvents(tx: Tx, orderId: string, events: TimelineEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.$executeRaw`${insertEvents(Prisma.sql`SELECT ${orderId}::uuid AS id`, events)}`;
}

/** A new order as PENDING: the price snapshot as its lines, ORDER_PLACED as its first timeline event. */
export const newOrderRow = (input: PlaceOrderInput, placedAt: Date) => ({
  id: input.orderId,
  customerId: input.customerId,
  workflowId: orderWorkflowId(input.orderId),
  currency: input.currency,
  totalAmount: input.totalAmount,
  shippingAddress: input.shippingAddress as object,
  requestHash: input.requestHash ?? null,
  items: {
    create: input.items.map((i) => ({
      productId: i.productId,
      sku: i.sku,
      name: i.name,
      quantity: i.quantity,
      unitPriceAmount: i.unitPriceAmount,
      lineTotalAmount: lineTotal(i, input.currency).amount,
      currency: input.currency,
    })),
  },
  timeline: { create: { key: '000-ORDER_PLACED', type: 'ORDER_PLACED', status: 'PENDING' as const, occurredAt: placedAt } },
});

/**
 * newOrderRow written in one statement (the order, its lines, its first event),
 * unless a row with its id exists already: then nothing. True when it was written.
 */
async function insertOrder(db: Db, input: PlaceOrderInput, placedByRun: string | null): Promise<boolean> {
  const row = newOrderRow(input, new Date());
  const inserted = await db.$queryRaw<{ id: string }[]>`
    WITH o AS (
      INSERT INTO orders (id, customer_id, workflow_id, currency, total_amount, shipping_address, request_hash, placed_by_run, updated_at)
      VALUES (${row.id}::uuid, ${row.customerId}, ${row.workflowId}, ${row.currency}, ${row.totalAmount}, ${JSON.stringify(row.shippingAddress)}::jsonb, ${row.requestHash}, ${placedByRun}, now())
      ON CONFLICT DO NOTHING
      RETURNING id),
    lines AS (
      INSERT INTO order_items (order_id, product_id, sku, name, quantity, unit_price_amount, line_total_amount, currency)
      SELECT o.id, i."productId", i.sku, i.name, i.quantity, i."unitPriceAmount", i."lineTotalAmount", i.currency
      FROM o, jsonb_to_recordset(${JSON.stringify(row.items.create)}::jsonb) AS i("productId" text, sku text, name text, quantity int, "unitPriceAmount" int, "lineTotalAmount" int, currency text)),
    placed AS (${insertEvents(Prisma.sql`SELECT id FROM o`, [{ ...row.timeline.create, occurredAt: row.timeline.create.occurredAt.toISOString() }])})
    SELECT id FROM o`;
  return inserted.length > 0;
}

/**
 * Orders context: the order record, its items (with the price snapshot) and
 * its timeline. The workflow hands it the saga's timeline events in batches;
 * (orderId, key) is unique, so a retried write adds nothing.
 */
export function createOrdersActivities(db: Db) {
  return {
    /**
     * Creates the order row, stamped with the saga that places it. `placement`
     * is absent only in runs scheduled before the stamp existed (they keep the
     * old create-once behaviour). With it, a row placed by another saga is never
     * taken over: after Temporal's retention forgot the old run, a new saga for
     * the same id would otherwise reuse its reservations and charge and then
     * compensate them (refund a delivered order, put sold stock back).
     */
    async createOrder(input: PlaceOrderInput, placement?: OrderPlacement): Promise<void> {
      if (await insertOrder(db, input, placement?.placedByRun ?? null)) return;
      if (!placement) return;
      const row = await db.order.findUnique({ where: { id: input.orderId }, select: { placedByRun: true } });
      // a retry of this saga's own create (the first attempt's answer was lost)
      if (row?.placedByRun === placement.placedByRun) return;
      throw ApplicationFailure.create({
        type: ErrorCodes.ORDER_ALREADY_EXISTS,
        message: `order ${input.orderId} was placed by another saga; this one ends without touching it`,
        nonRetryable: true,
      });
    },

    /**
     * One statement: the status changes only from a status canTransition allows
     * (checked on the row as it is when the UPDATE gets it, so a concurrent
     * change cannot slip past the check), and the events are written only with it.
     */
    async recordOrderStatus(input: RecordOrderStatusInput): Promise<void> {
      const from = OrderStatuses.filter((s) => canTransition(s, input.status));
      const [result] = await db.$queryRaw<{ moved: boolean; status: OrderStatus | null }[]>`
        WITH moved AS (
          UPDATE orders SET
            status = ${input.status}::"OrderStatus",
            failure_code = coalesce(${input.failure?.code ?? null}, failure_code),
            failure_reason = coalesce(${input.failure?.message ?? null}, failure_reason),
            cancel_reason = coalesce(${input.cancelReason || null}, cancel_reason),
            updated_at = now()
          WHERE id = ${input.orderId}::uuid AND status = ANY(${from}::text[]::"OrderStatus"[])
          RETURNING id),
        written AS (${insertEvents(Prisma.sql`SELECT id FROM moved`, input.events)})
        SELECT EXISTS (SELECT 1 FROM moved) AS moved, (SELECT status::text FROM orders WHERE id = ${input.orderId}::uuid) AS status`;
      if (result.moved) return;
      if (!result.status) {
        throw ApplicationFailure.create({ type: ErrorCodes.ORDER_NOT_FOUND, message: `order ${input.orderId} does not exist`, nonRetryable: true });
      }
      throw ApplicationFailure.create({
        type: ErrorCodes.ILLEGAL_TRANSITION,
        message: `order ${input.orderId} cannot go from ${result.status} to ${input.status}`,
        nonRetryable: true,
      });
    },

    /**
     * Upserts one return of the order as the saga last knew it, with timeline
     * events of the order in the same transaction. A write that would take the
     * return backwards (an older write retried after a newer one) is ignored:
     * `recorded` is false; its events are still written (they are keyed).
     */
    async recordReturn(input: RecordReturnInput): Promise<{ recorded: boolean }> {
      const { ret } = input;
      const fields = {
        status: ret.status,
        reason: ret.reason,
        trackingNumber: ret.trackingNumber,
        lines: toJsonArray(ret.lines),
        timeline: toJsonArray(ret.timeline),
        refundAmount: ret.refundAmount,
        requestedAt: new Date(ret.requestedAt),
      };
      return db.$transaction(async (tx) => {
        await writeEvents(tx, input.orderId, input.events ?? []);
        const { count } = await tx.orderReturn.createMany({
          data: [{ id: ret.returnId, orderId: input.orderId, currency: input.currency, ...fields }],
          skipDuplicates: true,
        });
        if (count === 1) return { recorded: true };
        // concurrent writes of the same return queue on its row
        const [stored] = await tx.$queryRaw<{ status: ReturnStatus; timeline_length: number }[]>`
          SELECT status, jsonb_array_length(timeline) AS timeline_length FROM order_returns WHERE id = ${ret.returnId} FOR UPDATE`;
        if (!stored) {
          // not inserted, yet no row with its id: another return has its tracking number
          throw ApplicationFailure.create({
            type: ErrorCodes.INTERNAL,
            message: `return ${ret.returnId} of order ${input.orderId}: tracking number ${ret.trackingNumber} belongs to another return`,
            nonRetryable: true,
          });
        }
        if (!isReturnForward({ status: stored.status, timelineLength: stored.timeline_length }, { status: ret.status, timelineLength: ret.timeline.length })) {
          return { recorded: false };
        }
        await tx.orderReturn.update({ where: { id: ret.returnId }, data: fields });
        return { recorded: true };
      });
    },
  };
}
