/**
 * The benchmark's arithmetic (npm run bench is not part of the test command,
 * but the figures it prints must be computed right): percentiles, CPU per
 * order, the target verdicts, the lever tables, and the variants' switches.
 */
import { describe, expect, it } from 'vitest';
import { percentile } from '../../scripts/bench/load';
import { benchConfig, variantInterceptors } from '../../scripts/bench/config';
import type { WorkflowStartInput, WorkflowStartUpdateWithStartInput } from '@temporalio/client';
import type { FloorLevel } from '../../scripts/bench/floor';
import { chart, cpuMsPerOrder, markdown, verdicts, type BenchResults, type LevelFigures, type Series } from '../../scripts/bench/report';

const level = (concurrency: number, perSecond: number, p99: number, codes: Record<string, number> = { CONFIRMED: 10 }): LevelFigures => ({
  concurrency,
  seconds: 20,
  requests: 10,
  confirmed: perSecond * 20,
  confirmedPerSecond: perSecond,
  answerMs: { p50: p99 / 2, p95: p99 * 0.9, p99 },
  confirmedInDbMs: { p50: p99 / 2, p95: p99 * 0.9, p99 },
  codes,
  stateTransitionsPerOrder: 21,
  commitsPerOrder: 27,
  processes: [{ name: 'temporal', cpuSeconds: 10, cpuCores: 0.5, peakMemoryMiB: 200 }],
});
const series = (variant: string, levels: LevelFigures[]): Series => ({ name: `saga ${variant}`, kind: 'saga', variant, gatewayLatencyMs: 0, levels });
const limit = { fsyncCommitsPerSecond: 2700, serverPragmaCommitsPerSecond: 7000, serverPragmas: 'journal_mode=wal', commitsPerOrder: 27, ordersPerSecond: 100, variant: 'after' };

const floor = (workflow: FloorLevel['workflow'], concurrency: number, perSecond: number, cpuMs = 40): FloorLevel => ({
  workflow,
  concurrency,
  seconds: 20,
  completed: perSecond * 20,
  completedPerSecond: perSecond,
  latencyMs: { p50: 479, p95: 862, p99: 958 },
  serverCpuMsPerWorkflow: cpuMs * 0.625,
  clientWorkerCpuMsPerWorkflow: cpuMs * 0.375,
  processes: [
    { name: 'machine', cpuSeconds: 32, cpuCores: 1.6, peakMemoryMiB: 0 },
    { name: 'stolen by the host', cpuSeconds: 6, cpuCores: 0.3, peakMemoryMiB: 0 },
  ],
});
const results = (over: Partial<BenchResults>): BenchResults => ({
  startedAt: '2026-12-07T00:00:00Z',
  command: 'npm run bench',
  machine: { cpus: 2, cpuModel: 'test', memoryGiB: 1, node: 'v20', os: 'Linux' },
  settings: {},
  variants: {},
  series: [],
  verdicts: [],
  ...over,
});

