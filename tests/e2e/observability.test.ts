/**
 * Logs, metrics and traces of the whole stack as `npm start` runs it (free
 * ports, a temp folder), with tracing on: every process exports OTLP/HTTP
 * JSON to a small receiver this test runs, each worker serves Prometheus on
 * its own port, and every line every process writes is captured.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../platform/config';
import { startStack, type Stack } from '../../scripts/stack';
import { OrderCounters } from '../../workflows/metrics';
import { awaitOutcomeUpdate } from '../../temporal-config/place-order';
import { testStackConfig } from '../support/stack-config';
import { metricNames, promqlMetricNames, scrape, total, type Sample } from '../support/prometheus';
import { until } from '../support/until';

// Strings that must never appear in any process's output.
const PASSWORD = 'observability password 1';
const EMAIL = 'obs@example.com';
const JWT_SECRET = 'observability-test-jwt-secret-7f3a9c2e51d84b06';
const CARD_NUMBER = '4242424242424242';
const TOKENS = { visa: 'tok_visa', declined: 'tok_chargeDeclined', slow: 'tok_slow' };

interface SpanRecord {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, unknown>;
}

let stack: Stack;
let dir: string;
let receiver: http.Server;
let token: string;
const spans: SpanRecord[] = [];
const lines: { name: string; line: string }[] = [];
const address = { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London', postalCode: 'N1 1AA', country: 'GB' };

/** OTLP/HTTP JSON (what @opentelemetry/exporter-trace-otlp-http sends) into `spans`. */
function startReceiver(): Promise<string> {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      try {
        const json = JSON.parse(body.toString()) as { resourceSpans?: any[] };
        for (const rs of json.resourceSpans ?? []) {
          const attrs = Object.fromEntries((rs.resource?.attributes ?? []).map((a: any) => [a.key, Object.values(a.value ?? {})[0]]));
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({
                service: String(attrs['service.name']),
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId || undefined,
                name: s.name,
                attributes: Object.fromEntries((s.attributes ?? []).map((a: any) => [a.key, Object.values(a.value ?? {})[0]])),
              });
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  return new Promise((resolve) => receiver.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  const otlp = await startReceiver();
  let config;
  ({ dir, config } = await testStackConfig('orders-observability-', { WORKER_METRICS_PORT: 0 }));
  // outside the stack's folder, so it outlives the run for whoever reads a failure
  const logFile = path.join(os.tmpdir(), 'orders-observability.log');
  const log = createWriteStream(logFile);
  stack = await startStack({
    config,
    workerMetrics: true,
    log: (m) => log.write(`[stack] ${m}\n`),
    output: (name, line) => {
      lines.push({ name, line });
      log.write(`${name} | ${line}\n`);
    },
    env: {
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      JWT_SECRET,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
      OTEL_BSP_SCHEDULE_DELAY: '200',
      CHECKOUT_WAIT_MS: '30000',
      RATE_LIMIT_PER_MINUTE: '0',
      // a tok_slow payment outlives its stock reservation: RESERVATION_EXPIRED
      RESERVATION_TTL_MS: '6000',
      PAYMENT_SLOW_MS: '20000',
    },
  });
  console.log(`observability stack up; its log: ${logFile}`);

  const post = (route: string) =>
    fetch(`${stack.apiUrl}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: EMAIL, password: PASSWORD }) });
  expect((await post('/api/v1/users/register')).status).toBe(201);
  token = ((await (await post('/api/v1/users/login')).json()) as { accessToken: string }).accessToken;
});

afterAll(async () => {
  await stack?.stop();
  receiver?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const placeOrder = (paymentMethod: Record<string, unknown>, opts: { orderId?: string; productId?: string; requestId?: string } = {}) =>
  fetch(`${stack.apiUrl}/api/v1/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(opts.requestId ? { 'x-request-id': opts.requestId } : {}) },
    body: JSON.stringify({ orderId: opts.orderId, items: [{ productId: opts.productId ?? 'prod_mug', quantity: 1 }], shippingAddress: address, paymentMethod }),
  });

const ordersWorker = () => scrape(stack.workerMetrics.get('orders')!);
const counter = (samples: Sample[], key: keyof typeof OrderCounters, labels: Record<string, string> = {}) => total(samples, OrderCounters[key], labels);
/** waits until the orders worker's counters satisfy `ok` (they move when the workflow task completes, just after the API has its answer) */
const countersUntil = (what: string, ok: (s: Sample[]) => boolean) => until(what, async () => {
  const s = await ordersWorker();
  return ok(s) ? s : undefined;
}, 15_000, 200);

/** JSON log lines of the API and the workers */
const jsonLines = () =>
  lines
    .filter((l) => l.name === 'api' || l.name.startsWith('worker:'))
    .map((l) => ({ ...l, json: (() => { try { return JSON.parse(l.line) as Record<string, any>; } catch { return undefined; } })() }));

const placed: { confirmed?: string; declined?: string; expired?: string } = {};

describe('metrics', () => {
  it('every worker and the API serve Prometheus; an order moves the business counters by exactly one', async () => {
    expect([...stack.workerMetrics.keys()].sort()).toEqual(['inventory', 'notifications', 'orders', 'payments', 'shipping']);
    for (const [context, url] of stack.workerMetrics) {
      // Temporal SDK runtime metrics (Core), on every worker once its Worker runs (the orders worker bundles the workflows first)
      await until(`${context} worker's task slots`, async () => metricNames(await scrape(url)).has('temporal_worker_task_slots_available'), 60_000, 250);
    }
    // on a port of their own: the public API port does not serve them
    expect(new URL(stack.apiMetricsUrl).port).not.toBe(new URL(stack.apiUrl).port);
    expect((await fetch(`${stack.apiUrl}/metrics`)).status).toBe(404);
    const apiBefore = await scrape(stack.apiMetricsUrl);
    const before = await ordersWorker();
    // the business series exist at zero from the start
    for (const name of Object.values(OrderCounters)) expect(metricNames(before), name).toContain(name);
    // pre-registered with exactly the labels the workflow's metricMeter uses: one series each, not two
    expect(before.filter((s) => s.name === OrderCounters.placed)).toHaveLength(1);
    expect(before.filter((s) => s.name === OrderCounters.paymentDeclined).map((s) => s.labels.reason).sort()).toEqual(['card_declined', 'expired_card', 'insufficient_funds', 'invalid_cvc']);

    const res = await placeOrder({ token: TOKENS.visa, cardNumber: CARD_NUMBER });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { orderId: string; status: string };
    expect(body.status).toBe('CONFIRMED');
    placed.confirmed = body.orderId;

    const after = await countersUntil('orders_confirmed_total to move', (s) => counter(s, 'confirmed') > counter(before, 'confirmed'));
    expect(counter(after, 'placed') - counter(before, 'placed')).toBe(1);
    expect(counter(after, 'confirmed') - counter(before, 'confirmed')).toBe(1);
    expect(counter(after, 'failed') - counter(before, 'failed')).toBe(0);
    expect(counter(after, 'compensated') - counter(before, 'compensated')).toBe(0);
    // labelled like the SDK labels workflow metrics
    expect(after.find((s) => s.name === OrderCounters.confirmed && s.value > 0)?.labels).toMatchObject({ namespace: 'default', taskQueue: 'orders', workflowType: 'placeOrder' });

    const apiAfter = await scrape(stack.apiMetricsUrl);
    const orderPosts = (s: Sample[]) => total(s, 'http_requests_total', { method: 'POST', route: '/api/v1/orders', status: '201' });
    expect(orderPosts(apiAfter) - orderPosts(apiBefore)).toBe(1);
    expect(total(apiAfter, 'http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/orders' })).toBeGreaterThanOrEqual(1);
    // route patterns, never ids
    expect(apiAfter.filter((s) => s.name === 'http_requests_total').map((s) => s.labels.route).join(' ')).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(metricNames(apiAfter)).toContain('process_resident_memory_bytes');

    // Temporal SDK metrics moved on the workers that did the work
    const inventory = await scrape(stack.workerMetrics.get('inventory')!);
    expect(total(inventory, 'temporal_activity_execution_latency_count', { activity_type: 'reserveStock' })).toBeGreaterThanOrEqual(1);
    expect(total(after, 'temporal_workflow_task_schedule_to_start_latency_count')).toBeGreaterThanOrEqual(1);
    expect(metricNames(after)).toContain('temporal_sticky_cache_size');
  });

  it('a declined card and an expired reservation move their counters', async () => {
    const before = await ordersWorker();
    placed.declined = randomUUID();
    const declined = await placeOrder({ token: TOKENS.declined, cardNumber: CARD_NUMBER }, { orderId: placed.declined });
    expect(declined.status).toBe(402);
    expect(await declined.json()).toMatchObject({ code: 'PAYMENT_DECLINED', details: { orderId: placed.declined, reason: 'card_declined' } });

    const slow = await placeOrder({ token: TOKENS.slow }, { productId: 'prod_lamp' });
    expect(slow.status).toBe(409);
    expect(await slow.json()).toMatchObject({ code: 'RESERVATION_EXPIRED' });

    const after = await countersUntil('both orders FAILED and compensated', (s) => counter(s, 'compensated') - counter(before, 'compensated') >= 2);
    expect(counter(after, 'paymentDeclined', { reason: 'card_declined' }) - counter(before, 'paymentDeclined', { reason: 'card_declined' })).toBe(1);
    expect(counter(after, 'paymentDeclined') - counter(before, 'paymentDeclined')).toBe(1);
    expect(counter(after, 'reservationExpired') - counter(before, 'reservationExpired')).toBe(1);
    expect(counter(after, 'failed') - counter(before, 'failed')).toBe(2);
    expect(counter(after, 'compensated') - counter(before, 'compensated')).toBe(2);
    expect(counter(after, 'placed') - counter(before, 'placed')).toBe(2);
    expect(counter(after, 'confirmed') - counter(before, 'confirmed')).toBe(0);
  });

  it('the Grafana dashboard parses and only queries metrics the stack really exports', async () => {
    const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'ops/grafana/order-fulfilment.json'), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const exported = new Set<string>();
    for (const url of [stack.apiMetricsUrl, ...stack.workerMetrics.values()]) for (const n of metricNames(await scrape(url))) exported.add(n);
    const queried = dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => promqlMetricNames(t.expr).map((name) => ({ panel: p.title, name }))));
    expect(queried.length).toBeGreaterThan(15);
    expect(queried.filter((q) => !exported.has(q.name))).toEqual([]);
  });
});

