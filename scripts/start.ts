/** `npm start`: the whole platform on this machine, until Ctrl-C. */
import { loadConfig } from '../platform/config';
import { stopOnSignals } from './shutdown';
import { startStack } from './stack';

const config = loadConfig();
const log = (m: string) => console.log(`[start] ${m}`);
const started = Date.now();

// A signal while the platform boots stops what has started so far (the database, the dev server,
// workers), instead of leaving them behind; once it is up, stopOnSignals takes over.
const boot = new AbortController();
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const interrupt = (signal: NodeJS.Signals) => {
  log(`${signal} during start-up: stopping what has started...`);
  boot.abort();
};
for (const signal of signals) process.once(signal, interrupt);
const stack = await startStack({ config, log, workerMetrics: true, signal: boot.signal }).catch((err: unknown) => {
  if (!boot.signal.aborted) throw err;
  log('stopped');
  process.exit(130);
});
for (const signal of signals) process.off(signal, interrupt);

stopOnSignals(stack, log);

console.log(`
  Order platform is up (${((Date.now() - started) / 1000).toFixed(1)}s)
    API            ${stack.apiUrl}            (OpenAPI: ${stack.apiUrl}/openapi.json)
    Health         ${stack.apiUrl}/health/ready
    Metrics        ${stack.apiMetricsUrl}   (Prometheus; workers below)
${[...stack.workerMetrics].map(([context, url]) => `      ${context.padEnd(13)}  ${url}`).join('\n')}
    Tracing        ${config.OTEL_EXPORTER_OTLP_ENDPOINT ? `OTLP/HTTP to ${config.OTEL_EXPORTER_OTLP_ENDPOINT}` : 'off (set OTEL_EXPORTER_OTLP_ENDPOINT)'}
    Temporal       ${stack.temporalAddress}${stack.uiUrl ? `\n    Web UI         ${stack.uiUrl}` : ''}
    PostgreSQL     ${stack.databaseUrl}
  Workers: ${[...stack.workers.keys()].join(', ')}.  Ctrl-C stops everything.
`);
