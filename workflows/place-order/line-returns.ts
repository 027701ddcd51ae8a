import { ApplicationFailure, CancellationScope, condition, setHandler } from '@temporalio/workflow';
import { ErrorCodes, type ErrorCode } from '../../domain/errors';
import {
  inspectReturnUpdate,
  requestLineReturnUpdate,
  returnIdFor,
  returnLineRefundKey,
  returnReceivedSignal,
  returnTrackingNumber,
  type InspectedLine,
  type ReturnLine,
  type ReturnState,
  type ShipmentState,
} from '../../temporal-config/place-order';
import { inventory, payments } from './activities';
import { clearAttention, inTurn, lineAmounts, needAttention, refreshStatus, sumAmounts, withPayment } from './per-shipment';
import { findApplicationFailure, rootMessage } from './failures';
import { flush, now, record, type OrderRun, type ReturnRun } from './run';

/**
 * Returns of some delivered lines (per-shipment orders), several per order,
 * each its own stage inside the order's run: REQUESTED → RECEIVED (the carrier
 * or the warehouse says the parcel arrived) → INSPECTED (line by line: restock,
 * write off, or reject with a reason) → REFUNDED (each shipment's capture
 * refunded for its lines; restocked lines back on the shelf), or REJECTED when
 * every line is rejected, or LAPSED when nothing arrives in time.
 *
 * Part of the order's workflow rather than a child: a refund draws on the
 * order's captures, and the order's status and books follow its returns, so
 * one run serialises captures, voids and refunds with no cross-workflow protocol.
 */
export function acceptLineReturns(run: OrderRun): void {
  const p = run.perShipment!;
  setHandler(
    requestLineReturnUpdate,
    async (request) => {
      const lines = returnableRequest(run, request.lines);
      const n = p.returns.length + 1;
      const id = returnIdFor(run.input.orderId, n);
      const requestedAt = now();
      const ret: ReturnRun = {
        state: {
          returnId: id,
          status: 'REQUESTED',
          reason: request.reason.trim() || 'returned by customer',
          trackingNumber: returnTrackingNumber(run.input.orderId, n),
          lines,
          requestedAt,
          receiveBy: new Date(Date.parse(requestedAt) + run.timings.returnShippingMs).toISOString(),
          refundAmount: 0,
          timeline: [],
        },
        recorded: false,
      };
      p.returns.push(ret);
      (run.state.returns ??= []).push(ret.state);
      p.returnStages.push(
        returnStage(run, ret).catch((err: unknown) => {
          // never expected (its activities retry until they succeed); kept visible instead of failing the order
          record(run, 'RETURN_STAGE_FAILED', { returnId: id, error: rootMessage(err) });
        }),
      );
      // answer once the return is in PostgreSQL, so the caller (and the warehouse after it) reads the same
      await condition(() => ret.recorded);
      return ret.state;
    },
    {
      validator: (request: { lines: ReturnLine[]; reason: string } | undefined) => {
        const refused = returnRefusal(run, request);
        if (refused) throw ApplicationFailure.nonRetryable(refused.message, refused.code);
      },
    },
  );

  setHandler(
    inspectReturnUpdate,
    async (request) => {
      const ret = p.returns.find((r) => r.state.returnId === request.returnId)!;
      ret.inspection = request.lines;
      await condition(() => ret.state.status !== 'RECEIVED');
      return ret.state;
    },
    {
      validator: (request: { returnId: string; lines: InspectedLine[] } | undefined) => {
        const ret = p.returns.find((r) => r.state.returnId === request?.returnId);
        if (!ret) throw ApplicationFailure.nonRetryable(`no return ${String(request?.returnId)} on this order`, ErrorCodes.RETURN_NOT_FOUND);
        if (ret.state.status !== 'RECEIVED' || ret.inspection) {
          throw ApplicationFailure.nonRetryable(`return ${ret.state.returnId} is ${ret.state.status}; only a received return is inspected, once`, ErrorCodes.RETURN_NOT_INSPECTABLE);
        }
        const wrong = inspectionProblem(ret, request?.lines);
        if (wrong) throw ApplicationFailure.nonRetryable(wrong, ErrorCodes.VALIDATION_FAILED);
      },
    },
  );

  // The parcel is back: by return id, or the only return awaiting its goods (the CLI's plain note).
  setHandler(returnReceivedSignal, (receipt) => {
    const r = typeof receipt === 'string' ? { note: receipt } : (receipt ?? {});
    const awaiting = p.returns.filter((x) => x.state.status === 'REQUESTED' && !x.receipt);
    const ret = r.returnId ? p.returns.find((x) => x.state.returnId === r.returnId) : awaiting.length === 1 ? awaiting[0] : undefined;
    const note = r.note?.trim() || undefined;
    if (!ret || ret.state.status !== 'REQUESTED' || ret.receipt) {
      const reason = !ret ? (r.returnId ? 'no such return' : `${awaiting.length} returns await their goods; name one`) : `return is ${ret.state.status}`;
      record(run, 'RETURN_RECEIPT_IGNORED', { returnId: r.returnId, note, reason });
      return;
    }
    ret.receipt = { note, at: now() };
    if (r.inspection?.length) {
      const wrong = inspectionProblem(ret, r.inspection);
      if (wrong) record(run, 'RETURN_INSPECTION_IGNORED', { returnId: ret.state.returnId, reason: wrong });
      else ret.inspection = r.inspection;
    }
  });
}

