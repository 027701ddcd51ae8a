import type { OrderStatus } from '../../domain/order-status';
import type { TimelineEvent } from '../../temporal-config/place-order';

// The order's timeline events, kept in the run until the next orders-context
// write takes them (a module of its own, on the part of the run it needs, so
// notifications.ts, which moveTo calls, needs nothing of run.ts).

/** the part of an order's run that holds its timeline events not yet written */
export interface Timeline {
  pending: TimelineEvent[];
  seq: number;
}

export const now = (): string => new Date(Date.now()).toISOString();

export function record(run: Timeline, type: string, detail?: Record<string, unknown>, status?: OrderStatus): void {
  run.seq += 1;
  run.pending.push({ key: `${String(run.seq).padStart(3, '0')}-${type}`, type, detail, status, occurredAt: now() });
}

export function flush(run: Timeline): TimelineEvent[] {
  const out = run.pending;
  run.pending = [];
  return out;
}