describe('traces', () => {
  /** the API's Temporal client span: the saga started with the awaitOutcome update riding along, one call (update-with-start) */
  const CLIENT_SPAN = `UpdateWithStartWorkflow:${awaitOutcomeUpdate.name}`;
  const byTrace = (traceId: string) => spans.filter((s) => s.traceId === traceId);
  /** the HTTP span of the POST /api/v1/orders that placed `orderId`, found through the activity spans of its workflow */
  const traceOf = (orderId: string) => spans.find((s) => s.name.startsWith('RunActivity:') && s.attributes.temporalWorkflowId === `order-${orderId}`)?.traceId;

  it('one trace runs from the HTTP request through the workflow into each activity', async () => {
    const orderId = placed.declined!;
    expect(orderId).toBeTruthy();
    // the workflow span is exported when the (failed) order's workflow ends
    const trace = await until('the whole trace of the declined order', async () => {
      const id = traceOf(orderId);
      const t = id ? byTrace(id) : [];
      const names = t.map((s) => s.name);
      return ['POST /api/v1/orders', CLIENT_SPAN, 'RunWorkflow:placeOrder', 'StartActivity:reserveStock', 'RunActivity:reserveStock', 'RunActivity:authorisePayment', 'RunActivity:releaseStock'].every((n) => names.includes(n)) ? t : undefined;
    }, 30_000, 250);

    const one = (name: string) => trace.find((s) => s.name === name)!;
    const http = one('POST /api/v1/orders');
    expect(http.service).toBe('order-fulfilment-api');
    expect(http.parentSpanId).toBeUndefined();
    expect(http.attributes['http.route']).toBe('/api/v1/orders');
    expect(Number(http.attributes['http.response.status_code'])).toBe(402);
    expect(one(CLIENT_SPAN)).toMatchObject({ service: 'order-fulfilment-api', parentSpanId: http.spanId });
    expect(one('RunWorkflow:placeOrder').service).toBe('order-fulfilment-worker-orders');
    expect(one('RunActivity:reserveStock').service).toBe('order-fulfilment-worker-inventory');
    expect(one('RunActivity:authorisePayment').service).toBe('order-fulfilment-worker-payments');

    // every activity span's ancestry reaches the API's span
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const ancestry = (s: SpanRecord) => {
      const chain = [s.name];
      for (let p = s.parentSpanId && byId.get(s.parentSpanId); p; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined) chain.push(p.name);
      return chain;
    };
    for (const activity of trace.filter((s) => s.name.startsWith('RunActivity:'))) {
      const chain = ancestry(activity);
      expect(chain.at(-1), chain.join(' <- ')).toBe('POST /api/v1/orders');
      expect(chain, chain.join(' <- ')).toContain('RunWorkflow:placeOrder');
    }
  });

  it('the confirmed order (its workflow still running) links the API span to its activity spans', async () => {
    const orderId = placed.confirmed!;
    const trace = await until('the confirmed order’s spans', async () => {
      const id = traceOf(orderId);
      const t = id ? byTrace(id) : [];
      const names = t.map((s) => s.name);
      return ['POST /api/v1/orders', CLIENT_SPAN, 'RunActivity:createOrder', 'RunActivity:reserveStock', 'RunActivity:authorisePayment', 'RunActivity:commitStock'].every((n) => names.includes(n)) ? t : undefined;
    }, 30_000, 250);
    expect([...new Set(trace.map((s) => s.service))]).toEqual(
      expect.arrayContaining(['order-fulfilment-api', 'order-fulfilment-worker-orders', 'order-fulfilment-worker-inventory', 'order-fulfilment-worker-payments']),
    );
    const http = trace.find((s) => s.name === 'POST /api/v1/orders')!;
    expect(trace.find((s) => s.name === CLIENT_SPAN)?.parentSpanId).toBe(http.spanId);
  });
});

