/**
 * The benchmark's arithmetic (npm run bench is not part of the test command,
 * but the figures it prints must be computed right): percentiles, the
 * target verdicts and the before → after table.
 */
import { describe, expect, it } from 'vitest';
import { percentile } from '../../scripts/bench/load';
import { orderWritesOnTaskQueue } from '../../scripts/bench/config';
import type { WorkflowStartInput } from '@temporalio/client';
import type { FloorLevel } from '../../scripts/bench/floor';
import { chart, markdown, neededPerSecond, reachability, verdicts, type BenchResults, type LevelFigures, type Series } from '../../scripts/bench/report';

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

describe('bench arithmetic', () => {
  it('percentile is the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(values, 50), percentile(values, 95), percentile(values, 99), percentile(values, 100)]).toEqual([50, 95, 99, 100]);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('targets at c=32: throughput, p99, share of limit (b), and any non-CONFIRMED answer counts as an error', () => {
    const met = verdicts(series('after', [level(1, 2, 400), level(32, 75, 450)]), limit);
    expect(met.map((v) => v.met)).toEqual([true, true, true, true]);
    const missed = verdicts(series('after', [level(1, 2, 400, { CONFIRMED: 9, HTTP_503: 1 }), level(32, 6, 7000)]), limit);
    expect(missed.map((v) => v.met)).toEqual([false, false, false, false]);
    expect(missed[2].measured).toBe('6% of 100.0/s');
    expect(missed[3].measured).toBe('c=1: 1, c=32: 0');
    expect(verdicts(series('after', [level(8, 5, 100)]), limit)).toEqual([]);
  });

  it('the report shows before → after per level and draws both series', () => {
    const results: BenchResults = {
      startedAt: '2026-11-23T00:00:00Z',
      command: 'npm run bench',
      machine: { cpus: 2, cpuModel: 'test', memoryGiB: 1, node: 'v20', os: 'Linux' },
      settings: {},
      variants: { before: 'old', after: 'new' },
      series: [series('before', [level(32, 4.5, 9365)]), series('after', [level(32, 6.1, 7004)])],
      limitB: limit,
      verdicts: [],
    };
    const md = markdown(results);
    expect(md).toContain('| 32 | 4.5 → 6.1 | 9365 → 7004 | 21.0 → 21.0 | 27.0 → 27.0 | 111 → 82 |');
    expect(md).toContain('the persistence limit is 100.0 orders/s');
    expect(chart(results).match(/<polyline/g)).toHaveLength(4); // 2 series × 2 panels
  });

  it("floor (c): Little's law says what the targets need, and the empty workflow says whether any design gets there", () => {
    expect(neededPerSecond(32, 500)).toBe(64);
    expect(neededPerSecond(8, 200)).toBe(40);
    const floor = (perSecond: number, p99: number): FloorLevel => ({
      workflow: 'floorEmpty',
      concurrency: 32,
      seconds: 20,
      completed: perSecond * 20,
      completedPerSecond: perSecond,
      latencyMs: { p50: p99 / 2, p95: p99 * 0.9, p99 },
      serverCpuMsPerWorkflow: 25,
      clientWorkerCpuMsPerWorkflow: 15,
      processes: [
        { name: 'machine', cpuSeconds: 32, cpuCores: 1.6, peakMemoryMiB: 0 },
        { name: 'stolen by the host', cpuSeconds: 6, cpuCores: 0.3, peakMemoryMiB: 0 },
      ],
    });
    const baseline: Series = { name: 'baseline (a)', kind: 'baseline-a', variant: 'baseline-a', gatewayLatencyMs: 0, levels: [level(32, 63.5, 801)] };
    expect(reachability({ series: [baseline], floor: [floor(38.8, 958)] })).toBe(
      "p99 < 500 ms with 32 customers in a closed loop needs at least 64 answers/s (Little's law). At c=32 here: " +
        'baseline (a), with no Temporal at all, confirms 63.5/s with p99 801 ms; ' +
        'the empty workflow, with no HTTP, database or business logic, completes 38.8/s with p99 958 ms (25 ms of server CPU and 15 ms of client + worker CPU each): ' +
        'no workflow design meets the targets on this machine.',
    );
    expect(reachability({ series: [], floor: [floor(80, 420)] })).toContain('the targets are within the floor here');
    expect(reachability({ series: [], floor: [floor(80, 700)] })).toContain('no workflow design meets the targets');
    expect(reachability({ series: [], floor: [{ ...floor(80, 420), concurrency: 8 }] })).toBeUndefined();
    expect(reachability({ series: [] })).toBeUndefined();
    const results: BenchResults = {
      startedAt: '2026-11-23T00:00:00Z',
      command: 'npm run bench',
      machine: { cpus: 2, cpuModel: 'test', memoryGiB: 1, node: 'v20', os: 'Linux' },
      settings: {},
      variants: {},
      series: [],
      floor: [floor(38.8, 958)],
      verdicts: [{ target: '≥ 40 confirmed orders/s', measured: '6/s', met: false }],
    };
    const md = markdown(results);
    expect(md).toContain('| floorEmpty | 32 | 38.8 | 479 / 862 / 958 | 25.0 | 15.0 | 1.60 | 0.30 |');
    expect(md).toContain('**Noisy host:** the hypervisor took up to 0.30 cores from this machine during a measured window');
    expect(markdown({ ...results, floor: [] })).not.toContain('Noisy host');
    expect(md).toContain("**Can they be met here?** p99 < 500 ms with 32 customers in a closed loop needs at least 64 answers/s (Little's law).");
  });
});

describe('variant "before": the benchmark API starts sagas with their order writes on the task queue', () => {
  it('sets orderWrites on the saga input and changes nothing else', async () => {
    const order = { orderId: 'o-1', customerId: 'c-1', currency: 'USD', items: [], totalAmount: 0 };
    const input = { workflowType: 'placeOrder', headers: {}, options: { taskQueue: 'orders', workflowId: 'order-o-1', args: [order] } } as unknown as WorkflowStartInput;
    let started: WorkflowStartInput | undefined;
    const runId = await orderWritesOnTaskQueue.start!(input, async (given) => {
      started = given;
      return 'run-1';
    });
    expect(runId).toBe('run-1');
    expect(started!.options.args).toEqual([{ ...order, orderWrites: 'task-queue' }]);
    expect(started!.options.workflowId).toBe('order-o-1');
    expect(order).not.toHaveProperty('orderWrites');
  });
});
