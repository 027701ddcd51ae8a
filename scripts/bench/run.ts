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
import { FLOOR_WORKFLOWS, measureFloor } from './floor';
import { percentile, runLoad, type BenchCustomer } from './load';
import { sampleProcesses } from './procs';
import { chart, markdown, verdicts, type BenchResults, type LevelFigures, type PersistenceLimit, type Series } from './report';
import { seedCustomers, seedProducts } from './seed';
import { startFeedReceiver } from './feed-receiver';
import { persistenceCounts, persistenceDelta, stateTransitions } from './temporal-cost';
import { VARIANTS, type Variant } from './variants';
import { orderWorkflowId } from '../../temporal-config/place-order';

const run = promisify(execFile);
const env = process.env;
const list = (v: string | undefined, dflt: string) => (v ?? dflt).split(',').map((s) => s.trim()).filter(Boolean);
const LEVELS = list(env.BENCH_LEVELS, '1,8,32,128').map(Number);
const SECONDS = Number(env.BENCH_SECONDS ?? 20);
const WARMUP_SECONDS = Number(env.BENCH_WARMUP_SECONDS ?? 10);
/** each level runs unmeasured until every customer has had an answer, and at least this long: the steady state, not the ramp from idle */
const RAMP_SECONDS = Number(env.BENCH_RAMP_SECONDS ?? 5);
const LATENCIES = list(env.BENCH_GATEWAY_LATENCIES_MS, '0,200').map(Number);
const VARIANT_NAMES = list(env.BENCH_VARIANTS, Object.keys(VARIANTS).join(','));
const BASELINE = env.BENCH_BASELINE !== 'off';
const FLOOR = env.BENCH_FLOOR !== 'off';
const EXTERNAL = env.BENCH_API_URL;
const STAMP = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const OUT = path.resolve(env.BENCH_OUT ?? path.join(ROOT, 'bench-results', STAMP));
const WORK = path.join(ROOT, 'bench-results', 'tmp', STAMP);
const PRODUCTS = 200;
const CUSTOMERS = Math.max(256, ...LEVELS.map((c) => c * 2));