describe('logs', () => {
  it('the API and the workers write JSON lines; activity, workflow and request lines carry their ids', async () => {
    const all = jsonLines();
    const notJson = all.filter((l) => !l.json).map((l) => `${l.name}: ${l.line}`);
    expect(notJson).toEqual([]);

    const orderId = placed.confirmed!;
    const activities = await until('activity lines of the confirmed order', async () => {
      const found = jsonLines().filter((l) => l.json?.msg === 'activity completed' && l.json.orderId === orderId);
      return found.length >= 4 ? found : undefined;
    });
    for (const { json } of activities) {
      expect(json).toMatchObject({ orderId, workflowId: `order-${orderId}`, activity: expect.any(String), attempt: expect.any(Number), ms: expect.any(Number) });
      expect(json!.runId).toMatch(/^[0-9a-f-]{36}$/);
      expect(json!.trace_id).toMatch(/^[0-9a-f]{32}$/); // tracing is on: log lines join their trace
    }
    expect(activities.map((l) => l.json!.activity)).toEqual(expect.arrayContaining(['createOrder', 'reserveStock', 'authorisePayment', 'commitStock']));

    const workflow = all.filter((l) => l.json?.msg === 'order status changed' && l.json.orderId === orderId);
    expect(workflow.map((l) => l.json!.status)).toContain('CONFIRMED');
    for (const { name, json } of workflow) {
      expect(name).toBe('worker:orders');
      expect(json).toMatchObject({ workflowId: `order-${orderId}`, runId: expect.stringMatching(/^[0-9a-f-]{36}$/), sdkComponent: 'workflow' });
    }

    const requestId = `obs-${randomUUID()}`;
    expect((await placeOrder({ token: TOKENS.visa }, { requestId })).status).toBe(201);
    const request = await until('the request line', async () => jsonLines().find((l) => l.json?.msg === 'request' && l.json.requestId === requestId));
    expect(request.name).toBe('api');
    expect(request.json).toMatchObject({ method: 'POST', route: '/api/v1/orders', path: '/api/v1/orders', status: 201, ms: expect.any(Number), traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    for (const l of all.filter((x) => x.json?.msg === 'request')) expect(l.json!.requestId, l.line).toBeTruthy();
  });

  it('no process ever printed the password, the access token, the JWT secret, a card token, the card number or the e-mail address', async () => {
    // the notifications worker has sent the confirmed order's mail (and logged it) by now
    await until('the confirmation mail', async () => lines.some((l) => l.line.includes('notification sent')));
    expect(lines.length).toBeGreaterThan(50);
    const secrets = { password: PASSWORD, accessToken: token, jwtSecret: JWT_SECRET, cardNumber: CARD_NUMBER, ...TOKENS, email: EMAIL };
    for (const [what, secret] of Object.entries(secrets)) {
      const leaks = lines.filter((l) => l.line.includes(secret)).map((l) => `${l.name}: ${l.line.slice(0, 300)}`);
      expect(leaks, what).toEqual([]);
    }
  });
});
