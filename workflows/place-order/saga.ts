import { ApplicationFailure, CancellationScope, log, patched, sleep, workflowInfo } from '@temporalio/workflow';
import { ErrorCodes } from '../../domain/errors';
import { authorisationKey, chargeKey, refundKey, voidKey } from '../../temporal-config/place-order';
import { inventory, inventoryCompensation, payments, paymentsCompensation, shipping, shippingCompensation } from './activities';
import type { Outcome } from './failures';
import { Patches } from './patches';
import { lineAmounts, shipEach, sumAmounts } from './per-shipment';
import { count, moveTo, step, type OrderRun } from './run';

/**
 * Whether this run stamps its order row with the saga chain that placed it (its
 * first run id, which retries and resets keep); a row another saga placed is
 * then refused with ORDER_ALREADY_EXISTS, and this saga ends without touching it.
 * Asked once, before the first step's command.
 */
export const stampsPlacement = (): boolean => patched(Patches.orderPlacedByRun);

/**
 * The steps, run in run.steps: reserve stock → secure payment → confirm →
 * commit stock and plan shipments side by side → (warehouse handling) → hand to
 * carrier (runs from before confirm-at-payment commit the stock before confirming). Each
 * compensation is registered before its step runs, because a step that timed
 * out may still have taken effect.
 */
export async function runSaga(run: OrderRun, stampedPlacement: boolean): Promise<void> {
  const { input } = run;
  const chargeIdempotencyKey = chargeKey(run.workflowId);
  // Not cancellable once begun: whether the row is ours must be known.
  if (stampedPlacement) {
    const placement = { placedByRun: workflowInfo().firstExecutionRunId || workflowInfo().runId };
    await CancellationScope.nonCancellable(() => run.orderWrites.createOrder(input, placement));
  } else {
    await run.orderWrites.createOrder(input);
  }
  step(run, 'ORDER_CREATED');

  const expiresAt = Date.now() + run.timings.reservationTtlMs;
  const lines = input.items.map(({ productId, quantity }) => ({ productId, quantity }));
  run.compensations.push({
    name: 'releaseStock',
    run: () => inventoryCompensation.releaseStock({ orderId: input.orderId, items: lines }),
  });
  const reserved = await inventory.reserveStock({
    orderId: input.orderId,
    items: lines,
    expiresAt: new Date(expiresAt).toISOString(),
  });
  step(run, 'STOCK_RESERVED', { items: reserved.items, expiresAt: new Date(expiresAt).toISOString() });

  if (run.perShipment) {
    await authorise(run, expiresAt);
  } else {
    run.compensations.push({
      name: 'refundPayment',
      run: () =>
        paymentsCompensation.refundPayment({
          orderId: input.orderId,
          chargeKey: chargeIdempotencyKey,
          refundKey: refundKey(run.workflowId),
        }),
    });
    const charge = await chargeBefore(expiresAt, () =>
      payments.chargePayment({
        orderId: input.orderId,
        idempotencyKey: chargeIdempotencyKey,
        amount: input.totalAmount,
        currency: input.currency,
        token: input.paymentMethod.token,
      }),
    );
    step(run, 'PAYMENT_CHARGED', { paymentId: charge.paymentId, amount: input.totalAmount, currency: input.currency });
  }

  if (!run.confirmAtPayment) {
    await inventory.commitStock({ orderId: input.orderId });
    step(run, 'STOCK_COMMITTED');
  }

  step(run, 'ORDER_CONFIRMED');
  await moveTo(run, 'CONFIRMED', { notify: 'ORDER_CONFIRMED' });
  count('confirmed');

  // Fulfilment: still cancellable until the carrier has the parcels.
  run.compensations.push({ name: 'cancelShipments', run: () => shippingCompensation.cancelShipments({ orderId: input.orderId }) });
  // Short and idempotent: once begun, let it finish even when a cancel
  // arrives, so cancelShipments always sees the rows it has to cancel.
  if (CancellationScope.current().consideredCancelled) await CancellationScope.current().cancelRequested;
  const planShipments = () => shipping.planShipments({ orderId: input.orderId, lines, country: input.shippingAddress.country });
  let plans: Awaited<ReturnType<typeof planShipments>>;
  if (run.confirmAtPayment) {
    // Confirmed on the secured payment: the stock moves from held to sold while
    // the parcels are planned (neither reads what the other writes). Both finish
    // once begun, so releaseStock and cancelShipments see every row they undo.
    [, plans] = await CancellationScope.nonCancellable(() => Promise.all([inventory.commitStock({ orderId: input.orderId }), planShipments()]));
    step(run, 'STOCK_COMMITTED');
  } else {
    plans = await CancellationScope.nonCancellable(planShipments);
  }
  run.state.shipments = plans.map((p) => ({
    trackingNumber: p.trackingNumber,
    carrier: p.carrier,
    warehouse: p.warehouse,
    estimatedDeliveryDays: p.estimatedDeliveryDays,
    status: 'CREATED',
    ...(run.perShipment ? { items: p.items, amount: sumAmounts(lineAmounts(input, p.items)) } : {}),
  }));
  step(run, 'SHIPMENTS_PLANNED', { shipments: plans });
  // a cancel accepted while they ran is acted on now, before the order shows PROCESSING
  if (run.confirmAtPayment && CancellationScope.current().consideredCancelled) await CancellationScope.current().cancelRequested;
  await moveTo(run, 'PROCESSING');
  if (run.perShipment) {
    // each shipment is captured and handed over on its own (per-shipment.ts)
    await shipEach(run);
    return;
  }
  await sleep(run.timings.handlingMs);
  // A cancel accepted in the same activation as the timer firing must win:
  // it was told "accepted", so the parcels may not go. (Histories recorded
  // before this check replay without it.)
  if (patched(Patches.cancelAcceptedAtHandOver) && CancellationScope.current().consideredCancelled) {
    await CancellationScope.current().cancelRequested;
  }
  // From here the parcels may be with the carrier: refuse every cancel, and
  // let nothing cancel the hand-over itself.
  run.handingOver = true;
  await CancellationScope.nonCancellable(() => shipping.handToCarrier({ orderId: input.orderId }));
  for (const s of run.state.shipments) s.status = 'HANDED_TO_CARRIER';
  step(run, 'HANDED_TO_CARRIER');
}