const isFinal = (r: ReturnState): boolean => r.status === 'REFUNDED' || r.status === 'REJECTED' || r.status === 'LAPSED';

/** Units of a product delivered and not yet taken by a return (lapsed returns and rejected lines give theirs back). */
function returnable(run: OrderRun, shipment: ShipmentState, productId: string): number {
  const delivered = (shipment.items ?? []).filter((i) => i.productId === productId).reduce((n, i) => n + i.quantity, 0);
  const taken = run
    .perShipment!.returns.filter((r) => r.state.status !== 'LAPSED')
    .flatMap((r) => r.state.lines)
    .filter((l) => l.productId === productId && l.outcome !== 'REJECT')
    .reduce((n, l) => n + l.quantity, 0);
  return delivered - taken;
}

const shipmentOf = (run: OrderRun, productId: string): ShipmentState | undefined =>
  (run.state.shipments ?? []).find((s) => (s.items ?? []).some((i) => i.productId === productId));

/** The lines asked for, merged per product; none = every line still returnable within its window. */
function returnableRequest(run: OrderRun, asked: readonly ReturnLine[]): ReturnLine[] {
  if (asked.length === 0) {
    return (run.state.shipments ?? [])
      .filter((s) => s.status === 'DELIVERED' && Date.now() <= Date.parse(s.returnDeadline ?? ''))
      .flatMap((s) => (s.items ?? []).map((i) => ({ productId: i.productId, quantity: returnable(run, s, i.productId) })))
      .filter((l) => l.quantity > 0);
  }
  const merged = new Map<string, number>();
  for (const l of asked) merged.set(l.productId, (merged.get(l.productId) ?? 0) + l.quantity);
  return [...merged].map(([productId, quantity]) => ({ productId, quantity }));
}

function returnRefusal(run: OrderRun, request: { lines: ReturnLine[]; reason: string } | undefined): { code: ErrorCode; message: string } | undefined {
  if (!request || typeof request.reason !== 'string' || !Array.isArray(request.lines)) return { code: ErrorCodes.VALIDATION_FAILED, message: 'a return needs lines (possibly none = all) and a reason' };
  const delivered = (run.state.shipments ?? []).filter((s) => s.status === 'DELIVERED');
  if (delivered.length === 0) return { code: ErrorCodes.ORDER_NOT_RETURNABLE, message: `order is ${run.state.status}; nothing has been delivered yet` };
  if (request.lines.some((l) => !Number.isInteger(l?.quantity) || l.quantity <= 0)) return { code: ErrorCodes.VALIDATION_FAILED, message: 'quantities are positive integers' };
  const lines = returnableRequest(run, request.lines);
  if (request.lines.length === 0 && lines.length === 0) {
    const open = delivered.some((s) => Date.now() <= Date.parse(s.returnDeadline ?? ''));
    return open
      ? { code: ErrorCodes.ORDER_NOT_RETURNABLE, message: 'every delivered line is already returned or on its way back' }
      : { code: ErrorCodes.RETURN_WINDOW_CLOSED, message: `the return window closed at ${latestDeadline(delivered)}` };
  }
  for (const line of lines) {
    const shipment = shipmentOf(run, line.productId);
    if (!shipment) return { code: ErrorCodes.RETURN_QUANTITY_EXCEEDED, message: `the order has no ${line.productId}` };
    if (shipment.status !== 'DELIVERED') return { code: ErrorCodes.ORDER_NOT_RETURNABLE, message: `${line.productId} is ${shipment.status}; only delivered lines can be returned` };
    if (Date.now() > Date.parse(shipment.returnDeadline ?? '')) {
      return { code: ErrorCodes.RETURN_WINDOW_CLOSED, message: `the return window for ${line.productId} closed at ${shipment.returnDeadline}` };
    }
    const left = returnable(run, shipment, line.productId);
    if (line.quantity > left) return { code: ErrorCodes.RETURN_QUANTITY_EXCEEDED, message: `${line.quantity} × ${line.productId} asked; ${left} delivered and not yet returned` };
  }
  return undefined;
}

