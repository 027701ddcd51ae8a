// The order's life after CONFIRMED (issue 5) under the time-skipping test
// server: days of carrier transit, delivery grace and a 30-day return window
// pass in seconds. Same fakes and harness as place-order.test.ts; see its header
// for the Java test-server quirks. Each test drives the workflow to completion so
// no timer of it fires during a later test.
//
// Days are spent with env.sleep(); a wait for an activity-driven change (a
// signal being acted on) polls in real time with time locked (settleAt).
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../domain/errors';
import { FakeShop } from './support/fake-shop';
import { DAY, elapsed, HOUR, initialStock, MINUTE, MUG, standardOrder, TEE, US, useHarness, waitFor, type OrderHandle } from './support/harness';
import { PlaceOrderDefaults, daysToMs, awaitOutcomeUpdate, getStatusQuery, markDeliveredSignal, orderWorkflowId, requestReturnUpdate, returnReceivedSignal, type OrderState } from '../../temporal-config/place-order';

const h = useHarness();

const FULFILMENT_STEPS = ['ORDER_CREATED', 'STOCK_RESERVED', 'PAYMENT_CHARGED', 'STOCK_COMMITTED', 'ORDER_CONFIRMED', 'SHIPMENTS_PLANNED', 'HANDED_TO_CARRIER'];
/** notification retry policy of the workflow: 1 m, ×2, at most 30 m, 8 attempts → tries at 0, 1, 3, 7, 15, 31, 61, 91 min */
const NOTIFICATION_ATTEMPTS = 8;
const NOTIFICATION_RETRY_SPAN = (1 + 2 + 4 + 8 + 16 + 30 + 30) * MINUTE;

/** Checkout's part: the payment outcome, then the order as the carrier has it. */
async function confirmAndShip(handle: OrderHandle): Promise<OrderState> {
  const outcome = await handle.executeUpdate(awaitOutcomeUpdate);
  expect(outcome.status).toBe('CONFIRMED');
  return h.advanceToStatus(handle, 'SHIPPED');
}

const closedAt = async (handle: OrderHandle) => (await handle.describe()).closeTime!.getTime();

