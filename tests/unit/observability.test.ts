/**
 * Logs, metrics and the dashboard without any server: redaction of secrets
 * and card data at any depth, the worker's mapping of SDK log metadata, the
 * API's route-labelled metrics, the Grafana dashboard's shape.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { createApiMetrics, createMetricsApp } from '../../api/metrics';
import { ROOT } from '../../platform/config';
import { createLogger, maskCardNumbers, maskEmails, resolveLogFormat } from '../../platform/logger';
import { LoggingSender } from '../../activities/notifications/sender';
import type { Db } from '../../prisma/client';
import { logFields } from '../../workers/observability';
import { parsePrometheus, promqlMetricNames, total } from '../support/prometheus';
import { testSecrets } from '../support/test-secrets';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, log: createLogger('test', 'info', { format: 'json', destination }) };
}

describe('logger', () => {
  const SECRETS = ['hunter2-password', 'eyJhbGciOiJIUzI1NiJ9.secret.jwt', 'tok_visa', '4242424242424242', '4000 0566 5566 5556', '$argon2id$v=19$hash', 'Bearer abc.def'];

  it('never writes passwords, tokens, authorization headers, payment methods or card numbers, at any depth', () => {
    const { lines, log } = capture();
    log.info({ password: SECRETS[0], accessToken: SECRETS[1] }, 'login');
    log.info({ body: { email: 'a@b.c', password: SECRETS[0], passwordHash: SECRETS[5] } }, 'nested');
    log.info({ req: { headers: { Authorization: SECRETS[6], cookie: 'session=1' } } }, 'headers');
    log.info({ input: { order: { paymentMethod: { token: SECRETS[2], cardNumber: SECRETS[3] } } } }, 'deep');
    log.info({ a: { b: { c: { d: { e: { cvc: '123', token: SECRETS[2] } } } } } }, 'deeper');
    log.info({ items: [{ token: SECRETS[2] }, { note: `card ${SECRETS[4]}` }] }, 'arrays');
    log.info(`pasted ${SECRETS[3]} into a message`);
    log.child({ requestId: 'r1' }).warn({ err: Object.assign(new Error(`charge of ${SECRETS[3]} failed`), { token: SECRETS[2] }) }, 'error');
    expect(lines).toHaveLength(8);
    for (const line of lines) {
      JSON.parse(line);
      for (const secret of SECRETS) expect(line, line).not.toContain(secret);
    }
    expect(lines.join('\n')).toContain('[redacted]');
    expect(JSON.parse(lines[1]).body.email).toBe('a@b.c'); // only the secret fields go
    expect(JSON.parse(lines[7])).toMatchObject({ requestId: 'r1', err: { type: 'Error', message: 'charge of [redacted-card] failed', token: '[redacted]' } });
  });

  it('never writes an e-mail address: fields, nested values, messages and errors carry a digest instead', async () => {
    const { lines, log } = capture();
    const EMAIL = 'Ada.Lovelace+shop@example.co.uk';
    log.info({ recipient: EMAIL }, 'field');
    log.info({ user: { contact: [`mail ${EMAIL.toLowerCase()}`] } }, 'nested');
    log.info(`welcome mail to ${EMAIL}`);
    log.warn({ err: new Error(`unique constraint: ${EMAIL} exists`) }, 'error');
    // what the notifications worker logs for every message it sends
    await new LoggingSender((entry, msg) => log.info(entry, msg)).send({ channel: 'email', recipient: EMAIL, subject: 'Order confirmed', body: 'Order 1: Order confirmed.' });
    expect(lines).toHaveLength(5);
    for (const line of lines) {
      expect(line.toLowerCase(), line).not.toContain(EMAIL.toLowerCase());
      expect(line, line).not.toMatch(/lovelace|example\.co\.uk/i);
    }
    // one address, one digest, in any case: lines about one recipient still group
    const digests = lines.map((l) => /\[email:[0-9a-f]{12}\]/.exec(l)?.[0]);
    expect(new Set(digests).size).toBe(1);
    expect(digests[0]).toBeTruthy();
    expect(JSON.parse(lines[4])).toMatchObject({ msg: 'notification sent (simulated)', channel: 'email', recipient: digests[0] });
    // not e-mail addresses: a worker identity (pid@host) and a database URL's user@127.0.0.1
    expect(maskEmails('worker 4242@build-host.internal on postgresql://postgres@127.0.0.1:5433/orders')).toBe('worker 4242@build-host.internal on postgresql://postgres@127.0.0.1:5433/orders');
  });

  it('masks only card-number-like digit runs (Luhn), not ids, amounts or timestamps', () => {
    expect(maskCardNumbers('order 7d1c0c5e-6c4a-4f1e-9a55-1f0e5a3c2b10 total 4950 at 1795436547000')).toBe('order 7d1c0c5e-6c4a-4f1e-9a55-1f0e5a3c2b10 total 4950 at 1795436547000');
    expect(maskCardNumbers('4242-4242-4242-4242')).toBe('[redacted-card]');
  });

  it('is JSON unless asked, or in development on a terminal', () => {
    expect(resolveLogFormat(undefined, 'development', true)).toBe('pretty');
    expect(resolveLogFormat(undefined, 'development', false)).toBe('json');
    expect(resolveLogFormat(undefined, 'production', true)).toBe('json');
    expect(resolveLogFormat('pretty', 'production', false)).toBe('pretty');
    expect(resolveLogFormat('json', 'development', true)).toBe('json');
  });
});

describe('worker log fields', () => {
  it('activity lines: orderId, workflowId, runId, activity, attempt; no task token', () => {
    const fields = logFields({
      sdkComponent: 'activity', attempt: 2, namespace: 'default', taskToken: 'Cg==', activityId: '5', activityType: 'authorisePayment',
      taskQueue: 'payments', workflowId: 'order-6b1d', workflowRunId: '01a2-run', workflowType: 'placeOrder',
    });
    expect(fields).toMatchObject({ orderId: '6b1d', workflowId: 'order-6b1d', runId: '01a2-run', activity: 'authorisePayment', attempt: 2 });
    expect(fields).not.toHaveProperty('taskToken');
  });

  it('workflow lines keep runId; trace lines lose their payloads; errors go to err', () => {
    expect(logFields({ workflowId: 'order-x', runId: 'r', workflowType: 'placeOrder', status: 'CONFIRMED' })).toMatchObject({ orderId: 'x', runId: 'r', status: 'CONFIRMED' });
    expect(logFields({ jobs: [{}], start: { input: [] } })).toEqual({});
    const error = new Error('boom');
    expect(logFields({ error })).toEqual({ err: error });
  });
});

describe('API metrics', () => {
  it('count requests by method, route pattern and status; the metrics port serves them, the public port does not (404)', async () => {
    const metrics = createApiMetrics();
    const app = createApp({ db: {} as Db, temporal: {} as Client, log: createLogger('test', 'silent'), ...testSecrets, metrics });
    expect((await app.request('/health/live')).status).toBe(200);
    expect((await app.request('/api/v1/orders/7d1c0c5e-6c4a-4f1e-9a55-1f0e5a3c2b10')).status).toBe(401);
    const publicMetrics = await app.request('/metrics');
    expect(publicMetrics.status).toBe(404);
    expect(await publicMetrics.text()).not.toContain('http_requests_total');
    const metricsPort = createMetricsApp(metrics);
    expect((await metricsPort.request('/api/v1/products')).status).toBe(404); // the metrics port serves nothing else
    const res = await metricsPort.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const samples = parsePrometheus(await res.text());
    expect(total(samples, 'http_requests_total', { method: 'GET', route: '/health/live', status: '200' })).toBe(1);
    expect(total(samples, 'http_requests_total', { method: 'GET', route: '/api/v1/orders/:id', status: '401' })).toBe(1);
    expect(total(samples, 'http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(total(samples, 'http_request_duration_seconds_count', { method: 'GET', route: '/health/live' })).toBe(1);
  });
});

describe('Grafana dashboard (ops/grafana/order-fulfilment.json)', () => {
  const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'ops/grafana/order-fulfilment.json'), 'utf8')) as {
    uid: string;
    templating: { list: { name: string; type: string }[] };
    panels: { id: number; type: string; title: string; datasource?: { uid: string }; targets?: { expr: string; refId: string }[] }[];
  };

  it('parses, has unique panel ids, and every query panel reads the Prometheus datasource variable', () => {
    expect(dashboard.uid).toBe('order-fulfilment');
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource' }));
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) expect(promqlMetricNames(t.expr).length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
    }
  });

  it('reads metric names out of PromQL (the e2e test checks them against real scrapes)', () => {
    expect(promqlMetricNames('histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{route!="/x"}[$__rate_interval])))')).toEqual(['http_request_duration_seconds_bucket']);
    expect(promqlMetricNames('sum(increase(orders_confirmed_total[$__range])) / sum(increase(orders_placed_total[$__range]))')).toEqual(['orders_confirmed_total', 'orders_placed_total']);
    expect(promqlMetricNames('sum by (task_queue, worker_type) (temporal_worker_task_slots_available) * 60')).toEqual(['temporal_worker_task_slots_available']);
  });
});
