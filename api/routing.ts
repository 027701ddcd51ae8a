import type { Context, Hono, MiddlewareHandler, Schema } from 'hono';
import type { AppEnv } from './types';
import { matchedRoutes } from 'hono/route';
import { METHOD_NAME_ALL } from 'hono/router';
import { ErrorCodes } from '../domain/errors';
import { errorResponse } from './errors';

type AnyApp = Hono<AppEnv, Schema, string>;

/** app.use() middleware is registered for ALL methods; a route always names its method. */
const isRoute = (route: { method: string }) => route.method !== METHOD_NAME_ALL;

/**
 * The methods the app's own router serves at this concrete path, so a new
 * route needs no second list. HEAD wherever GET: Hono answers HEAD with the
 * GET route.
 */
export function allowedMethods(app: AnyApp, path: string): string[] {
  const methods = new Set(app.routes.filter(isRoute).map((r) => r.method));
  const allow = [...methods].filter((m) => app.router.match(m, path)[0].some(([[, route]]) => isRoute(route)));
  if (allow.includes('GET')) allow.push('HEAD');
  return allow.sort();
}

/** 405 with Allow when the path exists under other methods, else 404; both in the usual error body. */
export const routeMiss = (app: AnyApp) => (c: Context) => {
  const allow = allowedMethods(app, c.req.path);
  // a route that calls c.notFound() itself is served, so that stays a 404
  if (!allow.length || allow.includes(c.req.method)) return errorResponse(c, ErrorCodes.NOT_FOUND, `no route for ${c.req.method} ${c.req.path}`);
  c.header('Allow', allow.join(', '));
  return errorResponse(c, ErrorCodes.METHOD_NOT_ALLOWED, `${c.req.method} is not served at ${c.req.path}; use ${allow.join(', ')}`, { allow });
};

/**
 * Answers requests no route serves before the middleware registered after it
 * runs. Costs nothing on a hit: Hono's own match result for the request
 * already says whether a route (not only middleware) matched.
 */
export const routing = (app: AnyApp): MiddlewareHandler => {
  const miss = routeMiss(app);
  return async (c, next) => {
    if (matchedRoutes(c).some(isRoute)) return next();
    return miss(c);
  };
};
