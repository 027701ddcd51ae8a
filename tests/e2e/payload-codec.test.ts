/**
 * The payload codec as the stack runs it: PAYLOAD_CODEC_KEYS reaches the API's client and every
 * worker (the history of an order placed over HTTP holds no address or payment token), the API
 * serves the codec endpoint on CODEC_PORT, the dev server's Web UI is told where it is, and an
 * operator reads the order through it — from the Web UI's origin, or with an admin's token.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPayloadCodecKey } from '../../platform/payload-codec';
import type { Stack } from '../../scripts/stack';
import { registerAndLogin, startE2eStack, type E2eStack } from '../support/e2e-stack';
import { orderWorkflowId } from '../../temporal-config/place-order';

const exec = promisify(execFile);
const ADMIN = { email: 'codec-admin@example.com', password: 'codec admin password 1' };
const ADDRESS = { name: 'Ottoline Varga-Pemberton', line1: '12 Quillfeather Lane', city: 'Bath', postalCode: 'BA1 7QX', country: 'GB' };
const PAYMENT_TOKEN = 'tok_visa';
const PERSONAL = [ADDRESS.name, ADDRESS.line1, ADDRESS.postalCode, PAYMENT_TOKEN];

let e2e: E2eStack;
let stack: Stack;
let customer: { id: string; token: string };
let adminToken: string;
let workflowId: string;

beforeAll(async () => {
  e2e = await startE2eStack('orders-codec-', {
    PAYLOAD_CODEC_KEYS: `${newPayloadCodecKey('e2e-new')},${newPayloadCodecKey('e2e-old')}`,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    CHECKOUT_WAIT_MS: '30000',
    LOG_LEVEL: 'warn',
    // as `npm start` runs it: the local Web UI's origin may use the codec endpoint
    NODE_ENV: 'development',
  });
  stack = e2e.stack;
  customer = await registerAndLogin(stack.apiUrl, 'codec-customer@example.com', 'correct horse battery');
  const login = await fetch(`${stack.apiUrl}/api/v1/users/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  adminToken = ((await login.json()) as { accessToken: string }).accessToken;

  const res = await fetch(`${stack.apiUrl}/api/v1/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${customer.token}` },
    body: JSON.stringify({ items: [{ productId: 'prod_mug', quantity: 1 }], shippingAddress: ADDRESS, paymentMethod: { token: PAYMENT_TOKEN } }),
  });
  const body = (await res.json()) as { orderId: string; status: string };
  expect(res.status, JSON.stringify(body)).toBe(201);
  expect(body.status).toBe('CONFIRMED'); // the saga ran through the codec in the API and every worker
  workflowId = orderWorkflowId(body.orderId);
});

afterAll(async () => {
  await e2e?.stop();
});

const temporal = async (...args: string[]) => (await exec(stack.temporalCli!, [...args, '--address', stack.temporalAddress], { maxBuffer: 64 * 1024 * 1024 })).stdout;
const firstInput = (history: string) => JSON.parse(history).events[0].workflowExecutionStartedEventAttributes.input.payloads;

describe('an order placed over HTTP on a stack with PAYLOAD_CODEC_KEYS', () => {
  it('leaves no address or payment token in the history; the payloads name the encoding and the first key', async () => {
    const history = await temporal('workflow', 'show', '--workflow-id', workflowId, '-o', 'json');
    // the token went to the gateway at checkout (an authorisation), encrypted in the history like the rest
    expect(history).toMatch(/"activityType":\s*\{\s*"name":\s*"authorisePayment"/);
    for (const value of PERSONAL) expect(history).not.toContain(value);
    const [payload] = firstInput(history);
    expect(Buffer.from(payload.metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(payload.metadata['encryption-key-id'], 'base64').toString()).toBe('e2e-new');
  });

  it('the Web UI is told where the codec endpoint is, and its origin reads the order through it', async () => {
    const settings = await (await fetch(`${stack.uiUrl}/api/v1/settings`)).text();
    expect(settings).toContain(stack.codecUrl!);

    const [payload] = firstInput(await temporal('workflow', 'show', '--workflow-id', workflowId, '-o', 'json'));
    const res = await fetch(`${stack.codecUrl}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: stack.uiUrl!, 'x-namespace': 'default' },
      body: JSON.stringify({ payloads: [payload] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(stack.uiUrl);
    const decoded = (await res.json()) as { payloads: { data: string }[] };
    const input = JSON.parse(Buffer.from(decoded.payloads[0].data, 'base64').toString());
    expect(input).toMatchObject({ shippingAddress: ADDRESS, paymentMethod: { token: PAYMENT_TOKEN }, customerId: customer.id });
  });

  it('the CLI reads the order with the codec endpoint and an admin token; a customer token is refused', async () => {
    const codec = ['--codec-endpoint', stack.codecUrl!, '--codec-auth', `Bearer ${adminToken}`];
    const history = await temporal('workflow', 'show', '--workflow-id', workflowId, '-o', 'json', ...codec);
    const [payload] = firstInput(history);
    expect(JSON.parse(Buffer.from(payload.data, 'base64').toString())).toMatchObject({ shippingAddress: ADDRESS });
    // a query's answer comes back encrypted from the worker and is decoded on the way
    const status = JSON.parse(await temporal('workflow', 'query', '--workflow-id', workflowId, '--name', 'getStatus', '-o', 'json', ...codec)).queryResult[0];
    expect(status).toMatchObject({ orderId: workflowId.replace(/^order-/, ''), status: expect.any(String) });

    const refused = await fetch(`${stack.codecUrl}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${customer.token}` },
      body: JSON.stringify({ payloads: [payload] }),
    });
    expect(refused.status).toBe(403);
  });
});
