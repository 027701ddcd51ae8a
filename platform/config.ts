import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parsePayloadCodecKeys } from './payload-codec';
import { parseAllowList } from './outbound-target';
import { PlaceOrderDefaults } from '../temporal-config/place-order';
import { AuthorisationLifetimes } from '../domain/payment';
import { FeedDefaults } from '../domain/feed';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const int = (def: number) => z.coerce.number().int().nonnegative().default(def);
const rate = z.coerce.number().min(0).max(1).default(0);

/**
 * The dev server's tuning: one partition per task queue (it is a single node), and its
 * transfer queue (new workflow and activity tasks) read up to 100 times a second instead
 * of 20, so a task waits at most 10 ms to be dispatched instead of 50. In the benchmark's
 * interleaved A/B of 20, 50 and 100 (bench-results/2026-12-07T20-56-20) 100 beat 20 on
 * latency and throughput at every level, and 50 on throughput at c=8, 32 and 128.
 */
export const DEFAULT_TEMPORAL_DYNAMIC_CONFIG = 'matching.numTaskqueueReadPartitions=1,matching.numTaskqueueWritePartitions=1,history.transferProcessorMaxPollRPS=100';

/**
 * The environment variables the product reads, each with its default, in
 * sections by process: every process parses the shared section and its own
 * (the API, a worker), and `npm start` all of them. Parsed once at start-up;
 * a bad value stops the process with a message naming it. Settings of the
 * production-like launcher, the benchmark and the fault suite live beside them
 * (scripts/prod-like/config.ts, scripts/bench/config.ts, tests/faults/support/fault-config.ts).
 */
