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
import { listenForOrderEvents } from './orders/event-notifier';
import { createDirectCheckout } from './orders/direct-checkout';
import { simulatedGatewayOptions } from '../activities/payments/gateway';
import pg from 'pg';
import { createApiMetrics, createMetricsApp } from './metrics';
import { authLimitSettings, createAuthLimits } from './middleware/auth-limits';
import { ensureAdmin } from './auth/admin-bootstrap';
import { createTokens, InvalidTokenError } from './auth/tokens';
import { codecUiOrigins, createCodecApp } from './codec-server';
import { payloadCodecFrom, temporalDataConverter } from '../platform/payload-codec';

const config = loadConfig();
// before anything connects: a missing or guessable key stops the process (exit 2, naming it)
const secrets = requireSecrets(process.env, ['JWT_SECRET', 'CARRIER_WEBHOOK_SECRET'], config);
const log = createLogger('api', config.LOG_LEVEL, { format: config.LOG_FORMAT });
// off (nothing installed) unless OTEL_EXPORTER_OTLP_ENDPOINT is set
const tracing = startTracing(config, 'api');
const db = createDb(databaseUrl(config), { poolSize: config.DB_POOL_SIZE });
// the login/register counters (table rate_limits), shared by every API process; a few connections suffice
const rateLimitPool = new pg.Pool({ connectionString: databaseUrl(config), max: 2 });
rateLimitPool.on('error', (err) => log.warn({ err }, 'rate-limit pool connection lost'));
const metrics = createApiMetrics({ processMetrics: true });
// lazy: the API starts (and answers 503 on /health/ready) while Temporal is still coming up
const temporalConnection = lazyTemporalConnection({ address: temporalAddress(config) });
// with tracing, workflow starts, updates, signals and queries carry the request's trace to the workers
const temporal = new Client({
  connection: temporalConnection.connection,
  namespace: config.TEMPORAL_NAMESPACE,
  // payloads leave this process encrypted (PAYLOAD_CODEC_KEYS)
  dataConverter: temporalDataConverter(config),
  interceptors: tracing ? { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] } : undefined,
});
if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
  const outcome = await ensureAdmin(db, config.ADMIN_EMAIL, config.ADMIN_PASSWORD);
  log.info({ outcome }, 'admin account from ADMIN_EMAIL');
}
if (config.CHECKOUT_ENGINE === 'direct-baseline') {
  log.warn('CHECKOUT_ENGINE=direct-baseline: POST /api/v1/orders runs in one database transaction without Temporal (the benchmark baseline; no saga, no compensation)');
}
// one LISTEN connection for every event stream of this process; a database that is down now is retried
const orderEvents = listenForOrderEvents({ databaseUrl: databaseUrl(config), log });
const app = createApp({
  db,
  temporal,
  log,
  metrics,
  authLimits: createAuthLimits(authLimitSettings(config), rateLimitPool),
  tracer: tracing?.tracer,
  reservationTtlMs: config.RESERVATION_TTL_MS,
  orderWrites: config.ORDER_WRITES,
  outcomeWaitMs: config.CHECKOUT_WAIT_MS,
  jwtSecret: secrets.JWT_SECRET,
  jwtTtlSeconds: config.JWT_TTL_SECONDS,
  orderEvents: orderEvents.feed,
  eventStreamLifetimeMs: config.EVENT_STREAM_LIFETIME_MS,
  eventStreamsPerCustomer: config.EVENT_STREAMS_PER_CUSTOMER,
  eventStreamsPerProcess: config.EVENT_STREAMS_PER_PROCESS,
  rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
  carrierWebhookSecret: secrets.CARRIER_WEBHOOK_SECRET,
  directCheckout: config.CHECKOUT_ENGINE === 'direct-baseline' ? createDirectCheckout(db, simulatedGatewayOptions(config)) : undefined,
  fulfilment: {
    handlingMs: config.FULFILMENT_HANDLING_MS,
    deliveryGraceMs: config.DELIVERY_GRACE_DAYS * 86_400_000,
    returnWindowMs: config.RETURN_WINDOW_DAYS * 86_400_000,
    returnShippingMs: config.RETURN_SHIPPING_DAYS * 86_400_000,
  },
});

