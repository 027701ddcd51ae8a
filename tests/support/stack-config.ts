import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { configSchema, type Config } from '../../platform/config';
import { freePort } from './ports';

/**
 * The configuration of a whole stack of its own for one test file: a new
 * temporary folder (embedded PostgreSQL data, the dev server's history file)
 * and free ports, never DATABASE_URL/TEMPORAL_ADDRESS from the environment.
 */
export async function testStackConfig(prefix: string, overrides: Record<string, unknown> = {}): Promise<{ dir: string; config: Config }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o755); // PostgreSQL runs as its own OS user below it
  const config = configSchema.parse({
    ...process.env,
    PG_DATA_DIR: path.join(dir, 'pg'),
    PG_PORT: await freePort(),
    TEMPORAL_DB_FILE: path.join(dir, 'temporal.sqlite'),
    TEMPORAL_PORT: await freePort(),
    TEMPORAL_UI_PORT: await freePort(),
    PORT: await freePort(),
    TEMPORAL_CLI_PATH: inject('temporalCli'),
    DATABASE_URL: undefined,
    TEMPORAL_ADDRESS: undefined,
    ...overrides,
  });
  return { dir, config };
}
