/**
 * CPU time and memory of each process the stack runs, from /proc (Linux).
 * A process counts with all its descendants (PostgreSQL forks a backend per
 * connection); CPU is user + system time, memory is the proportional set
 * size (PSS), so pages shared by PostgreSQL's backends are not counted once
 * per backend.
 *
 * The sampler runs inside the load driver while it measures, so it must be
 * cheap: every tick (500 ms) it reads only /proc/<pid>/stat of the processes
 * it already knows; every `scanEvery` ticks (10 s) it scans /proc for new
 * descendants and reads their PSS (smaps_rollup walks a process's page
 * tables, the expensive part). CPU needs no more: a child found late has
 * its time since birth, and one that exits is reaped by its parent, whose
 * cutime/cstime then hold its time. The sampler's own CPU (process.cpuUsage
 * around its ticks) is reported with the figures.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux this runs on

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in ticks: reaped children's time too */
  ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name is in parentheses and may hold spaces: split after the last ')'
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const num = (i: number) => Number(fields[i - 3]);
    return { pid, ppid: num(4), ticks: num(14) + num(15) + num(16) + num(17) };
  } catch {
    return undefined; // it has exited
  }
}

function pssKb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * From /proc/stat (all cores): the ticks this machine's own processes ran
 * (user, nice, system, irq, softirq) and the ticks the hypervisor gave to
 * someone else while we wanted to run (steal). A virtual machine with steal is
 * noisy: the figures of that window are lower than the machine can do.
 */
function machineTicks(): { busy: number; steal: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...
  return { busy: f[0] + f[1] + f[2] + f[5] + f[6], steal: f[7] ?? 0 };
}

function allStats(): ProcStat[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readStat(Number(d)))
    .filter((s): s is ProcStat => s !== undefined);
}

/** A process and its descendants' pids, from one scan of /proc. */
function tree(root: number, byParent: Map<number, number[]>): number[] {
  const out: number[] = [];
  const visit = (pid: number) => {
    out.push(pid);
    for (const child of byParent.get(pid) ?? []) visit(child);
  };
  visit(root);
  return out;
}

export interface ProcessFigures {
  name: string;
  /** CPU seconds used during the window */
  cpuSeconds: number;
  /** cpuSeconds / wall seconds: 1.0 = one core busy all the time */
  cpuCores: number;
  /** the largest PSS seen while sampling (MiB) */
  peakMemoryMiB: number;
}

/** What the sampler itself cost the process it runs in (the load driver) during one window. */
export interface SamplerCost {
  /** CPU seconds spent in the sampler's ticks (process.cpuUsage, user + system) */
  cpuSeconds: number;
  /** cpuSeconds / wall seconds: the share of one core */
  cpuCores: number;
  /** ticks taken (CPU reads), and how many of them also scanned /proc and read memory */
  ticks: number;
  fullScans: number;
}

export interface Sampled {
  processes: ProcessFigures[];
  sampler: SamplerCost;
}

type Watched = { name: string; pid: number; alone?: boolean };

/** Ticks between scans of /proc and PSS reads; BENCH_SAMPLER_SCAN_EVERY=1 is the sampler as it was before issue 20 (every tick), to measure its cost. */
const SCAN_EVERY = Number(process.env.BENCH_SAMPLER_SCAN_EVERY ?? 20);

/**
 * Samples the given processes (with their descendants) until stopped:
 * CPU every `intervalMs`, descendants and memory every `scanEvery` ticks, and at the start and the end.
 */
export function sampleProcesses(processes: () => Watched[], intervalMs = 500, scanEvery = SCAN_EVERY) {
  const started = Date.now();
  const cpuAtStart = new Map<string, number>();
  const lastCpu = new Map<string, number>();
  const peakKb = new Map<string, number>();
  /** each watched name's member pids, from the last full scan */
  const members = new Map<string, number[]>();
  const cost = { micros: 0, ticks: 0, fullScans: 0 };

  const scan = () => {
    const byParent = new Map<number, number[]>();
    for (const st of allStats()) byParent.set(st.ppid, [...(byParent.get(st.ppid) ?? []), st.pid]);
    members.clear();
    // alone: the process without its children (the load driver, whose children are the stack)
    for (const { name, pid, alone } of processes()) members.set(name, alone ? [pid] : tree(pid, byParent));
    for (const [name, pids] of members) peakKb.set(name, Math.max(peakKb.get(name) ?? 0, pids.reduce((sum, p) => sum + pssKb(p), 0)));
    cost.fullScans += 1;
  };
  const tick = (first: boolean, full: boolean) => {
    const t0 = process.cpuUsage();
    if (full) scan();
    for (const [name, pids] of members) {
      const ticks = pids.reduce((sum, p) => sum + (readStat(p)?.ticks ?? 0), 0);
      if (first || !cpuAtStart.has(name)) cpuAtStart.set(name, ticks);
      // an exited member's time moves to its parent's cutime once reaped; until then the sum may dip, never count twice
      lastCpu.set(name, Math.max(ticks, lastCpu.get(name) ?? 0));
    }
    const d = process.cpuUsage(t0);
    cost.micros += d.user + d.system;
    cost.ticks += 1;
  };
  const machineAtStart = machineTicks();
  tick(true, true);
  let n = 0;
  const timer = setInterval(() => tick(false, ++n % scanEvery === 0), intervalMs);
  return {
    stop(): Sampled {
      clearInterval(timer);
      tick(false, true);
      const wallSeconds = (Date.now() - started) / 1000;
      const figures = [...lastCpu.keys()].map((name) => {
        const cpuSeconds = (lastCpu.get(name)! - cpuAtStart.get(name)!) / TICKS_PER_SECOND;
        return { name, cpuSeconds, cpuCores: cpuSeconds / wallSeconds, peakMemoryMiB: (peakKb.get(name) ?? 0) / 1024 };
      });
      // the whole machine, everything included: how close to saturated the cores were, and how much the host took
      const end = machineTicks();
      const busy = (end.busy - machineAtStart.busy) / TICKS_PER_SECOND;
      const steal = (end.steal - machineAtStart.steal) / TICKS_PER_SECOND;
      const samplerSeconds = cost.micros / 1e6;
      return {
        processes: [
          ...figures,
          { name: 'machine', cpuSeconds: busy, cpuCores: busy / wallSeconds, peakMemoryMiB: 0 },
          { name: 'stolen by the host', cpuSeconds: steal, cpuCores: steal / wallSeconds, peakMemoryMiB: 0 },
        ],
        sampler: { cpuSeconds: samplerSeconds, cpuCores: samplerSeconds / wallSeconds, ticks: cost.ticks, fullScans: cost.fullScans },
      };
    },
  };
}
