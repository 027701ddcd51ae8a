/**
 * The benchmark's results as a user reads them: a markdown table and a chart
 * (SVG, no dependencies) from the same JSON the run writes.
 */
import type { FeedFigures } from './feed-receiver';
import { FLOOR_WORKFLOWS, type FloorLevel } from './floor';
import type { ProcessFigures } from './procs';

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
  processes: ProcessFigures[];
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
}

/** The issue's targets at concurrency 32, gateway latency 0, for one series (and limit b). */
export function verdicts(saga: Series | undefined, limit: PersistenceLimit | undefined): Verdict[] {
  const at32 = saga?.levels.find((l) => l.concurrency === 32);
  if (!saga || !at32) return [];
  const rejections = (l: LevelFigures) => Object.entries(l.codes).filter(([code]) => code !== 'CONFIRMED').reduce((n, [, k]) => n + k, 0);
  const out: Verdict[] = [
    { target: '≥ 40 confirmed orders/s', measured: `${at32.confirmedPerSecond.toFixed(1)}/s (${saga.name})`, met: at32.confirmedPerSecond >= 40 },
    { target: 'p99 checkout answer < 500 ms', measured: `${Math.round(at32.answerMs.p99)} ms`, met: at32.answerMs.p99 < 500 },
  ];
  if (limit) {
    const share = at32.confirmedPerSecond / limit.ordersPerSecond;
    out.push({ target: '≥ 70% of limit (b)', measured: `${(share * 100).toFixed(0)}% of ${limit.ordersPerSecond.toFixed(1)}/s`, met: share >= 0.7 });
  }
  const errs = saga.levels.map((l) => `c=${l.concurrency}: ${rejections(l)}`).join(', ');
  out.push({ target: 'no errors at any level (none of these orders can be refused)', measured: errs, met: saga.levels.every((l) => rejections(l) === 0) });
  return out;
}

/**
 * Little's law for a closed loop: c customers who each wait for their answer
 * get c ÷ (mean answer time) answers per second. A p99 under L needs a mean
 * under L (unless the slowest 1% are very slow), so at least c ÷ L per second.
 */
export function neededPerSecond(concurrency: number, latencyMs: number): number {
  return concurrency / (latencyMs / 1000);
}

/**
 * Can the targets be met on this machine at all? Little's law gives the rate
 * they need; baseline (a) (no Temporal) and floor (c) (a workflow that does
 * nothing) say how close a stack can come.
 */
export function reachability(r: Pick<BenchResults, 'series' | 'floor'>): string | undefined {
  const empty = r.floor?.find((l) => l.workflow === 'floorEmpty' && l.concurrency === 32);
  const baseline = r.series.find((s) => s.kind === 'baseline-a' && s.gatewayLatencyMs === 0)?.levels.find((l) => l.concurrency === 32);
  if (!empty && !baseline) return undefined;
  const needed = neededPerSecond(32, 500);
  const parts = [`p99 < 500 ms with 32 customers in a closed loop needs at least ${needed.toFixed(0)} answers/s (Little's law). At c=32 here:`];
  if (baseline) parts.push(`baseline (a), with no Temporal at all, confirms ${baseline.confirmedPerSecond.toFixed(1)}/s with p99 ${Math.round(baseline.answerMs.p99)} ms;`);
  if (empty) {
    parts.push(
      `the empty workflow, with no HTTP, database or business logic, completes ${empty.completedPerSecond.toFixed(1)}/s with p99 ${Math.round(empty.latencyMs.p99)} ms ` +
        `(${empty.serverCpuMsPerWorkflow.toFixed(0)} ms of server CPU and ${empty.clientWorkerCpuMsPerWorkflow.toFixed(0)} ms of client + worker CPU each):`,
    );
    const meets = empty.completedPerSecond >= needed && empty.latencyMs.p99 < 500;
    parts.push(meets ? 'the targets are within the floor here.' : 'no workflow design meets the targets on this machine.');
  }
  return parts.join(' ');
}

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
    out.push('## Targets (concurrency 32, gateway latency 0)', '', '| target | measured | met |', '|---|---|---|');
    for (const v of r.verdicts) out.push(`| ${v.target} | ${v.measured} | ${v.met ? 'yes' : '**no**'} |`);
    out.push('');
  }
  const finding = reachability(r);
  if (finding) out.push(`**Can they be met here?** ${finding}`, '');
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
      ...Object.entries(FLOOR_WORKFLOWS).map(([name, what]) => `- **${name}**: ${what}`),
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
  const before = r.series.find((s) => s.kind === 'saga' && s.variant === 'before' && s.gatewayLatencyMs === 0);
  const after = r.series.find((s) => s.kind === 'saga' && s.variant === 'after' && s.gatewayLatencyMs === 0);
  if (before && after) {
    const serverMsPerOrder = (l: LevelFigures) => {
      const cores = l.processes.find((p) => p.name === 'temporal')?.cpuCores;
      return cores !== undefined && l.confirmedPerSecond > 0 ? `${Math.round((cores / l.confirmedPerSecond) * 1000)}` : '–';
    };
    out.push(
      '## Before → after (gateway latency 0)',
      '',
      '| c | confirmed/s | answer p99 ms | transitions / order | commits / order | dev server CPU ms / order |',
      '|---|---|---|---|---|---|',
    );
    for (const b of before.levels) {
      const a = after.levels.find((l) => l.concurrency === b.concurrency);
      if (!a) continue;
      out.push(
        `| ${b.concurrency} | ${b.confirmedPerSecond.toFixed(1)} → ${a.confirmedPerSecond.toFixed(1)} | ${ms(b.answerMs.p99)} → ${ms(a.answerMs.p99)} | ` +
          `${b.stateTransitionsPerOrder?.toFixed(1) ?? '–'} → ${a.stateTransitionsPerOrder?.toFixed(1) ?? '–'} | ${b.commitsPerOrder?.toFixed(1) ?? '–'} → ${a.commitsPerOrder?.toFixed(1) ?? '–'} | ` +
          `${serverMsPerOrder(b)} → ${serverMsPerOrder(a)} |`,
      );
    }
    out.push('');
  }
  out.push('## Results', '');
  out.push(
    '| series | c | confirmed/s | answer p50 / p95 / p99 ms | → CONFIRMED in DB p50 / p99 ms | errors | transitions / order | commits / order | CPU cores / peak MiB |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const s of r.series) {
    for (const l of s.levels) {
      out.push(
        `| ${s.name} | ${l.concurrency} | ${l.confirmedPerSecond.toFixed(1)} | ${ms(l.answerMs.p50)} / ${ms(l.answerMs.p95)} / ${ms(l.answerMs.p99)} | ` +
          `${ms(l.confirmedInDbMs.p50)} / ${ms(l.confirmedInDbMs.p99)} | ${errors(l.codes)} | ${l.stateTransitionsPerOrder?.toFixed(1) ?? '–'} | ` +
          `${l.commitsPerOrder?.toFixed(1) ?? '–'} | ${procs(l.processes)} |`,
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