// a plain HTTP/1.1 server (no createServer option): its connections can be closed on shutdown
const server = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT }, (info) => {
  const url = `http://${config.HOST}:${info.port}`;
  log.info({ url, metrics: config.API_METRICS_PORT ? `http://${config.HOST}:${config.API_METRICS_PORT}/metrics` : 'off', tracing: tracing ? config.OTEL_EXPORTER_OTLP_ENDPOINT : 'off' }, 'API listening');
}) as Server;

// The codec endpoint for the Web UI and the CLIs, on its own port (api/codec-server.ts says who may call it).
// A token counts as the API counts it: signed, unexpired, not revoked, the account's current role.
const codecTokens = createTokens({ secret: secrets.JWT_SECRET, ttlSeconds: config.JWT_TTL_SECONDS });
const verifyCodecToken = async (token: string) => {
  const claims = await codecTokens.verify(token);
  const account = await db.user.findUnique({ where: { id: claims.id }, select: { role: true, tokenVersion: true } });
  if (!account || account.tokenVersion !== claims.tokenVersion) throw new InvalidTokenError('access token was revoked or its account is gone; log in again');
  return { id: claims.id, role: account.role };
};
const codecServer = config.CODEC_PORT
  ? (serve(
      {
        fetch: createCodecApp({
          codec: payloadCodecFrom(config),
          namespace: config.TEMPORAL_NAMESPACE,
          allowedOrigins: codecUiOrigins(config),
          verifyToken: verifyCodecToken,
        }).fetch,
        hostname: config.HOST,
        port: config.CODEC_PORT,
      },
      (info) => log.info({ url: `http://${config.HOST}:${info.port}`, encryption: config.PAYLOAD_CODEC_KEYS ? 'on' : 'off (PAYLOAD_CODEC_KEYS unset)' }, 'codec endpoint listening'),
    ) as Server)
  : undefined;
codecServer?.on('error', (err) => {
  log.fatal({ err }, `codec endpoint cannot listen on ${config.HOST}:${config.CODEC_PORT} (CODEC_PORT)`);
  process.exit(1);
});

// Prometheus on its own port (API_METRICS_PORT, 0 = off), like the workers': not on the public one
const metricsServer = config.API_METRICS_PORT
  ? (serve({ fetch: createMetricsApp(metrics).fetch, hostname: config.HOST, port: config.API_METRICS_PORT }) as Server)
  : undefined;
metricsServer?.on('error', (err) => {
  log.fatal({ err }, `metrics endpoint cannot listen on ${config.HOST}:${config.API_METRICS_PORT} (API_METRICS_PORT)`);
  process.exit(1);
});

/** Open requests and event streams get this long to finish before their sockets are closed. */
const DRAIN_MS = 3_000;
/** While stopping, how often sockets that became idle are closed. */
const IDLE_SWEEP_MS = 100;
/** Under the stack's grace time (scripts/shutdown.ts), so the API always exits on its own. */
const STOP_LIMIT_MS = 8_000;

let stopping = false;
// In order: no new connections; open requests and streams end; the Temporal calls they started end
// (a retry timer firing after the channel closed would throw); then the database and the traces.
const stop = (reason: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ reason }, 'API stopping');
  // event streams end now (clients resume elsewhere with Last-Event-ID) rather than holding the drain
  const listenerClosed = orderEvents.close();
  setTimeout(() => {
    log.error({ reason }, 'API did not stop in time: exiting');
    process.exit(1);
  }, STOP_LIMIT_MS).unref();
  const drain = setTimeout(() => server.closeAllConnections(), DRAIN_MS).unref();
  // a keep-alive socket whose stream or request has just ended goes now, not at the drain's end
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS).unref();
  server.close(async () => {
    clearTimeout(drain);
    clearInterval(sweep);
    await listenerClosed;
    await temporalConnection.close();
    await db.$disconnect();
    await rateLimitPool.end();
    await tracing?.shutdown();
    process.exit(0);
  });
  server.closeIdleConnections();
  codecServer?.close();
  codecServer?.closeAllConnections();
  metricsServer?.close();
  metricsServer?.closeAllConnections();
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
onParentExit(() => stop('the process that started the API has exited'));
