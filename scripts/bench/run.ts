/**
 * `npm run bench`: what one machine does, where the time goes, how close it
 * is to the limit. Boots a stack per variant (or uses a running one: set
 * BENCH_API_URL with DATABASE_URL and TEMPORAL_ADDRESS), seeds products and
 * customers, and drives real HTTP checkouts (POST /api/v1/orders) at each
 * concurrency for a fixed time, once per simulated gateway latency. In the
 * same run: baseline (a), the same effects in one PostgreSQL transaction
 * without Temporal, and limit (b), the dev server's SQLite commit rate divided
 * by the commits one order costs; and floor (c), the cheapest workflows the
 * same server runs (scripts/bench/floor.ts). Writes results.json, results.md and
 * chart.svg to bench-results/<time>/ and prints the table.
 *
 * `npm run bench -- --quick` is for iterating (a few minutes): the default
 * stack only, c=1 and c=32, gateway latency 0, shorter windows, the two floors
 * the targets need, and the baseline. BENCH_* variables still win over it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { ROOT, type Config } from '../../platform/config';
import { temporalDataConverter } from '../../platform/payload-codec';
import { requireSecrets } from '../../platform/secrets';
import { createDb, type Db } from '../../prisma/client';
import { freePort, isolatedStackConfig, startStack, type Stack } from '../stack';
import { ensureSqliteCommits } from '../tools/provision';
import { FLOOR_WORKFLOWS, measureFloor, type FloorWorkflow } from './floor';
import { percentile, runLoad, type BenchCustomer } from './load';
import { sampleProcesses } from './procs';
import { chart, markdown, sagaSeries, verdicts, type BenchResults, type LevelFigures, type PersistenceLimit, type Series } from './report';
import { statementCount } from './sql-cost';
import { seedCustomers, seedProducts } from './seed';
import { startFeedReceiver } from './feed-receiver';
import { persistenceCounts, persistenceDelta, stateTransitions } from './temporal-cost';
import { DEFAULT_VARIANTS, INTERLEAVED_VARIANTS, JUDGED_VARIANT, VARIANTS, type Variant } from './variants';
import { orderWorkflowId } from '../../temporal-config/place-order';

const STARTED = Date.now();
const run = promisify(execFile);
const env = process.env;
const args = process.argv.slice(2);
for (const a of args) if (a !== '--quick') throw new Error(`unknown argument ${a}; the only one is --quick (the rest is BENCH_* variables, docs/benchmark.md)`);
const QUICK = args.includes('--quick');
const list = (v: string | undefined, dflt: string) => (v ?? dflt).split(',').map((s) => s.trim()).filter(Boolean);
const LEVELS = list(env.BENCH_LEVELS, QUICK ? '1,32' : '1,8,32,128').map(Number);
const SECONDS = Number(env.BENCH_SECONDS ?? (QUICK ? 15 : 20));
const WARMUP_SECONDS = Number(env.BENCH_WARMUP_SECONDS ?? (QUICK ? 5 : 10));
/** each level runs unmeasured until every customer has had an answer, and at least this long: the steady state, not the ramp from idle */
const RAMP_SECONDS = Number(env.BENCH_RAMP_SECONDS ?? 5);
/** BENCH_GATEWAY_LATENCIES_MS for every variant; else 0 in a quick run, else each variant's own (variants.ts) */
const LATENCIES_SET = env.BENCH_GATEWAY_LATENCIES_MS !== undefined ? list(env.BENCH_GATEWAY_LATENCIES_MS, '0').map(Number) : undefined;
const latenciesOf = (v: Variant) => LATENCIES_SET ?? (QUICK ? [0] : (v.gatewayLatenciesMs ?? [0]));
/** the judged variant runs last: its stack then serves baseline (a), floor (c) and limit (b) */
const VARIANT_NAMES = ((names: string[]) => [...names.filter((n) => n !== JUDGED_VARIANT), ...names.filter((n) => n === JUDGED_VARIANT)])(
  list(env.BENCH_VARIANTS, (QUICK ? [JUDGED_VARIANT] : DEFAULT_VARIANTS).join(',')),
);
/** the variants run interleaved (./variants.ts), after the others; BENCH_INTERLEAVE=off runs every variant one after another */
const INTERLEAVED = ((group: string[]) => (env.BENCH_INTERLEAVE !== 'off' && group.length >= 2 ? group : []))(VARIANT_NAMES.filter((n) => INTERLEAVED_VARIANTS.includes(n)));
const BASELINE = env.BENCH_BASELINE !== 'off';
const FLOOR = env.BENCH_FLOOR !== 'off';
const FLOOR_NAMES = list(env.BENCH_FLOOR_WORKFLOWS, (QUICK ? ['floorThreeActivities', 'floorEmpty'] : Object.keys(FLOOR_WORKFLOWS)).join(',')) as FloorWorkflow[];
const EXTERNAL = env.BENCH_API_URL;
const STAMP = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const OUT = path.resolve(env.BENCH_OUT ?? path.join(ROOT, 'bench-results', STAMP));
const WORK = path.join(ROOT, 'bench-results', 'tmp', STAMP);
const PRODUCTS = 200;
const CUSTOMERS = Math.max(256, ...LEVELS.map((c) => c * 2));