const say = (msg: string) => console.log(`[bench] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const name of VARIANT_NAMES) if (!VARIANTS[name]) throw new Error(`unknown BENCH_VARIANTS entry ${name}; known: ${Object.keys(VARIANTS).join(', ')}`);

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

/** Waits until no order of the level is still on its way to CONFIRMED/PROCESSING (or a minute passes). */
async function settle(db: Db, orderIds: string[], done: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const open = await db.order.count({ where: { id: { in: orderIds }, status: { notIn: done as never[] } } });
    if (open === 0) return;
    await sleep(500);
  }
  say('some orders had not settled after 60 s; their figures count as they are');
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
  const processes = sampler?.stop() ?? [];
  endProgress();
  // the measured window: requests sent after the ramp; throughput = confirmations answered inside it
  const samples = all.filter((s) => s.sentAt >= measureFrom);
  const ids = all.map((s) => s.orderId);
  await settle(t.db, ids, t.settled);
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
    processes,
  };
  say(
    `${t.label} c=${concurrency}: ${level.confirmedPerSecond.toFixed(1)} confirmed/s, answer p50/p95/p99 ${level.answerMs.p50}/${level.answerMs.p95}/${level.answerMs.p99} ms, ` +
      `codes ${JSON.stringify(codes)}${stateTransitionsPerOrder ? `, ${stateTransitionsPerOrder.toFixed(1)} transitions/order` : ''}${commitsPerOrder ? `, ${commitsPerOrder.toFixed(1)} commits/order` : ''}`,
  );
  return level;
}

async function series(t: Target, variant: string, latency: number, customers: BenchCustomer[], products: string[]): Promise<Series> {
  say(`${t.label}: warming up for ${WARMUP_SECONDS}s at concurrency 8`);
  await runLoad({ apiUrl: t.apiUrl, customers, productIds: products, concurrency: 8, durationMs: WARMUP_SECONDS * 1000 });
  await sleep(2000);
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

/** The gateway latency is the payments worker's setting: restart it (or the one process running every context). */
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

async function stopVariant(v: { stack: Stack; db: Db }): Promise<void> {
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
  say(`levels ${LEVELS.join(', ')} × ${SECONDS}s, gateway latency ${LATENCIES.join(' and ')} ms, variants ${EXTERNAL ? '(external stack)' : VARIANT_NAMES.join(', ')}; results in ${path.relative(ROOT, OUT)}`);
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    command: 'npm run bench',
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, os: `${os.type()} ${os.release()}` },
    settings: { levels: LEVELS.join(','), secondsPerLevel: SECONDS, rampSecondsPerLevel: RAMP_SECONDS, warmupSeconds: WARMUP_SECONDS, gatewayLatenciesMs: LATENCIES.join(','), products: PRODUCTS, customers: CUSTOMERS, itemsPerOrder: 1 },
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
    results.series.push(await series(target, 'external', Number.NaN, customers, products));
    results.verdicts = verdicts(results.series[0], undefined);
    await connection.close();
    await db.$disconnect();
  } else {
    let last: { stack: Stack; db: Db; customers: BenchCustomer[]; products: string[]; config: Config; variant: Variant } | undefined;
    for (const name of VARIANT_NAMES) {
      const variant = VARIANTS[name];
      const config = await isolatedStackConfig(path.join(WORK, name), { ...env, ...variant.env });
      say(`variant ${name}: starting a stack of its own (${variant.description})`);
      const stack = await startStack({
        config,
        log: (m) => logFile.write(`[${name}] ${m}\n`),
        output: (who, line) => logFile.write(`[${name}] ${who} | ${line}\n`),
        env: benchEnv(LATENCIES[0], variant),
        // the benchmark's API: the product's, plus the variants' switches (./config.ts)
        entries: { api: BENCH_API },
        // BENCH_CPU_PROFILE=1: V8 CPU profiles of the API and every worker (main and workflow threads), written when the stack stops
        nodeArgs: env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(OUT, 'profiles', name)}`] : [],
      });
      const db = createDb(stack.databaseUrl, { poolSize: 4 });
      const connection = await Connection.connect({ address: stack.temporalAddress });
      // the keys the stack's processes encrypt with
      // the keys the stack's workers got (the variant's or the environment's): the client must read what they write
      const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: temporalDataConverter(config) });
      const products = await seedProducts(db, PRODUCTS);
      const customers = await seedCustomers(db, CUSTOMERS, stack.secrets.JWT_SECRET);
      const receiver = variant.webhook ? await startFeedReceiver(db) : undefined;
      let ok = false;
      try {
        for (const latency of LATENCIES) {
          if (latency !== LATENCIES[0]) await restartPayments(stack, benchEnv(latency, variant));
          const target: Target = {
            label: `saga ${name}, gateway ${latency} ms`,
            apiUrl: stack.apiUrl,
            db,
            kind: 'saga',
            processes: () => stack.processes(),
            temporal: { client, metricsUrl: stack.temporalMetricsUrl },
            settled: ['PROCESSING', 'SHIPPED', 'FAILED', 'CANCELLED', 'NEEDS_ATTENTION'],
          };
          results.series.push(await series(target, name, latency, customers, products));
        }
        if (receiver) {
          const feed = await receiver.figures();
          (results.feed ??= {})[name] = feed;
          say(
            `variant ${name}: webhook receiver got ${feed.delivered} events (${feed.repeats} repeats), ${feed.ordersOutOfOrder} orders out of order, ` +
              `commit → arrival p50 ${feed.latencyP50Ms} ms, p99 ${feed.latencyP99Ms} ms, ${feed.pendingAtEnd} still pending`,
          );
        }
        ok = true;
      } finally {
        await receiver?.stop();
        await connection.close();
        // the last variant's stack stays up for the baseline, the floor and limit (b); a failed run stops every stack it has
        if (!ok) for (const v of [{ stack, db }, ...(last ? [last] : [])]) await stopVariant(v);
      }
      if (last) await stopVariant(last);
      last = { stack, db, customers, products, config, variant };
    }

    if (last && BASELINE) {
      for (const latency of LATENCIES) {
        const direct = await startDirectApi(last.stack.databaseUrl, last.stack.temporalAddress, benchEnv(latency, last.variant), logFile);
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
      say(`floor (c): the cheapest workflows on the same dev server (${Object.keys(FLOOR_WORKFLOWS).join(', ')})`);
      results.floorVariant = VARIANT_NAMES.at(-1);
      results.floor = await measureFloor({ address: last.stack.temporalAddress, namespace: last.config.TEMPORAL_NAMESPACE, serverPid, levels: LEVELS, seconds: SECONDS, rampSeconds: RAMP_SECONDS, say });
    }

    // the figures a user gets by default: the 'after' stack when it ran, else the last one
    const limitVariant = VARIANT_NAMES.includes('after') ? 'after' : VARIANT_NAMES.at(-1)!;
    const measured = results.series.find((s) => s.kind === 'saga' && s.variant === limitVariant && s.gatewayLatencyMs === LATENCIES[0]);
    const at32 = measured?.levels.find((l) => l.concurrency === 32) ?? measured?.levels.at(-1);
    if (last && at32?.commitsPerOrder) {
      say('limit (b): measuring SQLite commits per second on the dev server\'s disk');
      results.limitB = await limitB(path.dirname(last.config.TEMPORAL_DB_FILE), last.config.TEMPORAL_SQLITE_PRAGMAS, at32.commitsPerOrder, limitVariant);
    }
    results.verdicts = verdicts(measured, results.limitB);
    if (last) await stopVariant(last);
    if (!env.BENCH_KEEP) await rm(WORK, { recursive: true, force: true });
  }

  const md = markdown(results);
  await writeFile(path.join(OUT, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  await writeFile(path.join(OUT, 'results.md'), md);
  await writeFile(path.join(OUT, 'chart.svg'), chart(results));
  logFile.end();
  console.log(`\n${md}`);
  say(`written: ${path.relative(ROOT, path.join(OUT, 'results.json'))}, results.md, chart.svg (stack output in stack.log)`);
}

await main();
process.exit(0);
