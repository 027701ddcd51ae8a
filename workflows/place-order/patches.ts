/**
 * The patch ids of patched() calls: each marks a change made while orders were
 * running, and histories recorded before it replay the old path. They are in
 * every history since; never rename or reuse one.
 */
export const Patches = {
  /** the orders context's writes as local activities (before: activities on the orders task queue) */
  orderWritesLocal: 'order-writes-local-activities',
  /** the order row is stamped with the saga chain that placed it */
  orderPlacedByRun: 'order-placed-by-run',
  /** a cancel accepted in the activation the handling timer fires in still stops the hand-over */
  cancelAcceptedAtHandOver: 'cancel-accepted-at-hand-over',
  /** returns are refunded and restocked when the goods are received, not when asked for (before: at once) */
  refundOnReceipt: 'return-refund-on-receipt',
  /** authorise at checkout, capture per shipment, partial cancel, line returns (before: charge at checkout, whole-order cancel and return) */
  perShipmentPayments: 'per-shipment-payments',
  /** customers hear of a status change from the order event feed, not from the saga (before: sendNotification beside the order) */
  notificationsOnFeed: 'notifications-on-feed',
  /** the order is CONFIRMED (and the checkout answered) once the payment is secured; commitStock and planShipments then run side by side (before: commitStock first) */
  confirmAtPayment: 'confirm-at-payment',
} as const;
