/**
 * Options for a production-like stack of a test's own (scripts/prod-like/stack.ts):
 * its data in a fresh temp dir, every port free, the membership ports in the
 * range the server's schema stores.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isolatedStackConfig } from '../../scripts/stack';
import type { ProdLikeOptions } from '../../scripts/prod-like/stack';
import { freePort } from './ports';

export async function prodLikeTestOptions(prefix: string): Promise<{ dir: string; options: ProdLikeOptions }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  // the stack's own settings on free ports (scripts/stack.ts); the production-like stack keeps its data in `dir`
  const config = await isolatedStackConfig(dir, process.env);
  const temporalPorts = {
    frontend: config.TEMPORAL_PORT,
    frontendHttp: await freePort(),
    history: await freePort(),
    matching: await freePort(),
    worker: await freePort(),
    // cluster_membership.rpc_port is a SMALLINT: ephemeral ports (32768+) do not fit
    frontendMembership: await freePort(),
    historyMembership: await freePort(),
    matchingMembership: await freePort(),
    workerMembership: await freePort(),
    metrics: await freePort(),
  };
  return { dir, options: { config, dataDir: dir, temporalPorts } };
}
