import { CancellationScope, condition, log, setHandler } from '@temporalio/workflow';
import type { OrderStatus } from '../../domain/order-status';
import type { NotificationKind } from '../../domain/shipping';
import { ErrorCodes } from '../../domain/errors';
import {
  PlaceOrderDefaults,
  authorisationKey,
  captureKey,
  daysToMs,
  retryPaymentSignal,
  voidKey,
  type LineAmount,
  type PlaceOrderInput,
  type ReturnLine,
  type ShipmentState,
} from '../../temporal-config/place-order';
import { inventory, payments, shipping } from './activities';
import { findApplicationFailure } from './failures';
import { count, flush, moveTo, now, record, step, type OrderRun, type PerShipmentRun } from './run';

/**
 * Per-shipment payments, after the order is PROCESSING: every shipment leaves
 * the warehouse on its own (one handling period after the one before it), its
 * share is captured just before it is handed to the carrier, and it is tracked
 * to delivery. Until its capture begins a shipment may be cancelled: its stock
 * is released and its amount voided. Beside them a guard renews the
 * authorisation before it expires while money is still uncaptured. A refused
 * capture or renewal holds the order in NEEDS_ATTENTION until an operator
 * retries it (retryPayment) or cancels the shipment.
 */
export async function shipEach(run: OrderRun): Promise<void> {
  const shipments = run.state.shipments ?? [];
  const start = Date.now();
  shipments.forEach((s, i) => {
    s.handOverAt = new Date(start + (i + 1) * run.timings.handlingMs).toISOString();
  });
  // allSettled: a cancel of the whole order cancels every stage at once, and none may be left unobserved
  const settled = await Promise.allSettled([guardAuthorisation(run), ...shipments.map((s) => shipmentLife(run, s))]);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export const sumAmounts = (lines: readonly LineAmount[]): number => lines.reduce((sum, l) => sum + l.amount, 0);

/** Each line's amount at the order's price snapshot. */
export function lineAmounts(input: PlaceOrderInput, lines: readonly ReturnLine[] | undefined): LineAmount[] {
  return (lines ?? []).map(({ productId, quantity }) => {
    const line = input.items.find((l) => l.productId === productId);
    return { productId, amount: (line?.unitPriceAmount ?? 0) * quantity };
  });
}

const ps = (run: OrderRun): PerShipmentRun => {
  if (!run.perShipment) throw new Error('not a per-shipment order');
  return run.perShipment;
};

/** Not yet captured nor cancelled: what the authorisation still has to cover. */
const uncaptured = (run: OrderRun): ShipmentState[] => (run.state.shipments ?? []).filter((s) => s.status === 'CREATED' && !s.captureKey);

/** Shipments a cancel can still take: in the warehouse, not being captured or handed over, not already asked for. */
export const cancellable = (run: OrderRun): ShipmentState[] =>
  (run.state.shipments ?? []).filter((s) => s.status === 'CREATED' && !ps(run).handing.has(s.trackingNumber) && !ps(run).cancelRequested.has(s.trackingNumber));

async function shipmentLife(run: OrderRun, s: ShipmentState): Promise<void> {
  const { cancelRequested, handing } = ps(run);
  const t = s.trackingNumber;
  await condition(() => cancelRequested.has(t), Math.max(1, Date.parse(s.handOverAt ?? '') - Date.now()));
  // a cancel of the whole order accepted in the activation the timer fired in still wins
  if (CancellationScope.current().consideredCancelled) await CancellationScope.current().cancelRequested;
  if (!cancelRequested.has(t)) {
    handing.add(t);
    run.handingOver = true; // from now on a cancel takes only the shipments still in the warehouse
    const captured = await CancellationScope.nonCancellable(() => capture(run, s));
    if (captured) {
      await CancellationScope.nonCancellable(() => handOver(run, s));
      await track(run, s);
      return;
    }
  }
  await CancellationScope.nonCancellable(() => cancelShipment(run, s));
}

/** An operator retries whatever payment step waits in NEEDS_ATTENTION (a capture, a renewal, a refund). */
export function acceptPaymentRetries(run: OrderRun): void {
  const p = run.perShipment;
  if (!p) return;
  setHandler(retryPaymentSignal, () => {
    if (p.attention.size === 0) {
      record(run, 'RETRY_IGNORED', { reason: 'no payment step waits for an operator' });
      return;
    }
    p.retries += 1;
  });
}

/** One gateway call at a time, so a capture or a void never races a renewal of the authorisation it draws on. */
export async function withPayment<T>(run: OrderRun, fn: () => Promise<T>): Promise<T> {
  const p = ps(run);
  await condition(() => !p.paymentBusy);
  p.paymentBusy = true;
  try {
    return await fn();
  } finally {
    p.paymentBusy = false;
  }
}

interface Refusal {
  code: string;
  message: string;
}

/** A business refusal (a non-retryable ApplicationFailure) as a Refusal; anything else is rethrown. */
function refusalOf(err: unknown, fallback: string): Refusal {
  const failure = findApplicationFailure(err);
  if (!failure) throw err;
  return { code: failure.type ?? fallback, message: failure.message };
}

/**
 * Captures the shipment's share; refused, holds it in NEEDS_ATTENTION until an
 * operator retries (a new capture key) or cancels it. Answers false when a
 * cancel took it meanwhile.
 */
async function capture(run: OrderRun, s: ShipmentState): Promise<boolean> {
  const { input, workflowId } = run;
  const p = ps(run);
  const t = s.trackingNumber;
  for (let attempt = 1; ; attempt++) {
    const refused = await withPayment(run, async (): Promise<Refusal | undefined> => {
      const payment = run.state.payment!;
      // an authorisation about to lapse (its renewal refused, or the guard not yet due) is renewed first
      if (Date.now() >= Date.parse(payment.expiresAt) - PlaceOrderDefaults.authorisationRenewBeforeMs) {
        const renewal = await renew(run);
        if (renewal) return renewal;
      }
      try {
        const result = await payments.capturePayment({
          orderId: input.orderId,
          authorisationKey: payment.authorisationKey,
          idempotencyKey: captureKey(workflowId, t, attempt),
          amount: s.amount ?? 0,
          currency: input.currency,
          lines: lineAmounts(input, s.items),
          reference: t,
        });
        s.captureKey = result.captureKey;
        payment.capturedAmount += result.amount;
        record(run, 'SHIPMENT_CAPTURED', { trackingNumber: t, amount: result.amount, currency: input.currency, attempt });
        return undefined;
      } catch (err) {
        return refusalOf(err, ErrorCodes.CAPTURE_REFUSED);
      }
    });
    if (!refused) return true;

    s.held = `${refused.code}: ${refused.message}`;
    p.handing.delete(t);
    record(run, 'CAPTURE_REFUSED', { trackingNumber: t, attempt, code: refused.code, message: refused.message });
    const seen = p.retries;
    await needAttention(run, `capture:${t}`, refused.code, `the capture for shipment ${t} was refused: ${refused.message}`);
    await condition(() => p.retries > seen || p.cancelRequested.has(t));
    s.held = undefined;
    const cancelled = p.cancelRequested.has(t);
    if (!cancelled) p.handing.add(t);
    await clearAttention(run, `capture:${t}`);
    if (cancelled) return false;
  }
}

/** The shipment leaves our hands: past its own point of no return. */
async function handOver(run: OrderRun, s: ShipmentState): Promise<void> {
  await shipping.handToCarrier({ orderId: run.input.orderId, trackingNumber: s.trackingNumber });
  s.status = 'HANDED_TO_CARRIER';
  ps(run).handing.delete(s.trackingNumber);
  if (!run.state.completedSteps.includes('HANDED_TO_CARRIER')) step(run, 'HANDED_TO_CARRIER');
  record(run, 'SHIPMENT_HANDED_OVER', { trackingNumber: s.trackingNumber, carrier: s.carrier });
  await refreshStatus(run);
}

/** Cancelled before it left: the shipment row, its lines' stock, its amount on the authorisation. */
async function cancelShipment(run: OrderRun, s: ShipmentState): Promise<void> {
  const { input, workflowId } = run;
  const t = s.trackingNumber;
  await shipping.cancelShipments({ orderId: input.orderId, trackingNumbers: [t] });
  const released = await inventory.releaseLines({ orderId: input.orderId, productIds: (s.items ?? []).map((i) => i.productId) });
  const voided = await withPayment(run, () =>
    payments.voidPayment({
      orderId: input.orderId,
      authorisationKey: run.state.payment!.authorisationKey,
      idempotencyKey: voidKey(workflowId, t),
      currency: input.currency,
      amount: s.amount ?? 0,
      lines: lineAmounts(input, s.items),
      reference: t,
    }),
  );
  run.state.payment!.voidedAmount += voided.voided;
  s.status = 'CANCELLED';
  record(run, 'SHIPMENT_CANCELLED', { trackingNumber: t, reason: ps(run).cancelRequested.get(t), released: released.released, voided: voided.voided, currency: input.currency });
  await refreshStatus(run);
}

/** In transit until the carrier confirms it (DELIVERY_OVERDUE past its estimate and grace); then its return window opens. */
async function track(run: OrderRun, s: ShipmentState): Promise<void> {
  const { deliveredMarks } = ps(run);
  const t = s.trackingNumber;
  const overdueAt = Date.now() + daysToMs(s.estimatedDeliveryDays) + run.timings.deliveryGraceMs;
  while (s.status !== 'DELIVERED') {
    const heard = s.status === 'OVERDUE' ? (await condition(() => deliveredMarks.has(t)), true) : await condition(() => deliveredMarks.has(t), Math.max(1, overdueAt - Date.now()));
    if (!heard) {
      await CancellationScope.nonCancellable(() => shipping.markOverdue({ orderId: run.input.orderId, trackingNumbers: [t] }));
      s.status = 'OVERDUE';
      record(run, 'DELIVERY_OVERDUE', { trackingNumbers: [t] });
      await refreshStatus(run);
      continue;
    }
    await CancellationScope.nonCancellable(() => shipping.recordDelivery({ orderId: run.input.orderId, trackingNumber: t }));
    s.status = 'DELIVERED';
    s.returnDeadline = new Date(Date.now() + run.timings.returnWindowMs).toISOString();
    record(run, 'SHIPMENT_DELIVERED', { trackingNumber: t, carrier: s.carrier, returnDeadline: s.returnDeadline });
    const live = (run.state.shipments ?? []).filter((x) => x.status !== 'CANCELLED');
    if (live.every((x) => x.status === 'DELIVERED')) {
      run.state.returnDeadline = s.returnDeadline;
      run.returnWindowOpen = true;
      step(run, 'DELIVERED');
    }
    await refreshStatus(run);
  }
}

/**
 * The authorisation-lifetime guard: while money is uncaptured, renews the
 * authorisation (the remainder) before it expires; a declined renewal waits
 * in NEEDS_ATTENTION for an operator's retry or for the rest to be cancelled.
 */
async function guardAuthorisation(run: OrderRun): Promise<void> {
  const p = ps(run);
  for (;;) {
    const renewAt = Date.parse(run.state.payment!.expiresAt) - PlaceOrderDefaults.authorisationRenewBeforeMs;
    const nothingLeft = await condition(() => uncaptured(run).length === 0, Math.max(1, renewAt - Date.now()));
    if (nothingLeft) return;
    // a capture may have renewed it meanwhile
    if (Date.now() < Date.parse(run.state.payment!.expiresAt) - PlaceOrderDefaults.authorisationRenewBeforeMs) continue;
    const refused = await withPayment(run, () => renew(run));
    if (!refused) continue;
    const seen = p.retries;
    await needAttention(run, 'authorisation', refused.code, `the authorisation expires at ${run.state.payment!.expiresAt} and its renewal was declined: ${refused.message}`);
    await condition(() => p.retries > seen || uncaptured(run).length === 0);
    await clearAttention(run, 'authorisation');
    // retried: the loop renews at once (its time has come)
  }
}

/**
 * Authorises what is still uncaptured again, under a new key, then voids the
 * old authorisation's remainder. Runs under withPayment. Answers the refusal
 * when the renewal is declined.
 */
async function renew(run: OrderRun): Promise<Refusal | undefined> {
  const { input, workflowId } = run;
  const payment = run.state.payment!;
  const lines = uncaptured(run).flatMap((s) => lineAmounts(input, s.items));
  const amount = sumAmounts(lines);
  if (amount === 0) return undefined;
  const attempt = (ps(run).renewals += 1);
  try {
    const auth = await payments.authorisePayment({
      orderId: input.orderId,
      idempotencyKey: authorisationKey(workflowId, attempt),
      amount,
      currency: input.currency,
      token: input.paymentMethod.token,
      lines,
      renews: payment.authorisationKey,
    });
    const old = payment.authorisationKey;
    Object.assign(payment, {
      authorisationKey: auth.authorisationKey,
      authorisations: payment.authorisations + 1,
      authorisedAmount: payment.authorisedAmount + auth.amount,
      expiresAt: new Date(Date.now() + auth.validForMs).toISOString(),
    });
    const voided = await payments.voidPayment({ orderId: input.orderId, authorisationKey: old, idempotencyKey: voidKey(workflowId, `renewed-${attempt}`), currency: input.currency, reference: 'renewed' });
    payment.voidedAmount += voided.voided;
    record(run, 'AUTHORISATION_RENEWED', { amount, currency: input.currency, expiresAt: payment.expiresAt, previousVoided: voided.voided });
    log.info('authorisation renewed', { orderId: input.orderId, amount, expiresAt: payment.expiresAt });
    if (auth.validForMs <= PlaceOrderDefaults.authorisationRenewBeforeMs) {
      // renewing again at once would only loop: an operator decides
      return { code: ErrorCodes.AUTHORISATION_EXPIRED, message: `the provider's authorisations last ${auth.validForMs} ms, too short to renew in time` };
    }
    return undefined;
  } catch (err) {
    const refused = refusalOf(err, ErrorCodes.PAYMENT_DECLINED);
    record(run, 'AUTHORISATION_RENEWAL_DECLINED', { amount, currency: input.currency, code: refused.code, message: refused.message });
    return refused;
  }
}

/** Something waits for an operator: NEEDS_ATTENTION, with the reason, until clearAttention. */
export async function needAttention(run: OrderRun, what: string, code: string, reason: string): Promise<void> {
  const p = ps(run);
  p.attention.set(what, { code, reason });
  run.state.attention = { code, reason, since: now() };
  record(run, 'NEEDS_ATTENTION', { what, code, reason });
  count('needsAttention');
  log.warn('order needs an operator', { orderId: run.input.orderId, what, code, reason });
  await refreshStatus(run);
}

export async function clearAttention(run: OrderRun, what: string): Promise<void> {
  const p = ps(run);
  p.attention.delete(what);
  const next = [...p.attention.values()][0];
  run.state.attention = next ? { ...next, since: now() } : undefined;
  record(run, 'ATTENTION_RESOLVED', { what });
  await refreshStatus(run);
}

/**
 * Runs one of the order's local-activity writes after those asked for before
 * it. Never two at once: local activities side by side resolve in the order
 * they finish, a replay resolves them in the order of their markers, and the
 * stages waiting on them could then go on in another order.
 */
export function inTurn(run: OrderRun, write: () => Promise<void>): Promise<void> {
  const p = ps(run);
  p.writes = p.writes.catch(() => undefined).then(write);
  return p.writes;
}

/**
 * The order's status follows its shipments and returns. Writes it (and the
 * timeline events waiting) when it changed, in turn with the order's other writes.
 */
export function refreshStatus(run: OrderRun): Promise<void> {
  return inTurn(run, () => writeStatus(run));
}

async function writeStatus(run: OrderRun): Promise<void> {
  const next = derivedStatus(run);
  if (next !== run.state.status) {
    if (next === 'RETURNED') step(run, 'RETURNED');
    // what the customer hears of it, each kind once per order
    const kind = announcement(run, next);
    await moveTo(run, next, { ...(next === 'CANCELLED' ? { cancelReason: [...ps(run).cancelRequested.values()][0] } : {}), notify: kind });
    if (next === 'CANCELLED') count('cancelled');
    if (kind) ps(run).announced.add(kind);
  } else if (run.pending.length > 0) {
    const events = flush(run);
    await CancellationScope.nonCancellable(() => run.orderWrites.recordOrderStatus({ orderId: run.input.orderId, status: next, events }));
  }
}

const finalReturn = new Set(['REFUNDED', 'REJECTED', 'LAPSED']);

export function derivedStatus(run: OrderRun): OrderStatus {
  const p = ps(run);
  if (p.attention.size > 0) return 'NEEDS_ATTENTION';
  const live = (run.state.shipments ?? []).filter((s) => s.status !== 'CANCELLED');
  if (live.length === 0) return 'CANCELLED';
  const inWarehouse = live.filter((s) => s.status === 'CREATED').length;
  if (inWarehouse === live.length) return 'PROCESSING';
  if (inWarehouse > 0) return 'PARTIALLY_SHIPPED';
  if (live.some((s) => s.status === 'OVERDUE')) return 'DELIVERY_OVERDUE';
  if (live.some((s) => s.status === 'HANDED_TO_CARRIER')) return 'SHIPPED';
  if (p.returns.some((r) => !finalReturn.has(r.state.status))) return 'RETURN_REQUESTED';
  const delivered = live.reduce((n, s) => n + (s.items ?? []).reduce((m, i) => m + i.quantity, 0), 0);
  const refunded = p.returns
    .filter((r) => r.state.status === 'REFUNDED')
    .reduce((n, r) => n + r.state.lines.filter((l) => l.outcome !== 'REJECT').reduce((m, l) => m + l.quantity, 0), 0);
  if (refunded === 0) return 'DELIVERED';
  return refunded >= delivered ? 'RETURNED' : 'PARTIALLY_RETURNED';
}

/** What the customer hears as the order moves (each kind once per order: its key is per kind). */
const announcements: Partial<Record<OrderStatus, NotificationKind>> = {
  PARTIALLY_SHIPPED: 'ORDER_SHIPPED',
  SHIPPED: 'ORDER_SHIPPED',
  DELIVERY_OVERDUE: 'DELIVERY_OVERDUE',
  DELIVERED: 'ORDER_DELIVERED',
  PARTIALLY_RETURNED: 'ORDER_REFUNDED',
  RETURNED: 'ORDER_REFUNDED',
  CANCELLED: 'ORDER_CANCELLED',
};

/** The kind the customer is told of a change to `status`, unless this order has told it already. */
function announcement(run: OrderRun, status: OrderStatus): NotificationKind | undefined {
  const kind = announcements[status];
  return kind && !ps(run).announced.has(kind) ? kind : undefined;
}
