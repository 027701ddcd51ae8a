/**
 * The stacks one benchmark run compares, each with the settings that make
 * the difference. "before" re-creates what the benchmark found to cost the
 * most; "after" is today's default configuration; "low-latency" trades
 * throughput at saturation for latency at low load; "one-process" is a
 * deployment choice for small machines.
 */
import { DEFAULT_TEMPORAL_DYNAMIC_CONFIG } from '../../platform/config';

export interface Variant {
  description: string;
  /** configuration (platform/config.ts) for the whole stack: dev server, workers and API */
  env: NodeJS.ProcessEnv;
  /** a webhook receiver on loopback subscribed to every order event while it runs (./feed-receiver.ts) */
  webhook?: boolean;
}

export const VARIANTS: Record<string, Variant> = {
  before: {
    description:
      'as the stack was before the benchmark: the orders context\'s writes (createOrder, recordOrderStatus ×2) as activities on the orders task queue (ORDER_WRITES=task-queue), the dev server\'s default task-queue partitions',
    env: { ORDER_WRITES: 'task-queue', TEMPORAL_DYNAMIC_CONFIG: '' },
  },
  after: {
    description: 'the defaults now: those writes as local activities in the worker that runs the saga (ORDER_WRITES=local), one partition per task queue on the dev server',
    env: {},
  },
  'low-latency': {
    description:
      'after, with the dev server reading its transfer queue (new workflow and activity tasks) up to 100 times a second instead of 20 (history.transferProcessorMaxPollRPS=100): a task waits at most 10 ms to be dispatched instead of 50',
    env: { TEMPORAL_DYNAMIC_CONFIG: `${DEFAULT_TEMPORAL_DYNAMIC_CONFIG},history.transferProcessorMaxPollRPS=100` },
  },
  feed: {
    description:
      'after, with a webhook subscription to every order event (a receiver on loopback answering at once, FEED_ALLOWED_PRIVATE_TARGETS=127.0.0.1): what one subscriber costs the saga, and how far behind the feed runs',
    env: { FEED_ALLOWED_PRIVATE_TARGETS: '127.0.0.1' },
    webhook: true,
  },
  'one-process': {
    description: 'after, with every context\'s worker in one process (WORKER_PROCESSES=one), each still on its own task queue',
    env: { WORKER_PROCESSES: 'one' },
  },
};
