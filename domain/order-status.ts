/**
 * The order lifecycle, defined once. The saga writes every status through the
 * orders activity, which refuses a move this table does not allow (ILLEGAL_TRANSITION).
 */
export const OrderStatuses = [
  'PENDING',
  'CONFIRMED',
  'PROCESSING',
  'SHIPPED',
  'DELIVERED',
  'DELIVERY_OVERDUE',
  'RETURNED',
  'CANCELLED',
  'FAILED',
  'NEEDS_ATTENTION',
  'RETURN_REQUESTED',
  // authorise-and-capture orders: some shipments handed over, others still in the warehouse; some lines returned
  'PARTIALLY_SHIPPED',
  'PARTIALLY_RETURNED',
] as const;
export type OrderStatus = (typeof OrderStatuses)[number];

// Orders that capture per shipment (PlaceOrderInput.payments = per-shipment, the default) move
// by what their shipments and returns are doing; any of those moves may stop in NEEDS_ATTENTION
// (a capture, a re-authorisation or a refund the gateway refused) and come back once repaired.
const afterShipping = ['DELIVERED', 'DELIVERY_OVERDUE', 'RETURN_REQUESTED', 'PARTIALLY_RETURNED', 'RETURNED', 'NEEDS_ATTENTION'] as const;
const transitions: Record<OrderStatus, readonly OrderStatus[]> = {
  PENDING: ['CONFIRMED', 'CANCELLED', 'FAILED', 'NEEDS_ATTENTION'],
  CONFIRMED: ['PROCESSING', 'CANCELLED', 'NEEDS_ATTENTION'],
  PROCESSING: ['PARTIALLY_SHIPPED', 'SHIPPED', 'CANCELLED', 'NEEDS_ATTENTION'],
  PARTIALLY_SHIPPED: ['SHIPPED', ...afterShipping],
  SHIPPED: afterShipping,
  DELIVERY_OVERDUE: afterShipping,
  // A return is refunded when the goods are back; runs started before that rule go straight to RETURNED.
  DELIVERED: ['RETURN_REQUESTED', 'RETURNED', 'PARTIALLY_RETURNED', 'NEEDS_ATTENTION'],
  // Goods never received within the return shipping time: the return lapses and the customer keeps them (and the charge stands).
  RETURN_REQUESTED: ['RETURNED', 'DELIVERED', 'PARTIALLY_RETURNED', 'NEEDS_ATTENTION'],
  PARTIALLY_RETURNED: ['RETURN_REQUESTED', 'RETURNED', 'NEEDS_ATTENTION'],
  RETURNED: [],
  CANCELLED: [],
  FAILED: [],
  // An operator may retry the compensations that could not finish, or repair a payment step and let the order go on.
  NEEDS_ATTENTION: ['CANCELLED', 'FAILED', 'PROCESSING', 'PARTIALLY_SHIPPED', 'SHIPPED', ...afterShipping.filter((s) => s !== 'NEEDS_ATTENTION')],
};

export const canTransition = (from: OrderStatus, to: OrderStatus): boolean =>
  from === to || transitions[from].includes(to);

/** Statuses from which nothing more happens: no transition leaves them. */
export const isTerminal = (s: OrderStatus): boolean => transitions[s].length === 0;

/** Before the carrier has every parcel, a customer may still cancel (what it does not have yet). */
export const isCancellable = (s: OrderStatus): boolean =>
  s === 'PENDING' || s === 'CONFIRMED' || s === 'PROCESSING' || s === 'PARTIALLY_SHIPPED';

/**
 * What is known of an order when a cancel arrives. The API knows only the
 * stored status; the saga also knows whether the parcels are being handed
 * over, whether it is already unwinding on a failure or on an earlier cancel.
 */
export interface CancelView {
  status: OrderStatus;
  /** past the point of no return: the hand-over to the carrier has begun */
  handingOver?: boolean;
  /** already unwinding because a step failed (failureCode says which) */
  failing?: boolean;
  failureCode?: string;
  /** already unwinding because an earlier cancel was accepted: another one changes nothing */
  cancelling?: boolean;
}

/**
 * The cancel rule, for the API and the workflow alike: why a cancel is
 * refused (ORDER_NOT_CANCELLABLE), or undefined when it is accepted.
 */
export function cancelRefusal(order: CancelView): string | undefined {
  if (order.handingOver) {
    return `order is ${order.status === 'PROCESSING' ? 'being handed to the carrier' : order.status}; it can no longer be cancelled`;
  }
  if (order.cancelling) return undefined;
  if (order.failing) return `order is already failing (${order.failureCode ?? 'unknown'})`;
  if (!isCancellable(order.status)) return `order is ${order.status}; it can no longer be cancelled`;
  return undefined;
}
