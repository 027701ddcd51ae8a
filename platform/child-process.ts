import type { ChildProcess } from 'node:child_process';

/** How long a process of the platform gets to stop on each signal before the next, harder one. */
export const STOP_GRACE_MS = 10_000;

/**
 * Sends `signals[0]`, then each next signal after `graceMs` without an exit (by default
 * SIGTERM, then SIGKILL). Resolves once the child has exited: true when it had to be forced.
 */
export const stopChild = (child: ChildProcess, graceMs = STOP_GRACE_MS, signals: NodeJS.Signals[] = ['SIGTERM', 'SIGKILL']) =>
  new Promise<boolean>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(false);
    let forced = false;
    const timers = signals.slice(1).map((signal, i) =>
      setTimeout(() => {
        forced = true;
        child.kill(signal);
      }, graceMs * (i + 1)),
    );
    child.once('exit', () => {
      for (const timer of timers) clearTimeout(timer);
      resolve(forced);
    });
    child.kill(signals[0]);
  });
