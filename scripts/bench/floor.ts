/**
 * Floor (c): how many of the cheapest possible workflows the same Temporal
 * server completes per second on this machine, measured in the same run as
 * the saga. No HTTP, no PostgreSQL, no business logic: a worker in this
 * process runs workflows that do nothing (scripts/bench/floor-workflows.ts)
 * and a closed loop of clients starts each one and waits for its result.
 * What no saga on this server can beat, whatever its design.
 */
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { percentile } from './load';
import { sampleProcesses, type ProcessFigures, type SamplerCost } from './procs';
import { FLOOR_TASK_QUEUE } from './floor-workflows';

export const FLOOR_WORKFLOWS = {
  floorEmpty: 'empty: start, one workflow task, complete',
  floorThreeLocal: 'three local activities that do nothing (the cheapest three-step saga)',
  floorThreeActivities: 'three activities that do nothing, each a task on a queue (steps run by other workers)',
} as const;
export type FloorWorkflow = keyof typeof FLOOR_WORKFLOWS;

export interface FloorLevel {
  workflow: FloorWorkflow;
  concurrency: number;
  seconds: number;
  completed: number;
  completedPerSecond: number;
  /** start requested → result received (ms) */
  latencyMs: { p50: number; p95: number; p99: number };
  /** the dev server's CPU per workflow (ms) */
  serverCpuMsPerWorkflow: number;
  /** this process's CPU per workflow (ms): the client and the worker, without the sampler's own */
  clientWorkerCpuMsPerWorkflow: number;
  processes: ProcessFigures[];
  /** what sampling `processes` cost this process during the window */
  sampler?: SamplerCost;
}

export interface FloorOptions {
  address: string;
  namespace: string;
  /** the dev server's pid, for its CPU */
  serverPid: number;
  levels: number[];
  /** the floor workflows to run (default: all of FLOOR_WORKFLOWS) */
  workflows?: FloorWorkflow[];
  seconds: number;
  rampSeconds: number;
  say: (msg: string) => void;
}

/** Runs each floor workflow at each concurrency, a measured window after a ramp, like the saga's levels. */
export async function measureFloor(o: FloorOptions): Promise<FloorLevel[]> {
  const workerConnection = await NativeConnection.connect({ address: o.address });
  const connection = await Connection.connect({ address: o.address });
  const client = new Client({ connection, namespace: o.namespace });
  const worker = await Worker.create({
    connection: workerConnection,
    namespace: o.namespace,
    taskQueue: FLOOR_TASK_QUEUE,
    workflowsPath: fileURLToPath(new URL('./floor-workflows.ts', import.meta.url)),
    activities: { async noop() {} },
  });
  const out: FloorLevel[] = [];
  try {
    await worker.runUntil(async () => {
      for (const workflow of o.workflows ?? (Object.keys(FLOOR_WORKFLOWS) as FloorWorkflow[])) {
        for (const concurrency of o.levels) {
          const level = await measure(client, workflow, concurrency, o);
          o.say(
            `floor ${workflow} c=${concurrency}: ${level.completedPerSecond.toFixed(1)} workflows/s, p50/p95/p99 ${level.latencyMs.p50}/${level.latencyMs.p95}/${level.latencyMs.p99} ms, ` +
              `server ${level.serverCpuMsPerWorkflow.toFixed(1)} ms CPU each, client+worker ${level.clientWorkerCpuMsPerWorkflow.toFixed(1)} ms`,
          );
          out.push(level);
        }
      }
    });
  } finally {
    await connection.close();
    await workerConnection.close();
  }
  return out;
}

async function measure(client: Client, workflow: FloorWorkflow, concurrency: number, o: FloorOptions): Promise<FloorLevel> {
  const latencies: number[] = [];
  let completed = 0;
  let measureFrom = Number.POSITIVE_INFINITY;
  let deadline = Number.POSITIVE_INFINITY;
  let processes: ProcessFigures[] = [];
  let sampler: SamplerCost | undefined;
  let closed: Promise<void> | undefined;
  const started = Date.now();
  const answered = new Set<number>();
  const open = () => {
    measureFrom = Date.now();
    deadline = measureFrom + o.seconds * 1000;
    const sampling = sampleProcesses(() => [{ name: 'temporal', pid: o.serverPid }, { name: 'client + worker', pid: process.pid, alone: true }]);
    // CPU over the window only, not the tail of workflows started before it closed
    closed = new Promise((resolve) => setTimeout(() => resolve(void ({ processes, sampler } = sampling.stop())), o.seconds * 1000));
  };
  const user = async (u: number) => {
    for (let i = 0; Date.now() < deadline; i++) {
      const sentAt = Date.now();
      await client.workflow.execute(workflow, { taskQueue: FLOOR_TASK_QUEUE, workflowId: `floor-${workflow}-${concurrency}-${u}-${i}-${sentAt}` });
      const doneAt = Date.now();
      if (sentAt >= measureFrom) latencies.push(doneAt - sentAt);
      if (doneAt >= measureFrom && doneAt <= deadline) completed += 1;
      answered.add(u);
      if (answered.size === concurrency && measureFrom === Number.POSITIVE_INFINITY && doneAt >= started + o.rampSeconds * 1000) open();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, u) => user(u)));
  await closed;
  latencies.sort((a, b) => a - b);
  const cpuSeconds = (name: string) => processes.find((p) => p.name === name)?.cpuSeconds ?? Number.NaN;
  const perWorkflowMs = (seconds: number) => (seconds * 1000) / Math.max(1, completed);
  return {
    workflow,
    concurrency,
    seconds: o.seconds,
    completed,
    completedPerSecond: completed / o.seconds,
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
    serverCpuMsPerWorkflow: perWorkflowMs(cpuSeconds('temporal')),
    // the sampler runs in this process too: its ticks are the benchmark's, not the client's or the worker's
    clientWorkerCpuMsPerWorkflow: perWorkflowMs(cpuSeconds('client + worker') - (sampler?.cpuSeconds ?? 0)),
    processes,
    sampler,
  };
}
