// PlaceOrder saga under Temporal's time-skipping test server, with typed fake
// activities that keep state (stock levels, a payments ledger, the order record,
// shipments, a notifications log; tests/workflows/support/fake-shop.ts) so each
// test asserts what a customer or an operator would check. The fulfilment half
// of the order's life (delivery, overdue, returns, notification outages, split
// shipments) is in fulfilment.test.ts.
//
// Java test-server quirks these tests live with:
// - time skips only while the test awaits result() or env.sleep(), and never
//   while an activity is running: a held activity freezes the clock;
// - a workflow that closes while a cancelled activity of it still runs stops
//   time skipping for every later test (see FakeShop.endAbandonedSteps);
// - an update or signal to a closed workflow fails with WorkflowNotFoundError
//   ("update <id> not found"; a real server says "workflow execution already completed").
//
// RECORD_HISTORIES=1 npx vitest run tests/workflows/place-order.test.ts tests/workflows/fulfilment.test.ts
// rewrites tests/workflows/histories/*.json, which replay.test.ts replays.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createSagaClient } from '../../api/orders/saga-client';
import { ErrorCodes } from '../../domain/errors';
import { TestTokens } from '../../domain/payment';
import { DEFAULT_WAREHOUSE, FakeShop } from './support/fake-shop';
import { elapsed, HOUR, initialStock, MINUTE, MUG, onTheFeed, orderFor, standardOrder, TEE, useHarness, waitFor, type OrderHandle } from './support/harness';
import { PlaceOrderDefaults, daysToMs, awaitOutcomeUpdate, cancelOrderSignal, getStatusQuery, markDeliveredSignal, orderWorkflowId, requestCancelUpdate, retryCompensationsSignal } from '../../temporal-config/place-order';

const h = useHarness();

const CONFIRMED_STEPS = ['ORDER_CREATED', 'STOCK_RESERVED', 'PAYMENT_CHARGED', 'STOCK_COMMITTED', 'ORDER_CONFIRMED'];
// runs as the API starts them today (onTheFeed): confirmed once the payment is secured; the stock is committed after
const CONFIRMED_AT_PAYMENT = ['ORDER_CREATED', 'STOCK_RESERVED', 'PAYMENT_CHARGED', 'ORDER_CONFIRMED'];
const AFTER_CONFIRMATION = ['STOCK_COMMITTED', 'SHIPMENTS_PLANNED'];

