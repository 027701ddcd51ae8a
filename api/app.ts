import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { ErrorCodes } from '../domain/errors';
import type { Logger } from '../platform/logger';
import { parseAllowList } from '../platform/outbound-target';
import type { Db } from '../prisma/client';
import { registerAdminRoutes } from './admin';
import { registerAuthRoutes } from './auth';
import { identify, requireAdmin, requireAuth } from './auth/middleware';
import { sameOriginForCookie } from './auth/session-cookie';
import { createTokens } from './auth/tokens';
import { registerCartRoutes } from './cart';
import { registerCarrierWebhook } from './carrier-webhook';
import { registerCatalogRoutes } from './catalog';
import { registerCheckoutRoutes } from './checkout';
import { registerDocsPage } from './docs-page';
import { registerFeedRoutes } from './feed';
import { errorResponse, onError } from './errors';
import { registerHealthRoutes } from './health';
import { createApiMetrics, routeOf, type ApiMetrics } from './metrics';
import { rateLimit } from './middleware/rate-limit';
import type { AuthLimits } from './middleware/auth-limits';
import { guard, registerDocument } from './openapi';
import { createSagaClient, registerOrderRoutes, type OrderDeps } from './orders';
import { OrderEventHub, type OrderEventFeed } from './orders/event-notifier';
import { routeMiss, routing } from './routing';
import { API_DEFAULTS, type ApiSettings } from './settings';
import { registerWebRoutes } from './web';
import type { FulfilmentTimings } from '../temporal-config/place-order';
import type { AppEnv } from './types';

/** What the app is built from; settings not given are the config schema's defaults (api/settings.ts). */
export interface AppDeps extends Partial<Omit<ApiSettings, 'fulfilment'>> {
  /** warehouse, delivery and return windows handed to each new saga; the ones not given are the defaults */
  fulfilment?: FulfilmentTimings;
  db: Db;
  temporal: Client;
  log: Logger;
  /** HS256 key of access tokens (platform/secrets.ts: no default) */
  jwtSecret: string;
  carrierWebhookSecret: string;
  /** login and registration throttles per address and account (shared through PostgreSQL by the server); absent = off */
  authLimits?: AuthLimits;
  /**
   * wakes order event streams when order_events gets rows (api/orders/event-notifier.ts: one LISTEN per
   * process); without it (in-process tests) streams only re-read every eventRereadMs
   */
  orderEvents?: OrderEventFeed;
  /** order event streams: the backstop re-read and the heartbeat (ms) */
  eventRereadMs?: number;
  eventHeartbeatMs?: number;
  maxBodyBytes?: number;
  /** Prometheus registry of the request metrics (served by createMetricsApp on its own port, not here); default: a fresh one */
  metrics?: ApiMetrics;
  /** set when tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT): one SERVER span per request, active while it runs */
  tracer?: Tracer;
  /** routes mounted behind the middleware and before the product's own (the benchmark mounts its baseline checkout here) */
  extraRoutes?: (app: OpenAPIHono<AppEnv>) => void;
}

/** Order event streams: how often a stream re-reads order_events should a notification be missed, and its heartbeat. */
const EVENT_REREAD_MS = 30_000;
const EVENT_HEARTBEAT_MS = 15_000;
const EVENT_RETRY_MS = 2_000;
const MAX_BODY_BYTES = 64 * 1024;

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

/** The settings given, without the keys given as undefined (which would hide a default). */
const settingsOf = (deps: AppDeps): ApiSettings => {
  const given = Object.fromEntries(Object.keys(API_DEFAULTS).map((k) => [k, deps[k as keyof AppDeps]]).filter(([, v]) => v !== undefined)) as Partial<ApiSettings>;
  return { ...API_DEFAULTS, ...given, fulfilment: { ...API_DEFAULTS.fulfilment, ...deps.fulfilment } };
};

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
  const settings = settingsOf(deps);
  const tokens = createTokens({ secret: deps.jwtSecret, ttlSeconds: settings.jwtTtlSeconds });

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
  const limitBody = bodyLimit({ maxSize: deps.maxBodyBytes ?? MAX_BODY_BYTES, onError: (c) => errorResponse(c, ErrorCodes.PAYLOAD_TOO_LARGE, 'request body is too large') });
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
  app.use('/api/*', guard(rateLimit({ limit: settings.rateLimitPerMinute }), { statuses: [429] }));
  for (const path of NEEDS_TOKEN) app.use(path, requireAuth, sameOriginForCookie);
  app.use('/api/v1/admin/*', requireAuth, sameOriginForCookie, requireAdmin);
  app.onError(onError);
  app.notFound(routeMiss(app));

  const orderDeps: OrderDeps = {
    db: deps.db,
    saga: createSagaClient(deps.temporal, { outcomeWaitMs: settings.outcomeWaitMs, checkoutStart: settings.checkoutStart }),
    reservationTtlMs: settings.reservationTtlMs,
    fulfilment: settings.fulfilment,
  };
  deps.extraRoutes?.(app);
  registerHealthRoutes(app, deps);
  registerAuthRoutes(app, deps.db, tokens, deps.authLimits);
  registerCatalogRoutes(app, deps.db);
  registerCartRoutes(app, deps.db);
  registerCheckoutRoutes(app, orderDeps, deps.log);
  registerOrderRoutes(app, orderDeps, {
    feed: deps.orderEvents ?? new OrderEventHub(),
    rereadMs: deps.eventRereadMs ?? EVENT_REREAD_MS,
    heartbeatMs: deps.eventHeartbeatMs ?? EVENT_HEARTBEAT_MS,
    retryMs: EVENT_RETRY_MS,
    lifetimeMs: settings.eventStreamLifetimeMs,
    perCustomer: settings.eventStreamsPerCustomer,
    perProcess: settings.eventStreamsPerProcess,
  });
  registerAdminRoutes(app, { db: deps.db, saga: orderDeps.saga, temporalUi: { url: settings.temporalUiUrl, namespace: () => deps.temporal.options.namespace } });
  registerFeedRoutes(app, { db: deps.db, allow: parseAllowList(settings.feedAllowedPrivateTargets), secretGraceMs: settings.feedSecretGraceMs });
  registerCarrierWebhook(app, { db: deps.db, saga: orderDeps.saga, secret: deps.carrierWebhookSecret });

  registerDocsPage(app);
  registerWebRoutes(app);
  registerDocument(app); // last: completes each route's entry from the middleware registered above
  return app;
}
