import { randomUUID } from 'node:crypto';
import type { RouteHandler } from '@hono/zod-openapi';
import { ErrorCodes } from '../../domain/errors';
import { cancelRefusal, isCancellable } from '../../domain/order-status';
import { ApiError, errorResponse, isUnavailable } from '../errors';
import { hashBody } from '../checkout/idempotency';
import type { AppEnv } from '../types';
import type * as routes from './orders.routes';
import { findOwnedOrder, loadOrder, orderPage, returnFromState } from './orders.repo';
import { priceLines, sagaInput, type OrderDeps } from './new-order';
import type { OrderState, ReturnLine } from '../../temporal-config/place-order';
import type { OrderStatus } from '../../domain/order-status';
import type { SagaClient, WhenEnded } from './saga-client';

export function createOrderHandlers(deps: OrderDeps) {
  const { db, saga } = deps;

  const ORDER_ID_REUSED = () =>
    new ApiError(ErrorCodes.ORDER_ID_REUSED, 'this orderId already names another order; choose a new orderId for a new order');

  /** The order already stored under a client-chosen id, if any: the same request (customer and body) or a 422. */
  const storedOrder = async (orderId: string, customerId: string, requestHash: string) => {
    const row = await db.order.findUnique({
      where: { id: orderId },
      select: { customerId: true, requestHash: true, status: true, totalAmount: true, currency: true, failureCode: true, failureReason: true },
    });
    if (row && (row.customerId !== customerId || row.requestHash !== requestHash)) throw ORDER_ID_REUSED();
    return row ?? undefined;
  };
  type StoredOrder = NonNullable<Awaited<ReturnType<typeof storedOrder>>>;

  const placeOrder: RouteHandler<typeof routes.placeOrder, AppEnv> = async (c) => {
    const user = c.get('user')!;
    const req = c.req.valid('json');
    const orderId = req.orderId ?? randomUUID();
    const location = `/api/v1/orders/${orderId}`;
    const requestHash = hashBody(req);

    const answer = (total: { amount: number; currency: string }, state: OrderState | 'pending') => {
      c.header('Location', location);
      if (state === 'pending' || (state.status === 'PENDING' && !state.failure)) {
        return c.json({ orderId, total, status: 'PENDING' as const, location }, 202);
      }
      if (state.failure) return errorResponse(c, state.failure.code, state.failure.message, { orderId, ...state.failure.details }) as never;
      return c.json({ orderId, total, status: state.status }, 201);
    };
    /** A repeat is answered from the database, the order's one record, and never starts a saga. */
    const repeat = async (row: StoredOrder) => {
      const total = { amount: row.totalAmount, currency: row.currency };
      if (row.status === 'PENDING') {
        // its saga is still deciding: wait for it as the first request did (bounded), without starting anything
        // (a run that refused the id, ORDER_ALREADY_EXISTS, says nothing about this order)
        const state = await saga.outcomeWithin(orderId).then(
          (s) => (s !== 'pending' && s.failure?.code === ErrorCodes.ORDER_ALREADY_EXISTS ? ('pending' as const) : s),
          () => 'pending' as const,
        );
        return answer(total, state);
      }
      const failure = row.failureCode ? { code: row.failureCode, message: row.failureReason ?? row.failureCode } : undefined;
      return answer(total, { orderId, status: row.status, completedSteps: [], compensations: [], timestamps: {}, ...(failure ? { failure } : {}) });
    };

    try {
      // The database, not Temporal's retention, decides whether this id was placed before.
      const stored = req.orderId ? await storedOrder(orderId, user.id, requestHash) : undefined;
      if (stored) return await repeat(stored);
      const priced = await priceLines(db, req.items);
      const input = sagaInput(deps, {
        orderId,
        customerId: user.id,
        ...priced,
        shippingAddress: req.shippingAddress,
        paymentMethod: req.paymentMethod,
        requestHash,
      });
      const state = await saga.placeOrder(input);
      if (req.orderId) {
        // Two first requests racing with one id join one saga: only the one whose order it is gets its outcome.
        const placed = await storedOrder(orderId, user.id, requestHash);
        if (placed && state !== 'pending' && state.failure?.code === ErrorCodes.ORDER_ALREADY_EXISTS) return await repeat(placed);
        if (placed) return answer({ amount: placed.totalAmount, currency: placed.currency }, state);
      }
      return answer({ amount: input.totalAmount, currency: input.currency }, state);
    } catch (err) {
      // a 503 asks the client to retry with the same orderId: when the server chose it, this is where the client learns it
      if (isUnavailable(err) || (err instanceof ApiError && err.code === ErrorCodes.DEPENDENCY_UNAVAILABLE)) {
        const message = err instanceof ApiError ? err.message : 'a dependency is unavailable; retry with the same orderId';
        throw new ApiError(ErrorCodes.DEPENDENCY_UNAVAILABLE, message, { orderId });
      }
      throw err;
    }
  };

  const listOrders: RouteHandler<typeof routes.listOrders, AppEnv> = async (c) => {
    return c.json(await orderPage(db, { customerId: c.get('user')!.id }, c.req.valid('query')), 200);
  };

  const getOrder: RouteHandler<typeof routes.getOrder, AppEnv> = async (c) => {
    const { id } = await findOwnedOrder(db, c.req.valid('param').id, c.get('user')!);
    const order = await loadOrder(db, id);
    if (!order) throw new ApiError(ErrorCodes.ORDER_NOT_FOUND, 'order not found');
    return c.json(order, 200);
  };

  const cancelOrder: RouteHandler<typeof routes.cancelOrder, AppEnv> = async (c) => {
    const order = await findOwnedOrder(db, c.req.valid('param').id, c.get('user')!);
    const { reason } = c.req.valid('json');
    const ended = () => new ApiError(ErrorCodes.ORDER_NOT_CANCELLABLE, 'order processing has finished; it can no longer be cancelled');
    // Held for an operator, an order paid per shipment still drops what is in the warehouse (a shipment whose
    // capture was refused among them), as POST /orders/{id}/shipments/cancel does; the saga refuses when nothing
    // is left. An order charged at checkout ('unsupported') keeps the rule below.
    if (order.status === 'NEEDS_ATTENTION') {
      const state = await saga.cancelShipments(order.id, reason ? { reason } : {}, ended).catch((err: unknown) => {
        if (err instanceof ApiError && err.code === ErrorCodes.SHIPMENT_NOT_CANCELLABLE) throw new ApiError(ErrorCodes.ORDER_NOT_CANCELLABLE, err.message, { status: order.status });
        throw err;
      });
      if (state !== 'unsupported') return c.json({ orderId: order.id, accepted: true as const, status: state.status }, 200);
    }
    const refused = cancelRefusal({ status: order.status });
    if (refused) throw new ApiError(ErrorCodes.ORDER_NOT_CANCELLABLE, refused, { status: order.status });
    const state = await saga.cancel(order.id, reason ?? '', ended);
    return c.json({ orderId: order.id, accepted: true as const, status: state.status }, 200);
  };

  const returnEnded = (order: { status: string }) => () => new ApiError(ErrorCodes.RETURN_WINDOW_CLOSED, `order is ${order.status}; it can no longer be returned`);

  /**
   * A return of some lines ([] = every delivered unit not yet returned), or
   * 'unsupported' for an order charged in full at checkout (every run before
   * per-shipment payments), which is returned only as a whole. Its CHARGE row
   * says so without asking the saga; the saga's answer (no such handler) backs that up.
   */
  const lineReturn = async (orderId: string, request: { lines: ReturnLine[]; reason: string }, ended: WhenEnded) =>
    (await db.payment.count({ where: { orderId, kind: 'CHARGE' } })) > 0 ? ('unsupported' as const) : saga.requestLineReturn(orderId, request, ended);

  /** The whole order: a charged-at-checkout order's return as before, or a return of every delivered line. */
  const returnOrder: RouteHandler<typeof routes.returnOrder, AppEnv> = async (c) => {
    const order = await findOwnedOrder(db, c.req.valid('param').id, c.get('user')!);
    const reason = c.req.valid('json').reason || 'returned by customer';
    const ended = returnEnded(order);
    const ret = await lineReturn(order.id, { lines: [], reason }, ended);
    const state = ret === 'unsupported' ? await saga.requestReturn(order.id, reason, ended) : await saga.status(order.id);
    return c.json({ orderId: order.id, accepted: true as const, status: state.status }, 200);
  };

  const requestLineReturn: RouteHandler<typeof routes.requestLineReturn, AppEnv> = async (c) => {
    const order = await findOwnedOrder(db, c.req.valid('param').id, c.get('user')!);
    const { reason, lines } = c.req.valid('json');
    const ended = returnEnded(order);
    const ret = await lineReturn(order.id, { lines: lines ?? [], reason }, ended);
    if (ret !== 'unsupported') {
      c.header('Location', `/api/v1/orders/${order.id}`);
      return c.json(returnFromState(order.id, order.currency, ret), 202);
    }
    if (lines) throw new ApiError(ErrorCodes.ORDER_NOT_RETURNABLE, 'this order can only be returned as a whole; leave out lines to return it all');
    const state = await saga.requestReturn(order.id, reason, ended);
    return c.json({ orderId: order.id, accepted: true as const, status: state.status }, 200);
  };

  const cancelShipments: RouteHandler<typeof routes.cancelShipments, AppEnv> = async (c) => {
    const order = await findOwnedOrder(db, c.req.valid('param').id, c.get('user')!);
    return c.json(await cancelShipmentsOf(saga, order, c.req.valid('json')), 202);
  };

  return { placeOrder, listOrders, getOrder, cancelOrder, returnOrder, requestLineReturn, cancelShipments };
}

