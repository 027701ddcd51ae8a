import type { OrderStatus } from './order-status';

/** A line of an order with the price snapshot taken at checkout. */
export interface OrderLine {
  productId: string;
  sku: string;
  name: string;
  quantity: number;
  /** minor units, in the order's currency */
  unitPriceAmount: number;
}

export interface ShippingAddress {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  postalCode: string;
  country: string;
}

/** Payment instrument as a token from the (simulated) provider; never a card number. */
export interface PaymentMethod {
  token: string;
}

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

/**
 * Default of returnShippingMs, in days (RETURN_SHIPPING_DAYS): 14 days to send the goods back
 * (the EU withdrawal rule) plus 7 for the slowest carrier's transit (domain/shipping.ts).
 */
export const DEFAULT_RETURN_SHIPPING_DAYS = 21;

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

export const orderTotal = (items: readonly OrderLine[]): number =>
  items.reduce((sum, l) => sum + l.unitPriceAmount * l.quantity, 0);
