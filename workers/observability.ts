/**
 * What a worker process adds for operations: the Temporal Runtime's logs in
 * pino, its Prometheus endpoint (Core's SDK metrics plus the workflow's
 * business counters), one log line per activity, and OpenTelemetry
 * interceptors when tracing is on.
 */
import { createRequire } from 'node:module';
import type { Context } from '@temporalio/activity';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import { Runtime, type ActivityInterceptorsFactory, type InjectedSinks } from '@temporalio/worker';
import { DeclineReasons } from '../domain/errors';
import type { Logger } from '../platform/logger';
import type { Tracing } from '../platform/tracing';
import { OrderCounters, orderCounterHelp } from '../workflows/metrics';
import { orderIdFromWorkflowId } from '../temporal-config/place-order';

const require = createRequire(import.meta.url);

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** the order behind a workflow id `order-<orderId>` */
const orderIdOf = (workflowId: unknown): string | undefined => (typeof workflowId === 'string' ? orderIdFromWorkflowId(workflowId) : undefined);

/**
 * Our field names for the SDK's log metadata: every workflow and activity
 * line carries orderId, workflowId, runId, and activity lines activity and
 * attempt. Raw task tokens and encoded payloads (TRACE lines) are dropped.
 */
export function logFields(meta: LogMetadata = {}): Record<string, unknown> {
  const { workflowRunId, runId, activityType, taskToken: _taskToken, jobs: _jobs, start: _start, error, ...rest } = meta as Record<string, unknown>;
  const fields: Record<string, unknown> = { ...rest };
  const orderId = rest.orderId ?? orderIdOf(rest.workflowId);
  if (orderId !== undefined) fields.orderId = orderId;
  if (runId ?? workflowRunId) fields.runId = runId ?? workflowRunId;
  if (activityType !== undefined) fields.activity = activityType;
  if (error !== undefined) fields.err = error;
  return fields;
}

/** The Temporal Runtime's logger (SDK, Core, workflow `log`, activity `log`) writing into pino. */
export function temporalLogger(log: Logger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const method = LEVELS[level] ?? 'info';
    if (!log.isLevelEnabled(method)) return;
    log[method](logFields(meta), message);
  };
  return {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
}

/**
 * Installs the process's Temporal Runtime (before any connection is made):
 * every SDK and Core log into pino, and, when `metricsAddress` is given
 * (`host:port`), Core's Prometheus exporter at http://host:port/metrics. The
 * workflow's `metricMeter` counters are served on the same endpoint.
 */
export function installTemporalRuntime(log: Logger, metricsAddress?: string): void {
  const coreLevel = log.isLevelEnabled('info') ? 'WARN' : 'ERROR';
  Runtime.install({
    logger: temporalLogger(log),
    telemetryOptions: {
      logging: { forward: {}, filter: { core: coreLevel, other: 'ERROR' } },
      ...(metricsAddress ? { metrics: { prometheus: { bindAddress: metricsAddress } } } : {}),
    },
  });
}

/**
 * Creates the workflow's business counters at zero when the orders worker
 * starts, with the labels the workflow's own metricMeter adds (namespace,
 * taskQueue, workflowType), so every series exists from the first scrape:
 * rate() and increase() work from the first order, and an alert on
 * `orders_needs_attention_total` sees a 0 rather than no data.
 */
export function registerOrderCounters(namespace: string, taskQueue: string): void {
  const meter = Runtime.instance().metricMeter.withTags({ namespace, taskQueue, workflowType: 'placeOrder' });
  for (const key of Object.keys(OrderCounters) as (keyof typeof OrderCounters)[]) {
    const counter = meter.createCounter(OrderCounters[key], 'orders', orderCounterHelp[key]);
    if (key === 'paymentDeclined') for (const reason of DeclineReasons) counter.add(0, { reason });
    else counter.add(0);
  }
}

/**
 * One INFO line per finished activity execution ("activity completed", with
 * its duration), through the activity context logger: it carries orderId,
 * workflowId, runId, activity and attempt. Failures are logged by the SDK
 * itself ("Activity failed", WARN, with the same fields).
 */
export const activityCompletionLog: ActivityInterceptorsFactory = (ctx: Context) => ({
  inbound: {
    async execute(input, next) {
      const started = performance.now();
      const result = await next(input);
      ctx.log.info('activity completed', { ms: Math.round(performance.now() - started) });
      return result;
    },
  },
});

/** The interceptor module the workflow bundle needs for tracing (runs inside the workflow sandbox). */
export const workflowTracingModule = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/**
 * Worker options for tracing: workflow spans (RunWorkflow, StartActivity)
 * from inside the sandbox through the exporter sink, activity spans
 * (RunActivity) linked to them through the activity headers, trace ids on
 * activity log lines. Nothing when tracing is off.
 */
export function tracingWorkerOptions(
  tracing: Tracing | undefined,
  withWorkflows: boolean,
): { activity: ActivityInterceptorsFactory[]; workflowModules: string[]; sinks?: InjectedSinks<OpenTelemetrySinks> } {
  if (!tracing) return { activity: [], workflowModules: [] };
  return {
    activity: [
      (ctx) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer: tracing.tracer }),
        outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    workflowModules: withWorkflows ? [workflowTracingModule] : [],
    sinks: withWorkflows ? { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) } : undefined,
  };
}
