/**
 * One worker process for one bounded context, polling only its task queue:
 *   npx tsx workers/main.ts <orders|inventory|payments|shipping|notifications>
 * Start several to scale a context out; they share the queue. A comma list
 * (`orders,inventory,...`) runs one Worker per context in this one process,
 * each still on its own task queue, sharing the connection and the database
 * pool: fewer processes for a small machine (WORKER_PROCESSES=one).
 */
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createDb } from '../prisma/client';
import { databaseUrl, loadConfig, temporalAddress } from '../platform/config';
import { createLogger } from '../platform/logger';
import { onParentExit } from '../platform/parent';
import { requireSecrets } from '../platform/secrets';
import { startTracing } from '../platform/tracing';
import { createContextWorker } from './contexts';
import { installTemporalRuntime, registerOrderCounters } from './observability';
import { boundedContexts, type BoundedContext } from '../temporal-config/place-order';

const contexts = (process.argv[2] ?? '').split(',').map((s) => s.trim()) as BoundedContext[];
if (contexts.length === 0 || contexts.some((c) => !boundedContexts.includes(c)) || new Set(contexts).size !== contexts.length) {
  console.error(`usage: workers/main.ts <${boundedContexts.join('|')}>[,<context>...]`);
  process.exit(2);
}
const name = contexts.length === 1 ? contexts[0]! : 'all';
const config = loadConfig();
// in production, personal data in Temporal must be encrypted (exit 2 naming PAYLOAD_CODEC_KEYS)
requireSecrets(process.env, [], config);
const log = createLogger(`worker:${name}`, config.LOG_LEVEL, { format: config.LOG_FORMAT });
// Before any connection: SDK and Core logs into pino; Prometheus on WORKER_METRICS_PORT (0 = off).
const metricsAddress = config.WORKER_METRICS_PORT ? `${config.HOST}:${config.WORKER_METRICS_PORT}` : undefined;
installTemporalRuntime(log, metricsAddress);
// off (nothing installed) unless OTEL_EXPORTER_OTLP_ENDPOINT is set
const tracing = startTracing(config, `worker-${name}`);
const db = createDb(databaseUrl(config), { poolSize: config.DB_POOL_SIZE });
const address = temporalAddress(config);
const connection = await NativeConnection.connect({ address });
const workers: Worker[] = [];
for (const context of contexts) {
  const worker = await createContextWorker(context, connection, config.TEMPORAL_NAMESPACE, { db, config, tracing });
  // the orders worker runs the workflows: their business counters start at 0 on its endpoint
  if (metricsAddress && context === 'orders') registerOrderCounters(config.TEMPORAL_NAMESPACE, worker.options.taskQueue);
  workers.push(worker);
}
log.info(
  {
    taskQueues: workers.map((w) => w.options.taskQueue),
    address,
    metrics: metricsAddress ? `http://${metricsAddress}/metrics` : 'off',
    tracing: tracing ? config.OTEL_EXPORTER_OTLP_ENDPOINT : 'off',
  },
  'worker polling',
);
// The SDK's runtime turns SIGINT/SIGTERM into a graceful shutdown of every worker; a stack that
// vanished (its parent killed) gets the same, instead of leaving this process polling.
onParentExit(() => {
  log.warn('the process that started this worker has exited: shutting down');
  for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
});
await Promise.all(workers.map((w) => w.run()));
await connection.close();
await db.$disconnect();
await tracing?.shutdown(); // flushes the last batch of spans
log.info('worker stopped');
