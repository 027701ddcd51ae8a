/**
 * Stable business error codes. Activities throw them as non-retryable
 * ApplicationFailures (type = code); the API maps them to HTTP in one place
 * (api/errors.ts). Never rename a code: clients match on it.
 */
export const ErrorCodes = {
  INVENTORY_UNAVAILABLE: 'INVENTORY_UNAVAILABLE',
  PAYMENT_DECLINED: 'PAYMENT_DECLINED',
  PAYMENT_VOIDED: 'PAYMENT_VOIDED',
  RESERVATION_EXPIRED: 'RESERVATION_EXPIRED',
  ORDER_CANCELLED: 'ORDER_CANCELLED',
  ORDER_NOT_CANCELLABLE: 'ORDER_NOT_CANCELLABLE',
  PRODUCT_NOT_FOUND: 'PRODUCT_NOT_FOUND',
  PRODUCT_INACTIVE: 'PRODUCT_INACTIVE',
  ORDER_NOT_FOUND: 'ORDER_NOT_FOUND',
  ORDER_ALREADY_EXISTS: 'ORDER_ALREADY_EXISTS',
  COMPENSATION_FAILED: 'COMPENSATION_FAILED',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  INVALID_JSON: 'INVALID_JSON',
  NOT_FOUND: 'NOT_FOUND',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  DEPENDENCY_UNAVAILABLE: 'DEPENDENCY_UNAVAILABLE',
  RETURN_WINDOW_CLOSED: 'RETURN_WINDOW_CLOSED',
  ORDER_NOT_RETURNABLE: 'ORDER_NOT_RETURNABLE',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  INTERNAL: 'INTERNAL',
  // accounts, catalog, cart and checkout (HTTP API)
  FORBIDDEN: 'FORBIDDEN',
  EMAIL_TAKEN: 'EMAIL_TAKEN',
  RATE_LIMITED: 'RATE_LIMITED',
  PRODUCT_EXISTS: 'PRODUCT_EXISTS',
  STOCK_BELOW_ZERO: 'STOCK_BELOW_ZERO',
  CART_TOO_MANY_ITEMS: 'CART_TOO_MANY_ITEMS',
  QUANTITY_OUT_OF_RANGE: 'QUANTITY_OUT_OF_RANGE',
  CART_CURRENCY_MISMATCH: 'CART_CURRENCY_MISMATCH',
  CART_EMPTY: 'CART_EMPTY',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  // return received: the order has no return awaiting its goods (never asked for, received already, or lapsed)
  RETURN_NOT_REQUESTED: 'RETURN_NOT_REQUESTED',
  // the codec endpoint: an encrypted payload it cannot decrypt (unknown key id, altered)
  PAYLOAD_UNDECODABLE: 'PAYLOAD_UNDECODABLE',
  // POST /api/v1/orders: a client-chosen orderId already names another order (another body or customer)
  ORDER_ID_REUSED: 'ORDER_ID_REUSED',
  // carrier webhook
  SHIPMENT_NOT_IN_TRANSIT: 'SHIPMENT_NOT_IN_TRANSIT',
  FULFILMENT_ENDED: 'FULFILMENT_ENDED',
  CARRIER_DELIVERY_REPLAYED: 'CARRIER_DELIVERY_REPLAYED',
  CARRIER_EVENT_LIMIT_REACHED: 'CARRIER_EVENT_LIMIT_REACHED',
  // password change: the current password given is not the account's
  WRONG_PASSWORD: 'WRONG_PASSWORD',
} as const;
export type ErrorCode = keyof typeof ErrorCodes;

/** Why a payment gateway said no; mirrors what card networks report. */
export const DeclineReasons = ['card_declined', 'insufficient_funds', 'expired_card', 'invalid_cvc'] as const;
export type DeclineReason = (typeof DeclineReasons)[number];

/** A business rule said no. Carries a stable code and structured details. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
