import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * Fault injection for the crash tests (FAULT_HOLD_AFTER_ACTIVITIES): after one
 * of the named activities has done its work — its rows are written — the
 * worker sits on the result for FAULT_HOLD_MS before reporting it. A test
 * kills the process inside that window, which is the worst moment for a
 * crash: the effect happened, Temporal does not know it. Off unless set.
 */
export function holdAfterActivities(names: readonly string[], holdMs: number, log: (msg: string) => void): ActivityInterceptorsFactory {
  const held = new Set(names);
  return (ctx: Context) => ({
    inbound: {
      async execute(input, next) {
        const result = await next(input);
        if (held.has(ctx.info.activityType) && holdMs > 0) {
          log(`fault injection: holding the result of ${ctx.info.activityType} (${ctx.info.workflowExecution?.workflowId}) for ${holdMs} ms`);
          const beat = setInterval(() => ctx.heartbeat(), 1_000);
          await new Promise((r) => setTimeout(r, holdMs));
          clearInterval(beat);
        }
        return result;
      },
    },
  });
}
