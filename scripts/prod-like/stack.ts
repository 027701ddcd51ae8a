/**
 * The production-like mode: the same application processes `npm start` runs,
 * but against a real Temporal server instead of the CLI's dev server:
 *
 *   embedded PostgreSQL 18 (its own data directory)
 *     ├─ databases temporal + temporal_visibility (role temporal), schema by temporal-sql-tool
 *     └─ database orders (the domain, Prisma migrations)
 *   temporal-server v1.29.1 (frontend, history, matching, worker services; config
 *     temporal-config/server/prod-like.yaml, dynamic config temporal-config/dynamicconfig.yaml)
 *   namespace + search attributes (temporal-config/setup-namespace.sh)
 *   Temporal Web UI server (optional)
 *   N worker processes per bounded context (same task queue: they share the work)
 *   the HTTP API
 *
 * Everything is a child of this process; stop() takes it all down in order
 * (API, workers, UI, Temporal server, PostgreSQL).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { ROOT, type Config } from '../../platform/config';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedPostgres } from '../../platform/embedded-postgres';
import { ensureNamespace } from '../../temporal-config/namespace';
import { ensureTemporalCli, ensureTemporalServer, type TemporalServerTools } from '../tools/provision';
import { STOP_GRACE_MS } from '../../platform/child-process';
import { codecEndpoint, interrupted, startStack, type Stack } from '../stack';
import {
  defaultPorts,
  setupTemporalSchema,
  startTemporalServer,
  startTemporalUi,
  type RunningTemporalServer,
  type RunningTemporalUi,
  type TemporalServerPorts,
} from './temporal';

export interface ProdLikeOptions {
  /** the application's config (PORT, HOST, PG_PORT, PG_DATABASE, TEMPORAL_PORT = frontend, TEMPORAL_UI_PORT, TEMPORAL_NAMESPACE, WORKERS) */
  config: Config;
  /** PostgreSQL's data directory lives in `<dataDir>/postgres`; default .data/prod-like */
  dataDir?: string;
  /** default: Temporal's usual layout around config.TEMPORAL_PORT */
  temporalPorts?: TemporalServerPorts;
  /** worker processes per bounded context (they poll the same task queue); default 2 */
  workersPerQueue?: number;
  /** run the Temporal Web UI server too (on config.TEMPORAL_UI_PORT); default true */
  ui?: boolean;
  /** the Temporal server's own log level; default warn */
  temporalLogLevel?: string;
  /** the `temporal` CLI; default: provisioned like `npm start` does */
  temporalCli?: string;
  log?: (msg: string) => void;
  output?: (name: string, line: string) => void;
  /** extra environment for workers and API */
  env?: NodeJS.ProcessEnv;
  /** aborting it while the stack boots stops whatever has started and rejects (Ctrl-C during the boot) */
  signal?: AbortSignal;
}

export interface ProdLikeStack {
  /** the application part (API + workers), as scripts/stack.ts runs it */
  app: Stack;
  apiUrl: string;
  temporalAddress: string;
  /** the Temporal server's HTTP API (frontend httpPort) */
  temporalHttpUrl: string;
  uiUrl?: string;
  databaseUrl: string;
  /** superuser URL of the embedded PostgreSQL (databases temporal, temporal_visibility, orders) */
  postgresAdminUrl: string;
  namespace: string;
  temporalCli: string;
  tools: TemporalServerTools;
  ports: TemporalServerPorts;
  /** every worker process by context (workersPerQueue each) */
  workerProcesses: Map<string, ChildProcess[]>;
  /**
   * Stops the Temporal server (SIGTERM: it drains), re-runs the schema and
   * namespace setup (both idempotent) and starts it again on the same ports
   * and databases: everything in flight must carry on.
   */
  restartTemporal(): Promise<{ schema: { temporal: string; visibility: string }; namespaceCreated: boolean }>;
  /** seconds each phase took, for the start-up summary */
  timings: Record<string, number>;
  /** stops everything in order; answers the names of the processes that had to be killed */
  stop(): Promise<string[]>;
  /** resolves with a name if a process exits on its own */
  crashed: Promise<string>;
}

