/**
 * The benchmark's results as a user reads them: a markdown table and a chart
 * (SVG, no dependencies) from the same JSON the run writes.
 */
import type { FeedFigures } from './feed-receiver';
import { FLOOR_WORKFLOWS, type FloorLevel } from './floor';
import type { ProcessFigures, SamplerCost } from './procs';

export interface LevelFigures {
  concurrency: number;
  seconds: number;
  requests: number;
  confirmed: number;
  confirmedPerSecond: number;
  /** request sent → checkout answer (ms) */
  answerMs: { p50: number; p95: number; p99: number };
  /** request sent → CONFIRMED written in PostgreSQL (ms) */
  confirmedInDbMs: { p50: number; p95: number; p99: number };
  /** answers by code: CONFIRMED, a business error code, HTTP_5xx, NETWORK */
  codes: Record<string, number>;
  /** mean of DescribeWorkflowExecution's stateTransitionCount for sampled orders (saga only) */
  stateTransitionsPerOrder?: number;
  /** the dev server's persistence writes (commits) per order placed at this level (saga only) */
  commitsPerOrder?: number;
  /** PostgreSQL statements executed over the level (pg_stat_statements, ./sql-cost.ts) ÷ the orders confirmed in it */
  sqlStatementsPerOrder?: number;
  processes: ProcessFigures[];
  /** what sampling `processes` cost the load driver during the window */
  sampler?: SamplerCost;
}

export interface Series {
  /** e.g. "saga after, gateway 0 ms" */
  name: string;
  kind: 'saga' | 'baseline-a';
  variant: string;
  gatewayLatencyMs: number;
  levels: LevelFigures[];
}

export interface PersistenceLimit {
  /** fsync'd commits per second of one SQLite connection (journal_mode=wal, synchronous=full) */
  fsyncCommitsPerSecond: number;
  /** commits per second with the pragmas the dev server runs with */
  serverPragmaCommitsPerSecond: number;
  serverPragmas: string;
  /** commits one order costs the server (c=32, gateway 0, the variant the limit is for) */
  commitsPerOrder: number;
  /** fsyncCommitsPerSecond / commitsPerOrder */
  ordersPerSecond: number;
  variant: string;
}

export interface Verdict {
  target: string;
  measured: string;
  met: boolean;
}

export interface BenchResults {
  startedAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; os: string };
  settings: Record<string, string | number>;
  variants: Record<string, string>;
  series: Series[];
  limitB?: PersistenceLimit;
  /** floor (c): the cheapest workflows on the same server (scripts/bench/floor.ts) */
  floor?: FloorLevel[];
  /** the variant whose dev server (and configuration) floor (c) ran on */
  floorVariant?: string;
  verdicts: Verdict[];
  /** where the largest cost was found and what removing it changed */
  bottleneck?: string;
  /** per variant with a webhook subscriber (./feed-receiver.ts): what the receiver saw */
  feed?: Record<string, FeedFigures>;
  /** the whole run, stack boots included (s) */
  wallSeconds?: number;
}

/** The process figures that are not the stack's: the benchmark's own process and the machine-wide totals. */
const NOT_THE_STACK = new Set(['load driver', 'machine', 'stolen by the host']);

/**
 * CPU per confirmed order (ms): every process of the stack (API, workers, dev server, PostgreSQL with their
 * children) over the measured window ÷ the orders confirmed in it. The load driver (which also runs the sampler) is left out.
 */
export function cpuMsPerOrder(l: LevelFigures): number {
  const cpu = l.processes.filter((p) => !NOT_THE_STACK.has(p.name)).reduce((sum, p) => sum + p.cpuSeconds, 0);
  return l.confirmed > 0 ? (cpu * 1000) / l.confirmed : Number.NaN;
}

/** Floor (c)'s CPU per workflow (ms): the dev server's plus the client's and worker's. */
export const floorCpuMsPerWorkflow = (f: FloorLevel) => f.serverCpuMsPerWorkflow + f.clientWorkerCpuMsPerWorkflow;

/** Answers that are not CONFIRMED: the bench's orders cannot be refused, so every one is an error. */
export const errorCount = (l: LevelFigures) => Object.entries(l.codes).filter(([code]) => code !== 'CONFIRMED').reduce((n, [, k]) => n + k, 0);

