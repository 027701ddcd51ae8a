/**
 * Every stable error code with the HTTP status the API answers it with: a code
 * cannot exist without its status. Activities throw the business ones as
 * non-retryable ApplicationFailures (type = code). Never rename a code: clients
 * match on it. (The statuses are plain numbers, so workflows may import this.)
 */
export const ErrorStatuses = {
  INVENTORY_UNAVAILABLE: 409,
  PAYMENT_DECLINED: 402,
  PAYMENT_VOIDED: 409,
  RESERVATION_EXPIRED: 409,
  ORDER_CANCELLED: 409,
  ORDER_NOT_CANCELLABLE: 409,
  PRODUCT_NOT_FOUND: 422,
  PRODUCT_INACTIVE: 422,
  ORDER_NOT_FOUND: 404,
  ORDER_ALREADY_EXISTS: 409,
  COMPENSATION_FAILED: 500,
  // a status write the order lifecycle forbids: the saga's bug, never the client's, so a 5xx
  ILLEGAL_TRANSITION: 500,
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  DEPENDENCY_UNAVAILABLE: 503,
  RETURN_WINDOW_CLOSED: 409,
  ORDER_NOT_RETURNABLE: 409,
  UNAUTHENTICATED: 401,
  INTERNAL: 500,
  // accounts, catalog, cart and checkout (HTTP API)
  FORBIDDEN: 403,
  /** a request carrying the session cookie came from another origin (cross-site request forgery) */
  CROSS_ORIGIN_REFUSED: 403,
  EMAIL_TAKEN: 409,
  RATE_LIMITED: 429,
  PRODUCT_EXISTS: 409,
  STOCK_BELOW_ZERO: 422,
  CART_TOO_MANY_ITEMS: 422,
  QUANTITY_OUT_OF_RANGE: 422,
  CART_CURRENCY_MISMATCH: 422,
  CART_EMPTY: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  // return received: the order has no return awaiting its goods (never asked for, received already, or lapsed)
  RETURN_NOT_REQUESTED: 409,
  // the codec endpoint: an encrypted payload it cannot decrypt (unknown key id, altered)
  PAYLOAD_UNDECODABLE: 400,
  // POST /api/v1/orders: a client-chosen orderId already names another order (another body or customer)
  ORDER_ID_REUSED: 422,
  // carrier webhook
  SHIPMENT_NOT_IN_TRANSIT: 409,
  FULFILMENT_ENDED: 409,
  CARRIER_DELIVERY_REPLAYED: 409,
  CARRIER_EVENT_LIMIT_REACHED: 409,
  // password change: the current password given is not the account's
  WRONG_PASSWORD: 422,
  // per-shipment payments (the gateway's refusals hold the order in NEEDS_ATTENTION; an operator sees the code)
  CAPTURE_REFUSED: 502,
  REFUND_REFUSED: 502,
  AUTHORISATION_EXPIRED: 409,
  // cancelShipments: none of the shipments named can still be cancelled (handed over, being handed over, cancelled, unknown)
  SHIPMENT_NOT_CANCELLABLE: 409,
  // a line return asks for more than was delivered and not yet returned, or for a product the order does not have
  RETURN_QUANTITY_EXCEEDED: 422,
  RETURN_NOT_FOUND: 404,
  // inspect: the return is not RECEIVED (not yet, or inspected already)
  RETURN_NOT_INSPECTABLE: 409,
  // retryPayment: the order waits on no payment step
  NOTHING_TO_RETRY: 409,
  // the order event feed's webhooks (api/feed): a URL that would reach a private, loopback or link-local address (SSRF)
  WEBHOOK_TARGET_FORBIDDEN: 422,
  SUBSCRIPTION_NOT_FOUND: 404,
  DELIVERY_NOT_FOUND: 404,
  // skip: the receiver has the event already
  DELIVERY_ALREADY_DELIVERED: 409,
} as const;

export type ErrorCode = keyof typeof ErrorStatuses;

/** `ErrorCodes.X` is the string 'X'. */
export const ErrorCodes = Object.fromEntries(Object.keys(ErrorStatuses).map((code) => [code, code])) as { readonly [C in ErrorCode]: C };

export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ErrorStatuses, code);

/** Why a payment gateway said no; mirrors what card networks report. */
export const DeclineReasons = ['card_declined', 'insufficient_funds', 'expired_card', 'invalid_cvc'] as const;
export type DeclineReason = (typeof DeclineReasons)[number];
