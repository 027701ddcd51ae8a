/**
 * Stops a running platform on SIGINT, SIGTERM or SIGHUP, or when one of its
 * processes dies, then exits. Ctrl-C in a terminal signals every process of
 * the group at once, so children may exit before we do: the first reason
 * wins, later ones wait for the same stop.
 */
export function stopOnSignals(stack: { stop(): Promise<void>; crashed: Promise<string> }, log: (msg: string) => void): void {
  let stopping: Promise<void> | undefined;
  const shutdown = (why: string, code: number) =>
    (stopping ??= (async () => {
      log(`${why}: stopping everything...`);
      await stack.stop();
      log('stopped');
      process.exit(code);
    })());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => void shutdown(signal, 0));
  void stack.crashed.then((name) => shutdown(`${name} died`, 1));
}

/**
 * A signal while a platform boots aborts the returned AbortSignal, so the
 * start-up stops what has started so far (database, Temporal, workers)
 * instead of leaving it behind. Call `booted()` once it is up: from then on
 * stopOnSignals takes over.
 */
export function abortBootOnSignals(log: (msg: string) => void): { signal: AbortSignal; booted(): void } {
  const boot = new AbortController();
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const interrupt = (signal: NodeJS.Signals) => {
    log(`${signal} during start-up: stopping what has started...`);
    boot.abort();
  };
  for (const signal of signals) process.once(signal, interrupt);
  return {
    signal: boot.signal,
    booted: () => {
      for (const signal of signals) process.off(signal, interrupt);
    },
  };
}