/** The saga series of a variant at a gateway latency. */
export const sagaSeries = (r: Pick<BenchResults, 'series'>, variant: string, latency = 0) =>
  r.series.find((s) => s.kind === 'saga' && s.variant === variant && s.gatewayLatencyMs === latency);

/**
 * Issue 20's targets, on the default stack (`variant`, gateway latency 0) against floor (c) of the same run,
 * and zero errors for every variant.
 */
export function verdicts(r: Pick<BenchResults, 'series' | 'floor'>, variant: string): Verdict[] {
  const saga = sagaSeries(r, variant);
  const at = (c: number) => saga?.levels.find((l) => l.concurrency === c);
  const floor32 = r.floor?.find((f) => f.workflow === 'floorThreeActivities' && f.concurrency === 32);
  const missing = (what: string) => `not measured (${what})`;
  const out: Verdict[] = [];

  const s32 = at(32);
  if (s32 && floor32) {
    const ratio = s32.confirmedPerSecond / floor32.completedPerSecond;
    out.push({
      target: 'saga c=32 confirmed/s ÷ floorThreeActivities c=32 completed/s ≥ 0.6',
      measured: `${s32.confirmedPerSecond.toFixed(1)}/s ÷ ${floor32.completedPerSecond.toFixed(1)}/s = ${ratio.toFixed(2)}`,
      met: ratio >= 0.6,
    });
    const ratioCpu = cpuMsPerOrder(s32) / floorCpuMsPerWorkflow(floor32);
    out.push({
      target: "CPU per confirmed order (the stack's processes, not the load driver) ÷ floorThreeActivities CPU per workflow (server + client/worker), c=32 ≤ 2.0",
      measured: `${cpuMsPerOrder(s32).toFixed(0)} ms ÷ ${floorCpuMsPerWorkflow(floor32).toFixed(0)} ms = ${ratioCpu.toFixed(2)}`,
      met: ratioCpu <= 2,
    });
  } else {
    const why = missing(!s32 ? `saga ${variant} c=32, gateway 0` : 'floorThreeActivities c=32');
    out.push({ target: 'saga c=32 confirmed/s ÷ floorThreeActivities c=32 completed/s ≥ 0.6', measured: why, met: false });
    out.push({ target: 'CPU per confirmed order ÷ floorThreeActivities CPU per workflow, c=32 ≤ 2.0', measured: why, met: false });
  }
  const s1 = at(1);
  out.push({
    target: 'p50 checkout answer at c=1 ≤ 200 ms',
    measured: s1 ? `${ms(s1.answerMs.p50)} ms` : missing(`saga ${variant} c=1, gateway 0`),
    met: !!s1 && s1.answerMs.p50 <= 200,
  });
  const sagas = r.series.filter((s) => s.kind === 'saga');
  const variants = [...new Set(sagas.map((s) => s.variant))];
  const byVariant = variants.map((v) => {
    const levels = sagas.filter((s) => s.variant === v).flatMap((s) => s.levels);
    const codes: Record<string, number> = {};
    for (const l of levels) for (const [code, n] of Object.entries(l.codes)) if (code !== 'CONFIRMED') codes[code] = (codes[code] ?? 0) + n;
    return { v, n: levels.reduce((sum, l) => sum + errorCount(l), 0), codes };
  });
  out.push({
    target: 'no errors at any level, every variant (none of these orders can be refused)',
    measured: byVariant.map(({ v, n, codes }) => `${v}: ${n}${n ? ` (${errors(codes)})` : ''}`).join(', ') || missing('no saga series'),
    met: sagas.length > 0 && byVariant.every(({ n }) => n === 0),
  });
  return out;
}

/** The sampler's own CPU over every measured window: mean and most, in ms per second (= thousandths of one core). */
export function samplerCost(r: Pick<BenchResults, 'series' | 'floor'>): { windows: number; meanMsPerSecond: number; maxMsPerSecond: number } | undefined {
  const costs = [...r.series.flatMap((s) => s.levels), ...(r.floor ?? [])].map((l) => l.sampler?.cpuCores).filter((c): c is number => c !== undefined);
  if (!costs.length) return undefined;
  return { windows: costs.length, meanMsPerSecond: (costs.reduce((a, b) => a + b, 0) / costs.length) * 1000, maxMsPerSecond: Math.max(...costs) * 1000 };
}