export const sharedConfig = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** json lines or pino-pretty; unset: pretty only when NODE_ENV=development and stdout is a terminal, else json */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  /** OTLP/HTTP collector base URL (spans go to <url>/v1/traces), e.g. http://localhost:4318; unset = tracing off */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  /** service.name prefix of exported spans: <prefix>-api, <prefix>-worker-<context> */
  OTEL_SERVICE_NAME: z.string().min(1).default('order-fulfilment'),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z.string().url().optional(),
  PG_PORT: int(5433),
  PG_DATABASE: z.string().default('orders'),
  DB_POOL_SIZE: int(10),
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  /** dev server, started when TEMPORAL_ADDRESS is not given */
  TEMPORAL_PORT: int(7233),
  TEMPORAL_UI_PORT: int(8233),
  /**
   * AES-256-GCM keys of Temporal payloads (platform/payload-codec.ts): comma-separated
   * `<keyId>:<base64 of 32 bytes>`; the first encrypts, all decrypt (rotate: put a new key first,
   * keep the old ones while their histories are needed). Unset: payloads are stored in clear.
   */
  PAYLOAD_CODEC_KEYS: z
    .string()
    .superRefine((v, ctx) => {
      try {
        parsePayloadCodecKeys(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    })
    .optional(),
  /**
   * webhook targets allowed although private (loopback, link-local, private ranges), comma-separated IPs or
   * CIDRs, e.g. 127.0.0.1 for a receiver on this machine. Unset: none; the API refuses such URLs and the
   * dispatcher refuses to connect to them (whatever a name resolves to at the time)
   */
  FEED_ALLOWED_PRIVATE_TARGETS: z
    .string()
    .default('')
    .superRefine((v, ctx) => {
      try {
        parseAllowList(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
});

/** The HTTP API (api/server.ts). */
export const apiConfig = sharedConfig.extend({
  PORT: int(3000),
  /** the API serves its Prometheus /metrics on HOST:this port, never on the public PORT; 0 = off */
  API_METRICS_PORT: int(0),
  /** the codec endpoint (POST /decode, /encode) for the Web UI and the CLIs, on HOST:this port, served by the API process; 0 = off */
  CODEC_PORT: int(8234),
  /** browser origins allowed to call the codec endpoint without a token, comma-separated; unset: in development the local Web UI (http://127.0.0.1:TEMPORAL_UI_PORT, http://localhost:TEMPORAL_UI_PORT), else none */
  CODEC_UI_ORIGINS: z.string().optional(),
  /**
   * the Temporal Web UI the operator console links each order's workflow to (GET /api/v1/admin/settings), http or https;
   * unset: in development the local Web UI (localTemporalUi: the one `npm start` runs and hands the API the port of), else none
   */
  TEMPORAL_UI_URL: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')).optional(),
  /** how long POST /api/v1/orders waits for the payment outcome before answering 202 */
  CHECKOUT_WAIT_MS: int(10_000),
  RESERVATION_TTL_MS: int(PlaceOrderDefaults.reservationTtlMs),
  /** warehouse time between CONFIRMED and hand-over to the carrier (still cancellable) */
  FULFILMENT_HANDLING_MS: int(PlaceOrderDefaults.handlingMs),
  /** how long after the carrier's estimate a missing delivery becomes DELIVERY_OVERDUE */
  DELIVERY_GRACE_DAYS: int(PlaceOrderDefaults.deliveryGraceDays),
  RETURN_WINDOW_DAYS: int(PlaceOrderDefaults.returnWindowDays),
  /** days a requested return's goods may take to reach the warehouse; not received by then, the return lapses (DELIVERED again, charge kept) */
  RETURN_SHIPPING_DAYS: int(PlaceOrderDefaults.returnShippingDays),
  /** HS256 key of access tokens; no default (platform/secrets.ts holds the rules) */
  JWT_SECRET: z.string().optional(),
  JWT_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  /** HMAC key of carrier webhook signatures; no default (platform/secrets.ts holds the rules) */
  CARRIER_WEBHOOK_SECRET: z.string().optional(),
  /** requests per minute per user (per IP when anonymous), per API process; 0 turns it off */
  RATE_LIMIT_PER_MINUTE: int(100),
  /** login attempts for one account (its e-mail) from one address per LOGIN_LIMIT_WINDOW_SECONDS, shared by all API processes (PostgreSQL); 0 = off */
  LOGIN_LIMIT_PER_ACCOUNT: int(10),
  /** login attempts from one address per LOGIN_LIMIT_WINDOW_SECONDS, whatever the accounts; 0 = off */
  LOGIN_LIMIT_PER_IP: int(50),
  LOGIN_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  /** registrations from one address per REGISTER_LIMIT_WINDOW_SECONDS; 0 = off */
  REGISTER_LIMIT_PER_IP: int(10),
  REGISTER_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(3600),
  /** open order event streams (SSE) per customer, per API process; one more → 429 RATE_LIMITED */
  EVENT_STREAMS_PER_CUSTOMER: z.coerce.number().int().min(1).default(5),
  /** open order event streams in all, per API process; one more → 429 RATE_LIMITED */
  EVENT_STREAMS_PER_PROCESS: z.coerce.number().int().min(1).default(1000),
  /** the server closes a stream after this long; EventSource resumes it with Last-Event-ID */
  EVENT_STREAM_LIFETIME_MS: z.coerce.number().int().min(1_000).default(15 * 60_000),
  /** when both are set, the API makes sure this admin account exists at start */
  ADMIN_EMAIL: z.string().email().optional(),
  ADMIN_PASSWORD: z.string().min(8).optional(),
  /** after a webhook secret is rotated, the old one still signs deliveries for this long */
  FEED_SECRET_GRACE_MS: int(FeedDefaults.secretGraceMs),
});

/** A worker process (workers/main.ts): its metrics endpoint and the simulated payment provider. */
export const workerConfig = sharedConfig.extend({
  /** each worker serves Prometheus /metrics (Temporal SDK runtime metrics + business counters) on HOST:this port; 0 = off */
  WORKER_METRICS_PORT: int(0),
  PAYMENT_LATENCY_MS: int(0),
  PAYMENT_SLOW_MS: int(5_000),
  PAYMENT_DECLINE_RATE: rate,
  PAYMENT_TRANSIENT_FAILURES: int(2),
  /** the gateway client's own request timeout (ms) */
  PAYMENT_TIMEOUT_MS: int(5_000),
  /** how long the simulated provider keeps an authorisation (ms); a capture after that is refused */
  PAYMENT_AUTH_LIFETIME_MS: int(AuthorisationLifetimes.usualMs),
  /** the authorisation lifetime of tok_authExpiresEarly and tok_reauthDeclined (ms) */
  PAYMENT_SHORT_AUTH_LIFETIME_MS: int(AuthorisationLifetimes.shortMs),
  /** the notifications worker also runs the event feed's dispatcher (webhooks and customer notifications); off: it does not */
  FEED_DISPATCHER: z.enum(['on', 'off']).default('on'),
  /** a webhook delivery failing for this long is FAILED, and later events of its order wait behind it */
  FEED_RETRY_PERIOD_MS: int(FeedDefaults.retryPeriodMs),
  /** backoff of webhook retries: the first waits about this long, each next one twice as long, at most FEED_RETRY_MAX_MS (with jitter) */
  FEED_RETRY_BASE_MS: z.coerce.number().int().min(1).default(FeedDefaults.retryBaseMs),
  FEED_RETRY_MAX_MS: z.coerce.number().int().min(1).default(FeedDefaults.retryMaxMs),
  /** a receiver's answer must come within this long */
  FEED_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(FeedDefaults.requestTimeoutMs),
  FEED_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(FeedDefaults.batchSize),
  /** delivered and skipped feed deliveries are deleted after this many days (undelivered ones never) */
  FEED_RETENTION_DAYS: z.coerce.number().int().min(1).default(FeedDefaults.retentionDays),
  /** a customer notification failing for this long is recorded FAILED; the order's later ones go on */
  NOTIFICATION_RETRY_PERIOD_MS: int(FeedDefaults.notificationRetryPeriodMs),
});

/** `npm start` (scripts/stack.ts): the embedded database and dev server it runs, which workers, plus what it hands the API and the workers. */
export const stackConfig = apiConfig.extend(workerConfig.shape).extend({
  /** embedded PostgreSQL, used when DATABASE_URL is not given */
  PG_DATA_DIR: z.string().default(path.join(ROOT, '.data', 'postgres')),
  TEMPORAL_DB_FILE: z.string().default(path.join(ROOT, '.data', 'temporal.sqlite')),
  TEMPORAL_CLI_PATH: z.string().optional(),
  /**
   * extra dynamic config of the dev server, `key=value` pairs separated by commas (values as YAML). Default: one
   * partition per task queue, as suits a single node (the server's default of 4 forwards polls and tasks between partitions)
   */
  TEMPORAL_DYNAMIC_CONFIG: z.string().default(DEFAULT_TEMPORAL_DYNAMIC_CONFIG),
  /**
   * SQLite pragmas for the dev server's history file. WAL with synchronous=normal
   * survives a killed server (only an OS crash or power loss may lose the last
   * commits) and is about 1.5x faster here than the default rollback journal.
   */
  TEMPORAL_SQLITE_PRAGMAS: z.string().default('journal_mode=wal,synchronous=normal'),
  /** which worker processes `npm start` runs: comma-separated contexts */
  WORKERS: z.string().default('orders,inventory,payments,shipping,notifications'),
  /** per-context: one worker process per bounded context (scale each on its own); one: a single process runs every context's worker, each on its own task queue (less memory and fewer hops on a small machine) */
  WORKER_PROCESSES: z.enum(['per-context', 'one']).default('per-context'),
  /** development mode (a stack started by `npm start`): where the secrets it makes are kept, mode 0600 */
  SECRETS_FILE: z.string().default(path.join(ROOT, '.data', 'secrets.env')),
});

export type SharedConfig = z.infer<typeof sharedConfig>;
export type ApiConfig = z.infer<typeof apiConfig>;
export type WorkerConfig = z.infer<typeof workerConfig>;
export type Config = z.infer<typeof stackConfig>;

/** The section's settings from the environment, or an exit with status 2 naming each bad variable. */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    console.error(`invalid configuration:\n${problems}`);
    process.exit(2);
  }
  return parsed.data;
}

export const temporalAddress = (c: Pick<SharedConfig, 'TEMPORAL_ADDRESS' | 'TEMPORAL_PORT'>): string => c.TEMPORAL_ADDRESS ?? `127.0.0.1:${c.TEMPORAL_PORT}`;

/** The dev server's Web UI on this machine, on TEMPORAL_UI_PORT. */
export const localTemporalUi = (c: Pick<SharedConfig, 'TEMPORAL_UI_PORT'>): string => `http://127.0.0.1:${c.TEMPORAL_UI_PORT}`;

/** DATABASE_URL, or the embedded server `npm start` runs. */
export const databaseUrl = (c: Pick<SharedConfig, 'DATABASE_URL' | 'PG_PORT' | 'PG_DATABASE'>): string =>
  c.DATABASE_URL ?? `postgresql://postgres@127.0.0.1:${c.PG_PORT}/${c.PG_DATABASE}`;
