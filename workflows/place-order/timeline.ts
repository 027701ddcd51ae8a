import type { OrderStatus } from '../../domain/order-status';
import type { TimelineEvent } from '../../temporal-config/place-order';
import type { OrderRun } from './run';

// The order's timeline events, kept in the run until the next orders-context
// write takes them (a module of its own so notifications.ts, which moveTo calls,
// needs nothing else of run.ts).

export const now = (): string => new Date(Date.now()).toISOString();

export function record(run: OrderRun, type: string, detail?: Record<string, unknown>, status?: OrderStatus): void {
  run.seq += 1;
  run.pending.push({ key: `${String(run.seq).padStart(3, '0')}-${type}`, type, detail, status, occurredAt: now() });
}

export function flush(run: OrderRun): TimelineEvent[] {
  const out = run.pending;
  run.pending = [];
  return out;
}
