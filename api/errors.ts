import type { Context, Env, Input } from 'hono';
import type { AppEnv } from './types';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ErrorCodes, ErrorStatuses, isErrorCode, type ErrorCode } from '../domain/errors';

/** The statuses of domain/errors.ts, checked here to be ones an HTTP answer with a body may have. */
const statusFor: Readonly<Record<ErrorCode, ContentfulStatusCode>> = ErrorStatuses;

/** A failure type outside the table (say an uncaught error's class name) answers 500. */
export const httpStatus = (code: string): ContentfulStatusCode => (isErrorCode(code) ? statusFor[code] : 500);

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

/** The request's id (api/app.ts sets it first thing); '' on an app without that middleware (the codec endpoint). */
const requestIdOf = <E extends Env, P extends string, I extends Input>(c: Context<E, P, I>): string => (c.var as { requestId?: string }).requestId ?? '';

export const errorResponse = <E extends Env, P extends string, I extends Input>(c: Context<E, P, I>, code: string, message: string, details?: unknown) =>
  c.json<ErrorBody>(
    { code, message, ...(details === undefined ? {} : { details }), requestId: requestIdOf(c) },
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

export function onError(err: Error, c: Context<AppEnv>) {
  if (err instanceof ApiError) {
    if (err.code === ErrorCodes.DEPENDENCY_UNAVAILABLE) c.header('Retry-After', '5');
    return errorResponse(c, err.code, err.message, err.details);
  }
  if (err instanceof HTTPException) {
    if (err.status === 400 && /json/i.test(err.message)) return errorResponse(c, ErrorCodes.INVALID_JSON, 'request body is not valid JSON');
    if (err.status === 413) return errorResponse(c, ErrorCodes.PAYLOAD_TOO_LARGE, 'request body is too large');
    if (err.status === 415) return errorResponse(c, ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'send the body as application/json');
    return c.json({ code: 'HTTP_' + err.status, message: err.message, requestId: requestIdOf(c) }, err.status as ContentfulStatusCode);
  }
  if (isUnavailable(err)) {
    c.header('Retry-After', '5');
    return errorResponse(c, ErrorCodes.DEPENDENCY_UNAVAILABLE, 'a dependency is unavailable; try again shortly');
  }
  c.get('log')?.error({ err }, 'unhandled error');
  return errorResponse(c, ErrorCodes.INTERNAL, 'internal error');
}
