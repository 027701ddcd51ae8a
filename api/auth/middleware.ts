import { createMiddleware } from 'hono/factory';
import { ErrorCodes } from '../../domain/errors';
import type { Db } from '../../prisma/client';
import { errorResponse } from '../errors';
import { bearer, guard } from '../openapi';
import type { AppEnv } from '../types';
import type { Tokens } from './tokens';

/**
 * Reads a bearer token if one came; whether a route needs one is decided later.
 * A signed token is also checked against its account: one primary-key lookup
 * per request that carries a token, so a token of a deleted account, or one
 * issued before a log-out or password change (users.tokenVersion), is refused
 * at once, and the role is the account's current one.
 */
export const identify = (tokens: Tokens, db: Db) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    if (header !== undefined) {
      const match = /^Bearer +([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim());
      if (!match) c.set('authError', 'send Authorization: Bearer <accessToken>');
      else {
        let claims: Awaited<ReturnType<Tokens['verify']>> | undefined;
        try {
          claims = await tokens.verify(match[1]!);
        } catch (err) {
          c.set('authError', (err as Error).message);
        }
        if (claims) {
          const account = await db.user.findUnique({ where: { id: claims.id }, select: { role: true, tokenVersion: true } });
          if (!account) c.set('authError', 'this account no longer exists');
          else if (account.tokenVersion !== claims.tokenVersion) c.set('authError', 'access token was revoked (log-out or password change); log in again');
          else c.set('user', { id: claims.id, role: account.role });
        }
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