const say = (msg: string) => console.log(`[bench] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const name of VARIANT_NAMES) if (!VARIANTS[name]) throw new Error(`unknown BENCH_VARIANTS entry ${name}; known: ${Object.keys(VARIANTS).join(', ')}`);
for (const name of FLOOR_NAMES) if (!(name in FLOOR_WORKFLOWS)) throw new Error(`unknown BENCH_FLOOR_WORKFLOWS entry ${name}; known: ${Object.keys(FLOOR_WORKFLOWS).join(', ')}`);
/** every latency some variant runs at: the baseline runs at each */
const ALL_LATENCIES = [...new Set(VARIANT_NAMES.flatMap((n) => latenciesOf(VARIANTS[n])))].sort((a, b) => a - b);

/** One line a second on a terminal, every fifth second otherwise. */
function progress(label: string) {
  const tty = process.stdout.isTTY;
  return (p: { elapsedMs: number; measuring: boolean; answered: number; confirmed: number; inFlight: number }) => {
    const s = Math.round(p.elapsedMs / 1000);
    const line = `[bench] ${label}: ${s}s ${p.measuring ? 'measuring' : 'ramping up'}, answered ${p.answered}, confirmed ${p.confirmed} (${(p.confirmed / Math.max(1, p.elapsedMs / 1000)).toFixed(1)}/s), in flight ${p.inFlight}`;
    if (tty) process.stdout.write(`\r${line.padEnd(110)}`);
    else if (s % 5 === 0) console.log(line);
  };
}
const endProgress = () => process.stdout.isTTY && process.stdout.write('\n');

/** When each order's CONFIRMED reached PostgreSQL (the status event's recorded_at, the database's clock). */
async function confirmedAt(db: Db, orderIds: string[]): Promise<Map<string, number>> {
  const rows = await db.orderEvent.findMany({ where: { orderId: { in: orderIds }, status: 'CONFIRMED' }, select: { orderId: true, recordedAt: true } });
  return new Map(rows.map((r) => [r.orderId, r.recordedAt.getTime()]));
}

/** Waits until no order of the level is still on its way to CONFIRMED/PROCESSING (or a minute passes); returns the queries it sent. */
async function settle(db: Db, orderIds: string[], done: string[]): Promise<number> {
  const deadline = Date.now() + 60_000;
  let queries = 0;
  while (Date.now() < deadline) {
    queries += 1;
    const open = await db.order.count({ where: { id: { in: orderIds }, status: { notIn: done as never[] } } });
    if (open === 0) return queries;
    await sleep(500);
  }
  say('some orders had not settled after 60 s; their figures count as they are');
  return queries;
}

interface Target {
  label: string;
  apiUrl: string;
  db: Db;
  kind: Series['kind'];
  processes: () => { name: string; pid: number; alone?: boolean }[];
  temporal?: { client: Client; metricsUrl?: string };
  /** statuses that mean "nothing left to wait for" for this target */
  settled: string[];
}

async function measureLevel(t: Target, customers: BenchCustomer[], products: string[], concurrency: number): Promise<LevelFigures> {
  const before = t.temporal?.metricsUrl ? await persistenceCounts(t.temporal.metricsUrl) : undefined;
  const statementsBefore = await statementCount(t.db);
  let sampler: ReturnType<typeof sampleProcesses> | undefined;
  const { samples: all, measureFrom, deadline } = await runLoad({
    apiUrl: t.apiUrl,
    customers,
    productIds: products,
    concurrency,
    durationMs: SECONDS * 1000,
    rampMs: RAMP_SECONDS * 1000,
    onSteady: () => (sampler = sampleProcesses(() => [...t.processes(), { name: 'load driver', pid: process.pid, alone: true }])),
    onProgress: progress(`${t.label} c=${concurrency}`),
  });
  const sampled = sampler?.stop();
  endProgress();
  // the measured window: requests sent after the ramp; throughput = confirmations answered inside it
  const samples = all.filter((s) => s.sentAt >= measureFrom);
  const ids = all.map((s) => s.orderId);
  const ownQueries = await settle(t.db, ids, t.settled);
  // the statements of the whole level, every order's work done, less the benchmark's own polling above
  const statementsAfter = await statementCount(t.db);
  const confirmedAll = all.filter((s) => s.code === 'CONFIRMED').length;
  const sqlStatementsPerOrder =
    statementsBefore !== undefined && statementsAfter !== undefined && confirmedAll > 0 ? (statementsAfter - statementsBefore - ownQueries) / confirmedAll : undefined;
  const inDb = await confirmedAt(t.db, ids);
  const answered = samples.map((s) => s.answeredAt - s.sentAt).sort((a, b) => a - b);
  const toDb = samples.filter((s) => inDb.has(s.orderId)).map((s) => inDb.get(s.orderId)! - s.sentAt).sort((a, b) => a - b);
  const codes: Record<string, number> = {};
  for (const s of samples) codes[s.code] = (codes[s.code] ?? 0) + 1;
  const confirmed = all.filter((s) => s.code === 'CONFIRMED' && s.answeredAt >= measureFrom && s.answeredAt <= deadline).length;

  let stateTransitionsPerOrder: number | undefined;
  let commitsPerOrder: number | undefined;
  if (t.temporal) {
    const sample = samples.filter((s) => s.code === 'CONFIRMED').slice(0, 10).map((s) => orderWorkflowId(s.orderId));
    stateTransitionsPerOrder = await stateTransitions(t.temporal.client, sample).catch(() => undefined);
    if (before && t.temporal.metricsUrl) {
      await sleep(1500); // the server's queues finish the level's last tasks
      const delta = persistenceDelta(before, await persistenceCounts(t.temporal.metricsUrl));
      commitsPerOrder = all.length ? delta.writes / all.length : undefined;
    }
  }
  const pct = (v: number[]) => ({ p50: percentile(v, 50), p95: percentile(v, 95), p99: percentile(v, 99) });
  const level: LevelFigures = {
    concurrency,
    seconds: SECONDS,
    requests: samples.length,
    confirmed,
    confirmedPerSecond: confirmed / SECONDS,
    answerMs: pct(answered),
    confirmedInDbMs: pct(toDb),
    codes,
    stateTransitionsPerOrder,
    commitsPerOrder,
    sqlStatementsPerOrder,
    processes: sampled?.processes ?? [],
    sampler: sampled?.sampler,
  };
  say(
    `${t.label} c=${concurrency}: ${level.confirmedPerSecond.toFixed(1)} confirmed/s, answer p50/p95/p99 ${level.answerMs.p50}/${level.answerMs.p95}/${level.answerMs.p99} ms, ` +
      `codes ${JSON.stringify(codes)}${stateTransitionsPerOrder ? `, ${stateTransitionsPerOrder.toFixed(1)} transitions/order` : ''}${commitsPerOrder ? `, ${commitsPerOrder.toFixed(1)} commits/order` : ''}` +
      `${sqlStatementsPerOrder ? `, ${sqlStatementsPerOrder.toFixed(1)} SQL statements/order` : ''}`,
  );
  return level;
}

/** Load at concurrency 8, unmeasured: warm JITs, pools and caches before a series. */
async function warmUp(t: Target, customers: BenchCustomer[], products: string[]): Promise<void> {
  say(`${t.label}: warming up for ${WARMUP_SECONDS}s at concurrency 8`);
  await runLoad({ apiUrl: t.apiUrl, customers, productIds: products, concurrency: 8, durationMs: WARMUP_SECONDS * 1000 });
  await sleep(2000);
}

async function series(t: Target, variant: string, latency: number, customers: BenchCustomer[], products: string[]): Promise<Series> {
  await warmUp(t, customers, products);
  const levels: LevelFigures[] = [];
  for (const c of LEVELS) levels.push(await measureLevel(t, customers, products, c));
  return { name: t.label, kind: t.kind, variant, gatewayLatencyMs: latency, levels };
}

/** The API the benchmark runs: the product's, with its variants' switches. */
const BENCH_API = 'scripts/bench/api.ts';

const benchEnv = (latency: number, variant: Variant): NodeJS.ProcessEnv => ({
  LOG_LEVEL: 'warn',
  RATE_LIMIT_PER_MINUTE: '0', // one client plays hundreds of customers
  // and the login/register throttles: one address registers them all and guesses on purpose
  REGISTER_LIMIT_PER_IP: '0',
  LOGIN_LIMIT_PER_IP: '0',
  LOGIN_LIMIT_PER_ACCOUNT: '0',
  CHECKOUT_WAIT_MS: '120000', // the answer is the payment outcome, not a 202, even at 128 customers
  FULFILMENT_HANDLING_MS: String(3_600_000), // hand-overs would spill into the next level
  PAYMENT_LATENCY_MS: String(latency),
  ...variant.env,
});

/** Restarts the payments worker (or the one process running every context) with the environment of another gateway latency. */
async function restartPayments(stack: Stack, workerEnv: NodeJS.ProcessEnv): Promise<void> {
  const name = stack.workers.has('payments') ? 'payments' : 'all';
  await stack.stopWorker(name);
  stack.startWorker(name, workerEnv);
}

/** A second API process serving POST /api/v1/orders without Temporal (baseline a). */
async function startDirectApi(databaseUrl: string, temporalAddress: string, stackEnv: NodeJS.ProcessEnv, logFile: NodeJS.WritableStream): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, BENCH_API)], {
    cwd: ROOT,
    env: { ...env, ...stackEnv, CHECKOUT_ENGINE: 'direct-baseline', DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, PORT: String(port), HOST: '127.0.0.1', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(logFile, { end: false });
  child.stderr.pipe(logFile, { end: false });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`the baseline API exited with ${child.exitCode}`);
    if (await fetch(`${url}/health/live`).then((r) => r.ok, () => false)) return { url, child };
    await sleep(200);
  }
  throw new Error('the baseline API did not come up in 60 s');
}

/** One variant's stack, seeded, with the clients the benchmark reads it with. */
interface Booted {
  name: string;
  variant: Variant;
  config: Config;
  stack: Stack;
  db: Db;
  connection: Connection;
  client: Client;
  customers: BenchCustomer[];
  products: string[];
  receiver?: Awaited<ReturnType<typeof startFeedReceiver>>;
  /** the gateway latency its payments worker runs with now */
  latency: number;
}

async function boot(name: string, logFile: NodeJS.WritableStream, running: Booted[]): Promise<Booted> {
  const variant = VARIANTS[name];
  const config = await isolatedStackConfig(path.join(WORK, name), { ...env, ...variant.env });
  say(`variant ${name}: starting a stack of its own (${variant.description})`);
  const latency = latenciesOf(variant)[0];
  const stack = await startStack({
    config,
    log: (m) => logFile.write(`[${name}] ${m}\n`),
    output: (who, line) => logFile.write(`[${name}] ${who} | ${line}\n`),
    env: benchEnv(latency, variant),
    // the benchmark's API: the product's, plus the variants' switches (./config.ts)
    entries: { api: BENCH_API },
    // BENCH_CPU_PROFILE=1: V8 CPU profiles of the API and every worker (main and workflow threads), written when the stack stops
    nodeArgs: env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(OUT, 'profiles', name)}`] : [],
  });
  const db = createDb(stack.databaseUrl, { poolSize: 4 });
  const connection = await Connection.connect({ address: stack.temporalAddress });
  // the keys the stack's workers got (the variant's or the environment's): the client must read what they write
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: temporalDataConverter(config) });
  const b: Booted = { name, variant, config, stack, db, connection, client, customers: [], products: [], latency };
  running.push(b);
  b.products = await seedProducts(db, PRODUCTS);
  b.customers = await seedCustomers(db, CUSTOMERS, stack.secrets.JWT_SECRET);
  if (variant.webhook) b.receiver = await startFeedReceiver(db);
  return b;
}

