import { createMiddleware } from 'hono/factory';
import { ErrorCodes } from '../../domain/errors';
import type { Db } from '../../prisma/client';
import { errorResponse } from '../errors';
import { bearer, guard } from '../openapi';
import type { AppEnv } from '../types';
import { sessionToken } from './session-cookie';
import { accountForToken } from './token-account';
import { InvalidTokenError, type Tokens } from './tokens';

/**
 * Reads a bearer token, or else the browser's session cookie, if one came;
 * whether a route needs one is decided later. A header wins over the cookie.
 */
export const identify = (tokens: Tokens, db: Db) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    const cookie = header === undefined ? sessionToken(c) : undefined;
    const token = header !== undefined ? /^Bearer +([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim())?.[1] : cookie;
    if (header !== undefined && !token) c.set('authError', 'send Authorization: Bearer <accessToken>');
    else if (token) {
      try {
        c.set('user', await accountForToken(tokens, db, token));
        if (cookie) c.set('viaCookie', true);
      } catch (err) {
        if (!(err instanceof InvalidTokenError)) throw err;
        c.set('authError', cookie ? `the session ended (${err.message})` : err.message);
      }
    }
    await next();
  });

export const requireAuth = guard(createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get('user')) {
    const reason = c.get('authError');
    c.header('WWW-Authenticate', reason ? 'Bearer error="invalid_token"' : 'Bearer');
    return errorResponse(c, ErrorCodes.UNAUTHENTICATED, reason ?? 'log in and send Authorization: Bearer <accessToken>');
  }
  await next();
}), { statuses: [401], security: bearer });

export const requireAdmin = guard(createMiddleware<AppEnv>(async (c, next) => {
  if (c.get('user')?.role !== 'ADMIN') return errorResponse(c, ErrorCodes.FORBIDDEN, 'admins only');
  await next();
}), { statuses: [403] });
