/**
 * The PlaceOrder contract: everything the API, the workers, the activities and
 * the workflow must agree on about one order's saga — task queues, the
 * workflow id, search attributes, messages, input and state, idempotency keys
 * and default timings. Stated here once; everything else imports it.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OrderLine, PaymentMethod, ShippingAddress } from '../domain/order';
import type { OrderStatus } from '../domain/order-status';
import type { NotificationKind } from '../domain/shipping';

// ---- task queues ----
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

// ---- workflow id ----
/** Workflow id = business key: one order can only ever have one saga. */
export const orderWorkflowId = (orderId: string): string => `order-${orderId}`;

export const orderIdFromWorkflowId = (workflowId: string): string | undefined =>
  workflowId.startsWith('order-') ? workflowId.slice('order-'.length) : undefined;

// ---- search attributes ----
/** Custom search attributes the Web UI and `temporal workflow list` filter on. */
export const OrderStatusKey = defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD);
export const CustomerIdKey = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);

/** name=Type pairs, as `temporal server start-dev --search-attribute` takes them. */
export const searchAttributeDefinitions: ReadonlyArray<readonly [string, 'Keyword']> = [
  [OrderStatusKey.name, 'Keyword'],
  [CustomerIdKey.name, 'Keyword'],
];

export const searchAttributeKeys = [OrderStatusKey, CustomerIdKey];

// ---- default timings (the config schema's defaults; the workflow's when its input has none) ----
const DAY_MS = 24 * 60 * 60_000;
export const PlaceOrderDefaults = {
  /** how long stock stays held while payment is pending */
  reservationTtlMs: 15 * 60_000,
  /** warehouse time between CONFIRMED and hand-over to the carrier (still cancellable) */
  handlingMs: 60_000,
  /** after the carrier's estimate, how long until a missing delivery is DELIVERY_OVERDUE */
  deliveryGraceDays: 2,
  /** how long after delivery a return is accepted */
  returnWindowDays: 30,
  /** 14 days to send the goods back (the EU withdrawal rule) plus 7 for the slowest carrier's transit (domain/shipping.ts) */
  returnShippingDays: 21,
} as const;
export const daysToMs = (days: number): number => days * DAY_MS;

// ---- idempotency keys: derived from the workflow id, so any retry reuses them ----
export const chargeKey = (workflowId: string): string => `${workflowId}:charge`;
export const refundKey = (workflowId: string): string => `${workflowId}:refund`;
export const returnRefundKey = (workflowId: string): string => `${workflowId}:return-refund`;
export const notificationKey = (workflowId: string, kind: NotificationKind): string => `${workflowId}:${kind}`;

// ---- input and state ----
export interface PlaceOrderInput {
  orderId: string;
  customerId: string;
  currency: string;
  items: OrderLine[];
  /** minor units; equals the sum of the lines */
  totalAmount: number;
  shippingAddress: ShippingAddress;
  paymentMethod: PaymentMethod;
  /** how long stock stays held while payment is pending (ms) */
  reservationTtlMs?: number;
  fulfilment?: FulfilmentTimings;
  /**
   * How the saga runs the orders context's own writes (createOrder, recordOrderStatus):
   * local = as local activities in the worker that runs the workflow (the default; fewer
   * state transitions per order), task-queue = as activities on the orders task queue.
   */
  orderWrites?: OrderWrites;
  /** hash of the POST /api/v1/orders body that placed it, kept on the order: the same orderId with another body is refused */
  requestHash?: string;
}

export type OrderWrites = 'local' | 'task-queue';

export interface FulfilmentTimings {
  /** warehouse time between CONFIRMED and hand-over to the carrier (ms) */
  handlingMs?: number;
  /** after the carrier's estimate, how long until a missing delivery is DELIVERY_OVERDUE (ms) */
  deliveryGraceMs?: number;
  /** how long after delivery a return is accepted (ms) */
  returnWindowMs?: number;
  /** how long after a return request the goods may take to reach the warehouse before the return lapses (ms) */
  returnShippingMs?: number;
}

export type SagaStep =
  | 'ORDER_CREATED'
  | 'STOCK_RESERVED'
  | 'PAYMENT_CHARGED'
  | 'STOCK_COMMITTED'
  | 'ORDER_CONFIRMED'
  | 'SHIPMENTS_PLANNED'
  | 'HANDED_TO_CARRIER'
  | 'DELIVERED'
  | 'RETURNED';
