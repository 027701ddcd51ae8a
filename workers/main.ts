/**
 * One worker process for one bounded context, polling only its task queue:
 *   npx tsx workers/main.ts <orders|inventory|payments|shipping|notifications>
 * Start several to scale a context out; they share the queue. A comma list
 * (`orders,inventory,...`) runs one Worker per context in this one process,
 * each still on its own task queue (WORKER_PROCESSES=one).
 */
import { runWorkerProcess } from './process';

await runWorkerProcess(process.argv[2]);