const latestDeadline = (shipments: ShipmentState[]): string | undefined =>
  shipments.map((s) => s.returnDeadline ?? '').sort().at(-1);

/** Why an inspection does not fit the return (each product's quantities must add up to what came back; a rejection needs a reason). */
function inspectionProblem(ret: ReturnRun, lines: InspectedLine[] | undefined): string | undefined {
  if (!Array.isArray(lines) || lines.length === 0) return 'an inspection lists the returned lines';
  const outcomes = ['RESTOCK', 'WRITE_OFF', 'REJECT'];
  for (const l of lines) {
    if (!outcomes.includes(l?.outcome)) return `outcome must be one of ${outcomes.join(', ')}`;
    if (!Number.isInteger(l.quantity) || l.quantity <= 0) return 'quantities are positive integers';
    if (l.outcome === 'REJECT' && !l.reason?.trim()) return `rejecting ${l.productId} needs a reason`;
  }
  for (const r of ret.state.lines) {
    const inspected = lines.filter((l) => l.productId === r.productId).reduce((n, l) => n + l.quantity, 0);
    if (inspected !== r.quantity) return `${r.quantity} × ${r.productId} came back; the inspection covers ${inspected}`;
  }
  const extra = lines.find((l) => !ret.state.lines.some((r) => r.productId === l.productId));
  return extra ? `${extra.productId} is not in this return` : undefined;
}

function event(run: OrderRun, ret: ReturnRun, type: string, detail: Record<string, unknown> = {}): void {
  ret.state.timeline.push({ type, occurredAt: now(), detail });
  record(run, type, { returnId: ret.state.returnId, ...detail });
}

/** Writes the return (and the timeline events waiting) to PostgreSQL, in turn with the order's other writes. */
function save(run: OrderRun, ret: ReturnRun): Promise<void> {
  return inTurn(run, async () => {
    const events = flush(run);
    await CancellationScope.nonCancellable(() => run.orderWrites.recordReturn({ orderId: run.input.orderId, currency: run.input.currency, ret: ret.state, events }));
  });
}

