import { Hono, type Context, type Env, type Input } from 'hono';
import { matchedRoutes } from 'hono/route';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds; from a fast cache hit to a checkout that waits for the payment outcome. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The API's Prometheus metrics, served at GET /metrics on API_METRICS_PORT. One registry per app. */
export interface ApiMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route'>;
}

/**
 * http_requests_total{method,route,status} and
 * http_request_duration_seconds{method,route}, labelled by the matched route
 * pattern (/api/v1/orders/:id, never an id), plus the process metrics
 * (CPU, memory, event loop lag, GC; `process_`/`nodejs_` names) when
 * `processMetrics` (the server turns it on; in-process test apps do not).
 */
export function createApiMetrics(options: { processMetrics?: boolean } = {}): ApiMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, matched route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency in seconds (until the response headers), by method and matched route',
    labelNames: ['method', 'route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  return { registry, requests, duration };
}

/**
 * GET /metrics alone, for its own listener (API_METRICS_PORT): the public API
 * port does not serve it, so route names, traffic and process figures are not
 * for any client to read. Anything else is 404.
 */
export function createMetricsApp(metrics: ApiMetrics): Hono {
  return new Hono().get('/metrics', async (c) => c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));
}

/**
 * The route pattern that answered (`/api/v1/orders/:id`), so ids never become
 * label values; `unmatched` when no route did (404s of unknown paths).
 */
export function routeOf<E extends Env, P extends string, I extends Input>(c: Context<E, P, I>): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) if (routes[i].method !== 'ALL') return routes[i].path;
  return 'unmatched';
}
