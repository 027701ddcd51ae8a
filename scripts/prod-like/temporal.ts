/**
 * The real Temporal server of the production-like mode: its PostgreSQL
 * databases and schema (set up with temporal-sql-tool, as an operator would),
 * and the server process itself, configured by
 * temporal-config/server/prod-like.yaml through environment variables.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { Connection } from '@temporalio/client';
import { grpc } from '@temporalio/proto';
import { ROOT } from '../../platform/config';
import { stopChild } from '../../platform/child-process';
import type { TemporalServerTools } from '../tools/provision';

const run = promisify(execFile);
type Log = (msg: string) => void;

/** the SQL plugin the server and the schema tool use (`postgres12_pgx` works too) */
export const SQL_PLUGIN = 'postgres12';
export const TEMPORAL_DB = 'temporal';
export const TEMPORAL_VISIBILITY_DB = 'temporal_visibility';
/** the role the Temporal server connects as; it owns its two databases */
export const TEMPORAL_PG_USER = 'temporal';
/** persistence.numHistoryShards: fixed for the life of a cluster (see docs/prod-like.md) */
export const NUM_HISTORY_SHARDS = 4;
export const SERVER_CONFIG_DIR = 'temporal-config/server';
export const SERVER_CONFIG_ENV = 'prod-like';
export const DYNAMIC_CONFIG_FILE = path.join(ROOT, 'temporal-config', 'dynamicconfig.yaml');

export interface TemporalServerPorts {
  /** gRPC for clients, workers and the CLI */
  frontend: number;
  /** Temporal's HTTP API (`/api/v1/...`) on the frontend */
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  /** ringpop membership, one per service */
  frontendMembership: number;
  historyMembership: number;
  matchingMembership: number;
  workerMembership: number;
  /** Prometheus /metrics; 0 = off */
  metrics: number;
}

/** Temporal's usual layout around a frontend port (7233 → 7234, 7235, 7239, 7243, 6933...). */
export function defaultPorts(frontend = 7233): TemporalServerPorts {
  return {
    frontend,
    frontendHttp: frontend + 10,
    history: frontend + 1,
    matching: frontend + 2,
    worker: frontend + 6,
    frontendMembership: frontend - 300,
    historyMembership: frontend - 299,
    matchingMembership: frontend - 298,
    workerMembership: frontend - 294,
    metrics: 0,
  };
}

export interface PostgresTarget {
  host: string;
  port: number;
  /** a superuser connection (to create the role); the embedded server's adminUrl */
  adminUrl: string;
}

/**
 * Role, databases and schema for Temporal, idempotent (every start runs it;
 * an up-to-date schema is left alone, a newer server's schema versions are
 * applied): `create-database`, `setup-schema -v 0.0`, `update-schema -d
 * <versioned dir>` for the default store and for visibility.
 */
export async function setupTemporalSchema(tools: TemporalServerTools, target: PostgresTarget, log: Log): Promise<{ temporal: string; visibility: string }> {
  const client = new pg.Client({ connectionString: target.adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [TEMPORAL_PG_USER]);
    if (!rowCount) {
      await client.query(`CREATE ROLE ${client.escapeIdentifier(TEMPORAL_PG_USER)} LOGIN CREATEDB`);
      log(`created PostgreSQL role ${TEMPORAL_PG_USER}`);
    }
  } finally {
    await client.end();
  }
  const sql = async (database: string, ...args: string[]) => {
    const argv = ['--plugin', SQL_PLUGIN, '--endpoint', target.host, '--port', String(target.port), '--user', TEMPORAL_PG_USER, '--database', database, ...args];
    try {
      const { stdout, stderr } = await run(tools.sqlTool, argv, { maxBuffer: 16 * 1024 * 1024 });
      return stdout + stderr;
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(`temporal-sql-tool ${argv.join(' ')} failed:\n${(e.stdout ?? '') + (e.stderr ?? '') || e.message}`, { cause: err });
    }
  };
  const versions: Record<string, string> = {};
  for (const [database, dir] of [
    [TEMPORAL_DB, 'temporal'],
    [TEMPORAL_VISIBILITY_DB, 'visibility'],
  ] as const) {
    await sql(database, 'create-database');
    await sql(database, 'setup-schema', '-v', '0.0');
    await sql(database, 'update-schema', '-d', path.join(tools.postgresSchemaDir, dir, 'versioned'));
    versions[dir] = await schemaVersion(target.adminUrl, database);
  }
  log(`Temporal schema on PostgreSQL: ${TEMPORAL_DB} v${versions.temporal}, ${TEMPORAL_VISIBILITY_DB} v${versions.visibility}`);
  return { temporal: versions.temporal, visibility: versions.visibility };
}

async function schemaVersion(adminUrl: string, database: string): Promise<string> {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ curr_version: string }>('SELECT curr_version FROM schema_version LIMIT 1');
    return rows[0]?.curr_version ?? '?';
  } finally {
    await client.end();
  }
}