/** The comparisons of one lever: each column a variant, the figures side by side per level (gateway latency 0). */
export const LEVER_TABLES: { title: string; variants: string[] }[] = [
  { title: 'update-with-start alone', variants: ['before', 'update-with-start', 'after'] },
  { title: 'answer after payment alone', variants: ['before', 'answer-after-payment', 'after'] },
  { title: 'dispatch: the transfer queue read 20 / 50 / default (100) times a second', variants: ['dispatch-20', 'dispatch-50', 'after'] },
  // the run of 2026-12-07, whose default was 50
  { title: 'dispatch: the transfer queue read 20 / default / 100 times a second', variants: ['dispatch-20', 'after', 'dispatch-100'] },
  { title: 'before → after', variants: ['before', 'after'] },
];

const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v)}` : '–');
const errors = (codes: Record<string, number>) =>
  Object.entries(codes)
    .filter(([code]) => code !== 'CONFIRMED')
    .map(([code, n]) => `${code} ${n}`)
    .join(', ') || 'none';
const procs = (list: ProcessFigures[]) =>
  list
    .map((p) =>
      p.name === 'machine' ? `**machine ${p.cpuCores.toFixed(2)}**` : p.name === STOLEN ? `*stolen ${p.cpuCores.toFixed(2)}*` : `${p.name} ${p.cpuCores.toFixed(2)} / ${Math.round(p.peakMemoryMiB)}`,
    )
    .join('<br>');
const STOLEN = 'stolen by the host';
const stolen = (list: ProcessFigures[]) => list.find((p) => p.name === STOLEN)?.cpuCores ?? 0;

/** The most CPU the host took from this virtual machine during any measured window (cores), if it mattered. */
export function worstSteal(r: Pick<BenchResults, 'series' | 'floor'>): number {
  return Math.max(0, ...r.series.flatMap((s) => s.levels.map((l) => stolen(l.processes))), ...(r.floor ?? []).map((l) => stolen(l.processes)));
}

/** One table per lever in LEVER_TABLES whose variants all ran: per level at gateway 0, each figure as "a / b / c" in the variants' order. */
function leverTables(r: BenchResults): string[] {
  const out: string[] = [];
  const shown = LEVER_TABLES.filter((t) => t.variants.every((v) => sagaSeries(r, v)));
  // before → after on its own only when no lever table already holds both
  const tables = shown.length > 1 ? shown.filter((t) => t.title !== 'before → after') : shown;
  if (tables.length) out.push('## Before → after, and each lever alone (gateway latency 0)', '');
  for (const t of tables) {
    const series = t.variants.map((v) => sagaSeries(r, v)!);
    const cell = (f: (l: LevelFigures) => string, c: number) =>
      series
        .map((s) => {
          const l = s.levels.find((x) => x.concurrency === c);
          return l ? f(l) : '–';
        })
        .join(' / ');
    out.push(
      `### ${t.title}: ${t.variants.join(' / ')}`,
      '',
      '| c | confirmed/s | answer p50 ms | answer p99 ms | transitions / order | commits / order | SQL statements / order | stack CPU ms / order |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const c of series[0].levels.map((l) => l.concurrency)) {
      out.push(
        `| ${c} | ${cell((l) => l.confirmedPerSecond.toFixed(1), c)} | ${cell((l) => ms(l.answerMs.p50), c)} | ${cell((l) => ms(l.answerMs.p99), c)} | ` +
          `${cell((l) => l.stateTransitionsPerOrder?.toFixed(1) ?? '–', c)} | ${cell((l) => l.commitsPerOrder?.toFixed(1) ?? '–', c)} | ` +
          `${cell((l) => l.sqlStatementsPerOrder?.toFixed(1) ?? '–', c)} | ${cell((l) => ms(cpuMsPerOrder(l)), c)} |`,
      );
    }
    out.push('');
  }
  return out;
}

