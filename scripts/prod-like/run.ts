/**
 * The production-like platform (see docs/prod-like.md) until SIGINT/SIGTERM,
 * then an orderly stop: API, workers, UI, Temporal server, PostgreSQL.
 * `npm run start:prod-like` runs this through start.ts.
 *
 * Settings: the usual ones (platform/config.ts: PORT, PG_PORT, TEMPORAL_PORT
 * = the frontend's gRPC port, TEMPORAL_UI_PORT, WORKERS, ...) plus the
 * PROD_LIKE_* ones in ./config.ts.
 */
import path from 'node:path';
import { loadConfig } from '../../platform/config';
import { prodLikeConfig } from './config';
import { abortBootOnSignals, stopOnSignals } from '../shutdown';
import { startProdLikeStack } from './stack';
import { defaultPorts } from './temporal';

const config = loadConfig(prodLikeConfig);
const log = (m: string) => console.log(`[prod-like] ${m}`);
const workersPerQueue = config.PROD_LIKE_WORKERS_PER_QUEUE;
const ports = { ...defaultPorts(config.TEMPORAL_PORT), metrics: config.PROD_LIKE_METRICS_PORT };
if (config.TEMPORAL_ADDRESS) log(`TEMPORAL_ADDRESS=${config.TEMPORAL_ADDRESS} is ignored: this mode runs its own Temporal server`);

const started = Date.now();
// Ctrl-C while it boots stops what has started so far; once it is up, stopOnSignals takes over.
const boot = abortBootOnSignals(log);
let stack: Awaited<ReturnType<typeof startProdLikeStack>>;
try {
  stack = await startProdLikeStack({
    config,
    dataDir: config.PROD_LIKE_DATA_DIR,
    temporalPorts: ports,
    workersPerQueue,
    ui: config.PROD_LIKE_UI,
    temporalLogLevel: config.PROD_LIKE_TEMPORAL_LOG_LEVEL,
    temporalCli: config.TEMPORAL_CLI_PATH,
    log,
    signal: boot.signal,
  });
} catch (err) {
  if (boot.signal.aborted) {
    log('stopped');
    process.exit(130);
  }
  console.error(`[prod-like] failed to start: ${(err as Error).message}`);
  process.exit(1);
}

boot.booted();
stopOnSignals(stack, log);

const t = stack.timings;
console.log(`
  Order platform is up in production-like mode (${((Date.now() - started) / 1000).toFixed(1)}s:` +
  ` tools ${t.tools}s, PostgreSQL ${t.postgres}s, schema ${t.schema}s, Temporal ${t.temporal}s, namespace ${t.namespace}s, UI ${t.ui}s, app ${t.app}s)
    API              ${stack.apiUrl}            (OpenAPI: ${stack.apiUrl}/openapi.json)
    Health           ${stack.apiUrl}/health/ready
    Temporal         ${stack.temporalAddress}   real server ${stack.tools.version} (not the dev server): frontend, history, matching, worker services in one process
                     history/matching/worker gRPC on :${stack.ports.history}/:${stack.ports.matching}/:${stack.ports.worker}, HTTP API ${stack.temporalHttpUrl}${stack.ports.metrics ? `, metrics http://127.0.0.1:${stack.ports.metrics}/metrics` : ''}
    Web UI           ${stack.uiUrl ?? 'off'}${stack.uiUrl ? '   (a separate UI server process, as in a cluster; not part of the Temporal server)' : ''}
    Persistence      PostgreSQL ${stack.postgresAdminUrl.replace(/\/postgres$/, '')}: temporal + temporal_visibility (role temporal), domain: ${stack.databaseUrl}
    Namespace        ${stack.namespace}, search attributes OrderStatus, CustomerId (Keyword)
    Workers          ${[...stack.workerProcesses].map(([c, ps]) => `${c} ×${ps.length}`).join(', ')}  (same task queue each: they share the work)
  CLI: ${path.relative(process.cwd(), stack.temporalCli) || stack.temporalCli} --address ${stack.temporalAddress} workflow list --query 'OrderStatus="CONFIRMED"'
  Ctrl-C stops everything.
`);
