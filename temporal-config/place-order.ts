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
  /** the authorisation guard re-authorises what is still uncaptured this long before the authorisation expires */
  authorisationRenewBeforeMs: 60 * 60_000,
} as const;
export const daysToMs = (days: number): number => days * DAY_MS;

// ---- idempotency keys: derived from the workflow id, so any retry reuses them ----
export const chargeKey = (workflowId: string): string => `${workflowId}:charge`;
export const refundKey = (workflowId: string): string => `${workflowId}:refund`;
export const returnRefundKey = (workflowId: string): string => `${workflowId}:return-refund`;
export const notificationKey = (workflowId: string, kind: NotificationKind): string => `${workflowId}:${kind}`;
/** the n-th authorisation of an order (0 = at checkout, then one per renewal) */
export const authorisationKey = (workflowId: string, n: number): string => (n === 0 ? `${workflowId}:authorise` : `${workflowId}:authorise:${n}`);
/** a shipment's capture; attempt > 1 after an operator retried a refused one */
export const captureKey = (workflowId: string, trackingNumber: string, attempt: number): string => `${workflowId}:capture:${trackingNumber}:${attempt}`;
/** a void of (part of) an authorisation: what = a tracking number, `auth-<n>` (renewed) or `rest` (compensation) */
export const voidKey = (workflowId: string, what: string): string => `${workflowId}:void:${what}`;
/** a return's refund of one capture (one shipment's lines); attempt > 1 after an operator retried a refused one */
export const returnLineRefundKey = (workflowId: string, returnId: string, trackingNumber: string, attempt: number): string =>
  `${workflowId}:refund:${returnId}:${trackingNumber}:${attempt}`;
/**
 * The n-th return of an order (1, 2, …) and the tracking number of its parcel coming back: made from
 * the order's id, not drawn at random, because the tracing interceptors draw their span ids from the
 * workflow's seeded random stream and a traced worker's uuid4() would differ from an untraced one's.
 */
export const returnIdFor = (orderId: string, n: number): string => `${orderId}-R${n}`;
export const returnTrackingNumber = (orderId: string, n: number): string => `RT${orderId.replace(/-/g, '').slice(0, 16).toUpperCase()}${n}`;

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
  /** how the order takes its money (default per-shipment) */
  payments?: PaymentFlow;
  /**
   * How the customer hears of the order's status changes. Absent (the default): from the
   * order event feed, whose notifications dispatcher sends every STATUS_CHANGED event whose
   * detail names a kind (`{ notify: 'ORDER_CONFIRMED' }`); the saga runs no notification
   * activity. activities = the saga sends them itself with sendNotification beside the order
   * (as every run started before the feed did; for runs that must keep that path, e.g. its tests).
   */
  notifications?: 'activities';
  /**
   * When the order is CONFIRMED (and the checkout answered). Absent (the default): as soon as
   * the payment is secured; committing the stock and planning the shipments follow side by side.
   * stock-commit = after the stock is committed, as every run started before did (the benchmark's
   * "before" variant, and tests that keep that path).
   */
  confirmAt?: 'stock-commit';
}

/** What one gateway operation covers, per order line: amounts summing to the operation's amount. */
export interface LineAmount {
  productId: string;
  amount: number;
}
export interface ReturnLine {
  productId: string;
  quantity: number;
}
/** The warehouse's verdict on one returned line: back on the shelf, written off (still refunded), or rejected (not refunded, with a reason). */
export type InspectionOutcome = 'RESTOCK' | 'WRITE_OFF' | 'REJECT';
export interface InspectedLine extends ReturnLine {
  outcome: InspectionOutcome;
  /** required for REJECT */
  reason?: string;
}
export type ReturnStatus = 'REQUESTED' | 'RECEIVED' | 'INSPECTED' | 'REFUNDED' | 'REJECTED' | 'LAPSED';

