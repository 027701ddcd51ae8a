import type { OrderLine } from '../../domain/order';
import { orderTotal } from '../../domain/order';
import { ErrorCodes, type ErrorCode } from '../../domain/errors';
import type { Db } from '../../prisma/client';
import { ApiError } from '../errors';
import type { SagaClient } from './saga-client';
import type { FulfilmentTimings, PlaceOrderInput } from '../../temporal-config/place-order';

/** What the order routes (and checkout, which places orders too) are built from. */
export interface OrderDeps {
  db: Db;
  saga: SagaClient;
  /** how long stock stays held while payment is pending, handed to each new saga */
  reservationTtlMs: number;
  /** warehouse, delivery and return windows handed to each new saga; the workflow's defaults when absent */
  fulfilment?: FulfilmentTimings;
}

export interface PricedLines {
  currency: string;
  items: OrderLine[];
  totalAmount: number;
}

/** The largest amount (minor units) the database's integer columns hold. */
const MAX_AMOUNT = 2_147_483_647;

/**
 * Snapshots prices from the catalog: the order keeps what the customer saw.
 * Every product must exist, be for sale and share one currency.
 */
export async function priceLines(
  db: Db,
  lines: readonly { productId: string; quantity: number }[],
  mixedCurrencyCode: ErrorCode = ErrorCodes.VALIDATION_FAILED,
): Promise<PricedLines> {
  const ids = lines.map((i) => i.productId);
  const products = await db.product.findMany({ where: { id: { in: ids } } });
  const byId = new Map(products.map((p) => [p.id, p]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length) throw new ApiError(ErrorCodes.PRODUCT_NOT_FOUND, `unknown product: ${missing.join(', ')}`, { productIds: missing });
  const inactive = products.filter((p) => !p.active).map((p) => p.id);
  if (inactive.length) throw new ApiError(ErrorCodes.PRODUCT_INACTIVE, `product not for sale: ${inactive.join(', ')}`, { productIds: inactive });
  const currencies = new Set(products.map((p) => p.currency));
  if (currencies.size > 1) throw new ApiError(mixedCurrencyCode, 'all items of an order must share one currency', { currencies: [...currencies] });

  const currency = products[0].currency;
  const items = lines.map((i) => {
    const p = byId.get(i.productId)!;
    return { productId: p.id, sku: p.sku, name: p.name, quantity: i.quantity, unitPriceAmount: p.priceAmount };
  });
  const totalAmount = orderTotal(items, currency).amount;
  // amounts are PostgreSQL integers: a larger total could never be written, and the saga would retry forever
  if (totalAmount > MAX_AMOUNT) {
    throw new ApiError(ErrorCodes.VALIDATION_FAILED, `invalid request: the order total ${totalAmount} exceeds ${MAX_AMOUNT} minor units`, {
      fields: [{ path: 'items', message: `order total must not exceed ${MAX_AMOUNT} minor units` }],
    });
  }
  return { currency, items, totalAmount };
}

/** A new saga's input: the order, plus what this API hands every saga it starts. */
export const sagaInput = (deps: OrderDeps, order: Omit<PlaceOrderInput, 'reservationTtlMs' | 'fulfilment' | 'orderWrites'>): PlaceOrderInput => ({
  ...order,
  reservationTtlMs: deps.reservationTtlMs,
  ...(deps.fulfilment ? { fulfilment: deps.fulfilment } : {}),
});
