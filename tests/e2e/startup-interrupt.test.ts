/**
 * Ctrl-C while the platform is still booting (`npm start` aborts startStack's
 * signal): whatever had started — here embedded PostgreSQL and the dev server
 * it was waiting for — is stopped, and startStack rejects. Nothing is left running.
 */
import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { startStack } from '../../scripts/stack';
import { processesMentioning } from '../support/processes';
import { testStackConfig } from '../support/stack-config';

describe('interrupting the start-up', () => {
  it('an abort while the dev server starts stops it and PostgreSQL, and rejects', async () => {
    const { dir, config } = await testStackConfig('orders-interrupt-');
    const boot = new AbortController();
    let runningAtAbort: number[] = [];
    const started = startStack({
      config,
      // PostgreSQL is up and seeded; the dev server is launched right after this line, and the wait for it sees the abort
      log: (m) => {
        if (m.startsWith('starting Temporal dev server') && !boot.signal.aborted) {
          runningAtAbort = processesMentioning(dir);
          boot.abort();
        }
      },
      output: () => undefined,
      signal: boot.signal,
    });
    // a stack that came up anyway must not outlive the test
    await expect(started.then(async (stack) => (await stack.stop(), 'started'))).rejects.toThrow('start-up interrupted');
    expect(runningAtAbort.length, 'PostgreSQL was running when the abort came').toBeGreaterThanOrEqual(1);
    // the data folder is in PostgreSQL's and the dev server's command lines
    expect(processesMentioning(dir)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });
});
