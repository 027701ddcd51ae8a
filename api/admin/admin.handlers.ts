import { randomBytes } from 'node:crypto';
import { z, type RouteHandler } from '@hono/zod-openapi';
import { ErrorCodes } from '../../domain/errors';
import { Prisma, type Db } from '../../prisma/client';
import { toProduct, withStock } from '../catalog/products';
import { ApiError, isUnavailable } from '../errors';
import { cancelShipmentsOf, findReturn, loadOrder, orderPage, returnFromRow, returnFromState, type SagaClient } from '../orders';
import { decodeCursor, toPage } from '../pagination';
import { text } from '../schemas';
import type { InspectedLine, ReturnLine, ReturnReceipt } from '../../temporal-config/place-order';
import type { AppEnv } from '../types';
import type * as routes from './admin.routes';
import { adminFieldsOf, waitsOnCompensations } from './attention';
import { orderSearch, productSearch } from './search';

const isUniqueViolation = (err: unknown) => err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
const stockView = (s: { productId: string; available: number; reserved: number; sold: number; returned: number }) => ({
  productId: s.productId,
  available: s.available,
  reserved: s.reserved,
  sold: s.sold,
  returned: s.returned,
});

/** What the admin routes stand on. */
export interface AdminDeps {
  db: Db;
  saga: SagaClient;
  /** the Temporal Web UI (api/settings.ts: temporalUiUrl) and the namespace of the orders' workflows (read when asked: the client's) */
  temporalUi: { url: string | null; namespace: () => string };
}

// as the catalog's: no NUL or lone surrogate reaches PostgreSQL
const ProductCursor = z.object({ id: text(1, 100) });
// PostgreSQL has no year 0, so such a cursor would fail in the database, not here (as orderPage's).
const ReturnCursor = z.object({ r: z.string().datetime().refine((s) => new Date(s).getUTCFullYear() >= 1), i: z.string().min(1) });

