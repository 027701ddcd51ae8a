import { condition, setHandler } from '@temporalio/workflow';
import { daysToMs, markDeliveredSignal, type ShipmentState } from '../../temporal-config/place-order';
import { shipping } from './activities';
import { openReturnWindow } from './returns';
import { moveTo, record, step, type OrderRun } from './run';

/** Carrier confirmations may arrive at any time; they are queued here and acted on by deliver(). */
export function acceptDeliveries(run: OrderRun): void {
  const perShipment = run.perShipment;
  if (perShipment) {
    // per-shipment orders: only a parcel the carrier has can be delivered (no argument = every one in transit).
    // One captured and being handed over counts: its row may already say HANDED_TO_CARRIER, so the carrier webhook accepts it.
    setHandler(markDeliveredSignal, (trackingNumber) => {
      const wanted = trackingNumber?.trim() || undefined;
      const inTransit = (run.state.shipments ?? []).filter(
        (s) => s.status === 'HANDED_TO_CARRIER' || s.status === 'OVERDUE' || (s.status === 'CREATED' && s.captureKey !== undefined && perShipment.handing.has(s.trackingNumber)),
      );
      const targets = wanted ? inTransit.filter((s) => s.trackingNumber === wanted) : inTransit;
      if (targets.length === 0) record(run, 'DELIVERY_IGNORED', { trackingNumber: wanted, reason: 'unknown, not handed to the carrier, or already delivered' });
      for (const s of targets) perShipment.deliveredMarks.add(s.trackingNumber);
    });
    return;
  }
  setHandler(markDeliveredSignal, (trackingNumber) => {
    run.deliveries.push(trackingNumber?.trim() || undefined);
  });
}

/**
 * Past the point of no return: SHIPPED, tracked parcel by parcel until every one
 * is delivered (DELIVERY_OVERDUE meanwhile when the carrier is late), DELIVERED.
 */
export async function deliver(run: OrderRun): Promise<void> {
  const { input, state, deliveries } = run;
  await moveTo(run, 'SHIPPED', { notify: 'ORDER_SHIPPED' });
  const shipments = state.shipments ?? [];
  const byTracking = new Map<string, ShipmentState>(shipments.map((s) => [s.trackingNumber, s]));
  const slowest = Math.max(0, ...shipments.map((s) => s.estimatedDeliveryDays));
  const overdueAt = Date.now() + daysToMs(slowest) + run.timings.deliveryGraceMs;
  const undelivered = () => shipments.filter((s) => s.status !== 'DELIVERED');

  while (undelivered().length > 0) {
    const heard =
      state.status === 'DELIVERY_OVERDUE'
        ? (await condition(() => deliveries.length > 0), true)
        : await condition(() => deliveries.length > 0, Math.max(1, overdueAt - Date.now()));
    if (!heard) {
      // The carrier never confirmed: an operator has to look.
      const late = undelivered().map((s) => s.trackingNumber);
      await shipping.markOverdue({ orderId: input.orderId, trackingNumbers: late });
      for (const s of undelivered()) s.status = 'OVERDUE';
      record(run, 'DELIVERY_OVERDUE', { trackingNumbers: late });
      await moveTo(run, 'DELIVERY_OVERDUE', { notify: 'DELIVERY_OVERDUE' });
      continue;
    }
    while (deliveries.length > 0) {
      const trackingNumber = deliveries.shift();
      const targets = trackingNumber === undefined ? undelivered() : [byTracking.get(trackingNumber)].filter((s) => s && s.status !== 'DELIVERED');
      if (targets.length === 0) record(run, 'DELIVERY_IGNORED', { trackingNumber, reason: 'unknown or already delivered' });
      for (const s of targets as ShipmentState[]) {
        await shipping.recordDelivery({ orderId: input.orderId, trackingNumber: s.trackingNumber });
        s.status = 'DELIVERED';
        record(run, 'SHIPMENT_DELIVERED', { trackingNumber: s.trackingNumber, carrier: s.carrier });
      }
    }
  }
  openReturnWindow(run);
  step(run, 'DELIVERED');
  await moveTo(run, 'DELIVERED', { notify: 'ORDER_DELIVERED' });
}
