/**
 * The carrier confirms a parcel in the moment between the shipping context
 * writing the hand-over and the saga taking it in (the shipping worker sits on
 * handToCarrier's result): the webhook answers 202, so the delivery must count.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bootFaultStack, until, type FaultStack } from './support/fault-stack';

let f: FaultStack;
beforeAll(async () => {
  f = await bootFaultStack('hand-over-race', { FULFILMENT_HANDLING_MS: '3000' });
});
afterAll(async () => {
  await f?.stop();
});

it('a delivery confirmed while the saga is still taking in the hand-over is not lost', async () => {
  const started = Date.now();
  const product = await f.product(10, 1_000);
  const [c] = await f.customers(1);
  // the shipping worker writes the hand-over, then sits on the result for 8 s
  await f.stack.stopWorker('shipping', 'SIGTERM');
  f.stack.startWorker('shipping', { FAULT_HOLD_AFTER_ACTIVITIES: 'handToCarrier', FAULT_HOLD_MS: '8000' });
  const placed = await f.order(c, [{ productId: product, quantity: 1 }]);
  expect(placed.status).toBe(201);
  const orderId = placed.body.orderId as string;
  const shipment = await until('the row says HANDED_TO_CARRIER', async () => f.db.shipment.findFirst({ where: { orderId, status: 'HANDED_TO_CARRIER' } }), 60_000, 50);
  // the saga has not heard of the hand-over yet
  expect(await f.db.orderEvent.count({ where: { orderId, type: 'SHIPMENT_HANDED_OVER' } })).toBe(0);
  const answer = await f.carrier(shipment.trackingNumber, 'delivered');
  expect(answer.status).toBe(202);

  await until('the parcel DELIVERED', async () => (await f.db.shipment.findUniqueOrThrow({ where: { id: shipment.id } })).status === 'DELIVERED', 60_000);
  await until('the order DELIVERED', async () => (await f.db.order.findUniqueOrThrow({ where: { id: orderId } })).status === 'DELIVERED', 30_000);
  expect(await f.db.orderEvent.count({ where: { orderId, type: 'DELIVERY_IGNORED' } })).toBe(0);
  expect(await f.report('hand-over-race', [orderId], started)).toEqual([]);
}, 180_000);