/** The gateway latency is the payments worker's setting: restart it when the next series needs another. */
async function setLatency(b: Booted, latency: number): Promise<void> {
  if (b.latency === latency) return;
  await restartPayments(b.stack, benchEnv(latency, b.variant));
  b.latency = latency;
}

const sagaTarget = (b: Booted, latency: number): Target => ({
  label: `saga ${b.name}, gateway ${latency} ms`,
  apiUrl: b.stack.apiUrl,
  db: b.db,
  kind: 'saga',
  processes: () => b.stack.processes(),
  temporal: { client: b.client, metricsUrl: b.stack.temporalMetricsUrl },
  settled: ['PROCESSING', 'SHIPPED', 'FAILED', 'CANCELLED', 'NEEDS_ATTENTION'],
});

/** After a variant's series: what its webhook receiver saw (the stack may stay up). */
async function finish(b: Booted, results: BenchResults): Promise<void> {
  if (b.receiver) {
    const feed = await b.receiver.figures();
    (results.feed ??= {})[b.name] = feed;
    say(
      `variant ${b.name}: webhook receiver got ${feed.delivered} events (${feed.repeats} repeats), ${feed.ordersOutOfOrder} orders out of order, ` +
        `commit → arrival p50 ${feed.latencyP50Ms} ms, p99 ${feed.latencyP99Ms} ms, ${feed.pendingAtEnd} still pending`,
    );
    await b.receiver.stop();
    b.receiver = undefined;
  }
}

