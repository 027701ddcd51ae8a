/**
 * `npm run start:prod-like`: the platform against a real Temporal server on
 * PostgreSQL, several workers per task queue, until Ctrl-C. See docs/prod-like.md.
 *
 * A terminal's Ctrl-C signals every process of the foreground process group at
 * once: PostgreSQL would shut down under a Temporal server still draining its
 * shards. So the stack (run.ts and all its children) runs in a process group of
 * its own, and this small supervisor turns Ctrl-C into one SIGINT to it, which
 * stops everything in order: API, workers, UI, Temporal server, PostgreSQL.
 * Its exit code is the stack's: 1 when a process had to be killed.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onParentExit } from '../../platform/parent';

const run = path.join(path.dirname(fileURLToPath(import.meta.url)), 'run.ts');
const child = spawn(process.execPath, [...process.execArgv, run], { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
let signals = 0;
const relay = (signal: NodeJS.Signals) => () => {
  // a second Ctrl-C while it is stopping: tell it again (run.ts then waits for the same stop)
  if (++signals > 3) {
    console.error('[prod-like] forcing: SIGKILL to every process of the stack');
    process.kill(-child.pid!, 'SIGKILL');
    return;
  }
  child.kill(signal);
};
process.on('SIGINT', relay('SIGINT'));
process.on('SIGTERM', relay('SIGTERM'));
process.on('SIGHUP', relay('SIGHUP'));
// npm passes neither SIGHUP nor its own death on: stop the stack as for SIGTERM
onParentExit(() => child.kill('SIGTERM'));
child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
