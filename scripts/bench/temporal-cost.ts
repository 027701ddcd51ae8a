/**
 * What one order costs the Temporal server: state transitions (from
 * DescribeWorkflowExecution, what the Web UI shows) and persistence commits
 * (write operations counted by the dev server's own Prometheus metrics).
 */
import type { Client } from '@temporalio/client';

/** persistence operations that write (one transaction each in the SQL stores); the rest read */
const WRITE = /^(Create|Update|Upsert|Delete|Complete|RangeComplete|Append|Insert|ConflictResolve|Put|Set|Save|Lease|Renew|Add|Assert)/;

export interface PersistenceCounts {
  writes: number;
  reads: number;
  byOperation: Record<string, number>;
}

/** Totals of `persistence_requests` (and visibility's) since the server started. */
export async function persistenceCounts(metricsUrl: string): Promise<PersistenceCounts> {
  const text = await (await fetch(metricsUrl)).text();
  const byOperation: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(?:visibility_)?persistence_requests\{[^}]*operation="([^"]+)"[^}]*\} (\S+)$/.exec(line);
    if (m) byOperation[m[1]] = (byOperation[m[1]] ?? 0) + Number(m[2]);
  }
  let writes = 0;
  let reads = 0;
  for (const [op, n] of Object.entries(byOperation)) {
    if (WRITE.test(op)) writes += n;
    else reads += n;
  }
  return { writes, reads, byOperation };
}

export function persistenceDelta(before: PersistenceCounts, after: PersistenceCounts): PersistenceCounts {
  const byOperation: Record<string, number> = {};
  for (const [op, n] of Object.entries(after.byOperation)) {
    const d = n - (before.byOperation[op] ?? 0);
    if (d > 0) byOperation[op] = d;
  }
  return { writes: after.writes - before.writes, reads: after.reads - before.reads, byOperation };
}

/** Mean state transitions of the given workflows, as DescribeWorkflowExecution reports them. */
export async function stateTransitions(client: Client, workflowIds: string[]): Promise<number | undefined> {
  const counts: number[] = [];
  for (const id of workflowIds) {
    const d = await client.workflow.getHandle(id).describe();
    const n = Number(d.raw.workflowExecutionInfo?.stateTransitionCount ?? 0);
    if (n > 0) counts.push(n);
  }
  return counts.length ? counts.reduce((a, b) => a + b, 0) / counts.length : undefined;
}
