import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { applyMigrations } from '../../prisma/engine';
import { createDb, type Db } from '../../prisma/client';
import { ensureDatabase } from '../../platform/embedded-postgres';

/** A fresh, migrated database of its own for one test file. */
export async function freshDatabase(prefix = 't'): Promise<{ url: string; db: Db }> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const url = await ensureDatabase(inject('pgAdminUrl'), name);
  await applyMigrations(url);
  return { url, db: createDb(url, { poolSize: 5 }) };
}
