/**
 * Ctrl-C while the platform is still booting (`npm start` aborts startStack's
 * signal): whatever had started — embedded PostgreSQL, the dev server, the
 * workers — is stopped, and startStack rejects. Nothing is left running.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { startStack } from '../../scripts/stack';
import { testStackConfig } from '../support/stack-config';

/** pids whose command line or environment mentions `marker` */
function processesMentioning(marker: string): number[] {
  const found: number[] = [];
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const text = readFileSync(`/proc/${d}/cmdline`, 'utf8') + readFileSync(`/proc/${d}/environ`, 'utf8');
      if (text.includes(marker) && Number(d) !== process.pid) found.push(Number(d));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

describe('interrupting the start-up', () => {
  it('an abort while the workers start stops PostgreSQL, the dev server and every worker, and rejects', async () => {
    const { dir, config } = await testStackConfig('orders-interrupt-');
    const boot = new AbortController();
    const seen = new Set<string>();
    let runningAtAbort: number[] = [];
    const started = startStack({
      config,
      log: () => undefined,
      // the first line from a worker: the database and Temporal are up, the workers are starting, the API is not answering yet
      output: (who) => {
        seen.add(who);
        if (who.startsWith('worker:') && !boot.signal.aborted) {
          runningAtAbort = processesMentioning(dir);
          boot.abort();
        }
      },
      env: { LOG_LEVEL: 'info', INTERRUPT_TEST_MARKER: dir },
      signal: boot.signal,
    });
    await expect(started).rejects.toThrow('start-up interrupted');
    expect([...seen].some((w) => w.startsWith('worker:'))).toBe(true);
    // postgres (with its backends), the dev server and five workers were running when the abort came
    expect(runningAtAbort.length).toBeGreaterThanOrEqual(7);
    // the data folder is in PostgreSQL's and the dev server's command lines, the marker in every child's environment
    expect(processesMentioning(dir)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });
});
