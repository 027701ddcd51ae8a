import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { ErrorCodes } from '../domain/errors';
import { EVENT_STREAM_DEFAULTS } from '../platform/config';
import type { Logger } from '../platform/logger';
import type { Db } from '../prisma/client';
import { registerAdminRoutes } from './admin';
import { registerAuthRoutes } from './auth';
import { identify, requireAdmin, requireAuth } from './auth/middleware';
import { createTokens } from './auth/tokens';
import { registerCartRoutes } from './cart';
import { registerCarrierWebhook } from './carrier-webhook';
import { registerCatalogRoutes } from './catalog';
import { registerCheckoutRoutes } from './checkout';
import { registerDocsPage } from './docs-page';
import { errorResponse, onError } from './errors';
import { registerFulfilmentRoutes } from './fulfilment';
import { registerHealthRoutes } from './health';
import { createApiMetrics, routeOf, type ApiMetrics } from './metrics';
import { rateLimit } from './middleware/rate-limit';
import type { AuthLimits } from './middleware/auth-limits';
import { guard, registerDocument } from './openapi';
import { registerOrderRoutes, type OrderDeps } from './orders';
import { OrderEventHub, type OrderEventFeed } from './orders/event-notifier';
import type { DirectCheckout } from './orders/direct-checkout';
import { routeMiss, routing } from './routing';
import type { AppEnv } from './types';
import { type FulfilmentTimings, type OrderWrites } from '../temporal-config/place-order';

export interface AppDeps {
  db: Db;
  temporal: Client;
  log: Logger;
  outcomeWaitMs?: number;
  reservationTtlMs?: number;
  orderWrites?: OrderWrites;
  maxBodyBytes?: number;
  /** HS256 key of access tokens (platform/secrets.ts: no default) */
  jwtSecret: string;
  jwtTtlSeconds?: number;
  /** per user (per IP when anonymous) and per API process; 0 = off */
  rateLimitPerMinute?: number;
  /** login and registration throttles per address and account (shared through PostgreSQL by the server); absent = off */
  authLimits?: AuthLimits;
  /**
   * wakes order event streams when order_events gets rows (api/orders/event-notifier.ts: one LISTEN per
   * process); without it (in-process tests) streams only re-read every eventRereadMs
   */
  orderEvents?: OrderEventFeed;
  /** order event streams: backstop re-read and heartbeat intervals, lifetime (ms) and caps per customer and per process */
  eventRereadMs?: number;
  eventHeartbeatMs?: number;
  eventStreamLifetimeMs?: number;
  eventStreamsPerCustomer?: number;
  eventStreamsPerProcess?: number;
  carrierWebhookSecret: string;
  fulfilment?: FulfilmentTimings;
  /** Prometheus registry of the request metrics (served by createMetricsApp on its own port, not here); default: a fresh one */
  metrics?: ApiMetrics;
  /** set when tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT): one SERVER span per request, active while it runs */
  tracer?: Tracer;
  /** the benchmark's no-Temporal baseline for POST /api/v1/orders (CHECKOUT_ENGINE=direct-baseline) */
  directCheckout?: DirectCheckout;
}

const headerGetter = {
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
  keys: (carrier: Headers) => {
    const keys: string[] = [];
    carrier.forEach((_value, key) => keys.push(key));
    return keys;
  },
};

/** What a caller's X-Request-Id may be to be kept. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Methods whose body must be JSON on /api/*. */
const JSON_BODY_METHODS = ['POST', 'PUT', 'PATCH'];

/** Prefixes that need a token; routes added under them later are covered too. */
const NEEDS_TOKEN = ['/api/v1/cart', '/api/v1/cart/*', '/api/v1/checkout', '/api/v1/orders', '/api/v1/orders/*', '/api/v1/users/me', '/api/v1/users/me/*'];

