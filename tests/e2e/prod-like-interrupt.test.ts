/**
 * Ctrl-C while `npm run start:prod-like` is still booting (its run.ts aborts
 * startProdLikeStack's signal): PostgreSQL and the Temporal server, both up
 * by then, are stopped, and the start-up rejects. Nothing is left running.
 */
import { rm } from 'node:fs/promises';
import { describe, expect, inject, it } from 'vitest';
import { startProdLikeStack } from '../../scripts/prod-like/stack';
import { ensureTemporalServer } from '../../scripts/tools/provision';
import { processesMentioning } from '../support/processes';
import { prodLikeTestOptions } from '../support/prod-like-options';

describe('interrupting the production-like start-up', () => {
  it('an abort once the Temporal server is up stops it and PostgreSQL, and rejects', async () => {
    await ensureTemporalServer(() => undefined);
    const { dir, options } = await prodLikeTestOptions('orders-prod-like-interrupt-');
    // PostgreSQL's data folder is in its command line; the server has its frontend port in its environment
    const serverMarker = `TEMPORAL_FRONTEND_PORT=${options.temporalPorts!.frontend}`;
    const boot = new AbortController();
    let running = { postgres: [] as number[], server: [] as number[] };
    const started = startProdLikeStack({
      ...options,
      ui: false,
      temporalCli: inject('temporalCli'),
      // the namespace script prints once the server answers: both are up, the workers not yet
      log: (m) => {
        if (m.startsWith('namespace ') && !boot.signal.aborted) {
          running = { postgres: processesMentioning(dir), server: processesMentioning(serverMarker) };
          boot.abort();
        }
      },
      output: () => undefined,
      signal: boot.signal,
    });
    // a stack that came up anyway must not outlive the test
    await expect(started.then(async (stack) => (await stack.stop(), 'started'))).rejects.toThrow('start-up interrupted');
    expect(running.postgres.length, 'PostgreSQL was running when the abort came').toBeGreaterThanOrEqual(1);
    expect(running.server.length, 'the Temporal server was running when the abort came').toBe(1);
    expect(processesMentioning(dir)).toEqual([]);
    expect(processesMentioning(serverMarker)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  }, 600_000);
});
