import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../../prisma/client';
import { ErrorCodes } from '../../domain/errors';
import { chooseCarrier, type ShipmentPlan } from '../../domain/shipping';

export interface PlanShipmentsInput {
  orderId: string;
  lines: { productId: string; quantity: number }[];
  country: string;
}

/**
 * Shipping context: shipments, carriers and tracking. Reads the catalog for
 * where each product is stocked and what it weighs; writes only shipments.
 */
export function createShippingActivities(db: Db) {
  return {
    /** One shipment per warehouse the lines are stocked in. Idempotent per (order, warehouse). */
    async planShipments(input: PlanShipmentsInput): Promise<ShipmentPlan[]> {
      const products = await db.product.findMany({ where: { id: { in: input.lines.map((l) => l.productId) } } });
      const byWarehouse = new Map<string, { productId: string; quantity: number; weightGrams: number }[]>();
      for (const line of input.lines) {
        const p = products.find((x) => x.id === line.productId);
        if (!p) throw ApplicationFailure.create({ type: ErrorCodes.PRODUCT_NOT_FOUND, message: `unknown product ${line.productId}`, nonRetryable: true });
        const list = byWarehouse.get(p.warehouse) ?? [];
        list.push({ ...line, weightGrams: p.weightGrams * line.quantity });
        byWarehouse.set(p.warehouse, list);
      }
      const planned = [...byWarehouse].sort(([a], [b]) => a.localeCompare(b)).map(([warehouse, items]) => {
        const weightGrams = items.reduce((s, i) => s + i.weightGrams, 0);
        const choice = chooseCarrier({ weightGrams, itemCount: items.reduce((s, i) => s + i.quantity, 0), country: input.country });
        return {
          orderId: input.orderId,
          warehouse,
          carrier: choice.carrier,
          trackingNumber: `${choice.trackingPrefix}${randomBytes(6).toString('hex').toUpperCase()}`,
          items: items.map(({ productId, quantity }) => ({ productId, quantity })),
          weightGrams,
          estimatedDeliveryDays: choice.estimatedDeliveryDays,
        };
      });
      // All in one INSERT; a (order, warehouse) planned before (a retry) keeps its row, read back after.
      const rows = await db.shipment.createManyAndReturn({ data: planned, skipDuplicates: true });
      const missing = planned.filter((p) => !rows.some((r) => r.warehouse === p.warehouse));
      if (missing.length > 0) {
        rows.push(...(await db.shipment.findMany({ where: { orderId: input.orderId, warehouse: { in: missing.map((p) => p.warehouse) } } })));
      }
      return planned.map(({ warehouse }) => {
        const row = rows.find((r) => r.warehouse === warehouse);
        // skipped for another duplicate than (order, warehouse): its random tracking number was taken; a retry draws another
        if (!row) throw new Error(`shipment of order ${input.orderId} from ${warehouse} was not written (tracking number taken)`);
        return {
          shipmentId: row.id,
          warehouse,
          carrier: row.carrier,
          trackingNumber: row.trackingNumber,
          estimatedDeliveryDays: row.estimatedDeliveryDays,
          // what the row carries: on a retry, the lines planned the first time
          items: row.items as ShipmentPlan['items'],
        };
      });
    },

    /**
     * The point of no return: the parcel with this tracking number leaves our
     * hands (without one, every parcel of the order not yet cancelled: orders
     * that ship all at once). Only a CREATED shipment moves, so a retry moves nothing.
     */
    async handToCarrier(input: { orderId: string; trackingNumber?: string }): Promise<{ handedOver: number }> {
      const { count } = await db.shipment.updateMany({
        where: { orderId: input.orderId, status: 'CREATED', ...(input.trackingNumber !== undefined ? { trackingNumber: input.trackingNumber } : {}) },
        data: { status: 'HANDED_TO_CARRIER', handedOverAt: new Date() },
      });
      return { handedOver: count };
    },

    /**
     * Compensation before hand-over, or a partial cancel: the shipments with
     * these tracking numbers (an empty list cancels none; none given, every
     * one of the order) that the carrier does not have yet.
     */
    async cancelShipments(input: { orderId: string; trackingNumbers?: string[] }): Promise<{ cancelled: number }> {
      const { count } = await db.shipment.updateMany({
        where: { orderId: input.orderId, status: 'CREATED', ...(input.trackingNumbers ? { trackingNumber: { in: input.trackingNumbers } } : {}) },
        data: { status: 'CANCELLED' },
      });
      return { cancelled: count };
    },

    async recordDelivery(input: { orderId: string; trackingNumber: string }): Promise<void> {
      await db.shipment.updateMany({
        where: { orderId: input.orderId, trackingNumber: input.trackingNumber, status: { in: ['HANDED_TO_CARRIER', 'OVERDUE'] } },
        data: { status: 'DELIVERED', deliveredAt: new Date() },
      });
    },

    async markOverdue(input: { orderId: string; trackingNumbers: string[] }): Promise<void> {
      await db.shipment.updateMany({
        where: { orderId: input.orderId, trackingNumber: { in: input.trackingNumbers }, status: 'HANDED_TO_CARRIER' },
        data: { status: 'OVERDUE' },
      });
    },
  };
}
