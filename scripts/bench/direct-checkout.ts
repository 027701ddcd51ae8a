/**
 * The benchmark's baseline (a), never a way to run a shop: the business
 * effects a confirmed order has (order row, stock taken, the simulated
 * gateway charged, payment recorded, CONFIRMED with its timeline) done in ONE
 * PostgreSQL transaction inside the HTTP request, with no Temporal. It is the
 * ceiling of this machine without durable orchestration, and shows what the
 * saga buys: here a crash mid-request, a gateway that answers late or a
 * cancel has no compensation, no retry and no audit trail. Only the
 * benchmark's API started with CHECKOUT_ENGINE=direct-baseline serves it
 * (./api.ts, `npm run bench`), in front of the product's own route.
 */
import { randomUUID } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { ApplicationFailure } from '@temporalio/common';
import { newOrderRow } from '../../activities/orders';
import { SimulatedGateway, type SimulatedGatewayOptions } from '../../activities/payments/gateway';
import { ErrorCodes } from '../../domain/errors';
import type { Db } from '../../prisma/client';
import { ApiError, errorResponse } from '../../api/errors';
import { priceLines } from '../../api/orders';
import { OrderRequestSchema } from '../../api/schemas';
import type { AppEnv } from '../../api/types';
import { chargeKey, orderWorkflowId, type OrderState, type PlaceOrderInput } from '../../temporal-config/place-order';

export type DirectCheckout = (input: PlaceOrderInput) => Promise<OrderState>;

const failed = (input: PlaceOrderInput, code: string, message: string): OrderState => ({
  orderId: input.orderId,
  status: 'FAILED',
  completedSteps: [],
  compensations: [],
  failure: { code, message },
  timestamps: { placed: new Date().toISOString() },
});

export function createDirectCheckout(db: Db, gateway: SimulatedGatewayOptions): DirectCheckout {
  return async (input) => {
    const placed = new Date();
    const workflowId = orderWorkflowId(input.orderId);
    try {
      await db.$transaction(
        async (tx) => {
          await tx.order.create({ data: newOrderRow(input, placed) });
          // reserve and commit at once: available → sold, in product-id order (no deadlocks)
          const items = [...input.items].sort((a, b) => (a.productId < b.productId ? -1 : 1));
          for (const item of items) {
            const { count } = await tx.stock.updateMany({
              where: { productId: item.productId, available: { gte: item.quantity } },
              data: { available: { decrement: item.quantity }, sold: { increment: item.quantity } },
            });
            if (count === 0) throw ApplicationFailure.nonRetryable(`not enough stock for ${item.productId}`, ErrorCodes.INVENTORY_UNAVAILABLE);
          }
          await tx.reservation.createMany({
            data: items.map((i) => ({ orderId: input.orderId, productId: i.productId, quantity: i.quantity, status: 'COMMITTED' })),
          });
          // the same simulated provider (latency, ledger row), its writes inside this transaction
          const key = chargeKey(workflowId);
          const result = await new SimulatedGateway(tx as unknown as Db, gateway).charge({
            idempotencyKey: key,
            amount: input.totalAmount,
            currency: input.currency,
            token: input.paymentMethod.token,
          });
          if (result.status === 'declined') throw ApplicationFailure.nonRetryable(`payment declined: ${result.reason}`, ErrorCodes.PAYMENT_DECLINED);
          await tx.payment.create({
            data: { orderId: input.orderId, kind: 'CHARGE', status: 'SUCCEEDED', idempotencyKey: key, amount: input.totalAmount, currency: input.currency, attempts: 1, providerRef: result.chargeId },
          });
          await tx.order.update({ where: { id: input.orderId }, data: { status: 'CONFIRMED' } });
          await tx.orderEvent.create({
            data: { orderId: input.orderId, key: '001-STATUS_CHANGED', type: 'STATUS_CHANGED', status: 'CONFIRMED', detail: {}, occurredAt: new Date() },
          });
        },
        { timeout: 60_000, maxWait: 10_000 },
      );
    } catch (err) {
      // a business refusal rolls everything back; anything else is the caller's 5xx
      if (err instanceof ApplicationFailure && err.type) return failed(input, err.type, err.message);
      throw err;
    }
    return {
      orderId: input.orderId,
      status: 'CONFIRMED',
      completedSteps: ['ORDER_CREATED', 'STOCK_RESERVED', 'PAYMENT_CHARGED', 'STOCK_COMMITTED', 'ORDER_CONFIRMED'],
      compensations: [],
      timestamps: { placed: placed.toISOString(), CONFIRMED: new Date().toISOString() },
    };
  };
}

/**
 * POST /api/v1/orders answered by the baseline, mounted before the product's
 * route (AppDeps.extraRoutes): the same request, pricing and answers, one
 * transaction instead of the saga.
 */
export function baselineCheckoutRoute(db: Db, gateway: SimulatedGatewayOptions): (app: OpenAPIHono<AppEnv>) => void {
  const checkout = createDirectCheckout(db, gateway);
  return (app) => {
    app.post('/api/v1/orders', async (c) => {
      const parsed = OrderRequestSchema.safeParse(await c.req.json());
      if (!parsed.success) throw new ApiError(ErrorCodes.VALIDATION_FAILED, 'invalid request', { fields: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
      const req = parsed.data;
      const orderId = req.orderId ?? randomUUID();
      const priced = await priceLines(db, req.items);
      const state = await checkout({ orderId, customerId: c.get('user')!.id, ...priced, shippingAddress: req.shippingAddress, paymentMethod: req.paymentMethod });
      if (state.failure) return errorResponse(c, state.failure.code, state.failure.message, { orderId });
      c.header('Location', `/api/v1/orders/${orderId}`);
      return c.json({ orderId, total: { amount: priced.totalAmount, currency: priced.currency }, status: state.status }, 201);
    });
  };
}
