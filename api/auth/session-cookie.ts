import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { ErrorCodes } from '../../domain/errors';
import { errorResponse } from '../errors';
import { guard } from '../openapi';
import type { AppEnv } from '../types';
import type { AccessToken } from './tokens';

/**
 * The browser's session: the same access token as POST /users/login gives,
 * kept in an HttpOnly cookie (script on the page, and so an injected one,
 * cannot read it) with SameSite=Strict (another site's page cannot make the
 * browser send it). API clients keep using Authorization: Bearer.
 */
export const SESSION_COOKIE = 'session';

/** Only the API reads the cookie. */
const COOKIE_PATH = '/api/';

const isHttps = (c: Context) => new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';

export function setSessionCookie(c: Context, token: AccessToken): void {
  setCookie(c, SESSION_COOKIE, token.accessToken, { path: COOKIE_PATH, httpOnly: true, sameSite: 'Strict', secure: isHttps(c), maxAge: token.expiresIn });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: COOKIE_PATH, httpOnly: true, sameSite: 'Strict', secure: isHttps(c) });
}

export const sessionToken = (c: Context): string | undefined => getCookie(c, SESSION_COOKIE);

/** Whether the page that sent a request (its Origin) is of the host it was sent to (the URL's, from the Host header). */
const fromThisSite = (origin: string | undefined, url: string): boolean => {
  if (!origin) return false;
  try {
    return new URL(origin).host === new URL(url).host;
  } catch {
    return false;
  }
};

const UNSAFE = ['POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * SameSite=Strict keeps other sites' requests from carrying the cookie, but a
 * page on another port of the same host is the same site. So a request that
 * changes something on the strength of the cookie must come from a page of
 * this origin: browsers send Origin with every such request.
 */
export const sameOriginForCookie = guard(
  createMiddleware<AppEnv>(async (c, next) => {
    if (c.get('viaCookie') && UNSAFE.includes(c.req.method)) {
      if (!fromThisSite(c.req.header('origin'), c.req.url)) {
        return errorResponse(c, ErrorCodes.CROSS_ORIGIN_REFUSED, 'a request carrying the session cookie must come from a page of this site (Origin)');
      }
    }
    await next();
  }),
  { statuses: [403], methods: UNSAFE },
);
