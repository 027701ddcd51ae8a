import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import type { OrderStatus } from '../../domain/order-status';
import { ErrorCodes } from '../../domain/errors';

/** How a saga that did not reach the carrier ends, and why. */
export interface Outcome {
  status: Extract<OrderStatus, 'CANCELLED' | 'FAILED'>;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export function classify(err: unknown, cancelReason: string | undefined): Outcome {
  if (isCancellation(err)) {
    return { status: 'CANCELLED', code: ErrorCodes.ORDER_CANCELLED, message: cancelReason ?? 'workflow cancelled' };
  }
  const app = findApplicationFailure(err);
  if (app?.type) {
    const details = app.details?.[0];
    return {
      status: 'FAILED',
      code: app.type,
      message: app.message,
      details: details && typeof details === 'object' ? (details as Record<string, unknown>) : undefined,
    };
  }
  return { status: 'FAILED', code: ErrorCodes.INTERNAL, message: rootMessage(err) };
}

export function findApplicationFailure(err: unknown): ApplicationFailure | undefined {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof ApplicationFailure) return e;
  }
  return undefined;
}

export function rootMessage(err: unknown): string {
  let e: unknown = err;
  while ((e as { cause?: unknown })?.cause) e = (e as { cause: unknown }).cause;
  return e instanceof Error ? e.message : String(e);
}