const { TaskQueueType } = proto.temporal.api.enums.v1;

/**
 * Waits until every context's task queue has `n` distinct pollers (worker
 * processes: the SDK's identity is pid@host), orders also for workflow tasks.
 */
export async function waitForPollers(address: string, namespace: string, contexts: string[], n: number, timeoutMs: number, signal?: AbortSignal): Promise<Record<string, string[]>> {
  const connection = await Connection.connect({ address });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      interrupted(signal);
      const seen: Record<string, string[]> = {};
      for (const queue of contexts) {
        const types = queue === 'orders' ? [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY] : [TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY];
        let fewest: string[] | undefined;
        for (const taskQueueType of types) {
          const res = await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: queue }, taskQueueType });
          const identities = [...new Set((res.pollers ?? []).map((p) => p.identity ?? ''))].sort();
          if (!fewest || identities.length < fewest.length) fewest = identities;
        }
        seen[queue] = fewest!;
      }
      if (Object.values(seen).every((ids) => ids.length >= n)) return seen;
      if (Date.now() > deadline) {
        throw new Error(`not every task queue has ${n} worker processes polling after ${timeoutMs} ms: ${JSON.stringify(seen)}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await connection.close();
  }
}

export async function startProdLikeStack(options: ProdLikeOptions): Promise<ProdLikeStack> {
  const { config, log = console.log, env = {}, signal } = options;
  const dataDir = path.resolve(options.dataDir ?? path.join(ROOT, '.data', 'prod-like'));
  const ports = options.temporalPorts ?? defaultPorts(config.TEMPORAL_PORT);
  const workersPerQueue = options.workersPerQueue ?? 2;
  const print = options.output ?? ((name: string, line: string) => process.stdout.write(`${name.padEnd(22)}| ${line}\n`));
  const timings: Record<string, number> = {};
  let phaseStart = Date.now();
  // every phase ends by checking for an abort: a long one (a Go build, the server's start) is stopped right after
  const phase = (name: string) => {
    timings[name] = Math.round((Date.now() - phaseStart) / 100) / 10;
    phaseStart = Date.now();
    interrupted(signal);
  };

  let stopping = false;
  const expectedExit = new WeakSet<ChildProcess>();
  let onCrash: (name: string) => void = () => undefined;
  const crashed = new Promise<string>((resolve) => (onCrash = resolve));
  const watch = (name: string, child: ChildProcess) =>
    child.once('exit', (code, signal) => {
      if (stopping || expectedExit.has(child)) return;
      log(`${name} exited unexpectedly (code ${code}, signal ${signal})`);
      onCrash(name);
    });

  let postgres: EmbeddedPostgres | undefined;
  let server: RunningTemporalServer | undefined;
  let serverStopping = false;
  let ui: RunningTemporalUi | undefined;
  let app: Stack | undefined;
  let restartTemporal: ProdLikeStack['restartTemporal'] = () => Promise.reject(new Error('not started'));
  let stopped: Promise<string[]> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping = true;
      const killed = (await app?.stop()) ?? []; // API, then workers
      if (await ui?.stop()) killed.push('temporal-ui');
      serverStopping = true;
      if (await server?.stop()) killed.push('temporal-server');
      if (await postgres?.stop(STOP_GRACE_MS)) killed.push('postgres');
      return killed;
    })());

  try {
    interrupted(signal);
    // 1. binaries (built once from Go modules, cached in .tools/)
    const tools = await ensureTemporalServer(log);
    const temporalCli = options.temporalCli ?? (await ensureTemporalCli(log));
    phase('tools');

    // 2. PostgreSQL: Temporal's two databases and the domain database
    const pgDir = path.join(dataDir, 'postgres');
    await mkdir(dataDir, { recursive: true });
    log(`starting embedded PostgreSQL on 127.0.0.1:${config.PG_PORT} (data in ${pgDir.startsWith(ROOT + path.sep) ? path.relative(ROOT, pgDir) : pgDir})`);
    // Its log is mostly the expected ERRORs of idempotent setup ("database ... already exists",
    // the server's own insert-if-absent); only what ends a session or the server is shown.
    const pgLog = (text: string) => {
      for (const line of text.split('\n')) if (!stopping && /\b(FATAL|PANIC):/.test(line)) print('postgres', line);
    };
    postgres = await startEmbeddedPostgres({ dataDir: pgDir, port: config.PG_PORT, onLog: pgLog });
    watch('postgres', postgres.process);
    phase('postgres');
    const pgTarget = { host: '127.0.0.1', port: config.PG_PORT, adminUrl: postgres.adminUrl };
    await setupTemporalSchema(tools, pgTarget, log);
    const databaseUrl = config.DATABASE_URL ?? (await ensureDatabase(postgres.adminUrl, config.PG_DATABASE));
    phase('schema');

    // 3. the Temporal server (schema first: a restart re-runs the idempotent setup, as a deploy would)
    const namespace = config.TEMPORAL_NAMESPACE;
    const bootTemporal = async () => {
      log(`starting Temporal server ${tools.version} on 127.0.0.1:${ports.frontend} (persistence and visibility on PostgreSQL)`);
      serverStopping = false;
      const started = await startTemporalServer({
        tools,
        ports,
        postgres: pgTarget,
        logLevel: options.temporalLogLevel ?? 'warn',
        // once asked to stop, its services complain about each other going away: expected, not shown
        onLine: (l) => serverStopping || print('temporal-server', l),
      });
      watch('temporal-server', started.process);
      return started;
    };
    const setupNamespace = async () => {
      const result = await ensureNamespace({ cli: temporalCli, address: `127.0.0.1:${ports.frontend}`, namespace, log: (m) => log(m) });
      // services pick up a namespace change at their next cache refresh (system.namespaceCacheRefreshInterval, 2 s)
      if (result.created) await new Promise((r) => setTimeout(r, 4_000));
      return result;
    };
    server = await bootTemporal();
    phase('temporal');
    await setupNamespace();
    phase('namespace');
    restartTemporal = async () => {
      const old = server!;
      expectedExit.add(old.process);
      log('restarting the Temporal server');
      serverStopping = true;
      await old.stop();
      const schema = await setupTemporalSchema(tools, pgTarget, log);
      server = await bootTemporal();
      const ns = await setupNamespace();
      return { schema, namespaceCreated: ns.created };
    };
    if (options.ui ?? true) {
      if (tools.uiServer) {
        ui = await startTemporalUi({ uiServer: tools.uiServer, address: server.address, namespace, port: config.TEMPORAL_UI_PORT, codecEndpoint: config.CODEC_PORT ? codecEndpoint(config) : undefined, onLine: (l) => print('temporal-ui', l) });
        watch('temporal-ui', ui.process);
      } else {
        log('no Temporal UI server binary (TEMPORAL_UI_SERVER_PATH unset): running without the Web UI');
      }
    }
    phase('ui');

    // 4. the application: migrations + seed, one worker per context, the API...
    app = await startStack({
      config: { ...config, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: server.address },
      log,
      output: print,
      env,
      signal,
    });
    void app.crashed.then(onCrash);
    // ...and more worker processes on the same task queues
    const contexts = config.WORKERS.split(',').map((s) => s.trim()).filter(Boolean);
    const workerProcesses = new Map<string, ChildProcess[]>(contexts.map((c) => [c, [app!.workers.get(c)!]]));
    for (let i = 1; i < workersPerQueue; i++) {
      for (const context of contexts) workerProcesses.get(context)!.push(app.startWorker(context));
    }
    await waitForPollers(server.address, namespace, contexts, workersPerQueue, 180_000, signal);
    phase('app');

    return {
      app,
      apiUrl: app.apiUrl,
      temporalAddress: server.address,
      temporalHttpUrl: `http://127.0.0.1:${ports.frontendHttp}`,
      uiUrl: ui?.url,
      databaseUrl,
      postgresAdminUrl: postgres.adminUrl,
      namespace,
      temporalCli,
      tools,
      ports,
      workerProcesses,
      timings,
      restartTemporal: () => restartTemporal(),
      stop,
      crashed,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
