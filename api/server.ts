/**
 * The HTTP API alone, against an existing database and Temporal:
 *   npx tsx api/server.ts
 */
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Client } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { createDb } from '../prisma/client';
import { databaseUrl, loadConfig, temporalAddress } from '../platform/config';
import { requireSecrets } from '../platform/secrets';
import { createLogger } from '../platform/logger';
import { onParentExit } from '../platform/parent';
import { lazyTemporalConnection } from '../platform/temporal-connection';
import { startTracing } from '../platform/tracing';
import { createApp } from './app';
import { createDirectCheckout } from './orders/direct-checkout';
import { simulatedGatewayOptions } from '../activities/payments/gateway';
import { createApiMetrics } from './metrics';
import { ensureAdmin } from './auth/admin-bootstrap';

const config = loadConfig();
// before anything connects: a missing or guessable key stops the process (exit 2, naming it)
const secrets = requireSecrets(process.env, ['JWT_SECRET', 'CARRIER_WEBHOOK_SECRET']);
const log = createLogger('api', config.LOG_LEVEL, { format: config.LOG_FORMAT });
// off (nothing installed) unless OTEL_EXPORTER_OTLP_ENDPOINT is set
const tracing = startTracing(config, 'api');
const db = createDb(databaseUrl(config), { poolSize: config.DB_POOL_SIZE });
// lazy: the API starts (and answers 503 on /health/ready) while Temporal is still coming up
const temporalConnection = lazyTemporalConnection({ address: temporalAddress(config) });
// with tracing, workflow starts, updates, signals and queries carry the request's trace to the workers
const temporal = new Client({
  connection: temporalConnection.connection,
  namespace: config.TEMPORAL_NAMESPACE,
  interceptors: tracing ? { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] } : undefined,
});
if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
  const outcome = await ensureAdmin(db, config.ADMIN_EMAIL, config.ADMIN_PASSWORD);
  log.info({ email: config.ADMIN_EMAIL, outcome }, 'admin account from ADMIN_EMAIL');
}
if (config.CHECKOUT_ENGINE === 'direct-baseline') {
  log.warn('CHECKOUT_ENGINE=direct-baseline: POST /api/v1/orders runs in one database transaction without Temporal (the benchmark baseline; no saga, no compensation)');
}
const app = createApp({
  db,
  temporal,
  log,
  metrics: createApiMetrics({ processMetrics: true }),
  tracer: tracing?.tracer,
  reservationTtlMs: config.RESERVATION_TTL_MS,
  orderWrites: config.ORDER_WRITES,
  outcomeWaitMs: config.CHECKOUT_WAIT_MS,
  jwtSecret: secrets.JWT_SECRET,
  jwtTtlSeconds: config.JWT_TTL_SECONDS,
  rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
  carrierWebhookSecret: secrets.CARRIER_WEBHOOK_SECRET,
  directCheckout: config.CHECKOUT_ENGINE === 'direct-baseline' ? createDirectCheckout(db, simulatedGatewayOptions(config)) : undefined,
  fulfilment: {
    handlingMs: config.FULFILMENT_HANDLING_MS,
    deliveryGraceMs: config.DELIVERY_GRACE_DAYS * 86_400_000,
    returnWindowMs: config.RETURN_WINDOW_DAYS * 86_400_000,
  },
});

// a plain HTTP/1.1 server (no createServer option): its connections can be closed on shutdown
const server = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT }, (info) => {
  const url = `http://${config.HOST}:${info.port}`;
  log.info({ url, metrics: `${url}/metrics`, tracing: tracing ? config.OTEL_EXPORTER_OTLP_ENDPOINT : 'off' }, 'API listening');
}) as Server;

/** Open requests and event streams get this long to finish before their sockets are closed. */
const DRAIN_MS = 3_000;
/** Under the stack's grace time (scripts/shutdown.ts), so the API always exits on its own. */
const STOP_LIMIT_MS = 8_000;

let stopping = false;
// In order: no new connections; open requests and streams end; the Temporal calls they started end
// (a retry timer firing after the channel closed would throw); then the database and the traces.
const stop = (reason: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ reason }, 'API stopping');
  setTimeout(() => {
    log.error({ reason }, 'API did not stop in time: exiting');
    process.exit(1);
  }, STOP_LIMIT_MS).unref();
  const drain = setTimeout(() => server.closeAllConnections(), DRAIN_MS).unref();
  server.close(async () => {
    clearTimeout(drain);
    await temporalConnection.close();
    await db.$disconnect();
    await tracing?.shutdown();
    process.exit(0);
  });
  server.closeIdleConnections();
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
onParentExit(() => stop('the process that started the API has exited'));
