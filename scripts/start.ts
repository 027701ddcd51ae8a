/** `npm start`: the whole platform on this machine, until Ctrl-C. */
import { loadConfig, stackConfig } from '../platform/config';
import { abortBootOnSignals, stopOnSignals } from './shutdown';
import { startStack } from './stack';

const config = loadConfig(stackConfig);
const log = (m: string) => console.log(`[start] ${m}`);
const started = Date.now();

// Ctrl-C while it boots stops what has started so far; once it is up, stopOnSignals takes over.
const boot = abortBootOnSignals(log);
const stack = await startStack({ config, log, workerMetrics: true, signal: boot.signal }).catch((err: unknown) => {
  if (!boot.signal.aborted) throw err;
  log('stopped');
  process.exit(130);
});
boot.booted();

stopOnSignals(stack, log);

console.log(`
  Order platform is up (${((Date.now() - started) / 1000).toFixed(1)}s)
    Storefront     ${stack.apiUrl}/            (operators: ${stack.apiUrl}/#/console, with ADMIN_EMAIL's account)
    API            ${stack.apiUrl}            (reference: ${stack.apiUrl}/docs, OpenAPI: ${stack.apiUrl}/openapi.json)
    Health         ${stack.apiUrl}/health/ready
    Metrics        ${stack.apiMetricsUrl || 'off'}   (Prometheus, not on the API port; workers below)
${[...stack.workerMetrics].map(([context, url]) => `      ${context.padEnd(13)}  ${url}`).join('\n')}
    Tracing        ${config.OTEL_EXPORTER_OTLP_ENDPOINT ? `OTLP/HTTP to ${config.OTEL_EXPORTER_OTLP_ENDPOINT}` : 'off (set OTEL_EXPORTER_OTLP_ENDPOINT)'}
    Temporal       ${stack.temporalAddress}${stack.uiUrl ? `\n    Web UI         ${stack.uiUrl}` : ''}
    PostgreSQL     ${stack.databaseUrl}
  Workers: ${[...stack.workers.keys()].join(', ')}.  Ctrl-C stops everything.
`);
