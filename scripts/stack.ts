/**
 * Boots the whole platform as child processes of one parent: embedded
 * PostgreSQL (unless DATABASE_URL), the Temporal dev server with its Web UI
 * (unless TEMPORAL_ADDRESS), one worker process per bounded context and the
 * HTTP API. `stop()` takes everything down and leaves no process behind.
 * Used by `npm start` and by the end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { createDb } from '../prisma/client';
import { seed } from '../prisma/seed';
import { ROOT, stackConfig, temporalAddress, type Config } from '../platform/config';
import { prepareDatabase } from '../platform/database';
import { developmentSecrets, SECRET_NAMES, type SecretName } from '../platform/secrets';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../platform/embedded-postgres';
import { STOP_GRACE_MS, stopChild } from '../platform/child-process';
import { devServerFlags } from '../temporal-config/dev-server';
import { freePort } from './ports';
import { ensureTemporalCli } from './tools/provision';

export { freePort };

export interface Stack {
  apiUrl: string;
  uiUrl?: string;
  temporalAddress: string;
  databaseUrl: string;
  temporalCli?: string;
  /** the API's codec endpoint (POST .../decode, .../encode) for the Web UI and the CLIs; undefined when CODEC_PORT=0 */
  codecUrl?: string;
  /** the worker child processes by context, for tests that kill and restart them */
  workers: Map<string, ChildProcess>;
  /** Prometheus endpoint (http://host:port/metrics) of each context's worker; empty unless `workerMetrics` */
  workerMetrics: Map<string, string>;
  /** the secrets the API and workers run with (from the environment, else made in development mode) */
  secrets: Record<SecretName, string>;
  /** the API's Prometheus endpoint on its own port (API_METRICS_PORT, else a free one with `workerMetrics`); '' when off */
  apiMetricsUrl: string;
  /** the Temporal dev server's Prometheus endpoint (its persistence and task metrics), when the stack runs it */
  temporalMetricsUrl?: string;
  /** every process the stack runs now, by name (api, worker:<context>, temporal, postgres): for the benchmark's CPU and memory figures */
  processes(): { name: string; pid: number }[];
  startWorker(context: string, env?: NodeJS.ProcessEnv): ChildProcess;
  /** stops one context's worker (SIGKILL = a crash: no graceful shutdown) without counting it as a crash of the stack */
  stopWorker(context: string, signal?: NodeJS.Signals): Promise<void>;
  /** the Temporal dev server, when the stack runs it (fault tests stop and start it; its history file persists) */
  stopTemporal(signal?: NodeJS.Signals): Promise<void>;
  startTemporal(): Promise<void>;
  /** the embedded PostgreSQL, when the stack runs it (its data directory persists) */
  stopPostgres(): Promise<void>;
  startPostgres(): Promise<void>;
  /**
   * stops everything in order (API, workers, Temporal, PostgreSQL), each within STOP_GRACE_MS;
   * answers the names of the processes that had to be killed
   */
  stop(): Promise<string[]>;
  /** resolves if a child exits on its own (the stack is then broken) */
  crashed: Promise<string>;
}

export interface StackOptions {
  config: Config;
  log?: (msg: string) => void;
  /** where each child's output goes; default: prefixed onto our stdout */
  output?: (name: string, line: string) => void;
  /** extra environment for workers and API */
  env?: NodeJS.ProcessEnv;
  /**
   * give each worker a Prometheus endpoint (WORKER_METRICS_PORT): ports
   * config.WORKER_METRICS_PORT, +1, ... in WORKERS order when it is set,
   * free ports otherwise; a restarted worker keeps its context's port
   */
  workerMetrics?: boolean;
  /** extra Node.js flags for the API and the workers (the benchmark's `--cpu-prof`) */
  nodeArgs?: string[];
  /**
   * the files the API and the worker processes run (default api/server.ts, workers/main.ts): the fault suite's
   * workers and the benchmark's API add their hooks this way, outside the product's code
   */
  entries?: { api?: string; worker?: string };
  /** aborting it while the stack boots stops whatever has started and rejects (Ctrl-C during `npm start`'s boot) */
  signal?: AbortSignal;
}

