import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorCodes, type ErrorCode } from '../../domain/errors';
import type { placeOrder } from '../../workflows/place-order';
import { ApiError, isUnavailable } from '../errors';
import {
  CustomerIdKey,
  OrderStatusKey,
  TaskQueues,
  awaitOutcomeUpdate,
  cancelShipmentsUpdate,
  getStatusQuery,
  inspectReturnUpdate,
  markDeliveredSignal,
  orderWorkflowId,
  requestCancelUpdate,
  requestLineReturnUpdate,
  requestReturnUpdate,
  retryCompensationsSignal,
  retryPaymentSignal,
  returnReceivedSignal,
  type InspectedLine,
  type OrderState,
  type PlaceOrderInput,
  type ReturnLine,
  type ReturnReceipt,
  type ReturnState,
} from '../../temporal-config/place-order';

/** How long Temporal gets to start a saga before the request answers 503. */
const START_TIMEOUT_MS = 5_000;

/**
 * How a checkout starts its saga and asks for the outcome: update-with-start =
 * one call that starts the saga (or joins the running one) and carries the
 * awaitOutcome update in the same request, so the update rides the saga's first
 * workflow task; start-then-update = a start, then the update (two round trips,
 * and the update may wait for a workflow task of its own: the benchmark's "before").
 */
export type CheckoutStart = 'update-with-start' | 'start-then-update';

export interface SagaClientOptions {
  /** how long a request waits for the payment outcome before answering that the order is still pending (202) */
  outcomeWaitMs: number;
  /** default update-with-start */
  checkoutStart?: CheckoutStart;
}

/** The refusal an operation answers with once the order's run has ended (or retention has removed it). */
export type WhenEnded = () => ApiError;

const after = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(resolve, Math.max(0, ms), value).unref());

/** The promise's value if it settles within `ms`, else `fallback`; whatever it does later concerns nobody. */
function orElseAfter<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  promise.catch(() => undefined);
  return Promise.race([promise, after(ms, fallback)]);
}

const runEnded = (err: unknown) => err instanceof WorkflowNotFoundError || /already completed/i.test((err as Error | undefined)?.message ?? '');

/**
 * A message's answer as the API gives it: the saga's refusal (a typed
 * ApplicationFailure from an update's validator) keeps its code and message,
 * a run that has ended gets the operation's own refusal, and anything else
 * (Temporal unreachable: onError's 503) goes on as it is.
 */
async function told<T>(sent: Promise<T>, ended: WhenEnded): Promise<T> {
  try {
    return await sent;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
      throw new ApiError((err.cause.type ?? ErrorCodes.INTERNAL) as ErrorCode, err.cause.message);
    }
    if (runEnded(err)) throw ended();
    throw err;
  }
}

/**
 * Did the run refuse the update because its code has no handler of that name
 * (a run that started before the update existed)? The SDK answers that with an
 * untyped ApplicationFailure naming the update.
 */
const noHandler = (err: unknown, update: string) =>
  err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.message === `No registered handler for update: ${update}`;

/** The update's answer, or 'unsupported' when the run has no handler for it. */
const unlessUnsupported = <T>(sent: Promise<T>, update: string): Promise<T | 'unsupported'> =>
  sent.catch((err: unknown) => {
    if (noHandler(err, update)) return 'unsupported' as const;
    throw err;
  });

/**
 * The API's one way to talk to an order's PlaceOrder saga: start it and wait
 * for the payment outcome, read its state, and send it the customer's,
 * the carrier's and the warehouse's messages. The order id is the only key a
 * caller knows; the workflow id is made here.
 */
