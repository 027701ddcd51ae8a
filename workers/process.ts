/**
 * A worker process: one Worker per bounded context named, each polling only
 * its own task queue, sharing the connection and the database pool; an
 * orderly stop on SIGINT/SIGTERM or when its parent exits. workers/main.ts
 * runs it; the fault suite runs it with its hooks (tests/faults/support/fault-worker.ts).
 */
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createDb, type Db } from '../prisma/client';
import { databaseUrl, loadConfig, temporalAddress, workerConfig, type WorkerConfig } from '../platform/config';
import { createLogger } from '../platform/logger';
import { onParentExit } from '../platform/parent';
import { requireSecrets } from '../platform/secrets';
import { startTracing } from '../platform/tracing';
import { createContextWorker, type WorkerDeps } from './contexts';
import { startFeedFromConfig } from './feed';
import { installTemporalRuntime, registerOrderCounters } from './observability';
import { boundedContexts, type BoundedContext } from '../temporal-config/place-order';

/** What a caller adds to the workers it runs, from their configuration and database. */
export type WorkerExtensions = (config: WorkerConfig, db: Db) => Pick<WorkerDeps, 'gateway' | 'activityInterceptors'>;

export async function runWorkerProcess(contextList: string | undefined, extensions: WorkerExtensions = () => ({})): Promise<void> {
  const contexts = (contextList ?? '').split(',').map((s) => s.trim()) as BoundedContext[];
  if (contexts.length === 0 || contexts.some((c) => !boundedContexts.includes(c)) || new Set(contexts).size !== contexts.length) {
    console.error(`usage: workers/main.ts <${boundedContexts.join('|')}>[,<context>...]`);
    process.exit(2);
  }
  const name = contexts.length === 1 ? contexts[0] : 'all';
  const config = loadConfig(workerConfig);
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
    const worker = await createContextWorker(context, connection, config.TEMPORAL_NAMESPACE, { db, config, tracing, ...extensions(config, db) });
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
  // the notifications context also sends the event feed: customer messages and the shops' webhooks
  const feed = contexts.includes('notifications') && config.FEED_DISPATCHER === 'on' ? startFeedFromConfig(config, db, log, !!metricsAddress) : undefined;
  await Promise.all(workers.map((w) => w.run()));
  await feed?.stop();
  await connection.close();
  await db.$disconnect();
  await tracing?.shutdown(); // flushes the last batch of spans
  log.info('worker stopped');
}