describe('placeOrder saga', () => {
  it('a. happy path: CONFIRMED (charged once, stock sold), then PROCESSING → SHIPPED → DELIVERED; completes when the return window closes', async () => {
    const shop = new FakeShop({ stock: initialStock() });
    const input = standardOrder();
    const workflowId = orderWorkflowId(input.orderId);
    const handle = await h.startOrder(shop, input);

    // what checkout waits for: the payment outcome
    const outcome = await handle.executeUpdate(awaitOutcomeUpdate);
    expect(outcome).toMatchObject({ status: 'CONFIRMED', completedSteps: CONFIRMED_STEPS, compensations: [] });
    expect(outcome.failure).toBeUndefined();
    expect(outcome.cancellation).toBeUndefined();
    expect(shop.charges).toEqual([expect.objectContaining({ amount: 4500, currency: 'EUR', idempotencyKey: `${workflowId}:charge` })]);
    expect(shop.stockOf(MUG)).toEqual({ available: 3, reserved: 0, sold: 2, returned: 0 });
    expect(shop.stockOf(TEE)).toEqual({ available: 2, reserved: 0, sold: 1, returned: 0 });
    expect(shop.statusWrites[0]?.events.map((e) => e.type)).toEqual([...CONFIRMED_STEPS, 'STATUS_CHANGED']);

    // the warehouse handles it (60 s by default), then the carrier has it
    const shipped = await h.advanceToStatus(handle, 'SHIPPED');
    expect(elapsed(shipped, 'PROCESSING', 'SHIPPED')).toBeGreaterThanOrEqual(PlaceOrderDefaults.handlingMs);
    const [parcel] = shop.shipments;
    expect(shop.shipments).toHaveLength(1);
    expect(shipped.shipments).toEqual([
      { trackingNumber: parcel.trackingNumber, carrier: 'GlobalPost', warehouse: DEFAULT_WAREHOUSE, estimatedDeliveryDays: 7, status: 'HANDED_TO_CARRIER' },
    ]);
    expect(parcel).toMatchObject({ status: 'HANDED_TO_CARRIER', items: [{ productId: MUG, quantity: 2 }, { productId: TEE, quantity: 1 }] });

    await handle.signal(markDeliveredSignal, parcel.trackingNumber);
    const { result, status } = await h.finish(handle, 'a-happy-path');

    expect(result.status).toBe('DELIVERED');
    expect(status).toEqual(result);
    expect(result.completedSteps).toEqual([...CONFIRMED_STEPS, 'SHIPMENTS_PLANNED', 'HANDED_TO_CARRIER', 'DELIVERED']);
    expect(result.compensations).toEqual([]);
    expect(result.failure).toBeUndefined();
    expect(result.cancellation).toBeUndefined();
    expect(result.shipments?.map((s) => s.status)).toEqual(['DELIVERED']);
    expect(Object.keys(result.timestamps)).toEqual(['placed', 'CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED']);
    expect(Date.parse(result.returnDeadline!) - Date.parse(result.timestamps.DELIVERED!)).toBe(daysToMs(PlaceOrderDefaults.returnWindowDays));
    // the workflow lives until the return window has closed, then completes
    const { closeTime } = await handle.describe();
    expect(closeTime!.getTime()).toBeGreaterThanOrEqual(Date.parse(result.returnDeadline!));

    expect(shop.charges).toHaveLength(1);
    expect(shop.refunds).toEqual([]);
    expect(shop.stockOf(MUG)).toEqual({ available: 3, reserved: 0, sold: 2, returned: 0 });
    expect(shop.shipments.map((s) => s.status)).toEqual(['DELIVERED']);
    expect(shop.calls).toMatchObject({ createOrder: 1, planShipments: 1, handToCarrier: 1, recordDelivery: 1, markOverdue: 0, cancelShipments: 0 });

    expect(shop.statuses()).toEqual(['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED']);
    expect(shop.order?.status).toBe('DELIVERED');
    expect(shop.notificationStatuses()).toEqual({ ORDER_CONFIRMED: 'SENT', ORDER_SHIPPED: 'SENT', ORDER_DELIVERED: 'SENT' });
    const types = shop.eventTypes();
    expect(types.filter((t) => t !== 'NOTIFIED' && t !== 'STATUS_CHANGED')).toEqual([
      ...CONFIRMED_STEPS,
      'SHIPMENTS_PLANNED',
      'HANDED_TO_CARRIER',
      'SHIPMENT_DELIVERED',
      'DELIVERED',
    ]);
    expect(shop.timeline().filter((e) => e.type === 'NOTIFIED').map((e) => e.detail?.kind)).toEqual(['ORDER_CONFIRMED', 'ORDER_SHIPPED', 'ORDER_DELIVERED']);
    // every timeline key is unique (the orders context dedupes retried writes by key)
    expect(new Set(shop.timeline().map((e) => e.key)).size).toBe(shop.timeline().length);
  });

  it('b. out of stock: fails with INVENTORY_UNAVAILABLE and its details, never charges, never ships', async () => {
    const shop = new FakeShop({ stock: { [MUG]: 1 } });
    const input = orderFor([{ productId: MUG, quantity: 3, unitPriceAmount: 1250 }]);
    const { result, status } = await h.finish(await h.startOrder(shop, input), 'b-out-of-stock');

    expect(result.status).toBe('FAILED');
    expect(status).toEqual(result);
    expect(result.failure).toEqual({
      code: ErrorCodes.INVENTORY_UNAVAILABLE,
      message: 'not enough stock for prod-mug: requested 3, available 1',
      details: { productId: MUG, requested: 3, available: 1 },
    });
    expect(result.completedSteps).toEqual(['ORDER_CREATED']);
    expect(result.compensations).toEqual([{ name: 'releaseStock', outcome: 'done' }]);
    expect(result.shipments).toBeUndefined();

    expect(shop.calls.reserveStock).toBe(1); // non-retryable: asked once
    expect(shop.calls.chargePayment).toBe(0);
    expect(shop.calls.planShipments).toBe(0);
    expect(shop.charges).toEqual([]);
    expect(shop.stockOf(MUG)).toEqual({ available: 1, reserved: 0, sold: 0, returned: 0 });

    expect(shop.statuses()).toEqual(['FAILED']);
    expect(shop.statusWrites[0]?.failure?.code).toBe(ErrorCodes.INVENTORY_UNAVAILABLE);
    expect(shop.order).toMatchObject({ status: 'FAILED', failureCode: ErrorCodes.INVENTORY_UNAVAILABLE });
  });

  it('m. an order id another saga placed (reused after Temporal forgot that run): FAILED ORDER_ALREADY_EXISTS before any effect, nothing compensated, nobody told', async () => {
    const shop = new FakeShop({ stock: initialStock(), placedByAnotherSaga: true });
    const { result, status } = await h.finish(await h.startOrder(shop, standardOrder()), 'm-order-placed-by-another-saga');

    expect(result.status).toBe('FAILED');
    expect(status).toEqual(result);
    expect(result.failure?.code).toBe(ErrorCodes.ORDER_ALREADY_EXISTS);
    expect(result.completedSteps).toEqual([]);
    expect(result.compensations).toEqual([]);
    expect(shop.calls.createOrder).toBe(1); // non-retryable: asked once
    expect(shop.calls.reserveStock + shop.calls.releaseStock + shop.calls.chargePayment + shop.calls.refundPayment).toBe(0);
    expect(shop.calls.recordOrderStatus).toBe(0); // the row is the other saga's: not even its status is written
    expect(shop.charges).toEqual([]);
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
    expect(shop.notifications.size).toBe(0);
  });

  it('c. payment declined: fails with PAYMENT_DECLINED, releases the stock, moves no money, tells the customer', async () => {
    const shop = new FakeShop({ stock: initialStock() });
    const input = standardOrder({ paymentMethod: { token: TestTokens.insufficientFunds } });
    const { result, status } = await h.finish(await h.startOrder(shop, input), 'c-payment-declined');

    expect(result.status).toBe('FAILED');
    expect(status).toEqual(result);
    expect(result.failure).toEqual({
      code: ErrorCodes.PAYMENT_DECLINED,
      message: 'payment declined: insufficient_funds',
      details: { reason: 'insufficient_funds' },
    });
    expect(result.completedSteps).toEqual(['ORDER_CREATED', 'STOCK_RESERVED']);
    // reverse order; the refund finds no charge and only voids the key
    expect(result.compensations).toEqual([
      { name: 'refundPayment', outcome: 'done' },
      { name: 'releaseStock', outcome: 'done' },
    ]);

    expect(shop.calls.chargePayment).toBe(1); // a decline is not retried
    expect(shop.charges).toEqual([]);
    expect(shop.refunds).toEqual([]);
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
    expect(shop.stockOf(TEE)).toEqual({ available: 3, reserved: 0, sold: 0, returned: 0 });
    expect(shop.reservation?.status).toBe('RELEASED');

    expect(shop.statuses()).toEqual(['FAILED']);
    expect(shop.statusWrites[0]?.events.map((e) => e.type)).toEqual([
      'ORDER_CREATED',
      'STOCK_RESERVED',
      'SAGA_FAILED',
      'COMPENSATED',
      'COMPENSATED',
      'STATUS_CHANGED',
    ]);
    // after the FAILED write, the notification goes out and its event is flushed
    expect(shop.notificationStatuses()).toEqual({ PAYMENT_FAILED: 'SENT' });
    expect(shop.statusWrites.slice(1).map((w) => [w.status, w.events.map((e) => e.type)])).toEqual([['FAILED', ['NOTIFIED']]]);
  });

  it('d. cancel while the charge is pending: cancelled, nothing charged, stock restored', async () => {
    const shop = new FakeShop({ stock: initialStock(), hold: ['chargePayment'] });
    const handle = await h.startOrder(shop, standardOrder());
    await shop.reached('chargePayment');

    const before = await handle.query(getStatusQuery);
    expect(before.status).toBe('PENDING');
    expect(before.completedSteps).toEqual(['ORDER_CREATED', 'STOCK_RESERVED']);
    expect(shop.stockOf(MUG)).toEqual({ available: 3, reserved: 2, sold: 0, returned: 0 });

    await handle.signal(cancelOrderSignal, 'customer changed their mind');
    const { result, status } = await h.finish(handle, 'd-cancel-before-charge');

    expect(result.status).toBe('CANCELLED');
    expect(status).toEqual(result);
    expect(result.cancellation).toEqual({ requested: true, reason: 'customer changed their mind' });
    expect(result.failure).toEqual({ code: ErrorCodes.ORDER_CANCELLED, message: 'customer changed their mind', details: undefined });
    expect(result.completedSteps).toEqual(['ORDER_CREATED', 'STOCK_RESERVED']);
    // no shipment was ever planned, so there is none to cancel
    expect(result.compensations).toEqual([
      { name: 'refundPayment', outcome: 'done' },
      { name: 'releaseStock', outcome: 'done' },
    ]);

    expect(shop.charges).toEqual([]);
    expect(shop.refunds).toEqual([]);
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
    expect(shop.stockOf(TEE)).toEqual({ available: 3, reserved: 0, sold: 0, returned: 0 });
    expect(shop.calls.planShipments).toBe(0);

    expect(shop.statuses()).toEqual(['CANCELLED']);
    expect(shop.statusWrites[0]?.cancelReason).toBe('customer changed their mind');
    expect(shop.order).toMatchObject({ status: 'CANCELLED', cancelReason: 'customer changed their mind' });
    expect(shop.notificationStatuses()).toEqual({ ORDER_CANCELLED: 'SENT' });
  });

  it('e. cancel after the charge, before confirmation: refunds, then releases', async () => {
    const shop = new FakeShop({ stock: initialStock(), hold: ['commitStock'] });
    const handle = await h.startOrder(shop, standardOrder());
    await shop.reached('commitStock');
    expect(shop.charges).toHaveLength(1);

    await handle.signal(cancelOrderSignal, 'found it cheaper');
    const { result, status } = await h.finish(handle, 'e-cancel-after-charge');

    expect(result.status).toBe('CANCELLED');
    expect(status).toEqual(result);
    expect(result.cancellation).toEqual({ requested: true, reason: 'found it cheaper' });
    expect(result.failure?.code).toBe(ErrorCodes.ORDER_CANCELLED);
    expect(result.completedSteps).toEqual(['ORDER_CREATED', 'STOCK_RESERVED', 'PAYMENT_CHARGED']);
    expect(result.compensations).toEqual([
      { name: 'refundPayment', outcome: 'done' },
      { name: 'releaseStock', outcome: 'done' },
    ]);

    expect(shop.charges).toHaveLength(1);
    expect(shop.refunds).toEqual([expect.objectContaining({ amount: 4500, currency: 'EUR', chargeKey: shop.charges[0].idempotencyKey })]);
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
    expect(shop.stockOf(TEE)).toEqual({ available: 3, reserved: 0, sold: 0, returned: 0 });

    expect(shop.statuses()).toEqual(['CANCELLED']);
    const compensated = shop.statusWrites[0].events.filter((e) => e.type === 'COMPENSATED').map((e) => e.detail?.compensation);
    expect(compensated).toEqual(['refundPayment', 'releaseStock']);
  });

  describe('f. the point of no return is the hand-over to the carrier', () => {
    it('a cancel once the carrier has the parcels (SHIPPED) is refused: the update with ORDER_NOT_CANCELLABLE, the signal recorded; nothing refunded', async () => {
      const shop = new FakeShop({ stock: initialStock() });
      const handle = await h.startOrder(shop, standardOrder());
      await h.advanceToStatus(handle, 'SHIPPED');

      // WorkflowUpdateFailedError → ApplicationFailure: the validator said no, nothing ran
      const refused = await handle.executeUpdate(requestCancelUpdate, { args: ['too late'] }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      const cause = (refused as WorkflowUpdateFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect(cause).toMatchObject({ type: ErrorCodes.ORDER_NOT_CANCELLABLE, message: 'order is SHIPPED; it can no longer be cancelled' });
      expect((await handle.query(getStatusQuery)).cancellation).toBeUndefined(); // a refused update leaves no trace

      // the fire-and-forget signal cannot be refused to the caller: the refusal is recorded instead
      await handle.signal(cancelOrderSignal, 'too late');
      await waitFor(async () => (await handle.query(getStatusQuery)).cancellation !== undefined, 'the signal to be handled');
      const afterSignal = await handle.query(getStatusQuery);
      expect(afterSignal.status).toBe('SHIPPED');
      expect(afterSignal.cancellation).toEqual({ requested: true, reason: 'too late', refused: 'order is SHIPPED; it can no longer be cancelled' });

      // the order carries on to delivery as if nothing had been asked
      await handle.signal(markDeliveredSignal);
      const { result, status } = await h.finish(handle, 'f-cancel-refused-when-shipped');
      expect(result.status).toBe('DELIVERED');
      expect(status).toEqual(result);
      expect(result.cancellation).toEqual({ requested: true, reason: 'too late', refused: 'order is SHIPPED; it can no longer be cancelled' });
      expect(result.compensations).toEqual([]);
      expect(result.failure).toBeUndefined();
      expect(shop.charges).toHaveLength(1);
      expect(shop.refunds).toEqual([]);
      expect(shop.calls.cancelShipments).toBe(0);
      expect(shop.stockOf(MUG)).toEqual({ available: 3, reserved: 0, sold: 2, returned: 0 });
      expect(shop.statuses()).toEqual(['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED']);

      // once the workflow has closed, both fail to reach it; api/orders maps that to 409 ORDER_NOT_CANCELLABLE
      const update = await handle.executeUpdate(requestCancelUpdate, { args: ['still too late'] }).catch((e: unknown) => e);
      expect(update).toBeInstanceOf(WorkflowNotFoundError);
      const signal = await handle.signal(cancelOrderSignal, 'still too late').catch((e: unknown) => e);
      expect(signal).toBeInstanceOf(WorkflowNotFoundError);
      expect(await handle.query(getStatusQuery)).toEqual(result);
    });

    it('a cancel while the parcels are being handed over (PROCESSING, hand-over running) is refused too', async () => {
      const shop = new FakeShop({ stock: initialStock(), hold: ['handToCarrier'] });
      const handle = await h.startOrder(shop, standardOrder({ fulfilment: { handlingMs: 10 * MINUTE } }));
      await h.settleAt(handle, 'PROCESSING');
      // exactly the handling time: a held activity freezes the clock, so a longer
      // sleep would spend its remainder in real time
      await h.env.sleep(10 * MINUTE);
      await shop.reached('handToCarrier');

      const handingOver = await handle.query(getStatusQuery);
      expect(handingOver.status).toBe('PROCESSING'); // the database is written first, then the workflow shows it
      expect(handingOver.completedSteps.at(-1)).toBe('SHIPMENTS_PLANNED');
      const refused = await handle.executeUpdate(requestCancelUpdate, { args: ['wait!'] }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({
        type: ErrorCodes.ORDER_NOT_CANCELLABLE,
        message: 'order is being handed to the carrier; it can no longer be cancelled',
      });
      await handle.signal(cancelOrderSignal, 'wait!');
      await waitFor(async () => (await handle.query(getStatusQuery)).cancellation !== undefined, 'the signal to be handled');
      expect((await handle.query(getStatusQuery)).cancellation).toEqual({
        requested: true,
        reason: 'wait!',
        refused: 'order is being handed to the carrier; it can no longer be cancelled',
      });

      shop.open('handToCarrier');
      const shipped = await h.advanceToStatus(handle, 'SHIPPED');
      expect(elapsed(shipped, 'PROCESSING', 'SHIPPED')).toBeGreaterThanOrEqual(10 * MINUTE);
      await handle.signal(markDeliveredSignal);
      const { result } = await h.finish(handle, 'f-cancel-refused-during-hand-over');
      expect(result.status).toBe('DELIVERED');
      expect(result.compensations).toEqual([]);
      expect(shop.refunds).toEqual([]);
      expect(shop.shipments.map((s) => s.status)).toEqual(['DELIVERED']);
      expect(shop.statuses()).toEqual(['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED']);
    });

    it('a cancel arriving while CONFIRMED is being written is accepted: the write completes first, then everything is undone', async () => {
      const shop = new FakeShop({ stock: initialStock(), hold: ['confirmWrite'] });
      const input = standardOrder();
      const handle = await h.startOrder(shop, input);
      await shop.reached('confirmWrite');
      const confirming = await handle.query(getStatusQuery);
      expect(confirming.status).toBe('PENDING'); // the database is written first, then the workflow shows it
      expect(confirming.completedSteps.at(-1)).toBe('ORDER_CONFIRMED');

      const accepted = await handle.executeUpdate(requestCancelUpdate, { args: ['changed my mind'] });
      expect(accepted.cancellation).toEqual({ requested: true, reason: 'changed my mind' });

      // the status write is never cut off halfway: the database and the workflow agree on CONFIRMED first
      shop.open('confirmWrite');
      const { result, status } = await h.finish(handle, 'f-cancel-accepted-while-confirming');
      expect(result.status).toBe('CANCELLED');
      expect(status).toEqual(result);
      expect(result.timestamps.CONFIRMED).toBeDefined();
      expect(result.completedSteps).toEqual(CONFIRMED_STEPS); // planning never started
      expect(result.compensations).toEqual([
        { name: 'cancelShipments', outcome: 'done' },
        { name: 'refundPayment', outcome: 'done' },
        { name: 'releaseStock', outcome: 'done' },
      ]);
      expect(shop.calls.planShipments).toBe(0);
      expect(shop.charges).toHaveLength(1);
      expect(shop.refunds).toEqual([expect.objectContaining({ amount: 4500, refundKey: `${orderWorkflowId(input.orderId)}:refund` })]);
      expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
      expect(shop.statuses()).toEqual(['CONFIRMED', 'CANCELLED']);
      expect(shop.notificationStatuses()).toEqual({ ORDER_CONFIRMED: 'SENT', ORDER_CANCELLED: 'SENT' });
    });

    it('(and before it) the validator refuses a cancel for an order that is already failing', async () => {
      const shop = new FakeShop({ stock: initialStock(), hold: ['releaseStock'] });
      const handle = await h.startOrder(shop, standardOrder({ paymentMethod: { token: TestTokens.declined } }));
      await shop.reached('releaseStock');

      const compensating = await handle.query(getStatusQuery);
      expect(compensating).toMatchObject({ status: 'PENDING', failure: { code: ErrorCodes.PAYMENT_DECLINED } });
      const refused = await handle.executeUpdate(requestCancelUpdate, { args: ['never mind'] }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({
        type: ErrorCodes.ORDER_NOT_CANCELLABLE,
        message: `order is already failing (${ErrorCodes.PAYMENT_DECLINED})`,
      });

      shop.open('releaseStock');
      const { result } = await h.finish(handle, 'f-cancel-refused-while-failing');
      expect(result.status).toBe('FAILED');
      expect(result.failure?.code).toBe(ErrorCodes.PAYMENT_DECLINED);
      expect(result.cancellation).toBeUndefined(); // a refused update leaves no trace in the workflow
      expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
      expect(shop.statuses()).toEqual(['FAILED']);
    });
  });

  // The Java test server skips time only while no activity is outstanding, so a
  // charge that hangs for 15 real minutes would take 15 real minutes here. The
  // slow gateway is therefore one that times out on every attempt: Temporal
  // keeps retrying (backoff up to 10 s, skipped) until the reservation lapses.
  it('g. reservation expires while the gateway never answers: fails with RESERVATION_EXPIRED in seconds of wall time', async () => {
    const shop = new FakeShop({ stock: initialStock(), gatewayTimesOut: true });
    const input = standardOrder({ reservationTtlMs: 15 * MINUTE });
    const wallStart = Date.now();
    const clockStart = await h.env.currentTimeMs();
    const { result, status } = await h.finish(await h.startOrder(shop, input), 'g-reservation-expired');
    const wallMs = Date.now() - wallStart;
    const workflowMs = (await h.env.currentTimeMs()) - clockStart;

    expect(result.status).toBe('FAILED');
    expect(status).toEqual(result);
    const placed = Date.parse(result.timestamps.placed!);
    // the hold is taken right after the order is created and lapses 15 minutes later
    const timeline = shop.statusWrites[0].events;
    const created = timeline.find((e) => e.type === 'ORDER_CREATED')!;
    const reserved = timeline.find((e) => e.type === 'STOCK_RESERVED')!;
    expect(Date.parse(reserved.detail!.expiresAt as string) - Date.parse(created.occurredAt)).toBe(15 * MINUTE);
    expect(result.failure).toEqual({
      code: ErrorCodes.RESERVATION_EXPIRED,
      message: 'stock reservation expired before the payment succeeded',
      details: { expiresAt: reserved.detail!.expiresAt },
    });
    expect(result.completedSteps).toEqual(['ORDER_CREATED', 'STOCK_RESERVED']);
    expect(result.compensations).toEqual([
      { name: 'refundPayment', outcome: 'done' },
      { name: 'releaseStock', outcome: 'done' },
    ]);
    expect(shop.calls.chargePayment).toBeGreaterThan(50); // retried all along, ~every 10 s of workflow time
    expect(shop.charges).toEqual([]);
    expect(shop.refunds).toEqual([]);
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
    expect(shop.stockOf(TEE)).toEqual({ available: 3, reserved: 0, sold: 0, returned: 0 });
    expect(shop.statuses()).toEqual(['FAILED']);

    expect(Date.parse(result.timestamps.FAILED!) - placed).toBeGreaterThanOrEqual(15 * MINUTE);
    expect(workflowMs).toBeGreaterThanOrEqual(15 * MINUTE);
    expect(wallMs).toBeLessThan(30_000);
  });

  it('h. a compensation that fails transiently is retried until done', async () => {
    const shop = new FakeShop({ stock: initialStock(), releaseFailures: 2 });
    const input = standardOrder({ paymentMethod: { token: TestTokens.declined } });
    const { result, status } = await h.finish(await h.startOrder(shop, input), 'h-compensation-retried');

    expect(result.status).toBe('FAILED');
    expect(status).toEqual(result);
    expect(result.failure?.code).toBe(ErrorCodes.PAYMENT_DECLINED);
    expect(result.compensations).toEqual([
      { name: 'refundPayment', outcome: 'done' },
      { name: 'releaseStock', outcome: 'done' },
    ]);
    expect(shop.calls.releaseStock).toBe(3);
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
    expect(shop.stockOf(TEE)).toEqual({ available: 3, reserved: 0, sold: 0, returned: 0 });
    expect(shop.statuses()).toEqual(['FAILED']);
  });

  it('i. a compensation that keeps failing parks the order in NEEDS_ATTENTION until an operator retries', async () => {
    const shop = new FakeShop({ stock: initialStock(), hold: ['commitStock'], refundsBroken: true });
    const handle = await h.startOrder(shop, standardOrder());
    await shop.reached('commitStock');
    await handle.signal(cancelOrderSignal, 'customer request');
    // 8 refund attempts with backoff 1s..30s: about 91 s of workflow time
    await h.advanceUntil(() => shop.order?.status === 'NEEDS_ATTENTION', 'the order to need attention');

    const parked = await handle.query(getStatusQuery);
    expect(parked.status).toBe('NEEDS_ATTENTION');
    expect(parked.failure?.code).toBe(ErrorCodes.ORDER_CANCELLED); // getStatus keeps the original cause
    expect(parked.compensations).toEqual([
      { name: 'refundPayment', outcome: 'failed', error: 'payment gateway: connection reset (simulated)' },
      { name: 'releaseStock', outcome: 'done' },
    ]);
    expect(shop.calls.refundPayment).toBe(8);
    const parkedWrite = shop.statusWrites.at(-1)!;
    expect(parkedWrite.status).toBe('NEEDS_ATTENTION');
    expect(parkedWrite.failure).toEqual({
      code: ErrorCodes.COMPENSATION_FAILED,
      message: 'compensation failed: refundPayment',
      details: { original: { code: ErrorCodes.ORDER_CANCELLED, message: 'customer request' } },
    });
    expect(shop.order).toMatchObject({ status: 'NEEDS_ATTENTION', failureCode: ErrorCodes.COMPENSATION_FAILED });
    expect(shop.charges).toHaveLength(1);
    expect(shop.refunds).toEqual([]); // the customer's money is still held: that is why it needs attention
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });

    shop.refundsWork();
    await handle.signal(retryCompensationsSignal);
    const { result, status } = await h.finish(handle, 'i-compensation-needs-attention');

    expect(result.status).toBe('CANCELLED');
    expect(status).toEqual(result);
    expect(result.compensations).toEqual([
      { name: 'refundPayment', outcome: 'failed', error: 'payment gateway: connection reset (simulated)' },
      { name: 'releaseStock', outcome: 'done' },
      { name: 'refundPayment', outcome: 'done' },
    ]);
    expect(shop.calls.refundPayment).toBe(9);
    expect(shop.calls.releaseStock).toBe(1); // only what failed is retried
    expect(shop.refunds).toEqual([expect.objectContaining({ amount: 4500 })]);
    expect(shop.statuses()).toEqual(['NEEDS_ATTENTION', 'CANCELLED']);
    expect(shop.order).toMatchObject({ status: 'CANCELLED', failureCode: ErrorCodes.ORDER_CANCELLED, cancelReason: 'customer request' });
    expect(shop.notificationStatuses()).toEqual({ ORDER_CANCELLED: 'SENT' }); // only once it is really over
  });

  it('j. one order id, one saga: duplicates are rejected or joined, never started again', async () => {
    const shop = new FakeShop({ stock: initialStock(), hold: ['chargePayment'] });
    const input = standardOrder();
    const workflowId = orderWorkflowId(input.orderId);
    const first = await h.startOrder(shop, input);
    const { runId } = await first.describe();
    await shop.reached('chargePayment');

    // while running: a plain second start is refused
    const whileRunning = await h.startOrder(shop, input).catch((e: unknown) => e);
    expect(whileRunning).toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    expect(whileRunning).toMatchObject({ workflowId });

    // while running: the API's start (USE_EXISTING) joins the running saga instead of
    // starting one, and its awaitOutcome update answers with that saga's outcome
    const api = createSagaClient(h.env.client, { outcomeWaitMs: 20_000 });
    const joined = api.placeOrder(input);
    await waitFor(async () => (await first.fetchHistory()).events!.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes), 'the API call to join the running saga');
    shop.open('chargePayment');
    expect(await joined).toMatchObject({ orderId: input.orderId, status: 'CONFIRMED' });

    // …and a duplicate start while fulfilment runs is refused the same way
    await h.advanceToStatus(first, 'SHIPPED');
    expect(await h.startOrder(shop, input).catch((e: unknown) => e)).toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    await first.signal(markDeliveredSignal);
    const { result } = await h.finish(first, 'j-duplicate-start');
    expect(result.status).toBe('DELIVERED');

    // after completion: REJECT_DUPLICATE refuses a new run; the API reads the old outcome back
    const afterCompletion = await h.startOrder(shop, input).catch((e: unknown) => e);
    expect(afterCompletion).toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    const readBack = await api.placeOrder(input);
    expect(readBack).toEqual(result);

    expect((await h.env.client.workflow.getHandle(workflowId).describe()).runId).toBe(runId);
    expect(shop.calls.createOrder).toBe(1);
    expect(shop.calls.reserveStock).toBe(1);
    expect(shop.calls.planShipments).toBe(1);
    expect(shop.charges).toHaveLength(1);
    expect(shop.shipments).toHaveLength(1);
    expect(shop.statuses()).toEqual(['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED']);
    expect(shop.stockOf(MUG)).toEqual({ available: 3, reserved: 0, sold: 2, returned: 0 });
  });

  it('k. cancel during PROCESSING (after CONFIRMED, before the hand-over): shipments cancelled, refunded, stock released, customer told', async () => {
    const shop = new FakeShop({ stock: initialStock() });
    const input = standardOrder({ fulfilment: { handlingMs: HOUR } });
    const workflowId = orderWorkflowId(input.orderId);
    const handle = await h.startOrder(shop, input);
    expect((await handle.executeUpdate(awaitOutcomeUpdate)).status).toBe('CONFIRMED');
    // time is locked outside result()/sleep(): the hour of warehouse handling cannot pass meanwhile
    const processing = await h.settleAt(handle, 'PROCESSING');
    expect(processing.completedSteps).toEqual([...CONFIRMED_STEPS, 'SHIPMENTS_PLANNED']);
    expect(shop.shipments.map((s) => s.status)).toEqual(['CREATED']);

    const accepted = await handle.executeUpdate(requestCancelUpdate, { args: ['ordered the wrong size'] });
    expect(accepted.cancellation).toEqual({ requested: true, reason: 'ordered the wrong size' });
    const { result, status } = await h.finish(handle, 'k-cancel-during-processing');

    expect(result.status).toBe('CANCELLED');
    expect(status).toEqual(result);
    expect(result.failure).toEqual({ code: ErrorCodes.ORDER_CANCELLED, message: 'ordered the wrong size', details: undefined });
    expect(result.completedSteps).toEqual([...CONFIRMED_STEPS, 'SHIPMENTS_PLANNED']);
    // reverse order of registration
    expect(result.compensations).toEqual([
      { name: 'cancelShipments', outcome: 'done' },
      { name: 'refundPayment', outcome: 'done' },
      { name: 'releaseStock', outcome: 'done' },
    ]);
    expect(elapsed(result, 'PROCESSING', 'CANCELLED')).toBeLessThan(HOUR); // the handling time never ran out

    expect(shop.charges).toHaveLength(1);
    expect(shop.refunds).toEqual([{ refundKey: `${workflowId}:refund`, chargeKey: `${workflowId}:charge`, amount: 4500, currency: 'EUR' }]);
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
    expect(shop.stockOf(TEE)).toEqual({ available: 3, reserved: 0, sold: 0, returned: 0 });
    expect(shop.reservation?.status).toBe('RELEASED');
    expect(shop.shipments.map((s) => s.status)).toEqual(['CANCELLED']);
    expect(shop.calls.handToCarrier).toBe(0);

    expect(shop.statuses()).toEqual(['CONFIRMED', 'PROCESSING', 'CANCELLED']);
    const cancelled = shop.statusWrites.find((w) => w.status === 'CANCELLED')!;
    expect(cancelled.cancelReason).toBe('ordered the wrong size');
    expect(cancelled.events.filter((e) => e.type === 'COMPENSATED').map((e) => e.detail?.compensation)).toEqual(['cancelShipments', 'refundPayment', 'releaseStock']);
    expect(shop.order).toMatchObject({ status: 'CANCELLED', cancelReason: 'ordered the wrong size' });
    expect(shop.notificationStatuses()).toEqual({ ORDER_CONFIRMED: 'SENT', ORDER_CANCELLED: 'SENT' });
  });

  it('l. a fulfilment step that fails after CONFIRMED (product gone from the catalog) cancels the order with a full refund', async () => {
    const shop = new FakeShop({ stock: initialStock(), deletedProducts: [TEE] });
    const input = standardOrder();
    const handle = await h.startOrder(shop, input);
    expect((await handle.executeUpdate(awaitOutcomeUpdate)).status).toBe('CONFIRMED');
    const { result, status } = await h.finish(handle, 'l-fulfilment-fails-after-confirmation');

    // a confirmed order cannot become FAILED (domain/order-status.ts): it is cancelled, and says why
    expect(result.status).toBe('CANCELLED');
    expect(status).toEqual(result);
    expect(result.failure).toEqual({ code: 'PRODUCT_NOT_FOUND', message: `unknown product ${TEE}`, details: undefined });
    expect(result.cancellation).toBeUndefined(); // nobody asked for it
    expect(result.completedSteps).toEqual(CONFIRMED_STEPS);
    expect(result.compensations).toEqual([
      { name: 'cancelShipments', outcome: 'done' },
      { name: 'refundPayment', outcome: 'done' },
      { name: 'releaseStock', outcome: 'done' },
    ]);
    expect(shop.calls.planShipments).toBe(1); // non-retryable: asked once
    expect(shop.charges).toHaveLength(1);
    expect(shop.refunds).toEqual([expect.objectContaining({ amount: 4500 })]);
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
    expect(shop.statuses()).toEqual(['CONFIRMED', 'CANCELLED']);
    expect(shop.order).toMatchObject({ status: 'CANCELLED', failureCode: 'PRODUCT_NOT_FOUND' });
    expect(shop.notificationStatuses()).toEqual({ ORDER_CONFIRMED: 'SENT', ORDER_CANCELLED: 'SENT' });
  });
});

// The API's orders leave customer notifications to the order event feed (issue 18): the saga
// runs no notification activity, and each status write's STATUS_CHANGED event names what the
// customer is to hear (detail.notify), for the feed's notifications dispatcher to send. The
// tests above keep the saga's own sending (notifications: 'activities', harness.ts).
describe('notifications on the order event feed', () => {
  /** [status, detail.notify] of every STATUS_CHANGED event written, in order */
  const statusChanges = (shop: FakeShop) => shop.timeline().filter((e) => e.type === 'STATUS_CHANGED').map((e) => [e.status, e.detail?.notify]);

  /** Nothing sent by the saga: no notification activity scheduled, nothing in the notifications log or table. */
  async function expectNoNotificationActivity(shop: FakeShop, handle: OrderHandle): Promise<void> {
    expect(shop.calls.sendNotification).toBe(0);
    expect(shop.calls.recordNotificationFailure).toBe(0);
    expect(shop.notificationLog).toEqual([]);
    expect(shop.notifications.size).toBe(0);
    expect(shop.eventTypes().filter((t) => t === 'NOTIFIED' || t === 'NOTIFICATION_FAILED')).toEqual([]);
    const { events } = await handle.fetchHistory();
    const scheduled = (events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter((name) => name !== undefined);
    expect(scheduled).not.toContain('sendNotification');
    expect(scheduled).not.toContain('recordNotificationFailure');
  }

  it('n. a whole life, CONFIRMED → PROCESSING → SHIPPED → DELIVERED: each change that tells the customer says so on its STATUS_CHANGED event; no notification activity runs', async () => {
    const shop = new FakeShop({ stock: initialStock() });
    const handle = await h.startOrder(shop, onTheFeed(standardOrder()));

    const outcome = await handle.executeUpdate(awaitOutcomeUpdate);
    expect(outcome).toMatchObject({ status: 'CONFIRMED', completedSteps: CONFIRMED_AT_PAYMENT, compensations: [] });
    // the kind rides on the CONFIRMED write itself: the feed has it as soon as the order is confirmed
    expect(shop.statusWrites[0]?.events.at(-1)).toMatchObject({ type: 'STATUS_CHANGED', status: 'CONFIRMED', detail: { notify: 'ORDER_CONFIRMED' } });

    await h.advanceToStatus(handle, 'SHIPPED');
    await handle.signal(markDeliveredSignal, shop.shipments[0].trackingNumber);
    const { result, status } = await h.finish(handle, 'n-happy-path');

    // the saga ends as it does with notifications sent by activity (a. above)
    expect(result.status).toBe('DELIVERED');
    expect(status).toEqual(result);
    expect(result.completedSteps).toEqual([...CONFIRMED_AT_PAYMENT, ...AFTER_CONFIRMATION, 'HANDED_TO_CARRIER', 'DELIVERED']);
    expect(result.compensations).toEqual([]);
    expect(result.failure).toBeUndefined();
    expect(Object.keys(result.timestamps)).toEqual(['placed', 'CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED']);
    const { closeTime } = await handle.describe();
    expect(closeTime!.getTime()).toBeGreaterThanOrEqual(Date.parse(result.returnDeadline!));
    expect(shop.charges).toHaveLength(1);
    expect(shop.refunds).toEqual([]);
    expect(shop.stockOf(MUG)).toEqual({ available: 3, reserved: 0, sold: 2, returned: 0 });
    expect(shop.shipments.map((s) => s.status)).toEqual(['DELIVERED']);

    expect(statusChanges(shop)).toEqual([
      ['CONFIRMED', 'ORDER_CONFIRMED'],
      ['PROCESSING', undefined],
      ['SHIPPED', 'ORDER_SHIPPED'],
      ['DELIVERED', 'ORDER_DELIVERED'],
    ]);
    // one write per status change: no late write of notification events after the last one
    expect(shop.statusWrites.map((w) => w.status)).toEqual(['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED']);
    expect(shop.eventTypes().filter((t) => t !== 'STATUS_CHANGED')).toEqual([...CONFIRMED_AT_PAYMENT, ...AFTER_CONFIRMATION, 'HANDED_TO_CARRIER', 'SHIPMENT_DELIVERED', 'DELIVERED']);
    expect(new Set(shop.timeline().map((e) => e.key)).size).toBe(shop.timeline().length);
    await expectNoNotificationActivity(shop, handle);
  });

  it('n. payment declined: FAILED PAYMENT_DECLINED, compensated; the FAILED event says PAYMENT_FAILED; no notification activity runs', async () => {
    const shop = new FakeShop({ stock: initialStock() });
    const handle = await h.startOrder(shop, onTheFeed(standardOrder({ paymentMethod: { token: TestTokens.insufficientFunds } })));
    const { result, status } = await h.finish(handle, 'n-payment-declined');

    expect(result.status).toBe('FAILED');
    expect(status).toEqual(result);
    expect(result.failure).toEqual({ code: ErrorCodes.PAYMENT_DECLINED, message: 'payment declined: insufficient_funds', details: { reason: 'insufficient_funds' } });
    expect(result.completedSteps).toEqual(['ORDER_CREATED', 'STOCK_RESERVED']);
    expect(result.compensations).toEqual([
      { name: 'refundPayment', outcome: 'done' },
      { name: 'releaseStock', outcome: 'done' },
    ]);
    expect(shop.charges).toEqual([]);
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
    expect(shop.reservation?.status).toBe('RELEASED');

    // one write: the FAILED status, its timeline and the kind together (c. above needs a second one for NOTIFIED)
    expect(shop.statusWrites.map((w) => [w.status, w.events.map((e) => e.type)])).toEqual([
      ['FAILED', ['ORDER_CREATED', 'STOCK_RESERVED', 'SAGA_FAILED', 'COMPENSATED', 'COMPENSATED', 'STATUS_CHANGED']],
    ]);
    expect(shop.statusWrites[0].failure?.code).toBe(ErrorCodes.PAYMENT_DECLINED);
    expect(statusChanges(shop)).toEqual([['FAILED', 'PAYMENT_FAILED']]);
    await expectNoNotificationActivity(shop, handle);
  });

  it('n. cancel during PROCESSING: CANCELLED and compensated; CONFIRMED says ORDER_CONFIRMED, CANCELLED says ORDER_CANCELLED; no notification activity runs', async () => {
    const shop = new FakeShop({ stock: initialStock() });
    const handle = await h.startOrder(shop, onTheFeed(standardOrder({ fulfilment: { handlingMs: HOUR } })));
    expect((await handle.executeUpdate(awaitOutcomeUpdate)).status).toBe('CONFIRMED');
    await h.settleAt(handle, 'PROCESSING');

    const accepted = await handle.executeUpdate(requestCancelUpdate, { args: ['ordered the wrong size'] });
    expect(accepted.cancellation).toEqual({ requested: true, reason: 'ordered the wrong size' });
    const { result, status } = await h.finish(handle, 'n-cancel-during-processing');

    // as k. above
    expect(result.status).toBe('CANCELLED');
    expect(status).toEqual(result);
    expect(result.failure).toEqual({ code: ErrorCodes.ORDER_CANCELLED, message: 'ordered the wrong size', details: undefined });
    expect(result.compensations).toEqual([
      { name: 'cancelShipments', outcome: 'done' },
      { name: 'refundPayment', outcome: 'done' },
      { name: 'releaseStock', outcome: 'done' },
    ]);
    expect(shop.refunds).toEqual([expect.objectContaining({ amount: 4500 })]);
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
    expect(shop.shipments.map((s) => s.status)).toEqual(['CANCELLED']);
    expect(shop.calls.handToCarrier).toBe(0);

    expect(shop.statusWrites.map((w) => w.status)).toEqual(['CONFIRMED', 'PROCESSING', 'CANCELLED']);
    expect(shop.statusWrites[2].cancelReason).toBe('ordered the wrong size');
    expect(shop.order).toMatchObject({ status: 'CANCELLED', cancelReason: 'ordered the wrong size' });
    expect(statusChanges(shop)).toEqual([
      ['CONFIRMED', 'ORDER_CONFIRMED'],
      ['PROCESSING', undefined],
      ['CANCELLED', 'ORDER_CANCELLED'],
    ]);
    await expectNoNotificationActivity(shop, handle);
  });

  it('n. confirmed at the payment, a cancel accepted while the stock is committed and the parcels planned: both finish, then both are undone', async () => {
    const shop = new FakeShop({ stock: initialStock(), hold: ['commitStock'] });
    const handle = await h.startOrder(shop, onTheFeed(standardOrder()));
    // the checkout has its answer before the stock is committed
    const outcome = await handle.executeUpdate(awaitOutcomeUpdate);
    expect(outcome).toMatchObject({ status: 'CONFIRMED', completedSteps: CONFIRMED_AT_PAYMENT });
    await shop.reached('commitStock');
    expect(shop.stockOf(MUG)).toEqual({ available: 3, reserved: 2, sold: 0, returned: 0 });

    const accepted = await handle.executeUpdate(requestCancelUpdate, { args: ['changed my mind'] });
    expect(accepted.cancellation).toEqual({ requested: true, reason: 'changed my mind' });
    shop.open('commitStock');
    const { result, status } = await h.finish(handle, 'n-cancel-while-committing');

    expect(result.status).toBe('CANCELLED');
    expect(status).toEqual(result);
    expect(result.completedSteps).toEqual([...CONFIRMED_AT_PAYMENT, ...AFTER_CONFIRMATION]);
    expect(result.compensations).toEqual([
      { name: 'cancelShipments', outcome: 'done' },
      { name: 'refundPayment', outcome: 'done' },
      { name: 'releaseStock', outcome: 'done' },
    ]);
    expect(shop.charges).toHaveLength(1);
    expect(shop.refunds).toEqual([expect.objectContaining({ amount: 4500 })]);
    // what was committed is put back; nothing sold, nothing lost
    expect(shop.stockOf(MUG)).toEqual({ available: 5, reserved: 0, sold: 0, returned: 0 });
    expect(shop.shipments.map((s) => s.status)).toEqual(['CANCELLED']);
    expect(shop.calls.handToCarrier).toBe(0);
    expect(shop.statusWrites.map((w) => w.status)).toEqual(['CONFIRMED', 'CANCELLED']);
    await expectNoNotificationActivity(shop, handle);
  });
});