/** One return of some delivered lines (per-shipment orders; several per order). */
export interface ReturnState {
  returnId: string;
  status: ReturnStatus;
  reason: string;
  /** the parcel's tracking number on its way back */
  trackingNumber: string;
  lines: (ReturnLine & { outcome?: InspectionOutcome; rejectReason?: string; refundAmount?: number })[];
  requestedAt: string;
  /** the goods must reach the warehouse by then, or the return lapses */
  receiveBy: string;
  refundAmount: number;
  /** why it waits for an operator (a refund the gateway refused) */
  attention?: string;
  timeline: { type: string; occurredAt: string; detail?: Record<string, unknown> }[];
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
  | 'PAYMENT_AUTHORISED'
  | 'STOCK_COMMITTED'
  | 'ORDER_CONFIRMED'
  | 'SHIPMENTS_PLANNED'
  | 'HANDED_TO_CARRIER'
  | 'DELIVERED'
  | 'RETURNED';
export type Compensation = 'releaseStock' | 'refundPayment' | 'cancelShipments' | 'voidPayment';

export interface ShipmentState {
  trackingNumber: string;
  carrier: string;
  warehouse: string;
  estimatedDeliveryDays: number;
  status: 'CREATED' | 'CANCELLED' | 'HANDED_TO_CARRIER' | 'OVERDUE' | 'DELIVERED';
  /** per-shipment orders: its lines and its share of the order's amount (captured when it is handed over) */
  items?: ReturnLine[];
  amount?: number;
  /** ISO time it is due to leave the warehouse */
  handOverAt?: string;
  /** why it is held (a capture the gateway refused): an operator retries (retryPayment) or cancels it */
  held?: string;
  /** ISO time until which its lines may be returned (from its delivery) */
  returnDeadline?: string;
  /** the idempotency key of the capture that took its amount (refunds of its lines draw on it) */
  captureKey?: string;
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
  /** per-shipment orders: how the payment is secured, and the returns of some lines */
  payment?: PaymentState;
  returns?: ReturnState[];
  /** per-shipment orders: why the order waits for an operator (NEEDS_ATTENTION) while it is not unwinding */
  attention?: { reason: string; code: string; since: string };
}

export interface PaymentState {
  /** the idempotency key of the authorisation now in force */
  authorisationKey: string;
  /** how many authorisations this order has had (1 + renewals) */
  authorisations: number;
  authorisedAmount: number;
  capturedAmount: number;
  voidedAmount: number;
  refundedAmount: number;
  /** ISO expiry of the authorisation in force */
  expiresAt: string;
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
export const returnReceivedSignal = defineSignal<[receipt?: string | ReturnReceipt]>('returnReceived');

/** What the warehouse (or the carrier) says when a return's parcel arrives; returnId may be left out while only one return awaits its goods. */
export interface ReturnReceipt {
  returnId?: string;
  note?: string;
  /** the inspection, when the warehouse did it on receipt; without one the return waits RECEIVED for inspectReturn */
  inspection?: InspectedLine[];
}

// ---- per-shipment orders (authorise at checkout, capture per shipment) ----
/**
 * How an order takes its money. per-shipment (the default): authorise at
 * checkout, capture each shipment's share as it is handed to the carrier, void
 * what is cancelled, refund returned lines once received. charge-at-checkout:
 * the whole amount charged at checkout, cancelled and returned only as a whole
 * (every run started before per-shipment payments, and any started with it).
 */
export type PaymentFlow = 'per-shipment' | 'charge-at-checkout';

/**
 * Update: cancel some shipments not yet handed to the carrier (no tracking
 * numbers = every one left). Their stock is released and their amount voided;
 * shipments the carrier has are unaffected. Refused when none of them can still
 * be cancelled. Before any shipment is handed over, cancelling all of them
 * cancels the whole order.
 */
export const cancelShipmentsUpdate = defineUpdate<OrderState, [request: { trackingNumbers?: string[]; reason?: string }]>('cancelShipments');
/**
 * Signal: the same from the CLI, fire-and-forget:
 *   temporal workflow signal --workflow-id order-<id> --name cancelShipment --input '"SS0123ABCD"'
 */
export const cancelShipmentSignal = defineSignal<[trackingNumber: string, reason?: string]>('cancelShipment');

/**
 * Signal: an operator retries the payment step an order waits on in
 * NEEDS_ATTENTION (a refused capture, a declined re-authorisation, a refused refund).
 *   temporal workflow signal --workflow-id order-<id> --name retryPayment
 */
export const retryPaymentSignal = defineSignal('retryPayment');

/**
 * Update: return some delivered lines (quantity ≤ delivered − already returned),
 * each within its shipment's return window. Answers the new return, REQUESTED.
 */
export const requestLineReturnUpdate = defineUpdate<ReturnState, [request: { lines: ReturnLine[]; reason: string }]>('requestLineReturn');

/** Update: the warehouse's inspection of a received return, line by line; then the refund. */
export const inspectReturnUpdate = defineUpdate<ReturnState, [request: { returnId: string; lines: InspectedLine[] }]>('inspectReturn');