async function returnStage(run: OrderRun, ret: ReturnRun): Promise<void> {
  const st = ret.state;
  event(run, ret, 'RETURN_REQUESTED', { lines: st.lines, reason: st.reason, trackingNumber: st.trackingNumber, receiveBy: st.receiveBy });
  await save(run, ret);
  await refreshStatus(run);
  // answered now: the return and the order's status are both in PostgreSQL
  ret.recorded = true;

  const received = await condition(() => ret.receipt !== undefined, Math.max(1, Date.parse(st.receiveBy) - Date.now()));
  if (!received) {
    st.status = 'LAPSED';
    event(run, ret, 'RETURN_LAPSED', { receiveBy: st.receiveBy });
    await save(run, ret);
    await refreshStatus(run);
    return;
  }
  st.status = 'RECEIVED';
  event(run, ret, 'RETURN_RECEIVED', ret.receipt?.note ? { note: ret.receipt.note } : {});
  await save(run, ret);

  await condition(() => ret.inspection !== undefined);
  st.lines = (ret.inspection ?? []).map((l) => ({ productId: l.productId, quantity: l.quantity, outcome: l.outcome, ...(l.outcome === 'REJECT' ? { rejectReason: l.reason?.trim() } : {}) }));
  st.status = 'INSPECTED';
  event(run, ret, 'RETURN_INSPECTED', { lines: st.lines });
  await save(run, ret);

  const kept = st.lines.filter((l) => l.outcome !== 'REJECT');
  if (kept.length === 0) {
    st.status = 'REJECTED';
    event(run, ret, 'RETURN_REJECTED', { reasons: st.lines.map((l) => l.rejectReason) });
    await save(run, ret);
    await refreshStatus(run);
    return;
  }
  const restock = merge(st.lines.filter((l) => l.outcome === 'RESTOCK'));
  if (restock.length > 0) {
    const restocked = await CancellationScope.nonCancellable(() => inventory.restockLines({ orderId: run.input.orderId, returnId: st.returnId, lines: restock }));
    event(run, ret, 'RETURN_RESTOCKED', { lines: restock, restocked: restocked.restocked });
  }
  for (const shipment of run.state.shipments ?? []) {
    const lines = merge(kept.filter((l) => (shipment.items ?? []).some((i) => i.productId === l.productId)));
    if (lines.length > 0) await refund(run, ret, shipment, lines);
  }
  for (const l of st.lines) l.refundAmount = l.outcome === 'REJECT' ? 0 : sumAmounts(lineAmounts(run.input, [l]));
  st.status = 'REFUNDED';
  event(run, ret, 'RETURN_REFUNDED', { refundAmount: st.refundAmount, currency: run.input.currency });
  await save(run, ret);
  await refreshStatus(run);
}

const merge = (lines: ReturnLine[]): ReturnLine[] => {
  const byProduct = new Map<string, number>();
  for (const l of lines) byProduct.set(l.productId, (byProduct.get(l.productId) ?? 0) + l.quantity);
  return [...byProduct].map(([productId, quantity]) => ({ productId, quantity }));
};

/** Refunds one shipment's returned lines from its capture; refused, waits in NEEDS_ATTENTION for an operator's retry. */
async function refund(run: OrderRun, ret: ReturnRun, shipment: ShipmentState, lines: ReturnLine[]): Promise<void> {
  const { input, workflowId } = run;
  const p = run.perShipment!;
  const st = ret.state;
  const amounts = lineAmounts(input, lines);
  for (let attempt = 1; ; attempt++) {
    const refused = await CancellationScope.nonCancellable(() =>
      withPayment(run, async () => {
        try {
          const result = await payments.refundCapture({
            orderId: input.orderId,
            captureKey: shipment.captureKey ?? '',
            idempotencyKey: returnLineRefundKey(workflowId, st.returnId, shipment.trackingNumber, attempt),
            amount: sumAmounts(amounts),
            currency: input.currency,
            lines: amounts,
            reference: st.returnId,
          });
          st.refundAmount += result.amount;
          run.state.payment!.refundedAmount += result.amount;
          return undefined;
        } catch (err) {
          const failure = findApplicationFailure(err);
          if (!failure) throw err;
          return { code: failure.type ?? ErrorCodes.REFUND_REFUSED, message: failure.message };
        }
      }),
    );
    if (!refused) return;
    st.attention = `${refused.code}: ${refused.message}`;
    event(run, ret, 'REFUND_REFUSED', { trackingNumber: shipment.trackingNumber, attempt, code: refused.code, message: refused.message });
    await save(run, ret);
    const seen = p.retries;
    const what = `refund:${st.returnId}:${shipment.trackingNumber}`;
    await needAttention(run, what, refused.code, `the refund of return ${st.returnId} (${shipment.trackingNumber}) was refused: ${refused.message}`);
    await condition(() => p.retries > seen);
    st.attention = undefined;
    await clearAttention(run, what);
  }
}

/**
 * After the last shipment is settled: the order lives on while a return window
 * is open or a return is under way.
 */
export async function takeLineReturns(run: OrderRun): Promise<void> {
  const p = run.perShipment!;
  const deadline = () => Math.max(0, ...(run.state.shipments ?? []).map((s) => Date.parse(s.returnDeadline ?? '') || 0));
  while (Date.now() < deadline() && run.state.status !== 'RETURNED') {
    await condition(() => run.state.status === 'RETURNED', deadline() - Date.now());
  }
  run.returnWindowOpen = false;
  await condition(() => p.returns.every((r) => isFinal(r.state)));
  await Promise.all(p.returnStages);
  await p.writes;
}
