/**
 * The order lifecycle, defined once. Workflows, activities and the API all
 * check transitions against this table.
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
] as const;
export type OrderStatus = (typeof OrderStatuses)[number];

const transitions: Record<OrderStatus, readonly OrderStatus[]> = {
  PENDING: ['CONFIRMED', 'CANCELLED', 'FAILED', 'NEEDS_ATTENTION'],
  CONFIRMED: ['PROCESSING', 'CANCELLED', 'NEEDS_ATTENTION'],
  PROCESSING: ['SHIPPED', 'CANCELLED', 'NEEDS_ATTENTION'],
  SHIPPED: ['DELIVERED', 'DELIVERY_OVERDUE'],
  DELIVERY_OVERDUE: ['DELIVERED'],
  // A return is refunded when the goods are back; runs started before that rule go straight to RETURNED.
  DELIVERED: ['RETURN_REQUESTED', 'RETURNED'],
  // Goods never received within the return shipping time: the return lapses and the customer keeps them (and the charge stands).
  RETURN_REQUESTED: ['RETURNED', 'DELIVERED'],
  RETURNED: [],
  CANCELLED: [],
  FAILED: [],
  // An operator may retry the compensations that could not finish.
  NEEDS_ATTENTION: ['CANCELLED', 'FAILED'],
};

export const canTransition = (from: OrderStatus, to: OrderStatus): boolean =>
  from === to || transitions[from].includes(to);

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: OrderStatus,
    readonly to: OrderStatus,
  ) {
    super(`order cannot go from ${from} to ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}

/** Statuses from which nothing more happens on its own. */
export const isTerminal = (s: OrderStatus): boolean =>
  s === 'RETURNED' || s === 'CANCELLED' || s === 'FAILED' || s === 'DELIVERED';

/** Before the carrier has the parcel, a customer may still cancel. */
export const isCancellable = (s: OrderStatus): boolean =>
  s === 'PENDING' || s === 'CONFIRMED' || s === 'PROCESSING';