/**
 * Cancels the shipments of an order that the carrier does not have yet (none
 * named = every one left): the 202 answer, or why not. The customer's route
 * and the operator's (any customer's order) both come here.
 */
export async function cancelShipmentsOf(saga: SagaClient, order: { id: string; status: OrderStatus }, request: { trackingNumbers?: string[]; reason?: string }) {
  const { trackingNumbers, reason } = request;
  const notCancellable = () =>
    new ApiError(ErrorCodes.SHIPMENT_NOT_CANCELLABLE, `order is ${order.status}; none of its shipments can still be cancelled`, { status: order.status });
  // the carrier has every parcel, or the order is over: nothing to ask the saga (an order held for an operator may still drop a held shipment)
  if (!isCancellable(order.status) && order.status !== 'NEEDS_ATTENTION') throw notCancellable();
  const state = await saga.cancelShipments(order.id, { ...(trackingNumbers ? { trackingNumbers } : {}), ...(reason ? { reason } : {}) }, notCancellable);
  if (state === 'unsupported') {
    throw new ApiError(ErrorCodes.SHIPMENT_NOT_CANCELLABLE, `this order is cancelled only as a whole: POST /api/v1/orders/${order.id}/cancel`, { status: order.status });
  }
  const shipments = (state.shipments ?? []).map(({ trackingNumber, warehouse, carrier, status, items, amount, held }) => ({
    trackingNumber,
    warehouse,
    carrier,
    status,
    ...(items ? { items } : {}),
    ...(amount === undefined ? {} : { amount }),
    ...(held ? { held } : {}),
  }));
  return { orderId: order.id, accepted: true as const, status: state.status, shipments };
}
