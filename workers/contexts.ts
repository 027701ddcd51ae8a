import { createRequire } from 'node:module';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createInventoryActivities } from '../activities/inventory';
import { createOrdersActivities } from '../activities/orders';
import { createPaymentsActivities } from '../activities/payments';
import { createShippingActivities } from '../activities/shipping';
import { createNotificationsActivities } from '../activities/notifications';
import { LoggingSender, type NotificationSender } from '../activities/notifications/sender';
import { SimulatedGateway, type PaymentGateway } from '../activities/payments/gateway';
import type { Db } from '../prisma/client';
import type { Config } from '../platform/config';
import { holdAfterActivities } from './faults';
import { TaskQueues, type BoundedContext } from '../temporal-config/task-queues';

const require = createRequire(import.meta.url);
export const workflowsPath = require.resolve('../workflows/index.ts');

export interface WorkerDeps {
  db: Db;
  config: Config;
  gateway?: PaymentGateway;
  sender?: NotificationSender;
}

export const gatewayFromConfig = (db: Db, config: Config): PaymentGateway =>
  new SimulatedGateway(db, {
    latencyMs: config.PAYMENT_LATENCY_MS,
    slowMs: config.PAYMENT_SLOW_MS,
    declineRate: config.PAYMENT_DECLINE_RATE,
    transientFailures: config.PAYMENT_TRANSIENT_FAILURES,
    timeoutMs: config.PAYMENT_TIMEOUT_MS,
    fault: config.PAYMENT_FAULT === 'none' ? undefined : { mode: config.PAYMENT_FAULT, until: config.PAYMENT_FAULT_FOR_MS ? Date.now() + config.PAYMENT_FAULT_FOR_MS : Infinity },
  });

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
      return { taskQueue, activities: createNotificationsActivities(deps.db, deps.sender ?? new LoggingSender((entry, msg) => console.log(JSON.stringify({ ...entry, msg })))) };
  }
}

export async function createContextWorker(context: BoundedContext, connection: NativeConnection, namespace: string, deps: WorkerDeps): Promise<Worker> {
  const held = deps.config.FAULT_HOLD_AFTER_ACTIVITIES.split(',').map((s) => s.trim()).filter(Boolean);
  const interceptors = held.length
    ? { activity: [holdAfterActivities(held, deps.config.FAULT_HOLD_MS, (msg) => console.log(JSON.stringify({ level: 40, msg })))] }
    : undefined;
  return Worker.create({ connection, namespace, interceptors, ...workerOptionsFor(context, deps) });
}