export function createAdminHandlers({ db, saga, temporalUi }: AdminDeps) {
  const createProduct: RouteHandler<typeof routes.createProduct, AppEnv> = async (c) => {
    const { id, price, stock, ...fields } = c.req.valid('json');
    try {
      const product = await db.product.create({
        data: {
          id: id ?? `prod_${randomBytes(6).toString('hex')}`,
          ...fields,
          priceAmount: price.amount,
          currency: price.currency,
          stock: { create: { available: stock } },
        },
        include: withStock,
      });
      return c.json(toProduct(product), 201);
    } catch (err) {
      if (isUniqueViolation(err)) throw new ApiError(ErrorCodes.PRODUCT_EXISTS, 'a product with this id or sku already exists');
      throw err;
    }
  };

  const updateProduct: RouteHandler<typeof routes.updateProduct, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    const { price, ...fields } = c.req.valid('json');
    const changed = await db.product.updateMany({
      where: { id },
      data: { ...fields, ...(price ? { priceAmount: price.amount, currency: price.currency } : {}) },
    });
    if (changed.count === 0) throw new ApiError(ErrorCodes.NOT_FOUND, 'product not found');
    return c.json(toProduct(await db.product.findUniqueOrThrow({ where: { id }, include: withStock })), 200);
  };

  const setInventory: RouteHandler<typeof routes.setInventory, AppEnv> = async (c) => {
    const { productId } = c.req.valid('param');
    const change = c.req.valid('json');
    const product = await db.product.findUnique({ where: { id: productId }, select: { id: true } });
    if (!product) throw new ApiError(ErrorCodes.NOT_FOUND, 'product not found');
    await db.stock.createMany({ data: [{ productId, available: 0 }], skipDuplicates: true });
    if (change.available !== undefined) {
      if (change.available < 0) throw new ApiError(ErrorCodes.STOCK_BELOW_ZERO, 'available stock cannot be negative', { available: change.available });
      return c.json(stockView(await db.stock.update({ where: { productId }, data: { available: change.available } })), 200);
    }
    const add = change.add!;
    // one conditional UPDATE: concurrent reservations can never push it below zero
    const moved = await db.stock.updateMany({ where: { productId, available: { gte: -add } }, data: { available: { increment: add } } });
    const stock = await db.stock.findUniqueOrThrow({ where: { productId } });
    if (moved.count === 0) {
      throw new ApiError(ErrorCodes.STOCK_BELOW_ZERO, `cannot remove ${-add}: only ${stock.available} available`, { available: stock.available, add });
    }
    return c.json(stockView(stock), 200);
  };

  /** Every product, active or not, by id, with its stock (zeros where none was ever set: setInventory creates the row). */
  const listInventory: RouteHandler<typeof routes.listInventory, AppEnv> = async (c) => {
    const { q, warehouse, limit, cursor } = c.req.valid('query');
    const after = decodeCursor(cursor, ProductCursor);
    const rows = await db.product.findMany({
      where: { ...productSearch({ q, warehouse }), ...(after ? { id: { gt: after.id } } : {}) },
      select: { id: true, sku: true, name: true, active: true, warehouse: true, stock: true },
      orderBy: { id: 'asc' },
      take: limit + 1,
    });
    const { rows: kept, nextCursor } = toPage(rows, limit, (p) => ({ id: p.id }));
    const items = kept.map(({ stock, ...p }) => ({ ...p, stock: stockView(stock ?? { productId: p.id, available: 0, reserved: 0, sold: 0, returned: 0 }) }));
    return c.json({ items, nextCursor }, 200);
  };

  const listAllOrders: RouteHandler<typeof routes.listAllOrders, AppEnv> = async (c) => {
    const { status, q, ...pageReq } = c.req.valid('query');
    const found = await orderPage(db, { status, ...(q ? { matching: await orderSearch(db, q) } : {}) }, pageReq);
    const admin = await adminFieldsOf(db, found.items.map((o) => o.id));
    // an order deleted between the two reads is left out rather than shown without its admin fields
    const items = found.items.flatMap((o) => {
      const fields = admin.get(o.id);
      return fields ? [{ ...o, ...fields }] : [];
    });
    return c.json({ items, nextCursor: found.nextCursor }, 200);
  };

  const getAnyOrder: RouteHandler<typeof routes.getAnyOrder, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    const order = await loadOrder(db, id);
    const fields = order && (await adminFieldsOf(db, [id])).get(id);
    if (!order || !fields) throw new ApiError(ErrorCodes.ORDER_NOT_FOUND, 'order not found');
    return c.json({ ...order, ...fields }, 200);
  };

  /**
   * Tells the saga parked in its compensations to run again those that failed. A signal
   * cannot be refused, so the order's row says first whether the saga waits for one (the
   * rule that offers RETRY_COMPENSATIONS); a run that has ended since refuses it the same way.
   */
  const retryCompensations: RouteHandler<typeof routes.retryCompensations, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    const order = await db.order.findUnique({ where: { id }, select: { status: true, failureCode: true } });
    if (!order) throw new ApiError(ErrorCodes.ORDER_NOT_FOUND, 'order not found');
    const nothing = () => new ApiError(ErrorCodes.NOTHING_TO_RETRY, `order is ${order.status}; it waits on no failed compensation`, { status: order.status });
    if (!waitsOnCompensations(order)) throw nothing();
    await saga.retryCompensations(id, nothing);
    return c.json({ orderId: id, accepted: true as const, status: order.status }, 202);
  };

  /** The customer's shipment cancel (cancelShipmentsOf), for any customer's order. */
  const cancelAnyShipments: RouteHandler<typeof routes.cancelAnyShipments, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    const order = await db.order.findUnique({ where: { id }, select: { id: true, status: true } });
    if (!order) throw new ApiError(ErrorCodes.ORDER_NOT_FOUND, 'order not found');
    return c.json(await cancelShipmentsOf(saga, order, c.req.valid('json')), 202);
  };

  /** Returns across orders, oldest request first; (requestedAt, id) orders ties, so none is skipped or shown twice. */
  const listReturns: RouteHandler<typeof routes.listReturns, AppEnv> = async (c) => {
    const { status, limit, cursor } = c.req.valid('query');
    const after = decodeCursor(cursor, ReturnCursor);
    const rows = await db.orderReturn.findMany({
      where: {
        ...(status ? { status } : {}),
        ...(after ? { OR: [{ requestedAt: { gt: new Date(after.r) } }, { requestedAt: new Date(after.r), id: { gt: after.i } }] } : {}),
      },
      orderBy: [{ requestedAt: 'asc' }, { id: 'asc' }],
      take: limit + 1,
    });
    const { rows: kept, nextCursor } = toPage(rows, limit, (r) => ({ r: r.requestedAt.toISOString(), i: r.id }));
    return c.json({ items: kept.map(returnFromRow), nextCursor }, 200);
  };

  const getSettings: RouteHandler<typeof routes.getSettings, AppEnv> = async (c) => c.json({ temporalUi: { url: temporalUi.url, namespace: temporalUi.namespace() } }, 200);

  /**
   * Records a return as received. PostgreSQL says whether a return awaits the
   * goods (the workflow writes RETURN_REQUESTED there before it answers the
   * customer); the workflow ignores, on its timeline, a receipt that races a lapse.
   */
  const returnReceived: RouteHandler<typeof routes.returnReceived, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    const note = c.req.valid('json').note || undefined;
    const order = await db.order.findUnique({ where: { id }, select: { status: true } });
    if (!order) throw new ApiError(ErrorCodes.ORDER_NOT_FOUND, 'order not found');
    const notAwaited = () => new ApiError(ErrorCodes.RETURN_NOT_REQUESTED, `order is ${order.status}; no return awaits its goods`, { status: order.status });
    if (order.status !== 'RETURN_REQUESTED') throw notAwaited();
    await saga.returnReceived(id, await wholeOrderReceipt(id, note, notAwaited), notAwaited);
    return c.json({ orderId: id, accepted: true as const, status: order.status }, 202);
  };

  /**
   * What "the order's goods are back" says to the saga: the note, for an order
   * returned as a whole (charged at checkout); for an order returned by lines,
   * a receipt of the one return awaiting its goods, every line restocked, so
   * restock and refund follow as they always did on this route.
   */
  const wholeOrderReceipt = async (orderId: string, note: string | undefined, notAwaited: () => ApiError): Promise<string | ReturnReceipt | undefined> => {
    const returns = await db.orderReturn.findMany({ where: { orderId }, select: { id: true, status: true, lines: true } });
    if (returns.length === 0) return note;
    const awaiting = returns.filter((r) => r.status === 'REQUESTED');
    if (awaiting.length === 0) throw notAwaited();
    if (awaiting.length > 1) {
      const message = `${awaiting.length} returns await their goods: name one (POST /api/v1/admin/orders/${orderId}/returns/{returnId}/received)`;
      throw new ApiError(ErrorCodes.VALIDATION_FAILED, `invalid request: ${message}`, { fields: [{ path: 'returnId', message }], returnIds: awaiting.map((r) => r.id) });
    }
    const [ret] = awaiting;
    const lines = ret.lines as unknown as ReturnLine[];
    return { returnId: ret.id, ...(note ? { note } : {}), inspection: lines.map(({ productId, quantity }) => ({ productId, quantity, outcome: 'RESTOCK' as const })) };
  };

  const orderOf = async (id: string) => {
    const order = await db.order.findUnique({ where: { id }, select: { status: true, currency: true } });
    if (!order) throw new ApiError(ErrorCodes.ORDER_NOT_FOUND, 'order not found');
    return order;
  };

  /**
   * Tells the saga to retry the payment step it waits on. A signal cannot be
   * refused, so the saga's own state says first whether one is waiting.
   */
  const retryPayment: RouteHandler<typeof routes.retryPayment, AppEnv> = async (c) => {
    const { id } = c.req.valid('param');
    const order = await orderOf(id);
    const nothing = () => new ApiError(ErrorCodes.NOTHING_TO_RETRY, `order is ${order.status}; it waits on no payment step`, { status: order.status });
    const state = await saga.status(id).catch((err: unknown) => {
      if (isUnavailable(err)) throw err;
      throw nothing();
    });
    const waiting = !!state.attention || !!state.shipments?.some((s) => s.held) || !!state.returns?.some((r) => r.attention);
    if (!waiting) throw nothing();
    await saga.retryPayment(id, nothing);
    return c.json({ orderId: id, accepted: true as const, status: state.status }, 202);
  };

  /**
   * An inspection accounts for every unit the return holds, per product, and
   * for nothing else (the saga's rule): checked here against order_returns, as a
   * receipt is a signal, which the saga cannot refuse.
   */
  const checkInspection = (ret: { id: string; lines: { productId: string; quantity: number }[] }, inspection: InspectedLine[], field: string) => {
    const inspected = new Map<string, number>();
    for (const l of inspection) inspected.set(l.productId, (inspected.get(l.productId) ?? 0) + l.quantity);
    const returned = new Map(ret.lines.map((l) => [l.productId, l.quantity]));
    const wrong = [...new Set([...returned.keys(), ...inspected.keys()])]
      .filter((productId) => inspected.get(productId) !== returned.get(productId))
      .map((productId) => `${returned.get(productId) ?? 0} × ${productId} came back; the inspection covers ${inspected.get(productId) ?? 0}`);
    if (wrong.length) {
      throw new ApiError(ErrorCodes.VALIDATION_FAILED, `invalid request: ${field} does not match return ${ret.id}`, { fields: wrong.map((message) => ({ path: field, message })) });
    }
  };

  /** The goods of one return are back (order_returns says whether it awaits them); with an inspection, that too. */
  const receiveReturn: RouteHandler<typeof routes.receiveReturn, AppEnv> = async (c) => {
    const { id, returnId } = c.req.valid('param');
    const { note, inspection } = c.req.valid('json');
    await orderOf(id);
    const ret = await findReturn(db, id, returnId);
    const notAwaited = () =>
      new ApiError(ErrorCodes.RETURN_NOT_REQUESTED, `return ${returnId} is ${ret.status}; it does not await its goods`, { status: ret.status });
    if (ret.status !== 'REQUESTED') throw notAwaited();
    if (inspection) checkInspection(ret, inspection, 'inspection');
    await saga.returnReceived(id, { returnId, ...(note ? { note } : {}), ...(inspection ? { inspection } : {}) }, notAwaited);
    return c.json({ orderId: id, returnId, accepted: true as const, status: ret.status }, 202);
  };

  /** The warehouse's verdict per line; the saga refuses a return that is not RECEIVED. */
  const inspectReturn: RouteHandler<typeof routes.inspectReturn, AppEnv> = async (c) => {
    const { id, returnId } = c.req.valid('param');
    const { lines } = c.req.valid('json');
    const order = await orderOf(id);
    const ret = await findReturn(db, id, returnId);
    const notInspectable = () =>
      new ApiError(ErrorCodes.RETURN_NOT_INSPECTABLE, `return ${returnId} is ${ret.status}; only a RECEIVED return is inspected`, { status: ret.status });
    // past inspection for good; REQUESTED may be RECEIVED in the saga already (order_returns follows it), so the saga decides that
    if (!['REQUESTED', 'RECEIVED'].includes(ret.status)) throw notInspectable();
    checkInspection(ret, lines, 'lines');
    const inspected = await saga.inspectReturn(id, { returnId, lines }, notInspectable);
    return c.json(returnFromState(id, order.currency, inspected), 200);
  };

  return {
    createProduct,
    updateProduct,
    setInventory,
    listInventory,
    listAllOrders,
    getAnyOrder,
    returnReceived,
    retryPayment,
    retryCompensations,
    cancelAnyShipments,
    receiveReturn,
    inspectReturn,
    listReturns,
    getSettings,
  };
}
