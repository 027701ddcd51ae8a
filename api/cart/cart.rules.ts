import { ErrorCodes } from '../../domain/errors';
import { ApiError } from '../errors';

export const MAX_CART_LINES = 50;
export const MIN_QUANTITY = 1;
export const MAX_QUANTITY = 99;

export function checkQuantity(quantity: number, detail: Record<string, unknown> = {}): void {
  if (quantity < MIN_QUANTITY || quantity > MAX_QUANTITY) {
    throw new ApiError(ErrorCodes.QUANTITY_OUT_OF_RANGE, `quantity must be ${MIN_QUANTITY}–${MAX_QUANTITY}, got ${quantity}`, {
      min: MIN_QUANTITY,
      max: MAX_QUANTITY,
      quantity,
      ...detail,
    });
  }
}

export function checkProduct(product: { id: string; active: boolean } | null, productId: string): asserts product is { id: string; active: boolean } {
  if (!product) throw new ApiError(ErrorCodes.PRODUCT_NOT_FOUND, `unknown product: ${productId}`, { productId });
  if (!product.active) throw new ApiError(ErrorCodes.PRODUCT_INACTIVE, `product not for sale: ${productId}`, { productId });
}

/** A new line must fit: at most MAX_CART_LINES products, all in one currency. */
export function checkNewLine(lineCount: number, cartCurrencies: ReadonlySet<string>, currency: string): void {
  if (lineCount >= MAX_CART_LINES) {
    throw new ApiError(ErrorCodes.CART_TOO_MANY_ITEMS, `a cart holds at most ${MAX_CART_LINES} different products`, { max: MAX_CART_LINES });
  }
  if (cartCurrencies.size > 0 && !cartCurrencies.has(currency)) {
    throw new ApiError(ErrorCodes.CART_CURRENCY_MISMATCH, `the cart is priced in ${[...cartCurrencies].join(', ')}; this product in ${currency}`, {
      cartCurrency: [...cartCurrencies][0],
      productCurrency: currency,
    });
  }
}
