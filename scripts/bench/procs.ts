/**
 * CPU time and memory of each process the stack runs, from /proc (Linux).
 * A process counts with all its descendants (PostgreSQL forks a backend per
 * connection); CPU is user + system time, memory is the proportional set
 * size (PSS), so pages shared by PostgreSQL's backends are not counted once
 * per backend.
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

/** A process and its descendants; `byPid` and `byParent` index one sample's stats. */
function tree(root: number, byPid: Map<number, ProcStat>, byParent: Map<number, ProcStat[]>): ProcStat[] {
  const out: ProcStat[] = [];
  const visit = (pid: number) => {
    const self = byPid.get(pid);
    if (self) out.push(self);
    for (const child of byParent.get(pid) ?? []) visit(child.pid);
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

/**
 * Samples the given processes (with their descendants) until stopped:
 * CPU over the whole window, memory every `intervalMs`.
 */
export function sampleProcesses(processes: () => { name: string; pid: number; alone?: boolean }[], intervalMs = 500) {
  const started = Date.now();
  const cpuAtStart = new Map<string, number>();
  const lastCpu = new Map<string, number>();
  const peakKb = new Map<string, number>();
  const sample = (first: boolean) => {
    const stats = allStats();
    const byPid = new Map(stats.map((st) => [st.pid, st]));
    const byParent = new Map<number, ProcStat[]>();
    for (const st of stats) byParent.set(st.ppid, [...(byParent.get(st.ppid) ?? []), st]);
    for (const { name, pid, alone } of processes()) {
      // alone: the process without its children (the load driver, whose children are the stack)
      const members = alone ? [byPid.get(pid)].filter((st): st is ProcStat => st !== undefined) : tree(pid, byPid, byParent);
      const ticks = members.reduce((sum, s) => sum + s.ticks, 0);
      if (first || !cpuAtStart.has(name)) cpuAtStart.set(name, ticks);
      lastCpu.set(name, ticks);
      const kb = members.reduce((sum, s) => sum + pssKb(s.pid), 0);
      peakKb.set(name, Math.max(peakKb.get(name) ?? 0, kb));
    }
  };
  const machineAtStart = machineTicks();
  sample(true);
  const timer = setInterval(() => sample(false), intervalMs);
  return {
    stop(): ProcessFigures[] {
      clearInterval(timer);
      sample(false);
      const wallSeconds = (Date.now() - started) / 1000;
      const figures = [...lastCpu.keys()].map((name) => {
        const cpuSeconds = (lastCpu.get(name)! - cpuAtStart.get(name)!) / TICKS_PER_SECOND;
        return { name, cpuSeconds, cpuCores: cpuSeconds / wallSeconds, peakMemoryMiB: (peakKb.get(name) ?? 0) / 1024 };
      });
      // the whole machine, everything included: how close to saturated the cores were, and how much the host took
      const end = machineTicks();
      const busy = (end.busy - machineAtStart.busy) / TICKS_PER_SECOND;
      const steal = (end.steal - machineAtStart.steal) / TICKS_PER_SECOND;
      return [
        ...figures,
        { name: 'machine', cpuSeconds: busy, cpuCores: busy / wallSeconds, peakMemoryMiB: 0 },
        { name: 'stolen by the host', cpuSeconds: steal, cpuCores: steal / wallSeconds, peakMemoryMiB: 0 },
      ];
    },
  };
}
