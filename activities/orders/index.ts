import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../../prisma/client';
import type { OrderState, PlaceOrderInput, TimelineEvent } from '../../domain/order';
import { canTransition, type OrderStatus } from '../../domain/order-status';
import { orderWorkflowId } from '../../temporal-config/workflow-ids';

export interface RecordOrderStatusInput {
  orderId: string;
  status: OrderStatus;
  events: TimelineEvent[];
  failure?: OrderState['failure'];
  cancelReason?: string;
}

/**
 * Orders context: the order record, its items (with the price snapshot) and
 * its timeline. The workflow hands it the saga's timeline events in batches;
 * (orderId, key) is unique, so a retried write adds nothing.
 */
/** A new order as PENDING: the price snapshot as its lines, ORDER_PLACED as its first timeline event. */
export const newOrderRow = (input: PlaceOrderInput, placedAt: Date) => ({
  id: input.orderId,
  customerId: input.customerId,
  workflowId: orderWorkflowId(input.orderId),
  currency: input.currency,
  totalAmount: input.totalAmount,
  shippingAddress: input.shippingAddress as object,
  items: {
    create: input.items.map((i) => ({
      productId: i.productId,
      sku: i.sku,
      name: i.name,
      quantity: i.quantity,
      unitPriceAmount: i.unitPriceAmount,
      lineTotalAmount: i.unitPriceAmount * i.quantity,
      currency: input.currency,
    })),
  },
  timeline: { create: { key: '000-ORDER_PLACED', type: 'ORDER_PLACED', status: 'PENDING' as const, occurredAt: placedAt } },
});

export function createOrdersActivities(db: Db) {
  return {
    async createOrder(input: PlaceOrderInput): Promise<void> {
      const exists = await db.order.findUnique({ where: { id: input.orderId }, select: { id: true } });
      if (exists) return;
      await db.order.create({
        data: newOrderRow(input, new Date()),
      });
    },

    async recordOrderStatus(input: RecordOrderStatusInput): Promise<void> {
      await db.$transaction(async (tx) => {
        const order = await tx.order.findUnique({ where: { id: input.orderId }, select: { status: true } });
        if (!order) {
          throw ApplicationFailure.create({ type: 'ORDER_NOT_FOUND', message: `order ${input.orderId} does not exist`, nonRetryable: true });
        }
        if (!canTransition(order.status, input.status)) {
          throw ApplicationFailure.create({
            type: 'ILLEGAL_TRANSITION',
            message: `order ${input.orderId} cannot go from ${order.status} to ${input.status}`,
            nonRetryable: true,
          });
        }
        await tx.order.update({
          where: { id: input.orderId },
          data: {
            status: input.status,
            ...(input.failure ? { failureCode: input.failure.code, failureReason: input.failure.message } : {}),
            ...(input.cancelReason ? { cancelReason: input.cancelReason } : {}),
          },
        });
        if (input.events.length > 0) {
          await tx.orderEvent.createMany({
            data: input.events.map((e) => ({
              orderId: input.orderId,
              key: e.key,
              type: e.type,
              status: e.status ?? null,
              detail: (e.detail ?? {}) as object,
              occurredAt: new Date(e.occurredAt),
            })),
            skipDuplicates: true,
          });
        }
      });
    },
  };
}