export function createSagaClient(temporal: Client, { outcomeWaitMs, checkoutStart = 'update-with-start' }: SagaClientOptions) {
  const handle = (orderId: string) => temporal.workflow.getHandle(orderWorkflowId(orderId));

  /** The saga's live state (its last one once the run has closed). */
  const status = (orderId: string): Promise<OrderState> => handle(orderId).query(getStatusQuery);

  /** The payment outcome of a saga that is already running or finished, however long it takes. */
  const awaitOutcome = async (orderId: string): Promise<OrderState> => {
    try {
      return await handle(orderId).executeUpdate(awaitOutcomeUpdate);
    } catch {
      // a completed workflow takes no updates; its last state still answers queries
      return status(orderId);
    }
  };

  /** The payment outcome if it is known within `ms`, else 'pending'. */
  const outcomeWithin = (orderId: string, ms = outcomeWaitMs): Promise<OrderState | 'pending'> =>
    orElseAfter(awaitOutcome(orderId), ms, 'pending' as const);

  /**
   * Starts the saga under its business key: a running one is joined
   * (USE_EXISTING), a finished one is never started again (REJECT_DUPLICATE).
   * 202 promises the order exists, so it is never answered before Temporal
   * has durably started the saga; if it cannot, the caller gets a 503 that
   * carries the orderId (when the server chose it, the client learns it only
   * here) and may retry with it safely.
   */
  const unavailable = (input: PlaceOrderInput) =>
    new ApiError(ErrorCodes.DEPENDENCY_UNAVAILABLE, 'the order service (Temporal) did not accept the order in time; retry with the same orderId', {
      orderId: input.orderId,
    });

  // A running saga of this id is joined (USE_EXISTING), a finished one is never
  // started again (REJECT_DUPLICATE): its outcome is read back instead.
  const startOptions = (input: PlaceOrderInput) => ({
    workflowId: orderWorkflowId(input.orderId),
    taskQueue: TaskQueues.orders,
    args: [input] as [PlaceOrderInput],
    workflowIdConflictPolicy: 'USE_EXISTING' as const,
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    typedSearchAttributes: [
      { key: OrderStatusKey, value: 'PENDING' },
      { key: CustomerIdKey, value: input.customerId },
    ],
  });

  /**
   * Starts the saga under its business key. 202 promises the order exists, so
   * it is never answered before Temporal has durably started the saga; if it
   * cannot, the caller gets a 503 that carries the orderId (when the server
   * chose it, the client learns it only here) and may retry with it safely.
   */
  const start = async (input: PlaceOrderInput): Promise<void> => {
    // The deadline also stops the client's own retries once we have answered 503.
    const started = temporal
      .withDeadline(Date.now() + START_TIMEOUT_MS, () => temporal.workflow.start<typeof placeOrder>('placeOrder', startOptions(input)))
      .then(
        () => 'started' as const,
        (err: unknown) => {
          if (err instanceof WorkflowExecutionAlreadyStartedError) return 'started' as const;
          throw err;
        },
      );
    const run = await orElseAfter(started, START_TIMEOUT_MS, 'timeout' as const).catch((err: unknown) => {
      throw isUnavailable(err) ? unavailable(input) : err;
    });
    if (run === 'timeout') throw unavailable(input);
  };

  /** Has Temporal a run of this order by `deadline` (asked every 100 ms), so that a 202 promises what is true? */
  const startedBy = async (orderId: string, deadline: number): Promise<boolean> => {
    for (;;) {
      const found = await temporal.withDeadline(deadline, () => handle(orderId).describe()).then(
        () => true,
        (err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        },
      );
      if (found || Date.now() + 100 >= deadline) return found;
      await after(100, undefined);
    }
  };

  /**
   * One call: start (or join) the saga with the awaitOutcome update riding its
   * first workflow task. The server answers only once the update completes, so
   * if no answer has come by the start's deadline, whether Temporal has the saga
   * is asked separately (again and again until the wait ends): if it never does
   * (or cannot say), 503, retry with the same orderId; if it does, the rest of the
   * wait goes to the outcome, and then 202.
   */
  const startWithOutcome = async (input: PlaceOrderInput): Promise<OrderState | 'pending'> => {
    const began = Date.now();
    const startWorkflowOperation = new WithStartWorkflowOperation<typeof placeOrder>('placeOrder', startOptions(input));
    // The call's own deadline lies past the wait, so it never ends the wait with an error of its own.
    const outcome = temporal
      .withDeadline(began + outcomeWaitMs + START_TIMEOUT_MS, () => temporal.workflow.executeUpdateWithStart(awaitOutcomeUpdate, { startWorkflowOperation }))
      .catch(async (err: unknown): Promise<OrderState> => {
        if (isUnavailable(err)) throw err;
        // a finished run of this id (REJECT_DUPLICATE), or one that ended before taking the
        // update: its last state answers queries
        return status(input.orderId).catch(() => {
          throw err;
        });
      });
    /** The outcome if it comes within `ms`; 'pending' if not; 'failed' if the call failed on the way. */
    const within = (ms: number) =>
      orElseAfter(outcome, ms, 'pending' as const).catch((err: unknown) => {
        if (isUnavailable(err)) return 'failed' as const;
        throw err;
      });
    const early = await within(Math.min(outcomeWaitMs, START_TIMEOUT_MS));
    if (early !== 'pending' && early !== 'failed') return early;
    // A server busy with a burst may record the saga after the start's deadline: while the call still
    // waits, Temporal is asked until the wait the caller agreed to ends; after a failed call, briefly.
    const askUntil = early === 'pending' ? Math.max(began + outcomeWaitMs, Date.now() + 1_000) : Date.now() + 1_000;
    const started = await startedBy(input.orderId, askUntil).catch(() => false);
    if (!started) throw unavailable(input);
    if (early === 'pending') {
      const late = await within(began + outcomeWaitMs - Date.now());
      if (late !== 'pending' && late !== 'failed') return late;
    }
    return 'pending';
  };

  return {
    /** Starts (or joins) the saga and waits, at most outcomeWaitMs in all, for the payment outcome. */
    async placeOrder(input: PlaceOrderInput): Promise<OrderState | 'pending'> {
      if (checkoutStart === 'update-with-start') return startWithOutcome(input);
      const deadline = Date.now() + outcomeWaitMs;
      await start(input);
      return outcomeWithin(input.orderId, deadline - Date.now());
    },
    awaitOutcome,
    outcomeWithin,
    status,
    /** The customer's cancel; the saga refuses it past the point of no return. */
    cancel: (orderId: string, reason: string, ended: WhenEnded): Promise<OrderState> =>
      told(handle(orderId).executeUpdate(requestCancelUpdate, { args: [reason] }), ended),
    /** The customer's return; the saga refuses it outside the return window. */
    requestReturn: (orderId: string, reason: string, ended: WhenEnded): Promise<OrderState> =>
      told(handle(orderId).executeUpdate(requestReturnUpdate, { args: [reason] }), ended),
    /**
     * The customer's return of some delivered lines ([] = every delivered line
     * not yet returned): the new return, or 'unsupported' when the run has no
     * line returns (it started before per-shipment payments).
     */
    requestLineReturn: (orderId: string, request: { lines: ReturnLine[]; reason: string }, ended: WhenEnded): Promise<ReturnState | 'unsupported'> =>
      told(unlessUnsupported(handle(orderId).executeUpdate(requestLineReturnUpdate, { args: [request] }), requestLineReturnUpdate.name), ended),
    /**
     * Cancels shipments not yet handed to the carrier (none named = every one
     * left); the saga refuses when it cannot. 'unsupported': the run cancels only
     * as a whole (it started before per-shipment payments).
     */
    cancelShipments: (orderId: string, request: { trackingNumbers?: string[]; reason?: string }, ended: WhenEnded): Promise<OrderState | 'unsupported'> =>
      told(unlessUnsupported(handle(orderId).executeUpdate(cancelShipmentsUpdate, { args: [request] }), cancelShipmentsUpdate.name), ended),
    /** An operator retries the payment step the order waits on. */
    retryPayment: (orderId: string, ended: WhenEnded): Promise<void> => told(handle(orderId).signal(retryPaymentSignal), ended),
    /** An operator retries the compensations that failed (the order waits in NEEDS_ATTENTION with COMPENSATION_FAILED). */
    retryCompensations: (orderId: string, ended: WhenEnded): Promise<void> => told(handle(orderId).signal(retryCompensationsSignal), ended),
    /** The warehouse's inspection of a received return; answers the return once inspected. */
    inspectReturn: (orderId: string, request: { returnId: string; lines: InspectedLine[] }, ended: WhenEnded): Promise<ReturnState> =>
      told(handle(orderId).executeUpdate(inspectReturnUpdate, { args: [request] }), ended),
    /** The carrier delivered this parcel. */
    deliver: (orderId: string, trackingNumber: string, ended: WhenEnded): Promise<void> =>
      told(handle(orderId).signal(markDeliveredSignal, trackingNumber), ended),
    /** The warehouse (or the carrier) has the returned goods: a note for a whole-order return, a receipt naming a line return. */
    returnReceived: (orderId: string, receipt: string | ReturnReceipt | undefined, ended: WhenEnded): Promise<void> =>
      told(handle(orderId).signal(returnReceivedSignal, receipt), ended),
  };
}
export type SagaClient = ReturnType<typeof createSagaClient>;
