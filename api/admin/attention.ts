import { z } from '@hono/zod-openapi';
import { ErrorCodes } from '../../domain/errors';
import { isCancellable, type OrderStatus } from '../../domain/order-status';
import type { Db } from '../../prisma/client';

/**
 * What an operator may do to an order now, each an admin route:
 * RETRY_COMPENSATIONS: POST /api/v1/admin/orders/{id}/retry-compensations;
 * RETRY_PAYMENT: POST /api/v1/admin/orders/{id}/retry-payment;
 * CANCEL_SHIPMENTS: POST /api/v1/admin/orders/{id}/shipments/cancel.
 */
export const Repairs = ['RETRY_COMPENSATIONS', 'RETRY_PAYMENT', 'CANCEL_SHIPMENTS'] as const;
export type Repair = (typeof Repairs)[number];

/** The code of a NEEDS_ATTENTION whose reason the timeline does not hold (no saga of this code leaves one). */
const UNKNOWN = 'UNKNOWN';

export const AttentionSchema = z
  .object({
    code: z.string().openapi({
      example: ErrorCodes.CAPTURE_REFUSED,
      description: `COMPENSATION_FAILED, or the payment step's refusal (CAPTURE_REFUSED, PAYMENT_DECLINED, AUTHORISATION_EXPIRED, REFUND_REFUSED…); ${UNKNOWN} when none is recorded`,
    }),
    message: z.string(),
    at: z.string().openapi({ description: 'when the order began to wait for this' }),
  })
  .openapi('Attention', { description: 'why the order waits for an operator (NEEDS_ATTENTION)' });
export type Attention = z.infer<typeof AttentionSchema>;

/** The order columns the rules read. */
interface OrderFacts {
  id: string;
  status: OrderStatus;
  failureCode: string | null;
  failureReason: string | null;
  updatedAt: Date;
}

/**
 * The saga is parked in its compensations (workflows/place-order/compensation.ts): it moved the
 * order to NEEDS_ATTENTION with the failure COMPENSATION_FAILED and waits for retryCompensations.
 * A failure is written on the order only while unwinding, so no other NEEDS_ATTENTION carries it.
 */
export const waitsOnCompensations = (o: { status: OrderStatus; failureCode: string | null }): boolean =>
  o.status === 'NEEDS_ATTENTION' && o.failureCode === ErrorCodes.COMPENSATION_FAILED;

/** The order_events rows that say why an order waits. */
const attentionEvents = {
  OR: [{ type: { in: ['NEEDS_ATTENTION', 'ATTENTION_RESOLVED'] } }, { type: 'STATUS_CHANGED', status: 'NEEDS_ATTENTION' as const }],
};
type AttentionEvent = { type: string; status: OrderStatus | null; detail: unknown; occurredAt: Date };

/**
 * Why an order in NEEDS_ATTENTION waits, from its timeline (oldest event first):
 * - a payment step (workflows/place-order/per-shipment.ts, needAttention): a NEEDS_ATTENTION event
 *   {what, code, reason} that no ATTENTION_RESOLVED {what} has followed; the latest of those shows;
 * - failed compensations: the failure written on the order, since the last move to NEEDS_ATTENTION.
 * `payment` tells whether a payment step waits.
 */
function attentionOf(order: OrderFacts, events: AttentionEvent[]): { attention: Attention | null; payment: boolean } {
  if (order.status !== 'NEEDS_ATTENTION') return { attention: null, payment: false };
  const open = new Map<string, Attention>();
  let parkedAt = order.updatedAt;
  for (const e of events) {
    const detail = (e.detail ?? {}) as { what?: string; code?: string; reason?: string };
    if (e.type === 'NEEDS_ATTENTION') {
      open.delete(detail.what ?? '');
      open.set(detail.what ?? '', { code: detail.code ?? UNKNOWN, message: detail.reason ?? '', at: e.occurredAt.toISOString() });
    } else if (e.type === 'ATTENTION_RESOLVED') open.delete(detail.what ?? '');
    else parkedAt = e.occurredAt;
  }
  const latest = [...open.values()].at(-1);
  if (waitsOnCompensations(order)) {
    return { attention: { code: order.failureCode!, message: order.failureReason ?? order.failureCode!, at: parkedAt.toISOString() }, payment: !!latest };
  }
  // NEEDS_ATTENTION without either would be a saga this code does not know: say so rather than nothing
  return { attention: latest ?? { code: UNKNOWN, message: "no reason recorded: see the order's timeline", at: parkedAt.toISOString() }, payment: !!latest };
}

export interface AdminFields {
  workflowId: string;
  customerEmail: string | null;
  attention: Attention | null;
  repairs: Repair[];
}

const isUuid = (s: string) => z.string().uuid().safeParse(s).success;

/**
 * What an operator sees beside each of these orders: the customer's e-mail, why the
 * order waits (attention) and the admin actions that apply now (repairs). The
 * one place those rules live; a handful of queries whatever the number of orders.
 */
export async function adminFieldsOf(db: Db, ids: string[]): Promise<Map<string, AdminFields>> {
  const orders = await db.order.findMany({
    where: { id: { in: ids } },
    select: { id: true, workflowId: true, customerId: true, status: true, failureCode: true, failureReason: true, updatedAt: true },
  });
  // an order placed without an account (a saga started by hand) has a customer id that is no user's
  const customerIds = [...new Set(orders.map((o) => o.customerId))].filter(isUuid);
  const users = await db.user.findMany({ where: { id: { in: customerIds } }, select: { id: true, email: true } });
  const emails = new Map(users.map((u) => [u.id, u.email]));

  const waiting = orders.filter((o) => o.status === 'NEEDS_ATTENTION').map((o) => o.id);
  const events = await db.orderEvent.findMany({
    where: { orderId: { in: waiting }, ...attentionEvents },
    orderBy: { id: 'asc' },
    select: { orderId: true, type: true, status: true, detail: true, occurredAt: true },
  });
  // shipments may be dropped while the carrier does not have them all (the customer's rule, cancelShipmentsOf),
  // or while the order waits for an operator, but not once the saga is unwinding
  const mayDrop = orders.filter((o) => (isCancellable(o.status) || o.status === 'NEEDS_ATTENTION') && !waitsOnCompensations(o)).map((o) => o.id);
  const inWarehouse = await db.shipment.findMany({ where: { orderId: { in: mayDrop }, status: 'CREATED' }, distinct: ['orderId'], select: { orderId: true } });
  // charged in full at checkout (runs before per-shipment payments): cancelled only as a whole
  const charged = await db.payment.findMany({ where: { orderId: { in: mayDrop }, kind: 'CHARGE' }, distinct: ['orderId'], select: { orderId: true } });
  const droppable = new Set(inWarehouse.map((s) => s.orderId));
  for (const c of charged) droppable.delete(c.orderId);

  return new Map(
    orders.map((o) => {
      const { attention, payment } = attentionOf(o, events.filter((e) => e.orderId === o.id));
      const repairs: Repair[] = [
        ...(waitsOnCompensations(o) ? (['RETRY_COMPENSATIONS'] as const) : []),
        ...(payment ? (['RETRY_PAYMENT'] as const) : []),
        ...(droppable.has(o.id) ? (['CANCEL_SHIPMENTS'] as const) : []),
      ];
      return [o.id, { workflowId: o.workflowId, customerEmail: emails.get(o.customerId) ?? null, attention, repairs }];
    }),
  );
}
