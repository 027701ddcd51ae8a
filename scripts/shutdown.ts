import { onParentExit } from '../platform/parent';

/**
 * Stops a running platform on SIGINT, SIGTERM or SIGHUP, when the process that started us
 * (npm) has gone, or when one of the platform's processes dies; then exits: 0 after a clean
 * stop on request, 1 when a process had to be killed or one had died. Ctrl-C in a terminal
 * signals every process of the group at once, so children may exit before we do: the first
 * reason wins, later ones wait for the same stop.
 */
export function stopOnSignals(stack: { stop(): Promise<string[]>; crashed: Promise<string> }, log: (msg: string) => void): void {
  let stopping: Promise<void> | undefined;
  const shutdown = (why: string, code: number) =>
    (stopping ??= (async () => {
      log(`${why}: stopping everything...`);
      const killed = await stack.stop();
      if (killed.length) log(`stopped; had to kill ${killed.join(', ')} (did not stop within its grace time)`);
      else log('stopped');
      process.exit(killed.length ? 1 : code);
    })());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => void shutdown(signal, 0));
  // npm does not pass SIGHUP on (it exits and leaves us running), nor does anything when it is killed
  onParentExit(() => void shutdown('the process that started this one has exited', 0));
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
  const orphaned = onParentExit(() => {
    log('the process that started this one has exited during start-up: stopping what has started...');
    boot.abort();
  });
  return {
    signal: boot.signal,
    booted: () => {
      for (const signal of signals) process.off(signal, interrupt);
      orphaned.cancel();
    },
  };
}
