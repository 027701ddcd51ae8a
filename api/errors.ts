import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ErrorCodes, type ErrorCode } from '../domain/errors';

/** The business codes plus those only the HTTP edge answers with. */
export const ApiErrorCodes = { ...ErrorCodes, METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED' } as const;
export type ApiErrorCode = keyof typeof ApiErrorCodes;

/** The one table from error code to HTTP status. */
const statusFor: Record<ApiErrorCode, ContentfulStatusCode> = {
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
  FORBIDDEN: 403,
  EMAIL_TAKEN: 409,
  RATE_LIMITED: 429,
  PRODUCT_EXISTS: 409,
  STOCK_BELOW_ZERO: 422,
  CART_TOO_MANY_ITEMS: 422,
  QUANTITY_OUT_OF_RANGE: 422,
  CART_CURRENCY_MISMATCH: 422,
  CART_EMPTY: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  RETURN_NOT_REQUESTED: 409,
  PAYLOAD_UNDECODABLE: 400,
  ORDER_ID_REUSED: 422,
  SHIPMENT_NOT_IN_TRANSIT: 409,
  FULFILMENT_ENDED: 409,
  CARRIER_DELIVERY_REPLAYED: 409,
  CARRIER_EVENT_LIMIT_REACHED: 409,
  WRONG_PASSWORD: 422,
};

export const httpStatus = (code: string): ContentfulStatusCode => statusFor[code as ApiErrorCode] ?? 500;

export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
  requestId: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const errorResponse = (c: Context, code: string, message: string, details?: unknown) =>
  c.json<ErrorBody>(
    { code, message, ...(details === undefined ? {} : { details }), requestId: c.get('requestId') ?? '' },
    httpStatus(code),
  );

const UNAVAILABLE_CODES = [
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE',
  // PostgreSQL: admin shutdown, crash shutdown, cannot connect now (starting or stopping)
  '57P01', '57P02', '57P03',
  // Prisma: cannot reach the server, server closed the connection, pool timeout
  'P1001', 'P1017', 'P2024',
];
/** Prisma driver-adapter error kinds that mean "cannot talk to the database" */
const UNAVAILABLE_KINDS = ['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections'];
const UNAVAILABLE_MESSAGE =
  /ECONNREFUSED|Connection terminated|connect ETIMEDOUT|14 UNAVAILABLE|deadline exceeded|Can't reach database server|the database system is (shutting down|starting up|in recovery mode)|terminating connection due to administrator command|Unable to start a transaction in the given time/i;

/**
 * Is this a dependency (database, Temporal) being unreachable rather than a
 * bug? Follows `cause` and Prisma's wrapped driver error (meta.driverAdapterError).
 */
export function isUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  const todo: unknown[] = [err];
  while (todo.length) {
    const e = todo.pop();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const { code, originalCode, kind, name, message, cause, meta } = e as {
      code?: unknown; originalCode?: unknown; kind?: unknown; name?: string; message?: string; cause?: unknown; meta?: { driverAdapterError?: unknown };
    };
    if (typeof kind === 'string' && UNAVAILABLE_KINDS.includes(kind)) return true;
    if ([code, originalCode].some((c) => typeof c === 'string' && UNAVAILABLE_CODES.includes(c))) return true;
    if (name === 'ServiceError') return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
    todo.push(cause, meta?.driverAdapterError);
  }
  return false;
}

export function onError(err: Error, c: Context) {
  if (err instanceof ApiError) {
    if (err.code === ErrorCodes.DEPENDENCY_UNAVAILABLE) c.header('Retry-After', '5');
    return errorResponse(c, err.code, err.message, err.details);
  }
  if (err instanceof HTTPException) {
    if (err.status === 400 && /json/i.test(err.message)) return errorResponse(c, ErrorCodes.INVALID_JSON, 'request body is not valid JSON');
    if (err.status === 413) return errorResponse(c, ErrorCodes.PAYLOAD_TOO_LARGE, 'request body is too large');
    if (err.status === 415) return errorResponse(c, ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'send the body as application/json');
    return c.json({ code: 'HTTP_' + err.status, message: err.message, requestId: c.get('requestId') ?? '' }, err.status as ContentfulStatusCode);
  }
  if (isUnavailable(err)) {
    c.header('Retry-After', '5');
    return errorResponse(c, ErrorCodes.DEPENDENCY_UNAVAILABLE, 'a dependency is unavailable; try again shortly');
  }
  c.get('log')?.error({ err }, 'unhandled error');
  return errorResponse(c, ErrorCodes.INTERNAL, 'internal error');
}
