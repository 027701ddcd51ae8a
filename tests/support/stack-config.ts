import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import type { Config } from '../../platform/config';
import { isolatedStackConfig } from '../../scripts/stack';

/**
 * The configuration of a whole stack of its own for one test file: a new
 * temporary folder (embedded PostgreSQL data, the dev server's history file)
 * and free ports, never DATABASE_URL/TEMPORAL_ADDRESS from the environment.
 */
export async function testStackConfig(prefix: string, overrides: Record<string, unknown> = {}): Promise<{ dir: string; config: Config }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const config = await isolatedStackConfig(dir, { ...process.env, TEMPORAL_CLI_PATH: inject('temporalCli'), ...overrides });
  return { dir, config };
}
