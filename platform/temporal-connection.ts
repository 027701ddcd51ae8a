import { InterceptingCall, ListenerBuilder, RequesterBuilder, status as grpcStatus, type Interceptor } from '@grpc/grpc-js';
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';

/** Longest wait between two attempts of the SDK's retry policy (5 s cap plus 20 % jitter), with a margin. */
const RETRY_TIMER_BOUND_MS = 6_500;

export interface TemporalConnection {
  readonly connection: Connection;
  /** calls that have not ended yet, retries included */
  inFlight(): number;
  /**
   * Stops retrying, cancels the calls in flight, waits until every call has ended (at most
   * until no retry timer can be pending), then closes the channel. Idempotent.
   */
  close: () => Promise<void>;
}

/**
 * A lazily connected Temporal client connection that can be closed while calls are still
 * running. The SDK's retry interceptor re-sends a failed call from a timer, on the channel, and
 * does not look at whether the channel was closed meanwhile: closing it with a retry pending
 * throws "Channel has been shut down" from that timer, an uncaught exception in the process.
 * This connection counts every call until its final status, refuses further retries once
 * closing, and closes the channel only when no timer can fire any more.
 */
export function lazyTemporalConnection(options: ConnectionOptions): TemporalConnection {
  const calls = new Set<InterceptingCall>();
  let closing = false;
  let closed: Promise<void> | undefined;
  const whenIdle: (() => void)[] = [];
  const settle = () => {
    if (calls.size === 0) for (const resolve of whenIdle.splice(0)) resolve();
  };

  // outermost: sees a call once, from its start to the status after the last retry
  const track: Interceptor = (callOptions, nextCall) => {
    const call: InterceptingCall = new InterceptingCall(
      nextCall(callOptions),
      new RequesterBuilder()
        .withStart((metadata, listener, next) => {
          calls.add(call);
          next(
            metadata,
            new ListenerBuilder()
              .withOnReceiveStatus((status, nextStatus) => {
                calls.delete(call);
                nextStatus(status);
                settle();
              })
              .build(),
          );
        })
        .build(),
    );
    return call;
  };
  const defaults = defaultGrpcRetryOptions();
  const retry = makeGrpcRetryInterceptor({
    delayFunction: defaults.delayFunction,
    retryableDecider: (attempt, status) => !closing && defaults.retryableDecider(attempt, status),
  });
  const connection = Connection.lazy({ ...options, interceptors: [track, retry, ...(options.interceptors ?? [])] });

  return {
    connection,
    inFlight: () => calls.size,
    close: () =>
      (closed ??= (async () => {
        closing = true;
        for (const call of calls) call.cancelWithStatus(grpcStatus.CANCELLED, 'the connection is closing');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => {
            whenIdle.push(resolve);
            settle();
          }),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, RETRY_TIMER_BOUND_MS))),
        ]);
        clearTimeout(timer);
        await connection.close().catch(() => undefined);
      })()),
  };
}
