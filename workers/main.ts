/**
 * One worker process for one bounded context, polling only its task queue:
 *   npx tsx workers/main.ts <orders|inventory|payments>
 * Start several to scale a context out; they share the queue.
 */
import { NativeConnection } from '@temporalio/worker';
import { createDb } from '../prisma/client';
import { databaseUrl, loadConfig, temporalAddress } from '../platform/config';
import { createLogger } from '../platform/logger';
import { boundedContexts, type BoundedContext } from '../temporal-config/task-queues';
import { createContextWorker } from './contexts';

const context = process.argv[2] as BoundedContext;
if (!boundedContexts.includes(context)) {
  console.error(`usage: workers/main.ts <${boundedContexts.join('|')}>`);
  process.exit(2);
}
const config = loadConfig();
const log = createLogger(`worker:${context}`, config.LOG_LEVEL);
const db = createDb(databaseUrl(config), { poolSize: config.DB_POOL_SIZE });
const address = temporalAddress(config);
const connection = await NativeConnection.connect({ address });
const worker = await createContextWorker(context, connection, config.TEMPORAL_NAMESPACE, { db, config });
log.info({ taskQueue: worker.options.taskQueue, address }, 'worker polling');
// The SDK's runtime turns SIGINT/SIGTERM into a graceful worker shutdown.
await worker.run();
await connection.close();
await db.$disconnect();
log.info('worker stopped');