/**
 * Per-shipment payments: authorise the whole amount (the void of what is left
 * is registered first), before the reservation expires.
 */
async function authorise(run: OrderRun, expiresAt: number): Promise<void> {
  const { input, workflowId } = run;
  const firstKey = authorisationKey(workflowId, 0);
  run.compensations.push({
    name: 'voidPayment',
    run: async () => {
      const payment = run.state.payment;
      const result = await paymentsCompensation.voidPayment({
        orderId: input.orderId,
        authorisationKey: payment?.authorisationKey ?? firstKey,
        idempotencyKey: voidKey(workflowId, 'rest'),
        currency: input.currency,
        reference: 'rest',
      });
      if (payment) payment.voidedAmount += result.voided;
      return result;
    },
  });
  const lines = lineAmounts(input, input.items);
  const auth = await chargeBefore(expiresAt, () =>
    payments.authorisePayment({
      orderId: input.orderId,
      idempotencyKey: firstKey,
      amount: input.totalAmount,
      currency: input.currency,
      token: input.paymentMethod.token,
      lines,
    }),
  );
  run.state.payment = {
    authorisationKey: auth.authorisationKey,
    authorisations: 1,
    authorisedAmount: auth.amount,
    capturedAmount: 0,
    voidedAmount: 0,
    refundedAmount: 0,
    // counted on the workflow's clock from how long the provider says it lasts
    expiresAt: new Date(Date.now() + auth.validForMs).toISOString(),
  };
  step(run, 'PAYMENT_AUTHORISED', { amount: auth.amount, currency: input.currency, expiresAt: run.state.payment.expiresAt });
}

/** Runs the payment step, but gives up (and cancels it) when the reservation expires. */
async function chargeBefore<T>(expiresAt: number, charge: () => Promise<T>): Promise<T> {
  const chargeScope = new CancellationScope();
  const timerScope = new CancellationScope();
  const expired = Symbol('expired');
  const timer = timerScope
    .run(() => sleep(Math.max(0, expiresAt - Date.now())))
    // a cancelled timer never settles: the race then waits for the charge itself
    .then(() => expired, () => new Promise<never>(() => undefined));
  const result = await Promise.race([chargeScope.run(charge), timer]);
  if (result !== expired) {
    timerScope.cancel();
    return result as T;
  }
  chargeScope.cancel();
  throw ApplicationFailure.nonRetryable(
    'stock reservation expired before the payment succeeded',
    ErrorCodes.RESERVATION_EXPIRED,
    { expiresAt: new Date(expiresAt).toISOString() },
  );
}

/**
 * An order id reused after Temporal forgot the run that placed it: the row,
 * stock and money are another saga's, not this one's to write, compensate or
 * notify. Marks the run FAILED without effects and answers true.
 */
export function endIfAnotherSagasOrder(run: OrderRun, stampedPlacement: boolean, outcome: Outcome): boolean {
  if (!stampedPlacement || outcome.code !== ErrorCodes.ORDER_ALREADY_EXISTS || run.state.completedSteps.length > 0) return false;
  run.state.status = 'FAILED';
  run.state.failure = { code: outcome.code, message: outcome.message };
  count('failed');
  log.warn('order id already placed by another saga; ending without effects', { orderId: run.input.orderId });
  return true;
}
