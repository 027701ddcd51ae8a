import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Config } from './config';

/** OpenTelemetry for one process; exists only when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
export interface Tracing {
  serviceName: string;
  resource: Resource;
  /** batches spans to the OTLP/HTTP exporter; the workers' workflow span sink feeds it too */
  spanProcessor: SpanProcessor;
  tracer: Tracer;
  /** flushes what is still batched and stops exporting */
  shutdown(): Promise<void>;
}

/** `<OTEL_SERVICE_NAME>-api`, `<OTEL_SERVICE_NAME>-worker-payments`, ... */
export const serviceName = (config: Pick<Config, 'OTEL_SERVICE_NAME'>, role: string) => `${config.OTEL_SERVICE_NAME}-${role}`;

/**
 * Registers a global tracer provider (AsyncLocalStorage context, W3C trace
 * context propagation) exporting OTLP/HTTP JSON to
 * `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces` in batches (OTEL_BSP_* variables
 * tune the batching). Returns undefined, and installs nothing, when the
 * endpoint is not configured: tracing is off by default.
 */
export function startTracing(config: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME'>, role: string): Tracing | undefined {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return undefined;
  const name = serviceName(config, role);
  const resource = new Resource({ [ATTR_SERVICE_NAME]: name, [ATTR_SERVICE_VERSION]: process.env.npm_package_version ?? '0.1.0' });
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  let stopped: Promise<void> | undefined;
  return {
    serviceName: name,
    resource: provider.resource,
    spanProcessor,
    tracer: trace.getTracer(name),
    shutdown: () => (stopped ??= provider.shutdown().catch(() => undefined)),
  };
}
