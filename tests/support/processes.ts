import { readdirSync, readFileSync } from 'node:fs';

/** pids (other than this one) whose command line or environment mentions `marker` */
export function processesMentioning(marker: string): number[] {
  const found: number[] = [];
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const text = readFileSync(`/proc/${d}/cmdline`, 'utf8') + readFileSync(`/proc/${d}/environ`, 'utf8');
      if (text.includes(marker) && Number(d) !== process.pid) found.push(Number(d));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}