/** The whole HTTP surface, built from its dependencies so tests run it in-process. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const fields = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
        return errorResponse(c, ErrorCodes.VALIDATION_FAILED, `invalid request: ${fields.map((f) => f.path || '(body)').join(', ')}`, { fields });
      }
    },
  });
  const tokens = createTokens({ secret: deps.jwtSecret, ttlSeconds: deps.jwtTtlSeconds ?? 900 });

  const metrics = deps.metrics ?? createApiMetrics();
  const tracer = deps.tracer;
  if (tracer) {
    // Continues a caller's trace (traceparent header); the Temporal client
    // calls made while handling the request become its children.
    app.use('*', async (c, next) => {
      const parent = propagation.extract(context.active(), c.req.raw.headers, headerGetter);
      const span = tracer.startSpan(c.req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': c.req.method, 'url.path': c.req.path } }, parent);
      try {
        await context.with(trace.setSpan(parent, span), next);
      } finally {
        const route = routeOf(c);
        span.updateName(`${c.req.method} ${route}`);
        span.setAttribute('http.route', route);
        span.setAttribute('http.response.status_code', c.res.status);
        if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
    });
  }
  app.use('*', async (c, next) => {
    // a caller's id is kept to follow a request across systems, but only a short, plain one: it goes into every log line and back out
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    const traceId = tracer ? trace.getActiveSpan()?.spanContext().traceId : undefined;
    c.set('log', deps.log.child(traceId ? { requestId, traceId } : { requestId }));
    c.header('X-Request-Id', requestId);
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const route = routeOf(c);
    metrics.requests.inc({ method: c.req.method, route, status: String(c.res.status) });
    metrics.duration.observe({ method: c.req.method, route }, seconds);
    // one line per request: never headers or bodies
    c.get('log').info({ method: c.req.method, route, path: c.req.path, status: c.res.status, ms: Math.round(seconds * 1000) }, 'request');
  });
  // Routing first: a path no route serves (404) or a method it does not serve (405) is answered before body, auth and rate-limit checks, and not counted by the limiter.
  app.use('*', routing(app));
  const limitBody = bodyLimit({ maxSize: deps.maxBodyBytes ?? 64 * 1024, onError: (c) => errorResponse(c, ErrorCodes.PAYLOAD_TOO_LARGE, 'request body is too large') });
  // Hono reads no body of GET or HEAD
  app.use('*', guard(limitBody, { statuses: [413], methods: ['POST', 'PUT', 'PATCH', 'DELETE'] }));
  const jsonOnly = createMiddleware<AppEnv>(async (c, next) => {
    const hasBody = c.req.header('content-length') !== '0' && (c.req.header('content-length') || c.req.header('transfer-encoding'));
    if (JSON_BODY_METHODS.includes(c.req.method) && hasBody && !/^application\/(.+\+)?json\b/i.test(c.req.header('content-type') ?? '')) {
      return errorResponse(c, ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'send the body as application/json');
    }
    await next();
  });
  app.use('/api/*', guard(jsonOnly, { statuses: [415], methods: JSON_BODY_METHODS }));
  app.use('/api/*', identify(tokens, deps.db));
  app.use('/api/*', guard(rateLimit({ limit: deps.rateLimitPerMinute ?? 100 }), { statuses: [429] }));
  for (const path of NEEDS_TOKEN) app.use(path, requireAuth);
  app.use('/api/v1/admin/*', requireAuth, requireAdmin);
  app.onError(onError);
  app.notFound(routeMiss(app));

  const orderDeps: OrderDeps = {
    db: deps.db,
    temporal: deps.temporal,
    outcomeWaitMs: deps.outcomeWaitMs ?? 10_000,
    reservationTtlMs: deps.reservationTtlMs ?? 15 * 60_000,
    orderWrites: deps.orderWrites,
    fulfilment: deps.fulfilment,
    directCheckout: deps.directCheckout,
  };
  registerHealthRoutes(app, deps);
  registerAuthRoutes(app, deps.db, tokens, deps.authLimits);
  registerCatalogRoutes(app, deps.db);
  registerCartRoutes(app, deps.db);
  registerCheckoutRoutes(app, orderDeps, deps.log);
  registerOrderRoutes(app, orderDeps, {
    feed: deps.orderEvents ?? new OrderEventHub(),
    rereadMs: deps.eventRereadMs ?? EVENT_STREAM_DEFAULTS.rereadMs,
    heartbeatMs: deps.eventHeartbeatMs ?? 15_000,
    retryMs: 2_000,
    lifetimeMs: deps.eventStreamLifetimeMs ?? EVENT_STREAM_DEFAULTS.lifetimeMs,
    perCustomer: deps.eventStreamsPerCustomer ?? EVENT_STREAM_DEFAULTS.perCustomer,
    perProcess: deps.eventStreamsPerProcess ?? EVENT_STREAM_DEFAULTS.perProcess,
  });
  registerAdminRoutes(app, deps.db, deps.temporal);
  registerFulfilmentRoutes(app, {
    db: deps.db,
    temporal: deps.temporal,
    ownerCheck: (c, customerId) => {
      const user = c.get('user');
      return !!user && (user.role === 'ADMIN' || user.id === customerId);
    },
  });

  registerCarrierWebhook(app, { db: deps.db, temporal: deps.temporal, secret: deps.carrierWebhookSecret });

  registerDocsPage(app);
  registerDocument(app); // last: completes each route's entry from the middleware registered above
  return app;
}
