import { randomUUID } from 'node:crypto';
import type { RouteHandler } from '@hono/zod-openapi';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorCodes } from '../../domain/errors';
import { isCancellable } from '../../domain/order-status';
import { orderWorkflowId } from '../../temporal-config/workflow-ids';
import { requestCancelUpdate } from '../../workflows/messages';
import { ApiError, errorResponse } from '../errors';
import type { AppEnv } from '../types';
import type * as routes from './orders.routes';
import { findOwnedOrder, listOrders, loadOrder } from './orders.repo';
import { placeOrderAndWait, priceLines, type OrderDeps } from './place-order';

export function createOrderHandlers(deps: OrderDeps) {
  const { db } = deps;

  const placeOrder: RouteHandler<typeof routes.placeOrder, AppEnv> = async (c) => {
    const user = c.get('user')!;
    const req = c.req.valid('json');
    const orderId = req.orderId ?? randomUUID();
    if (req.orderId) {
      // a client-chosen id must not let one customer join another's saga
      const taken = await db.order.findUnique({ where: { id: orderId }, select: { customerId: true } });
      if (taken && taken.customerId !== user.id) throw new ApiError(ErrorCodes.ORDER_ALREADY_EXISTS, 'this orderId is taken; choose another');
    }
    const priced = await priceLines(db, req.items);
    const input = {
      orderId,
      customerId: user.id,
      ...priced,
      shippingAddress: req.shippingAddress,
      paymentMethod: req.paymentMethod,
      reservationTtlMs: deps.reservationTtlMs,
      ...(deps.orderWrites ? { orderWrites: deps.orderWrites } : {}),
      ...(deps.fulfilment ? { fulfilment: deps.fulfilment } : {}),
    };
    const state = deps.directCheckout ? await deps.directCheckout(input) : await placeOrderAndWait(deps, input);
    const base = { orderId, total: { amount: input.totalAmount, currency: input.currency } };
    const location = `/api/v1/orders/${orderId}`;
    c.header('Location', location);
    if (state === 'pending' || (state.status === 'PENDING' && !state.failure)) {
      return c.json({ ...base, status: 'PENDING' as const, location }, 202);
    }
    if (state.failure) return errorResponse(c, state.failure.code, state.failure.message, { orderId, ...state.failure.details }) as never;
    return c.json({ ...base, status: state.status }, 201);
  };

  const list: RouteHandler<typeof routes.listOrders, AppEnv> = async (c) => {
    return c.json(await listOrders(db, { customerId: c.get('user')!.id }, c.req.valid('query')), 200);
  };

  const get: RouteHandler<typeof routes.getOrder, AppEnv> = async (c) => {
    const { id } = await findOwnedOrder(db, c.req.valid('param').id, c.get('user')!);
    const order = await loadOrder(db, id);
    if (!order) throw new ApiError(ErrorCodes.ORDER_NOT_FOUND, 'order not found');
    return c.json(order, 200);
  };

  const cancel: RouteHandler<typeof routes.cancelOrder, AppEnv> = async (c) => {
    const order = await findOwnedOrder(db, c.req.valid('param').id, c.get('user')!);
    const { reason } = c.req.valid('json');
    if (!isCancellable(order.status)) {
      throw new ApiError(ErrorCodes.ORDER_NOT_CANCELLABLE, `order is ${order.status}; it can no longer be cancelled`, { status: order.status });
    }
    try {
      const state = await deps.temporal.workflow.getHandle(orderWorkflowId(order.id)).executeUpdate(requestCancelUpdate, { args: [reason ?? ''] });
      return c.json({ orderId: order.id, accepted: true as const, status: state.status }, 200);
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
        return errorResponse(c, err.cause.type ?? ErrorCodes.ORDER_NOT_CANCELLABLE, err.cause.message) as never;
      }
      if (err instanceof WorkflowNotFoundError || /already completed/i.test((err as Error).message)) {
        throw new ApiError(ErrorCodes.ORDER_NOT_CANCELLABLE, 'order processing has finished; it can no longer be cancelled');
      }
      throw err;
    }
  };

  return { placeOrder, list, get, cancel };
}
