import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createInventoryActivities } from '../../activities/inventory';
import { createOrdersActivities } from '../../activities/orders';
import { createPaymentsActivities } from '../../activities/payments';
import { SimulatedGateway, type SimulatedGatewayOptions } from '../../activities/payments/gateway';
import { createShippingActivities } from '../../activities/shipping';
import { createNotificationsActivities } from '../../activities/notifications';
import { LoggingSender } from '../../activities/notifications/sender';
import type { Db } from '../../prisma/client';
import { workflowsPath } from '../../workers/contexts';
import { TaskQueues } from '../../temporal-config/place-order';

export interface ContextActivities {
  orders: ReturnType<typeof createOrdersActivities>;
  inventory: ReturnType<typeof createInventoryActivities>;
  payments: ReturnType<typeof createPaymentsActivities>;
  shipping: ReturnType<typeof createShippingActivities>;
  notifications: ReturnType<typeof createNotificationsActivities>;
}

/**
 * One worker per bounded context, each on its own task queue, as in production. Plain payloads
 * unless a data converter is given (platform/payload-codec.ts): recorded histories stay readable.
 */
export async function createWorkers(connection: NativeConnection, activities: ContextActivities, namespace = 'default', dataConverter?: DataConverter): Promise<Worker[]> {
  return Promise.all([
    Worker.create({ connection, namespace, dataConverter, taskQueue: TaskQueues.orders, workflowsPath, activities: activities.orders }),
    Worker.create({ connection, namespace, dataConverter, taskQueue: TaskQueues.inventory, activities: activities.inventory }),
    Worker.create({ connection, namespace, dataConverter, taskQueue: TaskQueues.payments, activities: activities.payments }),
    Worker.create({ connection, namespace, dataConverter, taskQueue: TaskQueues.shipping, activities: activities.shipping }),
    Worker.create({ connection, namespace, dataConverter, taskQueue: TaskQueues.notifications, activities: activities.notifications }),
  ]);
}

/** Runs `fn` while all the workers poll; shuts them down after. */
export async function withWorkers<T>(workers: Worker[], fn: () => Promise<T>): Promise<T> {
  const [first, ...rest] = workers;
  if (!first) return fn();
  return first.runUntil(withWorkers(rest, fn));
}

/** Starts the workers in the background for a whole test file; call the result to stop them. */
export function runWorkers(workers: Worker[]): () => Promise<void> {
  const running = Promise.all(workers.map((w) => w.run()));
  return async () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await running;
  };
}

/** The real activity factories of every context, on one database and a simulated gateway. */
export function realActivities(db: Db, gateway: SimulatedGatewayOptions): ContextActivities {
  return {
    orders: createOrdersActivities(db),
    inventory: createInventoryActivities(db),
    payments: createPaymentsActivities(db, new SimulatedGateway(db, gateway)),
    shipping: createShippingActivities(db),
    notifications: createNotificationsActivities(db, new LoggingSender(() => undefined)),
  };
}