describe('bench arithmetic', () => {
  it('percentile is the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(values, 50), percentile(values, 95), percentile(values, 99), percentile(values, 100)]).toEqual([50, 95, 99, 100]);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it("CPU per confirmed order counts the stack's processes, not the load driver or the machine's totals", () => {
    const l = {
      ...level(32, 10, 400),
      processes: [
        { name: 'temporal', cpuSeconds: 10, cpuCores: 0.5, peakMemoryMiB: 200 },
        { name: 'api', cpuSeconds: 2, cpuCores: 0.1, peakMemoryMiB: 100 },
        { name: 'load driver', cpuSeconds: 5, cpuCores: 0.25, peakMemoryMiB: 100 },
        { name: 'machine', cpuSeconds: 30, cpuCores: 1.5, peakMemoryMiB: 0 },
      ],
    };
    expect(cpuMsPerOrder(l)).toBe(60); // 12 s of CPU ÷ 200 orders
  });

  it('targets against the same run: throughput and CPU as ratios to floorThreeActivities at c=32, p50 at c=1, and any answer but CONFIRMED is an error', () => {
    const floors = [floor('floorThreeActivities', 32, 12, 40), floor('floorEmpty', 32, 30, 20)];
    // 8/s ÷ 12/s = 0.67; 10 s of CPU ÷ 160 orders = 62.5 ms ÷ 40 ms = 1.56
    const met = verdicts(results({ series: [series('after', [level(1, 4, 360), level(32, 8, 3000)])], floor: floors }), 'after');
    expect(met.map((v) => v.met)).toEqual([true, true, true, true]);
    expect(met[0].measured).toBe('8.0/s ÷ 12.0/s = 0.67');
    expect(met[1].measured).toBe('63 ms ÷ 40 ms = 1.56');
    expect(met[2].measured).toBe('180 ms');

    const slow = [level(1, 2, 700, { CONFIRMED: 9, HTTP_503: 1 }), level(32, 6, 7000)];
    const missed = verdicts(results({ series: [series('after', slow), series('before', [level(32, 4, 9000)])], floor: floors }), 'after');
    expect(missed.map((v) => v.met)).toEqual([false, false, false, false]);
    expect(missed[0].measured).toBe('6.0/s ÷ 12.0/s = 0.50');
    expect(missed[3].measured).toBe('after: 1 (HTTP_503 1), before: 0');

    // without the floor in the run, the ratios are not measured: never met
    const unmeasured = verdicts(results({ series: [series('after', [level(1, 4, 360), level(32, 8, 3000)])] }), 'after');
    expect(unmeasured.slice(0, 2).map((v) => [v.met, v.measured])).toEqual([
      [false, 'not measured (floorThreeActivities c=32)'],
      [false, 'not measured (floorThreeActivities c=32)'],
    ]);
  });

  it('the report puts each lever beside before and after per level, and draws every series', () => {
    const r = results({
      variants: { before: 'old', 'update-with-start': 'one call', after: 'new' },
      series: [series('before', [level(32, 4.5, 9365)]), series('update-with-start', [level(32, 5, 8000)]), series('after', [level(32, 6.1, 7004)])],
      limitB: limit,
    });
    const md = markdown(r);
    expect(md).toContain('### update-with-start alone: before / update-with-start / after');
    expect(md).toContain('| 32 | 4.5 / 5.0 / 6.1 | 4683 / 4000 / 3502 | 9365 / 8000 / 7004 | 21.0 / 21.0 / 21.0 | 27.0 / 27.0 / 27.0 |');
    expect(md).toContain('the persistence limit is 100.0 orders/s');
    expect(chart(r).match(/<polyline/g)).toHaveLength(6); // 3 series × 2 panels
  });

  it('floor (c) has its table, and a host that steals CPU is called out', () => {
    const md = markdown(results({ floor: [floor('floorEmpty', 32, 38.8)] }));
    expect(md).toContain('| floorEmpty | 32 | 38.8 | 479 / 862 / 958 | 25.0 | 15.0 | 1.60 | 0.30 |');
    expect(md).toContain('**Noisy host:** the hypervisor took up to 0.30 cores from this machine during a measured window');
    expect(markdown(results({ floor: [] }))).not.toContain('Noisy host');
  });
});

describe('variant switches: the benchmark API rewrites each saga input as the variant runs it', () => {
  const order = { orderId: 'o-1', customerId: 'c-1', currency: 'USD', items: [], totalAmount: 0 };
  const defaults = benchConfig.parse({});

  it('the defaults rewrite nothing', () => {
    expect(variantInterceptors(defaults)).toEqual([]);
  });

  it('a plain start gets orderWrites and confirmAt, and nothing else changes', async () => {
    const [interceptor] = variantInterceptors(benchConfig.parse({ ORDER_WRITES: 'task-queue', CONFIRM_AT: 'stock-commit' }));
    const input = { workflowType: 'placeOrder', headers: {}, options: { taskQueue: 'orders', workflowId: 'order-o-1', args: [order] } } as unknown as WorkflowStartInput;
    let started: WorkflowStartInput | undefined;
    const runId = await interceptor.start!(input, async (given) => {
      started = given;
      return 'run-1';
    });
    expect(runId).toBe('run-1');
    expect(started!.options.args).toEqual([{ ...order, orderWrites: 'task-queue', confirmAt: 'stock-commit' }]);
    expect(started!.options.workflowId).toBe('order-o-1');
    expect(order).not.toHaveProperty('orderWrites');
  });

  it('an update-with-start gets confirmAt on its start operation', async () => {
    const [interceptor] = variantInterceptors(benchConfig.parse({ CONFIRM_AT: 'stock-commit' }));
    const input = { workflowType: 'placeOrder', updateName: 'awaitOutcome', workflowStartOptions: { taskQueue: 'orders', workflowId: 'order-o-1', args: [order] } } as unknown as WorkflowStartUpdateWithStartInput;
    let sent: WorkflowStartUpdateWithStartInput | undefined;
    await interceptor.startUpdateWithStart!(input, async (given) => {
      sent = given;
      return {} as never;
    });
    expect(sent!.workflowStartOptions.args).toEqual([{ ...order, confirmAt: 'stock-commit' }]);
    expect(sent!.updateName).toBe('awaitOutcome');
  });
});
