/**
 * The benchmark's own settings, read by its API entry (./api.ts) only: the
 * variants it compares, which the product's configuration knows nothing of.
 */
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { z } from 'zod';
import type { PlaceOrderInput } from '../../temporal-config/place-order';

export const benchConfig = z.object({
  /** how new sagas run the orders context's writes: local activities in the workflow's worker (default), or activities on the orders task queue */
  ORDER_WRITES: z.enum(['local', 'task-queue']).default('local'),
  /**
   * temporal: POST /api/v1/orders starts the PlaceOrder saga. direct-baseline: the same effects in one
   * PostgreSQL transaction without Temporal (./direct-checkout.ts), the baseline (a) only: no compensation, no durability
   */
  CHECKOUT_ENGINE: z.enum(['temporal', 'direct-baseline']).default('temporal'),
  /** how a checkout starts its saga (api/orders/saga-client.ts): the product's default, or start then update as before issue 20 */
  CHECKOUT_START: z.enum(['update-with-start', 'start-then-update']).optional(),
  /** when new sagas confirm: as soon as the payment is secured (the product's default), or after the stock commit as before issue 20 */
  CONFIRM_AT: z.enum(['payment', 'stock-commit']).default('payment'),
});
export type BenchConfig = z.infer<typeof benchConfig>;

/** The saga input as a variant has it: order writes on the task queue ("before" of the first benchmark), confirmation after the stock commit. */
function asVariant(order: PlaceOrderInput, bench: BenchConfig): PlaceOrderInput {
  return {
    ...order,
    ...(bench.ORDER_WRITES === 'task-queue' ? { orderWrites: 'task-queue' as const } : {}),
    ...(bench.CONFIRM_AT === 'stock-commit' ? { confirmAt: 'stock-commit' as const } : {}),
  };
}

/** Rewrites each saga's input as the variant runs it, whether the API starts it plainly or with its outcome update; none when the variant runs the defaults. */
export function variantInterceptors(bench: BenchConfig): WorkflowClientInterceptor[] {
  if (bench.ORDER_WRITES === 'local' && bench.CONFIRM_AT === 'payment') return [];
  const rewrite = <O extends { args?: unknown }>(options: O): O => {
    const [order, ...rest] = options.args as [PlaceOrderInput, ...unknown[]];
    return { ...options, args: [asVariant(order, bench), ...rest] };
  };
  return [
    {
      start: (input, next) => next({ ...input, options: rewrite(input.options) }),
      startUpdateWithStart: (input, next) => next({ ...input, workflowStartOptions: rewrite(input.workflowStartOptions) }),
    },
  ];
}
