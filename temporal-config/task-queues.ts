/**
 * One task queue per bounded context. Workers of a context poll only their
 * own queue, so each context scales on its own. Workflows run on the orders
 * queue, next to the context that owns the order record.
 */
export const TaskQueues = {
  orders: 'orders',
  inventory: 'inventory',
  payments: 'payments',
  shipping: 'shipping',
  notifications: 'notifications',
} as const;

export type BoundedContext = keyof typeof TaskQueues;
export const boundedContexts = Object.keys(TaskQueues) as BoundedContext[];
