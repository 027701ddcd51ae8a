import { patched, proxyActivities, proxyLocalActivities, type ActivityOptions } from '@temporalio/workflow';
import type { createInventoryActivities } from '../../activities/inventory';
import type { createOrdersActivities } from '../../activities/orders';
import type { createPaymentsActivities } from '../../activities/payments';
import type { createShippingActivities } from '../../activities/shipping';
import type { createNotificationsActivities } from '../../activities/notifications';
import { TaskQueues, type PlaceOrderInput } from '../../temporal-config/place-order';
import { Patches } from './patches';

type InventoryActivities = ReturnType<typeof createInventoryActivities>;
type PaymentsActivities = ReturnType<typeof createPaymentsActivities>;
export type OrdersActivities = ReturnType<typeof createOrdersActivities>;
type ShippingActivities = ReturnType<typeof createShippingActivities>;
type NotificationsActivities = ReturnType<typeof createNotificationsActivities>;

// Steps retry transient faults (lost DB connection, gateway 5xx) with backoff;
// business failures are non-retryable ApplicationFailures and stop at once.
const stepOptions = {
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
} satisfies ActivityOptions;
// Compensations retry for a bounded time; what still fails leaves the order in
// NEEDS_ATTENTION for an operator instead of retrying silently forever.
const compensationOptions: ActivityOptions = {
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
};

export const inventory = proxyActivities<InventoryActivities>({ ...stepOptions, taskQueue: TaskQueues.inventory });
export const payments = proxyActivities<PaymentsActivities>({
  ...stepOptions,
  taskQueue: TaskQueues.payments,
  // the slow test card and real gateways may take a while to answer; the
  // heartbeat lets a crashed worker's charge be retried within seconds
  startToCloseTimeout: '45s',
  heartbeatTimeout: '10s',
});
const orders = proxyActivities<OrdersActivities>({ ...stepOptions, taskQueue: TaskQueues.orders });
// The orders context's own writes, run by the worker that runs this workflow: no
// activity task, no dispatch, no started/completed transitions of their own; the
// result is recorded with the next workflow task (the benchmark's largest saving).
const ordersLocal = proxyLocalActivities<OrdersActivities>({ startToCloseTimeout: stepOptions.startToCloseTimeout, retry: stepOptions.retry });
export const inventoryCompensation = proxyActivities<InventoryActivities>({ ...compensationOptions, taskQueue: TaskQueues.inventory });
export const paymentsCompensation = proxyActivities<PaymentsActivities>({ ...compensationOptions, taskQueue: TaskQueues.payments });
export const shipping = proxyActivities<ShippingActivities>({ ...stepOptions, taskQueue: TaskQueues.shipping });
export const shippingCompensation = proxyActivities<ShippingActivities>({ ...compensationOptions, taskQueue: TaskQueues.shipping });
// A provider that is down for an hour still gets the message out (attempts
// spread over ~1.5 h); after that it is recorded as FAILED. Never blocks the order.
export const notifications = proxyActivities<NotificationsActivities>({
  taskQueue: TaskQueues.notifications,
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1m', backoffCoefficient: 2, maximumInterval: '30m', maximumAttempts: 8 },
});
export const notificationRecords = proxyActivities<NotificationsActivities>({ ...compensationOptions, taskQueue: TaskQueues.notifications });

/**
 * How this run writes the orders context's rows (createOrder, recordOrderStatus).
 * Asks patched(), so it is called once, first, before any command.
 */
export function chooseOrderWrites(input: PlaceOrderInput): { local: boolean; writes: OrdersActivities } {
  // Histories recorded before local order writes replay with activities on the orders task queue.
  const local = patched(Patches.orderWritesLocal) && input.orderWrites !== 'task-queue';
  return { local, writes: local ? ordersLocal : orders };
}

/**
 * Whether this run authorises at checkout and captures per shipment. Asks
 * patched() (histories from before it charge at checkout), so it is called once,
 * right after chooseOrderWrites, before any command.
 */
export function choosePaymentFlow(input: PlaceOrderInput): boolean {
  return input.payments !== 'charge-at-checkout' && patched(Patches.perShipmentPayments);
}

/**
 * Whether this run leaves customer notifications to the order event feed: the
 * kind goes into the detail of its status write's STATUS_CHANGED event
 * (`{ notify: kind }`), and the feed's notifications dispatcher sends it; the
 * saga runs no notification activity. Asks patched() (histories from before it
 * send by activity beside the order), so it is called once, right after
 * choosePaymentFlow, before any command.
 */
export function chooseNotifications(input: PlaceOrderInput): boolean {
  return input.notifications !== 'activities' && patched(Patches.notificationsOnFeed);
}

/**
 * Whether this run confirms the order as soon as its payment is secured: stock
 * is reserved and the money authorised (or charged), so nothing left can refuse
 * the order; committing the stock and planning the shipments follow side by side,
 * after the checkout has its answer. Asks patched() (histories from before it
 * commit the stock first), so it is called once, right after chooseNotifications,
 * before any command.
 */
export function chooseConfirmAtPayment(input: PlaceOrderInput): boolean {
  return input.confirmAt !== 'stock-commit' && patched(Patches.confirmAtPayment);
}
