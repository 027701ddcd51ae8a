import path from 'node:path';
import { applyMigrations } from '../prisma/engine';
import { ROOT, type Config } from './config';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';

/**
 * DATABASE_URL when given; otherwise the embedded PostgreSQL in PG_DATA_DIR.
 * Either way the committed migrations are applied before anything uses it.
 */
export async function prepareDatabase(
  config: Config,
  log: (msg: string) => void,
): Promise<{ url: string; embedded?: EmbeddedPostgres }> {
  let url = config.DATABASE_URL;
  let embedded: EmbeddedPostgres | undefined;
  if (!url) {
    log(`starting embedded PostgreSQL on 127.0.0.1:${config.PG_PORT} (data in ${config.PG_DATA_DIR.replace(ROOT + '/', '')})`);
    embedded = await startEmbeddedPostgres({ dataDir: config.PG_DATA_DIR, port: config.PG_PORT });
    if (embedded.dataDir !== path.resolve(config.PG_DATA_DIR)) log(`PostgreSQL data is kept in ${embedded.dataDir} (linked from ${config.PG_DATA_DIR}): the clone's folder cannot be entered by its OS user`);
    url = await ensureDatabase(embedded.adminUrl, config.PG_DATABASE);
  }
  const { applied } = await applyMigrations(url, log);
  log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
  return { url, embedded };
}
