/**
 * Options for a production-like stack of a test's own (scripts/prod-like/stack.ts):
 * its data in a fresh temp dir, every port free, the membership ports in the
 * range the server's schema stores.
 */
import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { configSchema } from '../../platform/config';
import type { ProdLikeOptions } from '../../scripts/prod-like/stack';
import { freeMembershipPort } from '../../scripts/prod-like/temporal';
import { freePort } from './ports';

export async function prodLikeTestOptions(prefix: string): Promise<{ dir: string; options: ProdLikeOptions }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o755); // PostgreSQL runs as its own OS user below it
  const config = configSchema.parse({
    ...process.env,
    PG_PORT: await freePort(),
    TEMPORAL_PORT: await freePort(),
    TEMPORAL_UI_PORT: await freePort(),
    PORT: await freePort(),
    CODEC_PORT: await freePort(),
    DATABASE_URL: undefined,
    TEMPORAL_ADDRESS: undefined,
  });
  const temporalPorts = {
    frontend: config.TEMPORAL_PORT,
    frontendHttp: await freePort(),
    history: await freePort(),
    matching: await freePort(),
    worker: await freePort(),
    // cluster_membership.rpc_port is a SMALLINT: ephemeral ports (32768+) do not fit
    frontendMembership: await freeMembershipPort(),
    historyMembership: await freeMembershipPort(),
    matchingMembership: await freeMembershipPort(),
    workerMembership: await freeMembershipPort(),
    metrics: await freePort(),
  };
  return { dir, options: { config, dataDir: dir, temporalPorts } };
}
