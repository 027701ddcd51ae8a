import { createRequire } from 'node:module';
import { log as activityLog } from '@temporalio/activity';
import { NativeConnection, Worker, type ActivityInterceptorsFactory, type WorkerOptions } from '@temporalio/worker';
import { createInventoryActivities } from '../activities/inventory';
import { createOrdersActivities } from '../activities/orders';
import { createPaymentsActivities } from '../activities/payments';
import { createShippingActivities } from '../activities/shipping';
import { createNotificationsActivities } from '../activities/notifications';
import { LoggingSender, type NotificationSender } from '../activities/notifications/sender';
import { SimulatedGateway, simulatedGatewayOptions, type PaymentGateway } from '../activities/payments/gateway';
import type { Db } from '../prisma/client';
import type { WorkerConfig } from '../platform/config';
import { temporalDataConverter } from '../platform/payload-codec';
import type { Tracing } from '../platform/tracing';
import { activityCompletionLog, tracingWorkerOptions } from './observability';
import { TaskQueues, type BoundedContext } from '../temporal-config/place-order';

const require = createRequire(import.meta.url);
// the workflows beside this file: index.ts from the sources (tsx, vitest), index.js from the compiled dist/
export const workflowsPath = require.resolve(`../workflows/index${new URL(import.meta.url).pathname.endsWith('.ts') ? '.ts' : '.js'}`);

export interface WorkerDeps {
  db: Db;
  config: WorkerConfig;
  gateway?: PaymentGateway;
  sender?: NotificationSender;
  /** OpenTelemetry, when OTEL_EXPORTER_OTLP_ENDPOINT is set */
  tracing?: Tracing;
  /** more activity interceptors, innermost (the fault suite's hooks) */
  activityInterceptors?: ActivityInterceptorsFactory[];
}

export const gatewayFromConfig = (db: Db, config: WorkerConfig): PaymentGateway => new SimulatedGateway(db, simulatedGatewayOptions(config));

/** Every context's activities, by context: what the workers run (tests pass fakes of the same shape). */
export interface ContextActivities {
  orders: ReturnType<typeof createOrdersActivities>;
  inventory: ReturnType<typeof createInventoryActivities>;
  payments: ReturnType<typeof createPaymentsActivities>;
  shipping: ReturnType<typeof createShippingActivities>;
  notifications: ReturnType<typeof createNotificationsActivities>;
}

/** The real activities of one bounded context, on its dependencies. */
export function activitiesFor<C extends BoundedContext>(context: C, deps: { db: Db; gateway: PaymentGateway; sender: NotificationSender }): ContextActivities[C] {
  const made: { [K in BoundedContext]: () => ContextActivities[K] } = {
    orders: () => createOrdersActivities(deps.db),
    inventory: () => createInventoryActivities(deps.db),
    payments: () => createPaymentsActivities(deps.db, deps.gateway),
    shipping: () => createShippingActivities(deps.db),
    notifications: () => createNotificationsActivities(deps.db, deps.sender),
  };
  return made[context]();
}

/** What a context's worker polls and runs: its own task queue, its activities, and for orders the workflows. */
export function workerOptionsFor(context: BoundedContext, activities: ContextActivities[BoundedContext]): Pick<WorkerOptions, 'taskQueue' | 'activities' | 'workflowsPath'> {
  return { taskQueue: TaskQueues[context], activities, ...(context === 'orders' ? { workflowsPath } : {}) };
}

/**
 * The worker of one context as its process runs it: one log line per
 * activity, tracing interceptors and the workflow span sink when tracing is
 * on, and any extra activity interceptors given.
 */
export async function createContextWorker(context: BoundedContext, connection: NativeConnection, namespace: string, deps: WorkerDeps): Promise<Worker> {
  const activities = activitiesFor(context, {
    db: deps.db,
    gateway: deps.gateway ?? gatewayFromConfig(deps.db, deps.config),
    sender: deps.sender ?? new LoggingSender((entry, msg) => {
      activityLog.info(msg, entry);
    }),
  });
  const options = workerOptionsFor(context, activities);
  const tracing = tracingWorkerOptions(deps.tracing, !!options.workflowsPath);
  const activity = [
    ...tracing.activity, // outermost: the RunActivity span covers the others
    activityCompletionLog,
    ...(deps.activityInterceptors ?? []),
  ];
  return Worker.create({
    connection,
    namespace,
    // payloads are encrypted around the workflow sandbox, not inside it (PAYLOAD_CODEC_KEYS)
    dataConverter: temporalDataConverter(deps.config),
    interceptors: { activity, workflowModules: tracing.workflowModules },
    sinks: tracing.sinks,
    ...options,
  });
}
