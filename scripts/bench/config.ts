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
});

/** Starts each saga with its order writes on the orders task queue, as sagas ran before local order writes (variant "before"). */
export const orderWritesOnTaskQueue: WorkflowClientInterceptor = {
  start: (input, next) => {
    const [order, ...rest] = input.options.args as [PlaceOrderInput, ...unknown[]];
    return next({ ...input, options: { ...input.options, args: [{ ...order, orderWrites: 'task-queue' }, ...rest] } });
  },
};
