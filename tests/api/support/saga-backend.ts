import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { SimulatedGatewayOptions } from '../../../activities/payments/gateway';
import { seed } from '../../../prisma/seed';
import { initialStock } from '../../support/books';
import { freshDatabase } from '../../support/db';
import { devServerEnv } from '../../support/temporal';
import { createWorkers, realActivities, runWorkers } from '../../support/workers';
import { appsOn, temporalClientAt, type AppBackend } from './harness';

/** The shipping address of the API suites' orders. */
export const address = { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London', postalCode: 'N1 1AA', country: 'GB' };

/** What the API suites that run real sagas stand on: a fresh, seeded database of their own and the dev server. */
export interface SagaBackend extends AppBackend {
  /** stock per product before the suite, for the books */
  initial: Record<string, number>;
  /** the CLI's dev server; its client drives workflows directly (signals, deletes) */
  env: TestWorkflowEnvironment;
  /** closes the client, stops the workers and the server, disconnects */
  close(): Promise<void>;
}

/** A seeded database, the dev server and the real activities on workers (gateway options over a quick, always-approving default). */
export async function startSagaBackend(name: string, gateway: Partial<SimulatedGatewayOptions> = {}): Promise<SagaBackend> {
  const { db } = await freshDatabase(name);
  await seed(db);
  const initial = await initialStock(db);
  const env = await devServerEnv();
  const stopWorkers = runWorkers(
    await createWorkers(env.nativeConnection, realActivities(db, { latencyMs: 0, slowMs: 0, declineRate: 0, transientFailures: 0, ...gateway })),
  );
  const client = temporalClientAt(env.address);
  return {
    ...appsOn(db, client.temporal),
    initial,
    env,
    close: async () => {
      await client.close();
      await stopWorkers();
      await env.teardown();
      await db.$disconnect();
    },
  };
}
