// Offline migrations: the Prisma CLI wants to download a native schema engine,
// so we drive Prisma's own WASM schema engine directly (see /work/shared/TOOLCHAIN.md).
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
} from '@prisma/driver-adapter-utils';
import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { DiffTarget, MigrationDirectory, MigrationList, SchemaFilter } from '@prisma/schema-engine-wasm/schema_engine_bg';

export const PRISMA_DIR = path.dirname(fileURLToPath(import.meta.url));
export const SCHEMA_PATH = path.join(PRISMA_DIR, 'schema.prisma');
export const MIGRATIONS_DIR = path.join(PRISMA_DIR, 'migrations');
export const MIGRATION_LOCK_FILE = 'migration_lock.toml';

const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };

// Not Prisma's own key (72707369): the engine may take that one itself on a pooled
// connection, and holding it here from another session would deadlock us.
const MIGRATE_LOCK_KEY = 7270736901;

let wasmReady: Promise<void> | undefined;

// The package is built for bundlers (it imports the .wasm as an ES module), so wire it up by hand.
function loadWasm(): Promise<void> {
  wasmReady ??= (async () => {
    const bgJs = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bytes = await readFile(path.join(path.dirname(bgJs), 'schema_engine_bg.wasm'));
    // The engine arms a ~10 s timer per run and never clears it (no clearTimeout import),
    // which would keep a finished CLI alive; unref them so only real work holds the process.
    const imports: Record<string, unknown> = { ...bg };
    for (const [key, fn] of Object.entries(bg as Record<string, unknown>)) {
      if (!key.startsWith('__wbg_setTimeout_') || typeof fn !== 'function') continue;
      imports[key] = (...args: unknown[]): unknown => {
        const timer: unknown = (fn as (...a: unknown[]) => unknown)(...args);
        (timer as { unref?: () => void } | null)?.unref?.();
        return timer;
      };
    }
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': imports as WebAssembly.ModuleImports });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start: () => void }).__wbindgen_start();
  })();
  return wasmReady;
}

type EngineLog = { level?: string; fields?: { message?: string } };

function engineLogger(log: (msg: string) => void): (line: string) => void {
  return (line) => {
    let parsed: EngineLog;
    try {
      parsed = JSON.parse(line) as EngineLog;
    } catch {
      log(`schema-engine: ${line}`);
      return;
    }
    if (parsed.level === 'WARN' || parsed.level === 'ERROR') log(`schema-engine ${parsed.level}: ${parsed.fields?.message ?? line}`);
  };
}

async function readMigrationsList(dir: string): Promise<MigrationList> {
  const names = (await readdir(dir, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const migrationDirectories: MigrationDirectory[] = await Promise.all(
    names.map(async (name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        content: await readFile(path.join(dir, name, 'migration.sql'), 'utf8').then(
          (value) => ({ tag: 'ok' as const, value }),
          (err: unknown) => ({ tag: 'error' as const, value: String(err) }),
        ),
      },
    })),
  );
  const lockContent = await readFile(path.join(dir, MIGRATION_LOCK_FILE), 'utf8').catch(() => null);
  return {
    baseDir: dir,
    lockfile: { path: MIGRATION_LOCK_FILE, content: lockContent },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}

/**
 * Applies every prisma/migrations/* folder not yet recorded in `_prisma_migrations`
 * (same table and checksums as `prisma migrate deploy`). Serialised across processes
 * by a Postgres advisory lock; closes every connection it opened before returning.
 */
export async function applyMigrations(
  databaseUrl: string,
  log: (msg: string) => void = () => {},
): Promise<{ applied: string[] }> {
  await loadWasm();
  const migrationsList = await readMigrationsList(MIGRATIONS_DIR);
  const onError = (err: Error): void => log(`postgres connection error: ${err.message}`);
  const lockClient = new pg.Client({ connectionString: databaseUrl });
  lockClient.on('error', onError);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on('error', onError);
  try {
    await lockClient.connect();
    log('waiting for migration lock');
    await lockClient.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK_KEY]);
    const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg(pool));
    const engine = await bg.SchemaEngine.new({ datamodels: undefined }, engineLogger(log), adapter);
    try {
      const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: NO_FILTERS });
      log(
        appliedMigrationNames.length
          ? `applied ${appliedMigrationNames.length} migration(s): ${appliedMigrationNames.join(', ')}`
          : `no pending migrations (${migrationsList.migrationDirectories.length} known)`,
      );
      return { applied: appliedMigrationNames };
    } finally {
      engine.free();
    }
  } finally {
    // Ending the session releases the advisory lock too.
    await lockClient.end().catch(() => {});
    await pool.end().catch(() => {});
  }
}

// The engine insists on connecting at start-up even for a datamodel-to-datamodel diff.
// This stand-in answers only its version probe and refuses anything else.
function offlineAdapterFactory(): SqlMigrationAwareDriverAdapterFactory {
  const refuse = async (q: SqlQuery | string): Promise<never> => {
    throw new Error(`diffSql runs without a database, but the engine tried: ${typeof q === 'string' ? q : q.sql}`);
  };
  const adapter: SqlDriverAdapter = {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    async queryRaw(q) {
      if (!q.sql.includes('server_version_num')) return refuse(q);
      return {
        columnNames: ['exists', 'version', 'numeric_version'],
        columnTypes: [ColumnTypeEnum.Boolean, ColumnTypeEnum.Text, ColumnTypeEnum.Int32],
        rows: [[true, 'PostgreSQL 16.0 (offline diff)', 160000]],
      };
    },
    executeRaw: refuse,
    executeScript: refuse,
    startTransaction: () => refuse('BEGIN'),
    async dispose() {},
  };
  return {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: async () => adapter,
    connectToShadowDb: async () => adapter,
  };
}

function datamodelTarget(schemaText: string | null): DiffTarget {
  return schemaText === null
    ? { tag: 'empty' }
    : { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: schemaText }] };
}

/** SQL that turns datamodel `from` (null = empty database) into `to`; '' when they are equivalent. */
export async function diffSql(fromSchemaText: string | null, toSchemaText: string): Promise<string> {
  await loadWasm();
  const adapter = bindMigrationAwareSqlAdapterFactory(offlineAdapterFactory());
  const engine = await bg.SchemaEngine.new({ datamodels: undefined }, () => {}, adapter);
  try {
    const result = await engine.diff({
      from: datamodelTarget(fromSchemaText),
      to: datamodelTarget(toSchemaText),
      script: true,
      exitCode: true, // 2 = non-empty diff, otherwise stdout is only an "empty migration" comment
      filters: NO_FILTERS,
    });
    return result.exitCode === 2 ? (result.stdout ?? '') : '';
  } finally {
    engine.free();
  }
}
