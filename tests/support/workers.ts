import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { LoggingSender } from '../../activities/notifications/sender';
import { SimulatedGateway, type SimulatedGatewayOptions } from '../../activities/payments/gateway';
import type { Db } from '../../prisma/client';
import { boundedContexts } from '../../temporal-config/place-order';
import { activitiesFor, workerOptionsFor, type ContextActivities } from '../../workers/contexts';

export type { ContextActivities };

/**
 * One worker per bounded context, each on its own task queue, wired as the product's workers are
 * (workers/contexts.ts) with the activities given. Plain payloads unless a data converter is given
 * (platform/payload-codec.ts): recorded histories stay readable.
 */
export async function createWorkers(connection: NativeConnection, activities: ContextActivities, namespace = 'default', dataConverter?: DataConverter): Promise<Worker[]> {
  return Promise.all(boundedContexts.map((context) => Worker.create({ connection, namespace, dataConverter, ...workerOptionsFor(context, activities[context]) })));
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

/** The real activities of every context, on one database, a simulated gateway and a silent sender. */
export function realActivities(db: Db, gateway: SimulatedGatewayOptions): ContextActivities {
  const deps = { db, gateway: new SimulatedGateway(db, gateway), sender: new LoggingSender(() => undefined) };
  return Object.fromEntries(boundedContexts.map((context) => [context, activitiesFor(context, deps)])) as unknown as ContextActivities;
}
