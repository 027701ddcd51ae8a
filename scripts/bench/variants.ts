/**
 * The stacks one benchmark run compares, each with the settings that make
 * the difference. Each lever of issue 20 is measured alone against "before"
 * (main as it was before the issue) and all together in "after" (today's
 * defaults), so one results file says what each one is worth.
 */
import { DEFAULT_TEMPORAL_DYNAMIC_CONFIG } from '../../platform/config';

export interface Variant {
  description: string;
  /** configuration (platform/config.ts) for the whole stack: dev server, workers and API */
  env: NodeJS.ProcessEnv;
  /** a webhook receiver on loopback subscribed to every order event while it runs (./feed-receiver.ts) */
  webhook?: boolean;
  /** the simulated gateway latencies its series run at, when BENCH_GATEWAY_LATENCIES_MS does not say (default: 0 only) */
  gatewayLatenciesMs?: number[];
}

const TRANSFER_POLL = 'history.transferProcessorMaxPollRPS';

/** The dev server's dynamic config (comma-separated key=value) with the transfer queue read at most `rps` times a second. */
export function withTransferPoll(rps: number, dynamicConfig = DEFAULT_TEMPORAL_DYNAMIC_CONFIG): string {
  const others = dynamicConfig.split(',').map((p) => p.trim()).filter((p) => p && p.split('=')[0].trim() !== TRANSFER_POLL);
  return [...others, `${TRANSFER_POLL}=${rps}`].join(',');
}

/** What main did before issue 20: start the saga then send the awaitOutcome update, CONFIRMED after commitStock, transfer queue read 20 times a second (the dev server's own default); the activities' SQL is today's in every variant. */
const BEFORE = { CHECKOUT_START: 'start-then-update', CONFIRM_AT: 'stock-commit', TEMPORAL_DYNAMIC_CONFIG: withTransferPoll(20) };

export const VARIANTS: Record<string, Variant> = {
  before: {
    description:
      'main before issue 20: the API starts the saga, then sends the awaitOutcome update (CHECKOUT_START=start-then-update); the order is CONFIRMED and answered after commitStock (CONFIRM_AT=stock-commit); the dev server reads its transfer queue at most 20 times a second. Only the activities\' SQL is today\'s (11 statements per checkout instead of 39, in every variant: that change has no switch)',
    env: BEFORE,
    gatewayLatenciesMs: [0, 200],
  },
  'update-with-start': {
    description: 'before, with one lever: the API starts the saga and sends the update in one executeUpdateWithStart call (CHECKOUT_START=update-with-start)',
    env: { ...BEFORE, CHECKOUT_START: 'update-with-start' },
  },
  'answer-after-payment': {
    description:
      'before, with one lever: the order is CONFIRMED and the checkout answered as soon as the payment is authorised; commitStock and planShipments follow in parallel (CONFIRM_AT=payment)',
    env: { ...BEFORE, CONFIRM_AT: 'payment' },
  },
  after: {
    description: `the defaults now: update-with-start, answer after payment, the dev server's default dynamic config (${DEFAULT_TEMPORAL_DYNAMIC_CONFIG})`,
    env: {},
    gatewayLatenciesMs: [0, 200],
  },
  'dispatch-20': {
    description: `after, with the dev server reading its transfer queue (new workflow and activity tasks) at most 20 times a second (${TRANSFER_POLL}=20): a task waits up to 50 ms to be dispatched`,
    env: { TEMPORAL_DYNAMIC_CONFIG: withTransferPoll(20) },
  },
  'dispatch-50': {
    description: `after, with the transfer queue read at most 50 times a second (${TRANSFER_POLL}=50): a task waits up to 20 ms (the default of the run that chose 100)`,
    env: { TEMPORAL_DYNAMIC_CONFIG: withTransferPoll(50) },
  },
  'dispatch-100': {
    description: `after, with the transfer queue read at most 100 times a second (${TRANSFER_POLL}=100): a task waits up to 10 ms, each read costs the server CPU`,
    env: { TEMPORAL_DYNAMIC_CONFIG: withTransferPoll(100) },
  },
  feed: {
    description:
      'after, with a webhook subscription to every order event (a receiver on loopback answering at once, FEED_ALLOWED_PRIVATE_TARGETS=127.0.0.1): what one subscriber costs the saga, and how far behind the feed runs',
    env: { FEED_ALLOWED_PRIVATE_TARGETS: '127.0.0.1' },
    webhook: true,
  },
  'one-process': {
    description: "after, with every context's worker in one process (WORKER_PROCESSES=one), each still on its own task queue",
    env: { WORKER_PROCESSES: 'one' },
  },
};

/** What `npm run bench` runs when BENCH_VARIANTS does not say: the levers alone and together. `after` runs last: its stack then serves baseline (a), floor (c) and limit (b). */
export const DEFAULT_VARIANTS = ['before', 'update-with-start', 'answer-after-payment', 'dispatch-20', 'dispatch-50', 'after'];

/** The variant the targets are judged on: the stack a user gets by default. */
export const JUDGED_VARIANT = 'after';

/**
 * Variants measured interleaved when two or more of them run: their stacks are up together and each level runs
 * on each in turn, who goes first rotating, so the drift of a run (steal, a warm disk) falls on all alike.
 * The dispatch A/B, whose differences are that small. `after` last, as above.
 */
export const INTERLEAVED_VARIANTS = ['dispatch-20', 'dispatch-50', 'dispatch-100', 'after'];
