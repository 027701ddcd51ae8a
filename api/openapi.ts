import type { OpenAPIHono, RouteConfig, RouteHandler, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { RouterRoute } from 'hono/types';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { SmartRouter } from 'hono/router/smart-router';
import { TrieRouter } from 'hono/router/trie-router';
import { ErrorSchema } from './schemas';
import type { AppEnv } from './types';

export const json = <T extends z.ZodTypeAny>(schema: T) => ({ 'application/json': { schema } });
export const errorContent = json(ErrorSchema);

/** A response with a JSON body. */
export const response = <T extends z.ZodTypeAny>(description: string, schema: T) => ({ description, content: json(schema) });

const retryAfter = { 'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer' as const } } };

const meaning: Record<number, string> = {
  400: 'invalid request: VALIDATION_FAILED (details.fields names each bad field) or INVALID_JSON',
  401: 'UNAUTHENTICATED: missing, malformed, forged or expired bearer token',
  402: 'PAYMENT_DECLINED: details.reason says why',
  403: 'FORBIDDEN: admins only',
  404: 'not found',
  409: 'conflict with the current state',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE: send application/json',
  422: 'a business rule refused the request; the code names the rule',
  429: 'RATE_LIMITED: wait Retry-After seconds',
  503: 'DEPENDENCY_UNAVAILABLE: the database or Temporal is unreachable; retry after Retry-After seconds',
};

/** One error response with the one error shape. */
export const error = (status: number, description = meaning[status] ?? 'error') => ({
  description,
  content: errorContent,
  ...(status === 429 || status === 503 ? { headers: retryAfter } : {}),
});

/**
 * The error responses a route's handler answers itself. Every API route
 * reaches the database or Temporal, hence 503. What middleware answers
 * (400, 401, 403, 413, 415, 429, default) is added by registerDocument.
 */
export const errors = (...statuses: number[]) => Object.fromEntries([...statuses, 503].map((s) => [s, error(s)]));

export const bearer = [{ bearerAuth: [] }];

/** Handlers keyed by the names of their routes in a *.routes.ts module. */
export type Handlers<Routes> = { [Name in keyof Routes]?: Routes[Name] extends RouteConfig ? RouteHandler<Routes[Name], AppEnv> : never };

/** Serves each handler at the route of the same name. */
export function serveRoutes<Routes>(app: OpenAPIHono<AppEnv>, routes: Routes, handlers: Handlers<Routes>): void {
  for (const [name, handler] of Object.entries(handlers)) app.openapi(routes[name as keyof Routes] as RouteConfig, handler as RouteHandler<RouteConfig, AppEnv>);
}

/** What a middleware answers instead of the route it guards (for these methods only, when given). */
export interface Guard {
  statuses: number[];
  methods?: readonly string[];
  security?: typeof bearer;
}
const guards = new WeakMap<object, Guard>();

/** Marks a middleware with what it can answer; the document adds that to every route it applies to. */
export function guard<M extends MiddlewareHandler<AppEnv>>(middleware: M, what: Guard): M {
  guards.set(middleware, what);
  return middleware;
}

/**
 * Completes every route's entry from what applies to it in the app: the
 * guarded middleware its path and method reach (matched by Hono's own router
 * semantics, on a copy so the app's router is not built early), 400 and 415
 * from zod-openapi's validators of its declared request, and a default for
 * onError. So the document cannot drift from the middleware.
 */
function completeRoutes(app: OpenAPIHono<AppEnv>): void {
  const router = new SmartRouter<RouterRoute>({ routers: [new RegExpRouter(), new TrieRouter()] });
  for (const r of app.routes) router.add(r.method, r.path, r);
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== 'route') continue;
    const route = def.route;
    const method = route.method.toUpperCase();
    const concrete = route.path.replace(/\{[^}]+\}/g, 'x');
    const statuses = new Set<number>();
    let security: RouteConfig['security'];
    for (const [r] of router.match(method, concrete)[0]) {
      const g = guards.get(r.handler);
      if (!g || (g.methods && !g.methods.includes(method))) continue;
      g.statuses.forEach((s) => statuses.add(s));
      security ??= g.security;
    }
    const request = route.request ?? {};
    if (request.params || request.query || request.headers || request.cookies || request.body) statuses.add(400);
    if (request.body) statuses.add(415); // zod-openapi's media type gate
    const added = Object.fromEntries([...statuses].map((s) => [s, error(s)]));
    // the route's own descriptions win (e.g. what its 401 means)
    def.route = {
      ...route,
      ...(security && !route.security ? { security } : {}),
      responses: { ...added, ...route.responses, default: route.responses.default ?? { description: 'INTERNAL (500): an unexpected error, logged under the requestId', content: errorContent } },
    };
  }
}

/** Call after every route and middleware is registered: it completes their entries. */
export function registerDocument(app: OpenAPIHono<AppEnv>): void {
  completeRoutes(app);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'accessToken from POST /api/v1/users/login',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Order fulfilment API',
      version: '0.2.0',
      description:
        'Accounts, catalog, cart, checkout and orders; each order runs as a durable Temporal saga. ' +
        'Every error has the shape {code, message, details?, requestId}. A path called with a method it does not serve ' +
        'answers 405 METHOD_NOT_ALLOWED with an Allow header; an unknown path 404 NOT_FOUND.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'accounts' },
      { name: 'catalog' },
      { name: 'cart' },
      { name: 'checkout' },
      { name: 'orders' },
      { name: 'admin' },
      { name: 'fulfilment' },
      { name: 'returns' },
      { name: 'payments' },
      { name: 'webhooks', description: 'the order event feed: subscriptions, deliveries, replay (admin)' },
      { name: 'console', description: "what the operator console works with: the NEEDS_ATTENTION queue's reasons and repairs, search, returns across orders (admin)" },
      { name: 'health' },
    ],
  });
}
