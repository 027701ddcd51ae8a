/** How often a process looks whether its parent is still there. */
const PARENT_POLL_MS = 250;

/**
 * Calls `onExit` once when the process that started this one has gone (we were re-parented
 * to init or a subreaper). Linux has no portable "parent died" signal for Node, so it polls
 * the parent pid. The timer does not keep the process alive. A process started directly by
 * init (a container's PID 1) never sees a change: nothing fires.
 */
export function onParentExit(onExit: () => void): { cancel(): void } {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onExit();
  }, PARENT_POLL_MS);
  timer.unref();
  return { cancel: () => clearInterval(timer) };
}
