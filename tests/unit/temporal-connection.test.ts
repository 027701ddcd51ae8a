/**
 * Closing a Temporal connection while its calls wait to be retried: the SDK's retry timer
 * would start the next attempt on a closed channel and throw from the timer (vitest reports
 * that as an unhandled error and fails the run).
 */
import { Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { lazyTemporalConnection } from '../../platform/temporal-connection';
import { freePort } from '../support/ports';

describe('lazyTemporalConnection', () => {
  it('closes while calls to an unreachable server are between retries: every call ends, nothing throws later', async () => {
    const temporal = lazyTemporalConnection({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 200 });
    const calls = Array.from({ length: 5 }, () => temporal.connection.workflowService.getSystemInfo({}).then(() => 'answered', (err: Error) => err.message));
    await new Promise((r) => setTimeout(r, 1_500)); // several attempts failed, a retry timer is pending
    expect(temporal.inFlight()).toBe(5);
    const started = Date.now();
    await temporal.close();
    expect(temporal.inFlight()).toBe(0);
    for (const outcome of await Promise.all(calls)) expect(outcome).not.toBe('answered');
    // any timer scheduled before close() has fired by now
    await new Promise((r) => setTimeout(r, 7_000 - (Date.now() - started)));
  }, 20_000);

  it('closes at once when nothing is in flight', async () => {
    const temporal = lazyTemporalConnection({ address: `127.0.0.1:${await freePort()}` });
    const started = Date.now();
    await temporal.close();
    await temporal.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(temporal.connection).toBeInstanceOf(Connection);
  });
});
