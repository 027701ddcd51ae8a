import { seed } from '../../../prisma/seed';
import { freshDatabase } from '../../support/db';
import { appsOn, unreachableTemporal, type AppBackend } from './harness';

/**
 * What the API suites that run no saga stand on: a fresh database of their
 * own and a Temporal client nobody answers (nothing they do may need Temporal).
 */
export interface OfflineBackend extends AppBackend {
  url: string;
  /** closes the client, disconnects */
  close(): Promise<void>;
}

/** A fresh database, seeded with the catalog when asked, and an unreachable Temporal. */
export async function startOfflineBackend(name: string, { seeded = false } = {}): Promise<OfflineBackend> {
  const { db, url } = await freshDatabase(name);
  if (seeded) await seed(db);
  const unreachable = await unreachableTemporal();
  return {
    ...appsOn(db, unreachable.temporal),
    url,
    close: async () => {
      await unreachable.close();
      await db.$disconnect();
    },
  };
}