/** The variables temporal-config/server/prod-like.yaml reads. */
export function serverEnvironment(ports: TemporalServerPorts, target: Pick<PostgresTarget, 'host' | 'port'>, logLevel: string): Record<string, string> {
  return {
    TEMPORAL_LOG_LEVEL: logLevel,
    TEMPORAL_NUM_HISTORY_SHARDS: String(NUM_HISTORY_SHARDS),
    TEMPORAL_SQL_PLUGIN: SQL_PLUGIN,
    TEMPORAL_DB,
    TEMPORAL_VISIBILITY_DB,
    TEMPORAL_PG_HOST: target.host,
    TEMPORAL_PG_PORT: String(target.port),
    TEMPORAL_PG_USER,
    TEMPORAL_PG_PASSWORD: '',
    TEMPORAL_BIND_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    TEMPORAL_FRONTEND_PORT: String(ports.frontend),
    TEMPORAL_FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    TEMPORAL_FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    TEMPORAL_HISTORY_PORT: String(ports.history),
    TEMPORAL_HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    TEMPORAL_MATCHING_PORT: String(ports.matching),
    TEMPORAL_MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    TEMPORAL_WORKER_PORT: String(ports.worker),
    TEMPORAL_WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
    TEMPORAL_METRICS_PORT: String(ports.metrics),
    TEMPORAL_DYNAMIC_CONFIG_FILE: DYNAMIC_CONFIG_FILE,
  };
}

/** The argv that starts the server (all four services in this one process). */
export const serverArgs = (): string[] => ['--root', ROOT, '--config', SERVER_CONFIG_DIR, '--env', SERVER_CONFIG_ENV, '--allow-no-auth', 'start'];

/**
 * Waits until the frontend answers GetSystemInfo and its gRPC health check
 * says SERVING (history and matching have joined the ring by then).
 */
export async function waitForTemporalServer(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Temporal server exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        const health = await connection.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' });
        if (health.status === grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING) return;
        last = `health status ${health.status}`;
      } finally {
        await connection.close();
      }
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`Temporal server at ${address} not ready after ${timeoutMs} ms: ${last}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Hands each non-empty output line of a child to `onLine`. */
export function pipeLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream?.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) if (line.trim()) onLine(line);
    });
  }
}

export interface RunningTemporalServer {
  address: string;
  process: ChildProcess;
  /** true when it had to be killed */
  stop(): Promise<boolean>;
}

/** Starts the server as our child process and waits until it serves. */
export async function startTemporalServer(options: {
  tools: TemporalServerTools;
  ports: TemporalServerPorts;
  postgres: Pick<PostgresTarget, 'host' | 'port'>;
  logLevel?: string;
  /** each output line of the server */
  onLine?: (line: string) => void;
  readyTimeoutMs?: number;
}): Promise<RunningTemporalServer> {
  const { tools, ports, postgres, logLevel = 'warn', onLine = () => undefined, readyTimeoutMs = 90_000 } = options;
  const child = spawn(tools.server, serverArgs(), {
    cwd: ROOT,
    env: { ...process.env, ...serverEnvironment(ports, postgres, logLevel) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  pipeLines(child, (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    onLine(line);
  });
  // the server drains and hands its shards over on SIGTERM; give it a while
  const stop = () => stopChild(child, 20_000);
  const address = `127.0.0.1:${ports.frontend}`;
  try {
    await waitForTemporalServer(address, child, readyTimeoutMs);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}; its last output:\n${tail.join('\n')}`, { cause: err });
  }
  return { address, process: child, stop };
}

/** Config of the Web UI server: temporal-config/ui/prod-like.yaml (the temporalio/ui image's variables). */
export const UI_CONFIG_DIR = 'temporal-config/ui';

export interface RunningTemporalUi {
  url: string;
  process: ChildProcess;
  /** true when it had to be killed */
  stop(): Promise<boolean>;
}

/** Temporal's Web UI server in front of the frontend at `address`; resolves once it answers. */
export async function startTemporalUi(options: {
  uiServer: string;
  address: string;
  namespace: string;
  port: number;
  /** the codec endpoint the UI decodes payloads with */
  codecEndpoint?: string;
  onLine?: (line: string) => void;
  readyTimeoutMs?: number;
}): Promise<RunningTemporalUi> {
  const { uiServer, address, namespace, port, codecEndpoint, onLine = () => undefined, readyTimeoutMs = 30_000 } = options;
  const child = spawn(uiServer, ['--root', ROOT, '--config', UI_CONFIG_DIR, '--env', SERVER_CONFIG_ENV, 'start'], {
    cwd: ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_UI_HOST: '127.0.0.1', TEMPORAL_UI_PORT: String(port), TEMPORAL_DEFAULT_NAMESPACE: namespace, TEMPORAL_CODEC_ENDPOINT: codecEndpoint ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  pipeLines(child, onLine);
  const stop = () => stopChild(child, 5_000);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Temporal UI server exited (code ${child.exitCode}) before it answered`);
    try {
      if ((await fetch(`${url}/api/v1/settings`)).ok) return { url, process: child, stop };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Temporal UI server not answering on ${url} after ${readyTimeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