describe('order fulfilment after CONFIRMED', () => {
  it('a delivery the carrier confirms after three days: DELIVERED, with a 30-day return window; the workflow completes when it closes', async () => {
    const shop = new FakeShop({ stock: initialStock() });
    const handle = await h.startOrder(shop, standardOrder());
    const shipped = await confirmAndShip(handle);
    const [parcel] = shop.shipments;
    expect(shipped.shipments).toEqual([expect.objectContaining({ trackingNumber: parcel.trackingNumber, carrier: 'GlobalPost', estimatedDeliveryDays: 7, status: 'HANDED_TO_CARRIER' })]);

    await h.env.sleep(3 * DAY);
    expect((await handle.query(getStatusQuery)).status).toBe('SHIPPED'); // 3 days < 7 days estimate + 2 days grace
    await handle.signal(markDeliveredSignal, parcel.trackingNumber);
    const delivered = await h.settleAt(handle, 'DELIVERED');

    expect(elapsed(delivered, 'SHIPPED', 'DELIVERED')).toBeGreaterThanOrEqual(3 * DAY);
    expect(elapsed(delivered, 'SHIPPED', 'DELIVERED')).toBeLessThan(3 * DAY + HOUR);
    expect(delivered.shipments).toEqual([expect.objectContaining({ trackingNumber: parcel.trackingNumber, status: 'DELIVERED' })]);
    expect(Date.parse(delivered.returnDeadline!) - Date.parse(delivered.timestamps.DELIVERED!)).toBe(daysToMs(PlaceOrderDefaults.returnWindowDays));
    expect(parcel.status).toBe('DELIVERED');

    const { result, status } = await h.finish(handle, 'fulfilment-delivered-after-three-days');
    expect(result.status).toBe('DELIVERED');
    expect(status).toEqual(result);
    expect(result.completedSteps).toEqual([...FULFILMENT_STEPS, 'DELIVERED']);
    expect(await closedAt(handle)).toBeGreaterThanOrEqual(Date.parse(result.returnDeadline!));

    expect(shop.statuses()).toEqual(['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED']);
    expect(shop.timeline().filter((e) => e.type === 'SHIPMENT_DELIVERED').map((e) => e.detail)).toEqual([
      { trackingNumber: parcel.trackingNumber, carrier: 'GlobalPost' },
    ]);
    expect(shop.calls).toMatchObject({ recordDelivery: 1, markOverdue: 0, restockReturn: 0 });
    expect(shop.refunds).toEqual([]);
    expect(shop.notificationStatuses()).toEqual({ ORDER_CONFIRMED: 'SENT', ORDER_SHIPPED: 'SENT', ORDER_DELIVERED: 'SENT' });
  });

  it('a carrier that never confirms: DELIVERY_OVERDUE after estimate + grace; a late markDelivered still delivers it', async () => {
    const shop = new FakeShop({ stock: initialStock() });
    // domestic (SwiftShip, 2 days), grace 1 day: overdue 3 days after the hand-over
    const handle = await h.startOrder(shop, standardOrder({ shippingAddress: US, fulfilment: { deliveryGraceMs: DAY } }));
    const shipped = await confirmAndShip(handle);
    const [parcel] = shop.shipments;
    expect(parcel).toMatchObject({ carrier: 'SwiftShip', estimatedDeliveryDays: 2 });
    const shippedAt = Date.parse(shipped.timestamps.SHIPPED!);

    // up to an hour before the deadline nothing happens (advanceToStatus may have overshot SHIPPED by one 30 s step)
    await h.env.sleep(3 * DAY - HOUR);
    expect((await handle.query(getStatusQuery)).status).toBe('SHIPPED');
    await h.env.sleep(2 * HOUR);
    const overdue = await h.settleAt(handle, 'DELIVERY_OVERDUE');
    expect(Date.parse(overdue.timestamps.DELIVERY_OVERDUE!) - shippedAt).toBeGreaterThanOrEqual(3 * DAY);
    expect(Date.parse(overdue.timestamps.DELIVERY_OVERDUE!) - shippedAt).toBeLessThan(3 * DAY + MINUTE);
    expect(overdue.shipments?.map((s) => s.status)).toEqual(['OVERDUE']);
    expect(shop.overdueMarks).toEqual([[parcel.trackingNumber]]);
    expect(parcel.status).toBe('OVERDUE');

    // it keeps waiting for the carrier, however long: no second timer, no other status
    await h.env.sleep(10 * DAY);
    expect((await handle.query(getStatusQuery)).status).toBe('DELIVERY_OVERDUE');
    expect(shop.calls.markOverdue).toBe(1);

    await handle.signal(markDeliveredSignal); // no tracking number: every parcel of the order
    const delivered = await h.settleAt(handle, 'DELIVERED');
    expect(elapsed(delivered, 'DELIVERY_OVERDUE', 'DELIVERED')).toBeGreaterThanOrEqual(10 * DAY);
    const { result } = await h.finish(handle, 'fulfilment-delivery-overdue-then-delivered');

    expect(result.status).toBe('DELIVERED');
    expect(result.shipments?.map((s) => s.status)).toEqual(['DELIVERED']);
    expect(parcel.status).toBe('DELIVERED');
    expect(shop.statuses()).toEqual(['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERY_OVERDUE', 'DELIVERED']);
    expect(shop.timeline().find((e) => e.type === 'DELIVERY_OVERDUE')?.detail).toEqual({ trackingNumbers: [parcel.trackingNumber] });
    expect(shop.notificationStatuses()).toEqual({ ORDER_CONFIRMED: 'SENT', ORDER_SHIPPED: 'SENT', DELIVERY_OVERDUE: 'SENT', ORDER_DELIVERED: 'SENT' });
  });

  it('the default grace: overdue 2 days after the slowest estimate', async () => {
    const shop = new FakeShop({ stock: initialStock() });
    const handle = await h.startOrder(shop, standardOrder({ shippingAddress: US }));
    const shipped = await confirmAndShip(handle);
    await h.env.sleep(2 * DAY + daysToMs(PlaceOrderDefaults.deliveryGraceDays) + HOUR);
    const overdue = await h.settleAt(handle, 'DELIVERY_OVERDUE');
    expect(elapsed(overdue, 'SHIPPED', 'DELIVERY_OVERDUE')).toBeGreaterThanOrEqual(2 * DAY + daysToMs(PlaceOrderDefaults.deliveryGraceDays));
    expect(elapsed(overdue, 'SHIPPED', 'DELIVERY_OVERDUE')).toBeLessThan(2 * DAY + daysToMs(PlaceOrderDefaults.deliveryGraceDays) + MINUTE);
    expect(shipped.shipments?.[0]?.estimatedDeliveryDays).toBe(2);
    await handle.signal(markDeliveredSignal);
    const { result } = await h.finish(handle, 'fulfilment-delivery-overdue-default-grace');
    expect(result.status).toBe('DELIVERED');
    expect(shop.statuses()).toEqual(['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERY_OVERDUE', 'DELIVERED']);
  });

  it('a notification provider down for an hour blocks nothing: the order ships and is delivered on time, every message goes out once it is back', async () => {
    const downUntil = (await h.env.currentTimeMs()) + HOUR;
    const shop = new FakeShop({ stock: initialStock(), notificationsDownUntil: downUntil });
    const handle = await h.startOrder(shop, standardOrder());
    const shipped = await confirmAndShip(handle);

    // on time: a minute of handling after PROCESSING, while the provider is still down
    expect(elapsed(shipped, 'PROCESSING', 'SHIPPED')).toBeGreaterThanOrEqual(PlaceOrderDefaults.handlingMs);
    expect(elapsed(shipped, 'PROCESSING', 'SHIPPED')).toBeLessThan(PlaceOrderDefaults.handlingMs + MINUTE);
    expect(Date.parse(shipped.timestamps.SHIPPED!)).toBeLessThan(downUntil);
    expect(shop.notificationOf('ORDER_CONFIRMED')).toBeUndefined(); // not sent yet, still retrying
    expect(shop.attemptsOf('ORDER_CONFIRMED').every((a) => a.outcome === 'provider down')).toBe(true);

    await h.env.sleep(2 * DAY);
    await handle.signal(markDeliveredSignal);
    const delivered = await h.settleAt(handle, 'DELIVERED');
    expect(elapsed(delivered, 'SHIPPED', 'DELIVERED')).toBeGreaterThanOrEqual(2 * DAY);
    expect(elapsed(delivered, 'SHIPPED', 'DELIVERED')).toBeLessThan(2 * DAY + HOUR);
    const { result } = await h.finish(handle, 'fulfilment-notifications-down-for-an-hour');
    expect(result.status).toBe('DELIVERED');

    for (const kind of ['ORDER_CONFIRMED', 'ORDER_SHIPPED'] as const) {
      const attempts = shop.attemptsOf(kind);
      // failed while the provider was down, then sent on the first attempt after it came back
      expect(attempts.map((a) => a.outcome)).toEqual([...Array(attempts.length - 1).fill('provider down'), 'sent']);
      expect(attempts.map((a) => a.attempt)).toEqual(attempts.map((_, i) => i + 1));
      expect(attempts.length).toBeLessThanOrEqual(NOTIFICATION_ATTEMPTS);
      expect(attempts.slice(0, -1).every((a) => a.at < downUntil)).toBe(true);
      expect(attempts.at(-1)!.at).toBeGreaterThanOrEqual(downUntil);
      expect(shop.notificationOf(kind)).toMatchObject({ status: 'SENT', idempotencyKey: `${orderWorkflowId(result.orderId)}:${kind}` });
    }
    // 0, 1, 3, 7, 15, 31 min: down; 61 min: sent
    expect(shop.attemptsOf('ORDER_CONFIRMED')).toHaveLength(7);
    expect(shop.attemptsOf('ORDER_DELIVERED').map((a) => a.outcome)).toEqual(['sent']);
    expect(shop.notificationStatuses()).toEqual({ ORDER_CONFIRMED: 'SENT', ORDER_SHIPPED: 'SENT', ORDER_DELIVERED: 'SENT' });
    expect(shop.notificationFailures).toEqual([]);
    expect(shop.eventTypes()).not.toContain('NOTIFICATION_FAILED');
    expect(shop.timeline().filter((e) => e.type === 'NOTIFIED').map((e) => e.detail?.kind).sort()).toEqual(['ORDER_CONFIRMED', 'ORDER_DELIVERED', 'ORDER_SHIPPED']);
    expect(shop.statuses()).toEqual(['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED']);
  });

  it('a notification provider down for good: each message is recorded as failed after 8 attempts; the order completes regardless, its return window closing on time', async () => {
    const shop = new FakeShop({ stock: initialStock(), notificationsDownUntil: Infinity });
    // a 30-minute window, so it closes while the ORDER_DELIVERED message is still being retried
    const handle = await h.startOrder(shop, standardOrder({ fulfilment: { returnWindowMs: 30 * MINUTE } }));
    const shipped = await confirmAndShip(handle);
    expect(elapsed(shipped, 'PROCESSING', 'SHIPPED')).toBeLessThan(PlaceOrderDefaults.handlingMs + MINUTE);

    await h.env.sleep(2 * DAY);
    await handle.signal(markDeliveredSignal);
    const delivered = await h.settleAt(handle, 'DELIVERED');
    expect(elapsed(delivered, 'SHIPPED', 'DELIVERED')).toBeLessThan(2 * DAY + HOUR);

    // 31 minutes on: the window has closed but the workflow is still open (settling its
    // notifications), so the update reaches the validator, which refuses it
    await h.env.sleep(31 * MINUTE);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    const refused = await handle.executeUpdate(requestReturnUpdate, { args: ['too late'] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (refused as WorkflowUpdateFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause).toMatchObject({ type: ErrorCodes.RETURN_WINDOW_CLOSED, message: `the return window closed at ${delivered.returnDeadline}` });

    const { result } = await h.finish(handle, 'fulfilment-notifications-down-forever');
    expect(result.status).toBe('DELIVERED');
    // it waited for the last message's retries before completing
    expect((await closedAt(handle)) - Date.parse(result.timestamps.DELIVERED!)).toBeGreaterThanOrEqual(NOTIFICATION_RETRY_SPAN);

    const kinds = ['ORDER_CONFIRMED', 'ORDER_SHIPPED', 'ORDER_DELIVERED'] as const;
    for (const kind of kinds) {
      expect(shop.attemptsOf(kind).map((a) => a.outcome)).toEqual(Array(NOTIFICATION_ATTEMPTS).fill('provider down'));
      const attempts = shop.attemptsOf(kind);
      expect(attempts.at(-1)!.at - attempts[0].at).toBeGreaterThanOrEqual(NOTIFICATION_RETRY_SPAN);
      expect(attempts.at(-1)!.at - attempts[0].at).toBeLessThan(NOTIFICATION_RETRY_SPAN + MINUTE);
    }
    expect(shop.calls.sendNotification).toBe(3 * NOTIFICATION_ATTEMPTS);
    expect(shop.calls.recordNotificationFailure).toBe(3);
    expect(shop.notificationFailures.map((f) => [f.kind, f.error])).toEqual(kinds.map((k) => [k, 'notification provider unavailable (simulated)']));
    expect(shop.notificationStatuses()).toEqual({ ORDER_CONFIRMED: 'FAILED', ORDER_SHIPPED: 'FAILED', ORDER_DELIVERED: 'FAILED' });
    expect(shop.timeline().filter((e) => e.type === 'NOTIFICATION_FAILED').map((e) => e.detail?.kind)).toEqual([...kinds]);
    expect(shop.eventTypes()).not.toContain('NOTIFIED');
    expect(shop.statuses()).toEqual(['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED']);
    expect(shop.refunds).toEqual([]);
    expect(shop.calls.restockReturn).toBe(0);
  });

  it('a return on day 29 of the 30-day window: RETURN_REQUESTED with nothing refunded or restocked; received 5 days later: restocked, refunded once under its own key, RETURNED', async () => {
    const shop = new FakeShop({ stock: initialStock() });
    const input = standardOrder();
    const workflowId = orderWorkflowId(input.orderId);
    const handle = await h.startOrder(shop, input);
    await confirmAndShip(handle);

    // not delivered yet: nothing to return
    const early = await handle.executeUpdate(requestReturnUpdate, { args: ['changed my mind'] }).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((early as WorkflowUpdateFailedError).cause).toMatchObject({
      type: ErrorCodes.ORDER_NOT_RETURNABLE,
      message: 'order is SHIPPED; only a delivered order can be returned',
    });

    await h.env.sleep(DAY);
    await handle.signal(markDeliveredSignal);
    await h.settleAt(handle, 'DELIVERED');
    // goods "received" with no return asked for: ignored, and visible in the timeline
    await handle.signal(returnReceivedSignal, 'unexpected parcel');
    await h.env.sleep(29 * DAY);
    const requested = await handle.executeUpdate(requestReturnUpdate, { args: ['does not fit'] });
    // the update answers once the order is RETURN_REQUESTED in the orders context
    expect(requested.status).toBe('RETURN_REQUESTED');
    expect(shop.order?.status).toBe('RETURN_REQUESTED');
    expect(Date.parse(requested.returnRequest!.receiveBy) - Date.parse(requested.returnRequest!.requestedAt)).toBe(daysToMs(PlaceOrderDefaults.returnShippingDays));
    expect(requested.returnRequest).toMatchObject({ reason: 'does not fit' });
    // asked for, not received: no money back, no stock back
    expect(shop.refunds).toEqual([]);
    expect(shop.calls).toMatchObject({ restockReturn: 0, refundPayment: 0 });
    expect(shop.stockOf(MUG)).toEqual({ available: 3, reserved: 0, sold: 2, returned: 0 });
    const again = await handle.executeUpdate(requestReturnUpdate, { args: ['twice'] }).catch((e: unknown) => e);
    expect((again as WorkflowUpdateFailedError).cause).toMatchObject({ type: ErrorCodes.ORDER_NOT_RETURNABLE });

    // the parcel travels back for 5 days, still nothing refunded
    await h.env.sleep(5 * DAY);
    expect((await handle.query(getStatusQuery)).status).toBe('RETURN_REQUESTED');
    expect(shop.refunds).toEqual([]);
    await handle.signal(returnReceivedSignal, ' box dented, contents fine ');
    await handle.signal(returnReceivedSignal); // the warehouse scans it twice

    const { result, status } = await h.finish(handle, 'fulfilment-return-received');
    expect(result.status).toBe('RETURNED');
    expect(status).toEqual(result);
    expect(result.completedSteps).toEqual([...FULFILMENT_STEPS, 'DELIVERED', 'RETURNED']);
    expect(elapsed(result, 'RETURN_REQUESTED', 'RETURNED')).toBeGreaterThanOrEqual(5 * DAY);
    expect(elapsed(result, 'RETURN_REQUESTED', 'RETURNED')).toBeLessThan(5 * DAY + HOUR);
    expect(result.returnRequest).toMatchObject({ reason: 'does not fit', note: 'box dented, contents fine' });
    expect(elapsed(result, 'RETURN_REQUESTED', 'RETURNED') - (Date.parse(result.returnRequest!.receivedAt!) - Date.parse(result.timestamps.RETURN_REQUESTED!))).toBeLessThan(MINUTE);
    expect(result.returnRequest?.lapsedAt).toBeUndefined();
    expect((await closedAt(handle)) - Date.parse(result.timestamps.RETURNED!)).toBeLessThan(HOUR); // done once returned
    expect(result.compensations).toEqual([]); // a return is not a compensation

    expect(shop.charges).toHaveLength(1);
    expect(shop.refunds).toEqual([{ refundKey: `${workflowId}:return-refund`, chargeKey: `${workflowId}:charge`, amount: 4500, currency: 'EUR' }]);
    expect(shop.calls.restockReturn).toBe(1);
    expect(shop.reservation?.status).toBe('RETURNED');
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 2, returned: 2 });
    expect(shop.stockOf(TEE)).toEqual({ available: 3, reserved: 0, sold: 1, returned: 1 });

    expect(shop.statuses()).toEqual(['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'RETURN_REQUESTED', 'RETURNED']);
    expect(shop.timeline().find((e) => e.type === 'RETURN_REQUESTED')?.detail).toEqual({ reason: 'does not fit', receiveBy: result.returnRequest!.receiveBy });
    expect(shop.timeline().find((e) => e.type === 'RETURN_RECEIVED')?.detail).toEqual({ note: 'box dented, contents fine' });
    expect(shop.timeline().filter((e) => e.type === 'RETURN_RECEIPT_IGNORED').map((e) => e.detail)).toEqual([
      { note: 'unexpected parcel', reason: 'order is DELIVERED; no return awaits the goods' },
      { reason: 'already received' },
    ]);
    expect(shop.timeline().find((e) => e.type === 'RETURNED')?.detail).toEqual({ restocked: 3, refunded: 4500, currency: 'EUR' });
    expect(shop.notificationStatuses()).toEqual({ ORDER_CONFIRMED: 'SENT', ORDER_SHIPPED: 'SENT', ORDER_DELIVERED: 'SENT', ORDER_REFUNDED: 'SENT' });
  });

  it('a return whose goods never arrive lapses after the return shipping time: DELIVERED again, the charge stands, nothing restocked; the workflow completes', async () => {
    const shop = new FakeShop({ stock: initialStock() });
    const handle = await h.startOrder(shop, standardOrder());
    await confirmAndShip(handle);
    await handle.signal(markDeliveredSignal);
    const delivered = await h.settleAt(handle, 'DELIVERED');
    await h.env.sleep(2 * DAY);
    const requested = await handle.executeUpdate(requestReturnUpdate, { args: ['wrong colour'] });
    expect(requested.status).toBe('RETURN_REQUESTED');

    // an hour before the deadline it still waits for the goods
    await h.env.sleep(daysToMs(PlaceOrderDefaults.returnShippingDays) - HOUR);
    expect((await handle.query(getStatusQuery)).status).toBe('RETURN_REQUESTED');
    const { result, status } = await h.finish(handle, 'fulfilment-return-lapsed');
    expect(result.status).toBe('DELIVERED');
    expect(status).toEqual(result);
    const { requestedAt, receiveBy, lapsedAt } = result.returnRequest!;
    expect(Date.parse(receiveBy) - Date.parse(requestedAt)).toBe(daysToMs(PlaceOrderDefaults.returnShippingDays));
    expect(Date.parse(lapsedAt!)).toBeGreaterThanOrEqual(Date.parse(receiveBy));
    expect(Date.parse(lapsedAt!) - Date.parse(receiveBy)).toBeLessThan(MINUTE);
    expect(result.returnRequest?.receivedAt).toBeUndefined();
    expect(result.timestamps.DELIVERED).toBe(delivered.timestamps.DELIVERED); // delivered when it was
    expect(result.completedSteps).toEqual([...FULFILMENT_STEPS, 'DELIVERED']);
    expect((await closedAt(handle)) - Date.parse(lapsedAt!)).toBeLessThan(HOUR);

    // the workflow has closed: goods arriving now cannot refund anything
    expect(await handle.signal(returnReceivedSignal, 'too late').catch((e: unknown) => e)).toBeInstanceOf(WorkflowNotFoundError);
    expect(shop.refunds).toEqual([]);
    expect(shop.calls).toMatchObject({ restockReturn: 0, refundPayment: 0 });
    expect(shop.charges).toHaveLength(1);
    expect(shop.stockOf(MUG)).toEqual({ available: 3, reserved: 0, sold: 2, returned: 0 });
    expect(shop.statuses()).toEqual(['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'RETURN_REQUESTED', 'DELIVERED']);
    expect(shop.order?.status).toBe('DELIVERED');
    expect(shop.timeline().find((e) => e.type === 'RETURN_LAPSED')?.detail).toEqual({ reason: 'wrong colour', receiveBy });
    expect(shop.notificationStatuses()).toEqual({ ORDER_CONFIRMED: 'SENT', ORDER_SHIPPED: 'SENT', ORDER_DELIVERED: 'SENT' });
  });

  it('a return on day 31 is refused (RETURN_WINDOW_CLOSED at the API): the workflow completed at day 30 and the order stays DELIVERED', async () => {
    const shop = new FakeShop({ stock: initialStock() });
    const handle = await h.startOrder(shop, standardOrder());
    await confirmAndShip(handle);
    await handle.signal(markDeliveredSignal);
    const delivered = await h.settleAt(handle, 'DELIVERED');

    await h.env.sleep(31 * DAY);
    await waitFor(async () => (await handle.describe()).status.name === 'COMPLETED', 'the workflow to complete at the window’s end');
    const closed = await closedAt(handle);
    expect(closed).toBeGreaterThanOrEqual(Date.parse(delivered.returnDeadline!));
    expect(closed - Date.parse(delivered.returnDeadline!)).toBeLessThan(HOUR);

    // The workflow has closed, so the update cannot reach its validator: the client
    // gets WorkflowNotFoundError, which api/fulfilment.ts answers with 409
    // RETURN_WINDOW_CLOSED. (The validator's own refusal, while the workflow is still
    // open past its window, is in the "down for good" test above.)
    const refused = await handle.executeUpdate(requestReturnUpdate, { args: ['too late'] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowNotFoundError);

    const { result, status } = await h.finish(handle, 'fulfilment-return-on-day-31');
    expect(result.status).toBe('DELIVERED');
    expect(status).toEqual(result);
    expect(result.completedSteps.at(-1)).toBe('DELIVERED');
    expect(shop.refunds).toEqual([]);
    expect(shop.calls.restockReturn).toBe(0);
    expect(shop.stockOf(MUG)).toEqual({ available: 3, reserved: 0, sold: 2, returned: 0 });
    expect(shop.statuses()).toEqual(['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED']);
    expect(shop.order?.status).toBe('DELIVERED');
  });

  it('split shipments: two warehouses, two parcels; DELIVERED only once both are, the slowest estimate sets the overdue deadline', async () => {
    const shop = new FakeShop({
      stock: initialStock(),
      products: {
        [MUG]: { warehouse: 'WH-BERLIN', weightGrams: 3_000 }, // 2 × 3 kg: freight, 5 days
        [TEE]: { warehouse: 'WH-HAMBURG', weightGrams: 200 }, // domestic parcel, 2 days
      },
    });
    const handle = await h.startOrder(shop, standardOrder({ shippingAddress: US }));
    const shipped = await confirmAndShip(handle);
    const [freight, parcel] = shop.shipments;
    expect(shop.shipments.map((s) => [s.warehouse, s.carrier, s.estimatedDeliveryDays, s.items])).toEqual([
      ['WH-BERLIN', 'FreightCo', 5, [{ productId: MUG, quantity: 2 }]],
      ['WH-HAMBURG', 'SwiftShip', 2, [{ productId: TEE, quantity: 1 }]],
    ]);
    expect(shipped.shipments?.map((s) => [s.trackingNumber, s.status])).toEqual([
      [freight.trackingNumber, 'HANDED_TO_CARRIER'],
      [parcel.trackingNumber, 'HANDED_TO_CARRIER'],
    ]);

    // the small parcel arrives first (and the carrier repeats itself): still SHIPPED
    await h.env.sleep(2 * DAY);
    await handle.signal(markDeliveredSignal, parcel.trackingNumber);
    await handle.signal(markDeliveredSignal, parcel.trackingNumber);
    await waitFor(async () => (await handle.query(getStatusQuery)).shipments?.some((s) => s.status === 'DELIVERED') ?? false, 'one parcel to show DELIVERED');
    const half = await handle.query(getStatusQuery);
    expect(half.status).toBe('SHIPPED');
    expect(half.shipments?.map((s) => [s.trackingNumber, s.status])).toEqual([
      [freight.trackingNumber, 'HANDED_TO_CARRIER'],
      [parcel.trackingNumber, 'DELIVERED'],
    ]);

    // day 6: past the small parcel's 2 + 2 days, not the freight's 5 + 2: not overdue
    await h.env.sleep(4 * DAY);
    expect((await handle.query(getStatusQuery)).status).toBe('SHIPPED');
    expect(shop.calls.markOverdue).toBe(0);

    await handle.signal(markDeliveredSignal, freight.trackingNumber);
    const delivered = await h.settleAt(handle, 'DELIVERED');
    expect(elapsed(delivered, 'SHIPPED', 'DELIVERED')).toBeGreaterThanOrEqual(6 * DAY);
    const { result } = await h.finish(handle, 'fulfilment-split-shipments');

    expect(result.status).toBe('DELIVERED');
    expect(result.shipments?.map((s) => s.status)).toEqual(['DELIVERED', 'DELIVERED']);
    expect(shop.shipments.map((s) => s.status)).toEqual(['DELIVERED', 'DELIVERED']);
    expect(shop.calls.recordDelivery).toBe(2); // the repeat was ignored, not recorded twice
    expect(shop.timeline().filter((e) => e.type === 'SHIPMENT_DELIVERED').map((e) => e.detail?.trackingNumber)).toEqual([parcel.trackingNumber, freight.trackingNumber]);
    expect(shop.timeline().filter((e) => e.type === 'DELIVERY_IGNORED').map((e) => e.detail)).toEqual([
      { trackingNumber: parcel.trackingNumber, reason: 'unknown or already delivered' },
    ]);
    expect(shop.statuses()).toEqual(['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED']);
  });
});
