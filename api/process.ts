/**
 * The HTTP API process against an existing database and Temporal: its
 * configuration, connections, servers (API, codec endpoint, metrics) and an
 * orderly stop. api/server.ts runs it; the benchmark's baseline API runs it
 * with its own route and client interceptor (scripts/bench/baseline-api.ts).
 */
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Client, type WorkflowClientInterceptor } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { createDb } from '../prisma/client';
import { apiConfig, databaseUrl, loadConfig, temporalAddress } from '../platform/config';
import { requireSecrets } from '../platform/secrets';
import { createLogger } from '../platform/logger';
import { onParentExit } from '../platform/parent';
import { lazyTemporalConnection } from '../platform/temporal-connection';
import { startTracing } from '../platform/tracing';
import { createApp, type AppDeps } from './app';
import { apiSettings } from './settings';
import type { CheckoutStart } from './orders/saga-client';
import { listenForOrderEvents } from './orders/event-notifier';
import pg from 'pg';
import { createApiMetrics, createMetricsApp } from './metrics';
import { authLimitSettings, createAuthLimits } from './middleware/auth-limits';
import { ensureAdmin } from './auth/admin-bootstrap';
import { accountForToken } from './auth/token-account';
import { createTokens } from './auth/tokens';
import { codecUiOrigins, createCodecApp } from './codec-server';
import { payloadCodecFrom, temporalDataConverter } from '../platform/payload-codec';

export interface ApiExtensions {
  /** routes mounted before the product's own */
  extraRoutes?: AppDeps['extraRoutes'];
  /** more interceptors of the Temporal client's workflow calls (after tracing's) */
  workflowInterceptors?: WorkflowClientInterceptor[];
  /** how checkouts start their sagas (the benchmark's "before" variant); absent = the product's default */
  checkoutStart?: CheckoutStart;
}

/** Starts the API process; it runs until SIGINT/SIGTERM or its parent exits. */
export async function runApiServer(extensions: ApiExtensions = {}): Promise<void> {
  const config = loadConfig(apiConfig);
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
    interceptors: { workflow: [...(tracing ? [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] : []), ...(extensions.workflowInterceptors ?? [])] },
  });
  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    const outcome = await ensureAdmin(db, config.ADMIN_EMAIL, config.ADMIN_PASSWORD);
    log.info({ outcome }, 'admin account from ADMIN_EMAIL');
  }
  // one LISTEN connection for every event stream of this process; a database that is down now is retried
  const orderEvents = listenForOrderEvents({ databaseUrl: databaseUrl(config), log });
  const app = createApp({
    ...apiSettings(config),
    checkoutStart: extensions.checkoutStart,
    db,
    temporal,
    log,
    metrics,
    authLimits: createAuthLimits(authLimitSettings(config), rateLimitPool),
    tracer: tracing?.tracer,
    jwtSecret: secrets.JWT_SECRET,
    orderEvents: orderEvents.feed,
    carrierWebhookSecret: secrets.CARRIER_WEBHOOK_SECRET,
    extraRoutes: extensions.extraRoutes,
  });

  // a plain HTTP/1.1 server (no createServer option): its connections can be closed on shutdown
  const server = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT }, (info) => {
    const url = `http://${config.HOST}:${info.port}`;
    log.info({ url, metrics: config.API_METRICS_PORT ? `http://${config.HOST}:${config.API_METRICS_PORT}/metrics` : 'off', tracing: tracing ? config.OTEL_EXPORTER_OTLP_ENDPOINT : 'off' }, 'API listening');
  }) as Server;

  // The codec endpoint for the Web UI and the CLIs, on its own port (api/codec-server.ts says who may call it).
  // A token counts as the API counts it: signed, unexpired, not revoked, the account's current role.
  const codecTokens = createTokens({ secret: secrets.JWT_SECRET, ttlSeconds: config.JWT_TTL_SECONDS });
  const codecServer = config.CODEC_PORT
    ? (serve(
        {
          fetch: createCodecApp({
            codec: payloadCodecFrom(config),
            namespace: config.TEMPORAL_NAMESPACE,
            allowedOrigins: codecUiOrigins(config),
            verifyToken: (token) => accountForToken(codecTokens, db, token),
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
    // once the server has closed: its dependencies in order; a step that fails is logged, and the process still exits
    const closeDependencies = async () => {
      await listenerClosed;
      await temporalConnection.close();
      await db.$disconnect();
      await rateLimitPool.end();
      await tracing?.shutdown();
    };
    server.close(() => {
      clearTimeout(drain);
      clearInterval(sweep);
      closeDependencies().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'API stop failed');
          process.exit(1);
        },
      );
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
}
