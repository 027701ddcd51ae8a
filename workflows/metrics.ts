// Business counters the PlaceOrder workflow emits through the SDK's workflow
// metricMeter. They are exported on the orders worker's Prometheus endpoint
// (WORKER_METRICS_PORT) beside the Temporal SDK metrics, with the labels
// namespace, taskQueue and workflowType. The SDK drops metric calls while a
// workflow replays, so a worker that picks an order up from its history
// (cache eviction, a crashed worker) does not count it again.
// Workflow-safe: no imports.

export const OrderCounters = {
  /** a PlaceOrder saga began (first workflow task) */
  placed: 'orders_placed_total',
  /** stock reserved, payment charged, stock committed: CONFIRMED */
  confirmed: 'orders_confirmed_total',
  /** ended CANCELLED (customer or operator cancel, or fulfilment stopped after confirmation) */
  cancelled: 'orders_cancelled_total',
  /** ended FAILED (out of stock, declined, reservation expired, ...) */
  failed: 'orders_failed_total',
  /** a failed or cancelled order whose compensations (release, refund, cancel shipments) all completed */
  compensated: 'orders_compensated_total',
  /** the gateway declined the charge; label `reason` (card_declined, insufficient_funds, ...) */
  paymentDeclined: 'orders_payment_declined_total',
  /** the stock reservation expired before the payment succeeded */
  reservationExpired: 'orders_reservation_expired_total',
  /** compensations failed for good: the order waits in NEEDS_ATTENTION for an operator */
  needsAttention: 'orders_needs_attention_total',
} as const;

export const orderCounterHelp: Record<keyof typeof OrderCounters, string> = {
  placed: 'PlaceOrder sagas started',
  confirmed: 'orders confirmed (stock committed, payment charged)',
  cancelled: 'orders that ended CANCELLED',
  failed: 'orders that ended FAILED',
  compensated: 'failed or cancelled orders whose compensations all completed',
  paymentDeclined: 'charges declined by the payment gateway, by reason',
  reservationExpired: 'orders whose stock reservation expired before the payment succeeded',
  needsAttention: 'times an order entered NEEDS_ATTENTION (compensation failed for good)',
};