export function markdown(r: BenchResults): string {
  const out: string[] = [];
  out.push(`# Benchmark ${r.startedAt}`, '');
  out.push(`\`${r.command}\` on ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, ${r.machine.os}.`, '');
  out.push(`Settings: ${Object.entries(r.settings).map(([k, v]) => `${k}=${v}`).join(', ')}.`, '');
  const steal = worstSteal(r);
  if (steal >= 0.1) {
    out.push(
      `**Noisy host:** the hypervisor took up to ${steal.toFixed(2)} cores from this machine during a measured window (*stolen* below). ` +
        'The levels where it did are slower than the machine can be; compare the variants level by level with that in mind.',
      '',
    );
  }
  out.push('Variants (one stack each, same run):', '');
  for (const [name, what] of Object.entries(r.variants)) out.push(`- **${name}**: ${what}`);
  out.push('');
  if (r.verdicts.length) {
    out.push('## Targets (the default stack, gateway latency 0, against floor (c) of the same run)', '', '| target | measured | met |', '|---|---|---|');
    for (const v of r.verdicts) out.push(`| ${v.target} | ${v.measured} | ${v.met ? 'yes' : '**no**'} |`);
    out.push('');
  }
  const sampler = samplerCost(r);
  if (sampler) {
    out.push(
      `The benchmark's process sampler (scripts/bench/procs.ts, in the load driver) cost ${sampler.meanMsPerSecond.toFixed(1)} ms of CPU per second on average ` +
        `(at most ${sampler.maxMsPerSecond.toFixed(1)}) over ${sampler.windows} measured windows: ${(sampler.meanMsPerSecond / 10 / r.machine.cpus).toFixed(2)}% of this machine.`,
      '',
    );
  }
  if (r.wallSeconds !== undefined) out.push(`Wall time of the run, stack boots included: ${Math.floor(r.wallSeconds / 60)} min ${Math.round(r.wallSeconds % 60)} s.`, '');
  if (r.limitB) {
    const b = r.limitB;
    out.push(
      '## Limit (b): the Temporal dev server\'s persistence',
      '',
      `One SQLite connection on this disk commits ${Math.round(b.fsyncCommitsPerSecond)} fsync'd transactions/s (journal_mode=wal, synchronous=full) ` +
        `and ${Math.round(b.serverPragmaCommitsPerSecond)}/s with the server's pragmas (${b.serverPragmas}). ` +
        `One order costs the server ${b.commitsPerOrder.toFixed(1)} commits (variant ${b.variant}, c=32, gateway 0 ms), ` +
        `so the persistence limit is ${b.ordersPerSecond.toFixed(1)} orders/s.`,
      '',
    );
  }
  if (r.floor?.length) {
    out.push(
      '## Floor (c): the cheapest workflows on the same dev server',
      '',
      'A worker in the benchmark process runs workflows that do nothing; a closed loop of clients starts each one and waits for its result. ' +
        `No HTTP, no PostgreSQL: what no saga on this server can beat.${r.floorVariant ? ` It ran on the dev server of variant **${r.floorVariant}**, after its saga levels.` : ''}`,
      '',
      ...Object.entries(FLOOR_WORKFLOWS)
        .filter(([name]) => r.floor!.some((l) => l.workflow === name))
        .map(([name, what]) => `- **${name}**: ${what}`),
      '',
      '| workflow | c | completed/s | p50 / p95 / p99 ms | server CPU ms / workflow | client + worker CPU ms / workflow | machine cores | stolen cores |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const l of r.floor) {
      const machine = l.processes.find((p) => p.name === 'machine')?.cpuCores;
      out.push(
        `| ${l.workflow} | ${l.concurrency} | ${l.completedPerSecond.toFixed(1)} | ${ms(l.latencyMs.p50)} / ${ms(l.latencyMs.p95)} / ${ms(l.latencyMs.p99)} | ` +
          `${l.serverCpuMsPerWorkflow.toFixed(1)} | ${l.clientWorkerCpuMsPerWorkflow.toFixed(1)} | ${machine?.toFixed(2) ?? '–'} | ${stolen(l.processes).toFixed(2)} |`,
      );
    }
    out.push('');
  }
  if (r.bottleneck) out.push('## Bottleneck', '', r.bottleneck, '');
  out.push(...leverTables(r));
  out.push('## Results', '');
  out.push(
    '| series | c | confirmed/s | answer p50 / p95 / p99 ms | → CONFIRMED in DB p50 / p99 ms | errors | transitions / order | commits / order | SQL statements / order | stack CPU ms / order | CPU cores / peak MiB |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const s of r.series) {
    for (const l of s.levels) {
      out.push(
        `| ${s.name} | ${l.concurrency} | ${l.confirmedPerSecond.toFixed(1)} | ${ms(l.answerMs.p50)} / ${ms(l.answerMs.p95)} / ${ms(l.answerMs.p99)} | ` +
          `${ms(l.confirmedInDbMs.p50)} / ${ms(l.confirmedInDbMs.p99)} | ${errors(l.codes)} | ${l.stateTransitionsPerOrder?.toFixed(1) ?? '–'} | ` +
          `${l.commitsPerOrder?.toFixed(1) ?? '–'} | ${l.sqlStatementsPerOrder?.toFixed(1) ?? '–'} | ${ms(cpuMsPerOrder(l))} | ${procs(l.processes)} |`,
      );
    }
  }
  out.push('', '![confirmed orders per second and p99 answer latency by concurrency](chart.svg)', '');
  return out.join('\n');
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

/** Two panels: confirmed orders/s and p99 answer latency, by concurrency (log2 axis), one line per series. */
export function chart(r: BenchResults): string {
  const W = 980;
  const H = 420;
  const panel = { w: 400, h: 300, top: 50 };
  const levels = [...new Set(r.series.flatMap((s) => s.levels.map((l) => l.concurrency)))].sort((a, b) => a - b);
  const x = (c: number, left: number) => left + (levels.length < 2 ? panel.w / 2 : (levels.indexOf(c) / (levels.length - 1)) * panel.w);
  const parts: string[] = [];
  const draw = (left: number, title: string, value: (l: LevelFigures) => number) => {
    const max = Math.max(1, ...r.series.flatMap((s) => s.levels.map(value).filter(Number.isFinite)));
    const y = (v: number) => panel.top + panel.h - (v / max) * panel.h;
    parts.push(`<text x="${left}" y="30" font-size="15" font-weight="bold">${title}</text>`);
    parts.push(`<line x1="${left}" y1="${panel.top + panel.h}" x2="${left + panel.w}" y2="${panel.top + panel.h}" stroke="#333"/>`);
    parts.push(`<line x1="${left}" y1="${panel.top}" x2="${left}" y2="${panel.top + panel.h}" stroke="#333"/>`);
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      parts.push(`<line x1="${left}" y1="${y(v)}" x2="${left + panel.w}" y2="${y(v)}" stroke="#ddd"/>`);
      parts.push(`<text x="${left - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${v >= 100 ? Math.round(v) : v.toFixed(1)}</text>`);
    }
    for (const c of levels) parts.push(`<text x="${x(c, left)}" y="${panel.top + panel.h + 16}" font-size="11" text-anchor="middle">${c}</text>`);
    parts.push(`<text x="${left + panel.w / 2}" y="${panel.top + panel.h + 32}" font-size="11" text-anchor="middle">concurrent customers</text>`);
    r.series.forEach((s, i) => {
      const pts = s.levels.filter((l) => Number.isFinite(value(l))).map((l) => `${x(l.concurrency, left).toFixed(1)},${y(value(l)).toFixed(1)}`);
      const dash = s.kind === 'baseline-a' ? ' stroke-dasharray="6 4"' : '';
      parts.push(`<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"${dash} points="${pts.join(' ')}"/>`);
      for (const p of pts) parts.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${COLORS[i % COLORS.length]}"/>`);
    });
  };
  draw(60, 'confirmed orders / s', (l) => l.confirmedPerSecond);
  draw(540, 'p99 checkout answer (ms)', (l) => l.answerMs.p99);
  r.series.forEach((s, i) => {
    const yy = panel.top + panel.h + 50 + Math.floor(i / 3) * 16;
    const xx = 60 + (i % 3) * 300;
    parts.push(`<line x1="${xx}" y1="${yy - 4}" x2="${xx + 24}" y2="${yy - 4}" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"${s.kind === 'baseline-a' ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${xx + 30}" y="${yy}" font-size="11">${s.name}</text>`);
  });
  const height = H + Math.ceil(r.series.length / 3) * 16;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`;
}
