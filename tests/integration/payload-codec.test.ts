/**
 * Personal data in Temporal's history: an order placed with the payload codec on leaves no name,
 * address or payment token in the history Temporal stores (read raw through the gRPC API and the
 * real CLI), and the codec endpoint gives operators the plain values back, to whom it should only.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createTokens } from '../../api/auth/tokens';
import { createCodecApp } from '../../api/codec-server';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA, newPayloadCodecKey, payloadCodecFrom, temporalDataConverter } from '../../platform/payload-codec';
import type { Db } from '../../prisma/client';
import { seed } from '../../prisma/seed';
import { placeOrder } from '../../workflows/place-order';
import { freshDatabase } from '../support/db';
import { devServerEnv } from '../support/temporal';
import { createWorkers, realActivities, runWorkers } from '../support/workers';
import { until } from '../support/until';
import { TaskQueues, awaitOutcomeUpdate, orderWorkflowId, type PlaceOrderInput } from '../../temporal-config/place-order';

const run = promisify(execFile);
const KEYS = newPayloadCodecKey('k-2026-12');
const UI_ORIGIN = 'http://127.0.0.1:8233';
const tokens = createTokens({ secret: randomUUID() + randomUUID(), ttlSeconds: 300 });
// what must never be readable in the history
const PERSONAL = { name: 'Zelda Quixotebury', line1: '742 Evergreen Terrace', postalCode: '49007-1234', token: 'tok_visa' };

let env: TestWorkflowEnvironment;
let db: Db;
let stopWorkers: () => Promise<void>;
let codecServer: Server;
let codecUrl: string;
let adminToken: string;
let customerToken: string;
let input: PlaceOrderInput;
/** the encrypted payloads of the history, as Temporal stores them */
let startedInput: Payload[];

beforeAll(async () => {
  ({ db } = await freshDatabase('codec'));
  await seed(db);
  const dataConverter = temporalDataConverter({ PAYLOAD_CODEC_KEYS: KEYS });
  env = await devServerEnv({ dataConverter });
  stopWorkers = runWorkers(
    await createWorkers(env.nativeConnection, realActivities(db, { latencyMs: 0, slowMs: 1500, declineRate: 0, transientFailures: 0 }), 'default', dataConverter),
  );
  const app = createCodecApp({ codec: payloadCodecFrom({ PAYLOAD_CODEC_KEYS: KEYS }), namespace: 'default', allowedOrigins: [UI_ORIGIN], verifyToken: (token) => tokens.verify(token) });
  codecServer = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
  await new Promise((resolve) => codecServer.once('listening', resolve));
  codecUrl = `http://127.0.0.1:${(codecServer.address() as AddressInfo).port}`;
  adminToken = (await tokens.issue({ id: randomUUID(), role: 'ADMIN' })).accessToken;
  customerToken = (await tokens.issue({ id: randomUUID(), role: 'CUSTOMER' })).accessToken;

  input = {
    orderId: randomUUID(),
    customerId: randomUUID(),
    currency: 'USD',
    items: [{ productId: 'prod_mug', sku: 'prod_mug', name: 'Mug', quantity: 1, unitPriceAmount: 1250 }],
    totalAmount: 1250,
    shippingAddress: { name: PERSONAL.name, line1: PERSONAL.line1, city: 'Springfield', postalCode: PERSONAL.postalCode, country: 'US' },
    paymentMethod: { token: PERSONAL.token },
  };
  // the whole saga runs through the codec: inputs, activity results, the update's answer
  const state = await env.client.workflow.executeUpdateWithStart(awaitOutcomeUpdate, {
    startWorkflowOperation: new WithStartWorkflowOperation(placeOrder, {
      workflowId: orderWorkflowId(input.orderId),
      taskQueue: TaskQueues.orders,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
    }),
  });
  expect(state.status).toBe('CONFIRMED');
  // confirmed once the payment is secured: the stock is committed and the shipments planned after the answer;
  // let the saga settle (PROCESSING) so those activities' inputs and results are in the history too
  await until('PROCESSING', async () => (await db.order.findUnique({ where: { id: input.orderId } }))?.status === 'PROCESSING', 60_000);
}, 120_000);

afterAll(async () => {
  codecServer?.close();
  await stopWorkers?.();
  await env?.teardown();
  await db?.$disconnect();
});

