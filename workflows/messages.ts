import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OrderState } from '../domain/order';

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
