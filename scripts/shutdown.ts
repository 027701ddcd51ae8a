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