const cli = (...args: string[]) => run(inject('temporalCli'), [...args, '--address', env.address, '--namespace', 'default'], { maxBuffer: 64 * 1024 * 1024 });
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const asJson = (payloads: Payload[]) => ({
  payloads: payloads.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data!).toString('base64'),
  })),
});
const codec = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${codecUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('the history of an order placed with the codec on', () => {
  it('holds no name, address or payment token; every payload names the encoding and the key id', async () => {
    const { history } = await env.client.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId: orderWorkflowId(input.orderId) },
    });
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(history!).finish()).toString('latin1');
    for (const value of Object.values(PERSONAL)) expect(bytes).not.toContain(value);

    const events = history!.events!;
    startedInput = events[0].workflowExecutionStartedEventAttributes!.input!.payloads!;
    // every payload of the history but two kinds that are plain by design: search attributes
    // (Temporal indexes them: status, customer id, patch ids) and what Core writes into its markers
    // itself (patch ids; a local activity's seq, type and times) — a local activity's result is ours
    const payloads: Payload[] = [];
    const notOurs = ['searchAttributes', 'patch-data', 'data'];
    const walk = (node: unknown): void => {
      if (!node || typeof node !== 'object' || ArrayBuffer.isView(node)) return;
      if ('metadata' in node && 'data' in node) return void payloads.push(node as Payload);
      for (const [k, v] of Object.entries(node)) if (!notOurs.includes(k)) walk(v);
    };
    walk(events.map((e) => temporal.api.history.v1.HistoryEvent.toObject(e as temporal.api.history.v1.HistoryEvent)));
    // the input, activity inputs and results, the update's request and answer
    expect(payloads.length).toBeGreaterThan(10);
    for (const p of payloads) {
      expect(text(p.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
      expect(text(p.metadata![KEY_ID_METADATA])).toBe('k-2026-12');
    }
  });

  it('the CLI without the codec shows ciphertext; with the codec endpoint and an admin token, the order', async () => {
    const wid = orderWorkflowId(input.orderId);
    const raw = (await cli('workflow', 'show', '-w', wid, '-o', 'json')).stdout;
    for (const value of Object.values(PERSONAL)) expect(raw).not.toContain(value);
    expect(raw).toContain(Buffer.from(ENCRYPTED_ENCODING).toString('base64'));

    const decoded = (await cli('workflow', 'show', '-w', wid, '-o', 'json', '--codec-endpoint', `${codecUrl}/{namespace}`, '--codec-auth', `Bearer ${adminToken}`)).stdout;
    const started = JSON.parse(decoded).events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
    expect(Buffer.from(started.metadata.encoding, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(started.data, 'base64').toString())).toEqual(input);

    // without a token the endpoint refuses, and the CLI cannot show the order either
    const refused = await cli('workflow', 'show', '-w', wid, '-o', 'json', '--codec-endpoint', codecUrl, '--command-timeout', '3s').then(
      (r) => r.stdout + r.stderr,
      (err: { stdout: string; stderr: string }) => err.stdout + err.stderr,
    );
    expect(refused).not.toContain('json/plain');
    for (const value of Object.values(PERSONAL)) expect(refused).not.toContain(value);
  });
});

describe('the codec endpoint', () => {
  it('decodes the history payloads back to the order for an admin token; encode then decode is the identity', async () => {
    const res = await codec('/default/decode', asJson(startedInput), { authorization: `Bearer ${adminToken}`, 'x-namespace': 'default' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    const [payload] = body.payloads;
    expect(Buffer.from(payload.metadata.encoding, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(payload.data, 'base64').toString())).toEqual(input);

    const plain = asJson([defaultPayloadConverter.toPayload({ email: 'zelda@example.com' })]);
    const encoded = (await (await codec('/encode', plain, { authorization: `Bearer ${adminToken}` })).json()) as typeof plain;
    expect(Buffer.from(encoded.payloads[0].metadata.encoding, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(encoded.payloads[0].data, 'base64').toString('latin1')).not.toContain('zelda@example.com');
    const back = (await (await codec('/decode', encoded, { authorization: `Bearer ${adminToken}` })).json()) as typeof plain;
    expect(back).toEqual(plain);
  });

  it('the Web UI origin decodes without a token, with CORS headers; its preflight is answered', async () => {
    const preflight = await fetch(`${codecUrl}/decode`, {
      method: 'OPTIONS',
      headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    const res = await codec('/decode', asJson(startedInput), { origin: UI_ORIGIN, 'x-namespace': 'default' });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    const body = (await res.json()) as { payloads: { data: string }[] };
    expect(JSON.parse(Buffer.from(body.payloads[0].data, 'base64').toString())).toEqual(input);
  });

  it.each([
    ['no token and no origin', {}, 401, 'UNAUTHENTICATED'],
    ['a forged token', { authorization: `Bearer ${'x'.repeat(40)}` }, 401, 'UNAUTHENTICATED'],
    ['a customer token', () => ({ authorization: `Bearer ${customerToken}` }), 403, 'FORBIDDEN'],
    ['another web page', { origin: 'https://evil.example' }, 403, 'FORBIDDEN'],
    ['another page with an admin token', () => ({ origin: 'https://evil.example', authorization: `Bearer ${adminToken}` }), 403, 'FORBIDDEN'],
    ['another namespace', () => ({ authorization: `Bearer ${adminToken}`, 'x-namespace': 'payroll' }), 403, 'FORBIDDEN'],
  ] as const)('refuses %s', async (_, headers, status, code) => {
    const res = await codec('/decode', asJson(startedInput), typeof headers === 'function' ? headers() : headers);
    expect(res.status).toBe(status);
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({ code });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    for (const value of Object.values(PERSONAL)) expect(body).not.toContain(value);
  });

  it('refuses another page’s preflight, and answers 400 to a body that is not Payloads JSON', async () => {
    const preflight = await fetch(`${codecUrl}/decode`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const auth = { authorization: `Bearer ${adminToken}` };
    expect((await codec('/decode', { payloads: [{ data: '%%%' }] }, auth)).status).toBe(400);
    const notJson = await fetch(`${codecUrl}/decode`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ code: 'INVALID_JSON' });
  });

  it('a payload under a key it does not hold: 400 naming the key id (rotation keeps old ids decodable)', async () => {
    const other = createCodecApp({ codec: payloadCodecFrom({ PAYLOAD_CODEC_KEYS: newPayloadCodecKey('k-2027-01') }), namespace: 'default', allowedOrigins: [], verifyToken: (token) => tokens.verify(token) });
    const res = await other.request('/decode', { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(asJson(startedInput)) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'PAYLOAD_UNDECODABLE', message: expect.stringContaining('key id "k-2026-12"') });

    const rotated = createCodecApp({ codec: payloadCodecFrom({ PAYLOAD_CODEC_KEYS: `${newPayloadCodecKey('k-2027-01')},${KEYS}` }), namespace: 'default', allowedOrigins: [], verifyToken: (token) => tokens.verify(token) });
    const ok = await rotated.request('/decode', { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(asJson(startedInput)) });
    expect(ok.status).toBe(200);
  });
});