async function stopVariant(v: Booted): Promise<void> {
  await v.receiver?.stop();
  await v.connection.close().catch(() => undefined);
  await v.db.$disconnect();
  await v.stack.stop();
}

const stopChild = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

async function limitB(dir: string, pragmas: string, commitsPerOrder: number, variant: string): Promise<PersistenceLimit> {
  const tool = await ensureSqliteCommits(say);
  const measure = async (ps: string[]) => {
    const { stdout } = await run(tool, ['-file', path.join(dir, 'commit-probe.sqlite'), '-seconds', '5', ...ps.flatMap((p) => ['-pragma', p])]);
    return (JSON.parse(stdout) as { commitsPerSecond: number }).commitsPerSecond;
  };
  const serverPragmas = pragmas.split(',').map((p) => p.trim()).filter(Boolean);
  const fsyncCommitsPerSecond = await measure(['journal_mode=wal', 'synchronous=full']);
  const serverPragmaCommitsPerSecond = await measure(serverPragmas);
  return { fsyncCommitsPerSecond, serverPragmaCommitsPerSecond, serverPragmas: pragmas, commitsPerOrder, ordersPerSecond: fsyncCommitsPerSecond / commitsPerOrder, variant };
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const logFile = createWriteStream(path.join(OUT, 'stack.log'));
  const latencyText = VARIANT_NAMES.map((n) => `${n} ${latenciesOf(VARIANTS[n]).join('+')}`).join(', ');
  say(`${QUICK ? 'quick run: ' : ''}levels ${LEVELS.join(', ')} × ${SECONDS}s, gateway latency ms ${EXTERNAL ? ALL_LATENCIES.join('+') : latencyText}, variants ${EXTERNAL ? '(external stack)' : VARIANT_NAMES.join(', ')}; results in ${path.relative(ROOT, OUT)}`);
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    command: QUICK ? 'npm run bench -- --quick' : 'npm run bench',
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, os: `${os.type()} ${os.release()}` },
    settings: {
      levels: LEVELS.join(','),
      secondsPerLevel: SECONDS,
      rampSecondsPerLevel: RAMP_SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      gatewayLatenciesMs: EXTERNAL ? ALL_LATENCIES.join(',') : latencyText,
      variantOrder: INTERLEAVED.length
        ? `${VARIANT_NAMES.filter((n) => !INTERLEAVED.includes(n)).join(', ') || 'none'} one after another, then ${INTERLEAVED.join(', ')} interleaved (stacks up together, each level on each in turn, rotating who goes first)`
        : 'one after another, each on a stack of its own (not interleaved)',
      floorWorkflows: FLOOR ? FLOOR_NAMES.join(',') : 'off',
      baseline: BASELINE ? 'on' : 'off',
      products: PRODUCTS,
      customers: CUSTOMERS,
      itemsPerOrder: 1,
    },
    variants: Object.fromEntries(VARIANT_NAMES.map((n) => [n, VARIANTS[n].description])),
    series: [],
    verdicts: [],
  };

  if (EXTERNAL) {
    const databaseUrl = env.DATABASE_URL;
    if (!databaseUrl || !env.TEMPORAL_ADDRESS) throw new Error('BENCH_API_URL needs DATABASE_URL and TEMPORAL_ADDRESS of the same stack (seeding, confirmation times, describe)');
    const db = createDb(databaseUrl, { poolSize: 4 });
    const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    const products = await seedProducts(db, PRODUCTS);
    const customers = await seedCustomers(db, CUSTOMERS, requireSecrets(env, ['JWT_SECRET']).JWT_SECRET);
    const target: Target = { label: 'saga (external stack)', apiUrl: EXTERNAL, db, kind: 'saga', processes: () => [], temporal: { client: new Client({ connection, namespace: env.TEMPORAL_NAMESPACE ?? 'default', dataConverter: temporalDataConverter(env) }) }, settled: ['CONFIRMED', 'PROCESSING', 'SHIPPED', 'FAILED', 'CANCELLED'] };
    results.series.push(await series(target, 'external', 0, customers, products));
    results.verdicts = verdicts(results, 'external');
    await connection.close();
    await db.$disconnect();
  } else {
    /** the stacks up now: a failed run stops them all */
    const running: Booted[] = [];
    const stop = async (b: Booted) => {
      running.splice(running.indexOf(b), 1);
      await stopVariant(b);
    };
    let last: Booted | undefined;
    try {
      // one variant after another, each on a stack of its own
      for (const name of VARIANT_NAMES.filter((n) => !INTERLEAVED.includes(n))) {
        const b = await boot(name, logFile, running);
        for (const latency of latenciesOf(b.variant)) {
          await setLatency(b, latency);
          results.series.push(await series(sagaTarget(b, latency), name, latency, b.customers, b.products));
        }
        await finish(b, results);
        if (last) await stop(last);
        last = b;
      }
      // the interleaved group: stacks up together; each (latency, level) runs on each in turn, who goes first rotating
      if (INTERLEAVED.length) {
        if (last) await stop(last);
        const group: Booted[] = [];
        for (const name of INTERLEAVED) group.push(await boot(name, logFile, running));
        for (const latency of [...new Set(group.flatMap((b) => latenciesOf(b.variant)))]) {
          const members = group.filter((b) => latenciesOf(b.variant).includes(latency));
          const levels = new Map(members.map((b) => [b, [] as LevelFigures[]]));
          for (const b of members) {
            await setLatency(b, latency);
            await warmUp(sagaTarget(b, latency), b.customers, b.products);
          }
          for (const [i, c] of LEVELS.entries()) {
            const turn = members.map((_, k) => members[(i + k) % members.length]);
            for (const b of turn) levels.get(b)!.push(await measureLevel(sagaTarget(b, latency), b.customers, b.products, c));
          }
          for (const b of members) {
            const t = sagaTarget(b, latency);
            results.series.push({ name: t.label, kind: t.kind, variant: b.name, gatewayLatencyMs: latency, levels: levels.get(b)! });
          }
        }
        for (const b of group) await finish(b, results);
        // the judged variant's stack (last in the group) stays for the baseline, the floor and limit (b)
        last = group.at(-1);
        for (const b of group.slice(0, -1)) await stop(b);
      }
    } catch (e) {
      for (const b of [...running]) await stop(b);
      throw e;
    }

    // the last stack serves the baseline, the floor and limit (b); it stops whatever happens to them
    try {
      if (last && BASELINE) {
        for (const latency of ALL_LATENCIES) {
          // the stack's secrets too: the API refuses to start without them
          const direct = await startDirectApi(last.stack.databaseUrl, last.stack.temporalAddress, { ...benchEnv(latency, last.variant), ...last.stack.secrets }, logFile);
          const target: Target = {
            label: `baseline (a) one transaction, gateway ${latency} ms`,
            apiUrl: direct.url,
            db: last.db,
            kind: 'baseline-a',
            processes: () => [{ name: 'api (direct)', pid: direct.child.pid! }, ...last.stack.processes().filter((p) => p.name === 'postgres')],
            settled: ['CONFIRMED', 'FAILED'],
          };
          try {
            results.series.push(await series(target, 'baseline-a', latency, last.customers, last.products));
          } finally {
            await stopChild(direct.child);
          }
        }
      }

      const serverPid = last?.stack.processes().find((p) => p.name === 'temporal')?.pid;
      if (last && FLOOR && serverPid !== undefined) {
        say(`floor (c): the cheapest workflows on the same dev server (${FLOOR_NAMES.join(', ')})`);
        results.floorVariant = VARIANT_NAMES.at(-1);
        results.floor = await measureFloor({
          address: last.stack.temporalAddress,
          namespace: last.config.TEMPORAL_NAMESPACE,
          serverPid,
          levels: LEVELS,
          workflows: FLOOR_NAMES,
          seconds: SECONDS,
          rampSeconds: RAMP_SECONDS,
          say,
        });
      }

      // the figures a user gets by default: the judged stack when it ran, else the last one
      const limitVariant = VARIANT_NAMES.includes(JUDGED_VARIANT) ? JUDGED_VARIANT : VARIANT_NAMES.at(-1)!;
      const measured = sagaSeries(results, limitVariant) ?? results.series.find((s) => s.kind === 'saga' && s.variant === limitVariant);
      const at32 = measured?.levels.find((l) => l.concurrency === 32) ?? measured?.levels.at(-1);
      if (last && at32?.commitsPerOrder) {
        say('limit (b): measuring SQLite commits per second on the dev server\'s disk');
        results.limitB = await limitB(path.dirname(last.config.TEMPORAL_DB_FILE), last.config.TEMPORAL_SQLITE_PRAGMAS, at32.commitsPerOrder, limitVariant);
      }
      results.verdicts = verdicts(results, limitVariant);
    } finally {
      if (last) await stopVariant(last);
    }
    if (!env.BENCH_KEEP) await rm(WORK, { recursive: true, force: true });
  }

  results.wallSeconds = Math.round((Date.now() - STARTED) / 1000);
  const md = markdown(results);
  await writeFile(path.join(OUT, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  await writeFile(path.join(OUT, 'results.md'), md);
  await writeFile(path.join(OUT, 'chart.svg'), chart(results));
  logFile.end();
  console.log(`\n${md}`);
  say(`written: ${path.relative(ROOT, path.join(OUT, 'results.json'))}, results.md, chart.svg (stack output in stack.log)`);
  say(`wall time ${Math.floor(results.wallSeconds / 60)} min ${results.wallSeconds % 60} s`);
}

await main();
process.exit(0);
