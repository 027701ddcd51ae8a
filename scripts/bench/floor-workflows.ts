/**
 * The cheapest workflows a Temporal server can run, for floor (c) of the
 * benchmark (scripts/bench/floor.ts). Not part of the product.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

interface FloorActivities {
  noop(): Promise<void>;
}

export const FLOOR_TASK_QUEUE = 'bench-floor';

const local = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '10s' });
const remote = proxyActivities<FloorActivities>({ startToCloseTimeout: '10s', taskQueue: FLOOR_TASK_QUEUE });

/** Start, one workflow task, complete: what any workflow costs at least. */
export async function floorEmpty(): Promise<void> {}

/** Three steps that do nothing, run by the workflow's own worker: the cheapest three-step saga. */
export async function floorThreeLocal(): Promise<void> {
  await local.noop();
  await local.noop();
  await local.noop();
}

/** Three steps that do nothing, each an activity task on a queue: the shape of a saga whose steps other workers run. */
export async function floorThreeActivities(): Promise<void> {
  await remote.noop();
  await remote.noop();
  await remote.noop();
}
