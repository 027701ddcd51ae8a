import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { removeDataDir, startEmbeddedPostgres, type EmbeddedPostgres } from '../../platform/embedded-postgres';
import { ensureTctl, ensureTemporalCli, ensureTestServer } from '../../scripts/tools/provision';
import { freePort } from './ports';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    temporalCli: string;
    testServer: string;
    /** the legacy CLI, as operators run it against the stack */
    tctl: string;
  }
}

let pg: EmbeddedPostgres | undefined;
let dataDir = '';

/**
 * Once per `npm test`: provision the real tools (failing loudly with how to
 * get them) and start one throwaway real PostgreSQL the suites make their own
 * databases in.
 */
export async function setup(project: TestProject): Promise<void> {
  const log = (m: string) => console.log(`[test setup] ${m}`);
  project.provide('temporalCli', await ensureTemporalCli(log));
  project.provide('testServer', await ensureTestServer(log));
  project.provide('tctl', await ensureTctl(log));
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'orders-test-pg-'));
  pg = await startEmbeddedPostgres({ dataDir, port: await freePort(), ephemeral: true });
  project.provide('pgAdminUrl', pg.adminUrl);
}

export async function teardown(): Promise<void> {
  await pg?.stop();
  if (dataDir) await removeDataDir(dataDir); // and the folder it links to, if it had to be kept elsewhere
}
