import { createRequire } from 'node:module';
import { log as activityLog } from '@temporalio/activity';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createInventoryActivities } from '../activities/inventory';
import { createOrdersActivities } from '../activities/orders';
import { createPaymentsActivities } from '../activities/payments';
import { createShippingActivities } from '../activities/shipping';
import { createNotificationsActivities } from '../activities/notifications';
import { LoggingSender, type NotificationSender } from '../activities/notifications/sender';
import { SimulatedGateway, simulatedGatewayOptions, type PaymentGateway } from '../activities/payments/gateway';
import type { Db } from '../prisma/client';
import type { Config } from '../platform/config';
import { temporalDataConverter } from '../platform/payload-codec';
import type { Tracing } from '../platform/tracing';
import { holdAfterActivities } from './faults';
import { activityCompletionLog, tracingWorkerOptions } from './observability';
import { TaskQueues, type BoundedContext } from '../temporal-config/place-order';

const require = createRequire(import.meta.url);
export const workflowsPath = require.resolve('../workflows/index.ts');

export interface WorkerDeps {
  db: Db;
  config: Config;
  gateway?: PaymentGateway;
  sender?: NotificationSender;
  /** OpenTelemetry, when OTEL_EXPORTER_OTLP_ENDPOINT is set */
  tracing?: Tracing;
}

export const gatewayFromConfig = (db: Db, config: Config): PaymentGateway => new SimulatedGateway(db, simulatedGatewayOptions(config));

/** What each bounded context's worker runs: its activities, and for orders the workflows. */
export function workerOptionsFor(context: BoundedContext, deps: WorkerDeps): Pick<WorkerOptions, 'taskQueue' | 'activities' | 'workflowsPath'> {
  const taskQueue = TaskQueues[context];
  switch (context) {
    case 'orders':
      return { taskQueue, workflowsPath, activities: createOrdersActivities(deps.db) };
    case 'inventory':
      return { taskQueue, activities: createInventoryActivities(deps.db) };
    case 'payments':
      return {
        taskQueue,
        activities: createPaymentsActivities(deps.db, deps.gateway ?? gatewayFromConfig(deps.db, deps.config), {
          holdAfterChargeMs: deps.config.FAULT_PAYMENT_HOLD_AFTER_CHARGE_MS,
        }),
      };
    case 'shipping':
      return { taskQueue, activities: createShippingActivities(deps.db) };
    case 'notifications':
      return { taskQueue, activities: createNotificationsActivities(deps.db, deps.sender ?? new LoggingSender((entry, msg) => activityLog.info(msg, entry))) };
  }
}

/**
 * The worker of one context as its process runs it: one log line per
 * activity, tracing interceptors and the workflow span sink when tracing is
 * on, the fault-injection hook when configured.
 */
export async function createContextWorker(context: BoundedContext, connection: NativeConnection, namespace: string, deps: WorkerDeps): Promise<Worker> {
  const options = workerOptionsFor(context, deps);
  const held = deps.config.FAULT_HOLD_AFTER_ACTIVITIES.split(',').map((s) => s.trim()).filter(Boolean);
  const tracing = tracingWorkerOptions(deps.tracing, !!options.workflowsPath);
  const activity = [
    ...tracing.activity, // outermost: the RunActivity span covers the others
    activityCompletionLog,
    ...(held.length ? [holdAfterActivities(held, deps.config.FAULT_HOLD_MS, (msg) => activityLog.warn(msg))] : []),
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