export type Compensation = 'releaseStock' | 'refundPayment' | 'cancelShipments';

export interface ShipmentState {
  trackingNumber: string;
  carrier: string;
  warehouse: string;
  estimatedDeliveryDays: number;
  status: 'CREATED' | 'CANCELLED' | 'HANDED_TO_CARRIER' | 'OVERDUE' | 'DELIVERED';
}

export interface TimelineEvent {
  /** unique per order; a retried write of the same key is a no-op */
  key: string;
  type: string;
  status?: OrderStatus;
  detail?: Record<string, unknown>;
  /** ISO time from the workflow clock */
  occurredAt: string;
}

/** What the getStatus query answers. */
export interface OrderState {
  orderId: string;
  status: OrderStatus;
  completedSteps: SagaStep[];
  compensations: { name: Compensation; outcome: 'done' | 'failed'; error?: string }[];
  failure?: { code: string; message: string; details?: Record<string, unknown> };
  cancellation?: { requested: boolean; reason?: string; refused?: string };
  timestamps: Partial<Record<OrderStatus | 'placed', string>>;
  shipments?: ShipmentState[];
  /** ISO time until which a delivered order may be returned */
  returnDeadline?: string;
  /** the return asked for, while and after the goods travel back (runs that refunded on request have none) */
  returnRequest?: ReturnRequestState;
}

export interface ReturnRequestState {
  reason: string;
  requestedAt: string;
  /** ISO time until which the warehouse may record the goods as received; then the return lapses */
  receiveBy: string;
  /** when the warehouse recorded the goods as received (then refunded and restocked) */
  receivedAt?: string;
  /** the warehouse's note on receipt */
  note?: string;
  /** when the return lapsed, nothing received: the order is DELIVERED again, the charge stands */
  lapsedAt?: string;
}

// ---- messages ----
/** Query: the saga's live state (status, steps done, compensations run, failure). */
export const getStatusQuery = defineQuery<OrderState>('getStatus');

/**
 * Signal: ask to cancel, fire-and-forget, e.g. from the CLI:
 *   temporal workflow signal --workflow-id order-<id> --name cancelOrder --input '"reason"'
 * A refused cancel is recorded in getStatus().cancellation.refused.
 */
export const cancelOrderSignal = defineSignal<[reason?: string]>('cancelOrder');

/**
 * Update: the same cancel, but the caller learns synchronously whether it was
 * accepted (the validator rejects it after the point of no return).
 */
export const requestCancelUpdate = defineUpdate<OrderState, [reason: string]>('requestCancel');

/** Signal: an operator retries compensations of an order in NEEDS_ATTENTION. */
export const retryCompensationsSignal = defineSignal('retryCompensations');

/**
 * Update: answers once the payment outcome is known (confirmed, or failed /
 * cancelled). The API sends it with update-with-start, so checkout is one call
 * that returns before fulfilment begins.
 */
export const awaitOutcomeUpdate = defineUpdate<OrderState>('awaitOutcome');

/**
 * Signal: the carrier delivered a parcel (by tracking number; no argument =
 * every parcel of the order). Sent by POST /api/v1/webhooks/carrier or:
 *   temporal workflow signal --workflow-id order-<id> --name markDelivered --input '"SS0123ABCD"'
 */
export const markDeliveredSignal = defineSignal<[trackingNumber?: string]>('markDelivered');

/**
 * Update: the customer asks to send a delivered order back; refused outside the
 * return window. Answers once the order is RETURN_REQUESTED: nothing is refunded
 * or restocked until the goods are received (returnReceived). (Runs that took
 * the request before that rule answer at once with DELIVERED and refund at once.)
 */
export const requestReturnUpdate = defineUpdate<OrderState, [reason: string]>('requestReturn');

/**
 * Signal: the warehouse has the returned goods (optional note). The order is
 * restocked and refunded, then RETURNED. Sent by
 * POST /api/v1/admin/orders/{id}/return-received or:
 *   temporal workflow signal --workflow-id order-<id> --name returnReceived --input '"box dented, contents fine"'
 * Only an order in RETURN_REQUESTED acts on it; otherwise the timeline records
 * RETURN_RECEIPT_IGNORED. Not received within the return shipping time
 * (RETURN_SHIPPING_DAYS), the return lapses: RETURN_LAPSED, back to DELIVERED.
 */
export const returnReceivedSignal = defineSignal<[note?: string]>('returnReceived');
