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
}

export type SagaStep = 'ORDER_CREATED' | 'STOCK_RESERVED' | 'PAYMENT_CHARGED' | 'STOCK_COMMITTED' | 'ORDER_CONFIRMED';
export type Compensation = 'releaseStock' | 'refundPayment' | 'closeOrder';

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
}

export const orderTotal = (items: readonly OrderLine[]): number =>
  items.reduce((sum, l) => sum + l.unitPriceAmount * l.quantity, 0);