/** Throws when the start-up has been aborted (between boot phases and in their waits). */
export const interrupted = (signal?: AbortSignal) => {
  if (signal?.aborted) throw new Error('start-up interrupted');
};

const tsx = (file: string, args: string[] = [], nodeArgs: string[] = []) => [process.execPath, [...nodeArgs, '--import', 'tsx', path.join(ROOT, file), ...args]] as const;

async function waitForTemporal(address: string, child: ChildProcess | undefined, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    interrupted(signal);
    if (child && child.exitCode !== null) throw new Error(`Temporal dev server exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
      } finally {
        await connection.close(); // awaited call: no retry is pending by now
      }
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Temporal at ${address} not reachable after ${timeoutMs} ms: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    interrupted(signal);
    if (child.exitCode !== null) throw new Error(`${url} process exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not answering after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The configuration of a stack of its own in `dir` (embedded PostgreSQL data,
 * the dev server's history file) on free ports, never DATABASE_URL or
 * TEMPORAL_ADDRESS from `env`: the test suites' and the benchmark's stacks.
 */
export async function isolatedStackConfig(dir: string, env: Record<string, unknown>): Promise<Config> {
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755); // PostgreSQL runs as its own OS user below it
  return stackConfig.parse({
    ...env,
    PG_DATA_DIR: path.join(dir, 'pg'),
    PG_PORT: await freePort(),
    TEMPORAL_DB_FILE: path.join(dir, 'temporal.sqlite'),
    SECRETS_FILE: path.join(dir, 'secrets.env'),
    TEMPORAL_PORT: await freePort(),
    TEMPORAL_UI_PORT: await freePort(),
    PORT: await freePort(),
    CODEC_PORT: await freePort(),
    DATABASE_URL: undefined,
    TEMPORAL_ADDRESS: undefined,
  });
}

/** Where a browser or the CLI on this machine reaches the API's codec endpoint (CODEC_PORT). */
export const codecEndpoint = (config: Pick<Config, 'HOST' | 'CODEC_PORT'>): string =>
  `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${config.CODEC_PORT}`;

export async function startStack({ config, log = console.log, output, env = {}, workerMetrics: withWorkerMetrics = false, nodeArgs = [], entries = {}, signal }: StackOptions): Promise<Stack> {
  const children: { name: string; child: ChildProcess }[] = [];
  const stopping = { value: false };
  /** children stopped on purpose (a fault test, a restart): their exit is no crash */
  const expected = new WeakSet<ChildProcess>();
  let onCrash: (name: string) => void = () => undefined;
  const crashed = new Promise<string>((resolve) => (onCrash = resolve));
  const print = output ?? ((name: string, line: string) => process.stdout.write(`${name.padEnd(22)}| ${line}\n`));

  const launch = (name: string, cmd: string, args: readonly string[], childEnv: NodeJS.ProcessEnv): ChildProcess => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...childEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      let buf = '';
      stream.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        // once asked to stop, the dev server's services complain about each other going away: expected, not shown
        for (const line of lines) if (line.trim() && !(stopping.value && name === 'temporal')) print(name, line);
      });
    }
    child.once('exit', (code, signal) => {
      const i = children.findIndex((c) => c.child === child);
      if (i >= 0) children.splice(i, 1);
      if (!stopping.value && !expected.has(child)) {
        log(`${name} exited unexpectedly (code ${code}, signal ${signal})`);
        onCrash(name);
      }
    });
    children.push({ name, child });
    return child;
  };
  const stopOnPurpose = (child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM') => {
    if (!child) return Promise.resolve();
    expected.add(child);
    if (signal === 'SIGTERM') return stopChild(child).then(() => undefined);
    return new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  };

  let embedded: EmbeddedPostgres | undefined;
  let stopped: Promise<string[]> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping.value = true;
      const killed: string[] = [];
      // API first (no new work), then workers, then Temporal, then the database.
      for (const prefix of ['api', 'worker', 'temporal']) {
        const tier = children.filter((c) => c.name.startsWith(prefix));
        const forced = await Promise.all(tier.map((c) => stopChild(c.child)));
        killed.push(...tier.filter((_, i) => forced[i]).map((c) => c.name));
      }
      if (await embedded?.stop(STOP_GRACE_MS)) killed.push('postgres');
      return killed;
    })());

  try {
    // 1. database
    const database = await prepareDatabase(config, log);
    const watchPostgres = (pg: EmbeddedPostgres) =>
      pg.process.once('exit', () => !stopping.value && !expected.has(pg.process) && onCrash('postgres'));
    embedded = database.embedded;
    if (embedded) watchPostgres(embedded);
    const db = createDb(database.url, { poolSize: 2 });
    const { created } = await seed(db);
    await db.$disconnect();
    log(created ? `seeded ${created} demo products` : 'demo catalog already present');
    interrupted(signal);

    // 2. Temporal
    let temporalCli: string | undefined;
    let uiUrl: string | undefined;
    let temporal: ChildProcess | undefined;
    let temporalMetricsUrl: string | undefined;
    const address = temporalAddress(config);
    const startTemporal = async () => {
      if (config.TEMPORAL_ADDRESS) throw new Error('Temporal is external (TEMPORAL_ADDRESS): this stack does not run it');
      temporalCli ??= await ensureTemporalCli(log);
      await mkdir(path.dirname(config.TEMPORAL_DB_FILE), { recursive: true });
      const metricsPort = await freePort();
      temporalMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
      const args = [
        'server', 'start-dev',
        '--ip', '127.0.0.1',
        '--port', String(config.TEMPORAL_PORT),
        '--ui-port', String(config.TEMPORAL_UI_PORT),
        '--namespace', config.TEMPORAL_NAMESPACE,
        '--db-filename', config.TEMPORAL_DB_FILE,
        '--log-level', 'warn',
        '--metrics-port', String(metricsPort),
        // the Web UI decodes encrypted payloads through the API's codec endpoint
        ...(config.CODEC_PORT ? ['--ui-codec-endpoint', codecEndpoint(config)] : []),
        ...devServerFlags(config.TEMPORAL_DYNAMIC_CONFIG.split(',').map((p) => p.trim()).filter(Boolean)),
        ...config.TEMPORAL_SQLITE_PRAGMAS.split(',').map((p) => p.trim()).filter(Boolean).flatMap((p) => ['--sqlite-pragma', p]),
      ];
      log(`starting Temporal dev server on ${address} (history in ${path.relative(ROOT, config.TEMPORAL_DB_FILE)})`);
      temporal = launch('temporal', temporalCli, args, {});
      await waitForTemporal(address, temporal, 60_000, signal);
    };
    if (!config.TEMPORAL_ADDRESS) {
      await startTemporal();
      uiUrl = `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`;
    } else {
      await waitForTemporal(address, undefined, 30_000, signal);
    }

    // 3. workers, one process per bounded context
    // Children write JSON lines; pretty ones when we print them to a terminal in development.
    const logFormat = env.LOG_FORMAT ?? process.env.LOG_FORMAT ?? (!output && process.stdout.isTTY && config.NODE_ENV === 'development' ? 'pretty' : undefined);
    // development mode: secrets the environment does not give are made once and kept in SECRETS_FILE
    const secrets = await developmentSecrets(config.SECRETS_FILE, { ...process.env, ...env });
    const childEnv = {
      ...secrets,
      ...env,
      ...(logFormat ? { LOG_FORMAT: logFormat } : {}),
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
    };
    const listed = config.WORKERS.split(',').map((s) => s.trim()).filter(Boolean);
    // per-context: one process per bounded context; one: a single process named "all" runs them all (each on its own task queue)
    const contexts = config.WORKER_PROCESSES === 'one' && listed.length > 1 ? ['all'] : listed;
    const metricsPorts = new Map<string, number>();
    if (withWorkerMetrics) {
      for (const [i, context] of contexts.entries()) metricsPorts.set(context, config.WORKER_METRICS_PORT ? config.WORKER_METRICS_PORT + i : await freePort());
    }
    const metricsHost = config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST;
    const workerMetrics = new Map([...metricsPorts].map(([context, port]) => [context, `http://${metricsHost}:${port}/metrics`]));
    const workers = new Map<string, ChildProcess>();
    const startWorker = (context: string, extraEnv: NodeJS.ProcessEnv = {}) => {
      const [cmd, args] = tsx(entries.worker ?? 'workers/main.ts', [context === 'all' ? listed.join(',') : context], nodeArgs);
      const port = metricsPorts.get(context);
      const child = launch(`worker:${context}`, cmd, args, {
        ...childEnv,
        // one port per process: an inherited WORKER_METRICS_PORT would make every worker bind the same one
        WORKER_METRICS_PORT: port ? String(port) : '0',
        ...(port ? { HOST: config.HOST } : {}),
        ...extraEnv,
      });
      workers.set(context, child);
      return child;
    };
    // the API's metrics are not on its public port: a port of their own, like the workers' (chosen before any child starts)
    const apiMetricsPort = config.API_METRICS_PORT || (withWorkerMetrics ? await freePort() : 0);
    interrupted(signal);
    for (const context of contexts) startWorker(context);

    // 4. HTTP API
    const [cmd, args] = tsx(entries.api ?? 'api/server.ts', [], nodeArgs);
    const api = launch('api', cmd, args, { ...childEnv, PORT: String(config.PORT), HOST: config.HOST, API_METRICS_PORT: String(apiMetricsPort), CODEC_PORT: String(config.CODEC_PORT), TEMPORAL_UI_PORT: String(config.TEMPORAL_UI_PORT) });
    const apiUrl = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${config.PORT}`;
    await waitForHttp(`${apiUrl}/health/live`, api, 60_000, signal);
    interrupted(signal);

    return {
      apiUrl,
      uiUrl,
      temporalAddress: address,
      databaseUrl: database.url,
      temporalCli,
      workers,
      workerMetrics,
      codecUrl: config.CODEC_PORT ? codecEndpoint(config) : undefined,
      secrets: Object.fromEntries(SECRET_NAMES.map((n) => [n, (childEnv as Record<string, string | undefined>)[n] ?? process.env[n]!])) as Record<SecretName, string>,
      apiMetricsUrl: apiMetricsPort ? `http://${metricsHost}:${apiMetricsPort}/metrics` : '',
      get temporalMetricsUrl() {
        return temporalMetricsUrl;
      },
      processes: () => [
        ...children.filter((c) => c.child.pid !== undefined).map((c) => ({ name: c.name, pid: c.child.pid! })),
        ...(embedded?.process.pid !== undefined && embedded.process.exitCode === null ? [{ name: 'postgres', pid: embedded.process.pid }] : []),
      ],
      startWorker,
      stopWorker: (context, signal = 'SIGTERM') => stopOnPurpose(workers.get(context), signal),
      stopTemporal: (signal = 'SIGTERM') => stopOnPurpose(temporal, signal),
      startTemporal,
      stopPostgres: async () => {
        if (!embedded) throw new Error('PostgreSQL is external (DATABASE_URL): this stack does not run it');
        expected.add(embedded.process);
        await embedded.stop();
      },
      startPostgres: async () => {
        if (!embedded) throw new Error('PostgreSQL is external (DATABASE_URL): this stack does not run it');
        log(`starting embedded PostgreSQL again on 127.0.0.1:${config.PG_PORT}`);
        embedded = await startEmbeddedPostgres({ dataDir: config.PG_DATA_DIR, port: config.PG_PORT });
        watchPostgres(embedded);
      },
      stop,
      crashed,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
