/**
 * The HTTP edge, in-process against a real PostgreSQL: every client mistake
 * gets a clear 4xx with a stable code, and writes nothing. Temporal is
 * deliberately unreachable here: nothing below may need it.
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { createLogger } from '../../platform/logger';
import type { Db } from '../../prisma/client';
import { seed } from '../../prisma/seed';
import { freshDatabase } from '../support/db';
import { freePort } from '../support/ports';

let db: Db;
let app: ReturnType<typeof createApp>;
let connection: Connection;
let token: string;

beforeAll(async () => {
  ({ db } = await freshDatabase('http'));
  await seed(db);
  connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500 });
  app = createApp({ db, temporal: new Client({ connection }), log: createLogger('test', 'silent'), maxBodyBytes: 16 * 1024 });
  // placing an order needs an account: the customer is the token's subject
  const account = { email: 'c1@example.com', password: 'correct horse battery' };
  const json = { 'content-type': 'application/json' };
  await app.request('/api/v1/users/register', { method: 'POST', body: JSON.stringify(account), headers: json });
  const login = await app.request('/api/v1/users/login', { method: 'POST', body: JSON.stringify(account), headers: json });
  token = ((await login.json()) as { accessToken: string }).accessToken;
});
afterAll(async () => {
  await connection?.close().catch(() => undefined);
  await db?.$disconnect();
});

const good = {
  items: [{ productId: 'prod_mug', quantity: 1 }],
  shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' },
  paymentMethod: { token: 'tok_visa' },
};
const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  app.request('/api/v1/orders', { method: 'POST', body, headers: { authorization: `Bearer ${token}`, ...headers } });
const get = (path: string) => app.request(path, { headers: { authorization: `Bearer ${token}` } });

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { code: string; message: string; requestId: string; details?: unknown };
  expect(body.code).toBe(code);
  expect(body.message.length).toBeGreaterThan(0);
  expect(body.requestId).toMatch(/[0-9a-f-]{36}/);
  return body;
}

describe('HTTP errors', () => {
  it('validation names each bad field', async () => {
    const body = await expectError(
      await post(JSON.stringify({ ...good, items: [{ productId: 'prod_mug', quantity: 0 }, { productId: 'prod_mug', quantity: 1.5 }], shippingAddress: { ...good.shippingAddress, country: 'USA' } })),
      400,
      'VALIDATION_FAILED',
    );
    const paths = (body.details as { fields: { path: string }[] }).fields.map((f) => f.path).sort();
    expect(paths).toEqual(['items.0.quantity', 'items.1.quantity', 'shippingAddress.country']);
  });

  it.each([
    ['negative quantity', { ...good, items: [{ productId: 'prod_mug', quantity: -1 }] }],
    ['huge quantity', { ...good, items: [{ productId: 'prod_mug', quantity: 1e9 }] }],
    ['string quantity', { ...good, items: [{ productId: 'prod_mug', quantity: '2' }] }],
    ['no items', { ...good, items: [] }],
    ['no payment method', { ...good, paymentMethod: undefined }],
    ['order id not a uuid', { ...good, orderId: "1'; DROP TABLE orders;--" }],
    ['array body', [good]],
    ['the same product twice', { ...good, items: [{ productId: 'prod_mug', quantity: 1 }, { productId: 'prod_mug', quantity: 2 }] }],
    ['51 lines', { ...good, items: Array.from({ length: 51 }, (_, i) => ({ productId: `p${i}`, quantity: 1 })) }],
  ])('%s → 400 VALIDATION_FAILED', async (_name, body) => {
    await expectError(await post(JSON.stringify(body)), 400, 'VALIDATION_FAILED');
  });

  it('malformed JSON → 400 INVALID_JSON', async () => {
    await expectError(await post('{"items": '), 400, 'INVALID_JSON');
  });
  it('wrong content type → 415', async () => {
    await expectError(await post('items=1', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
  it('body too large → 413', async () => {
    await expectError(await post(JSON.stringify({ ...good, note: 'x'.repeat(32 * 1024) })), 413, 'PAYLOAD_TOO_LARGE');
  });
  it('unknown route → 404', async () => {
    await expectError(await app.request('/api/v1/nope'), 404, 'NOT_FOUND');
  });
  it('unknown or inactive product → 422 naming it', async () => {
    const body = await expectError(await post(JSON.stringify({ ...good, items: [{ productId: 'prod_nope', quantity: 1 }] })), 422, 'PRODUCT_NOT_FOUND');
    expect(body.details).toEqual({ productIds: ['prod_nope'] });
    await db.product.update({ where: { id: 'prod_kettle' }, data: { active: false } });
    await expectError(await post(JSON.stringify({ ...good, items: [{ productId: 'prod_kettle', quantity: 1 }] })), 422, 'PRODUCT_INACTIVE');
    await db.product.update({ where: { id: 'prod_kettle' }, data: { active: true } });
  });
  it('an order that does not exist → 404, also for cancel', async () => {
    await expectError(await get('/api/v1/orders/00000000-0000-4000-8000-000000000000'), 404, 'ORDER_NOT_FOUND');
    await expectError(
      await app.request('/api/v1/orders/00000000-0000-4000-8000-000000000000/cancel', { method: 'POST', headers: { authorization: `Bearer ${token}` } }),
      404,
      'ORDER_NOT_FOUND',
    );
    await expectError(await get('/api/v1/orders/not-a-uuid'), 400, 'VALIDATION_FAILED');
  });
  it('placing an order without a token → 401, before the body is even read', async () => {
    const res = await app.request('/api/v1/orders', { method: 'POST', body: JSON.stringify(good), headers: { 'content-type': 'application/json' } });
    await expectError(res, 401, 'UNAUTHENTICATED');
  });
  it('no rejected request above wrote anything', async () => {
    expect(await db.order.count()).toBe(0);
    expect(await db.reservation.count()).toBe(0);
    expect(await db.payment.count()).toBe(0);
  });
});

describe('health', () => {
  it('live answers without dependencies; ready says which dependency is down (503)', async () => {
    expect((await app.request('/health/live')).status).toBe(200);
    const res = await app.request('/health/ready');
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: { database: string; temporal: string } };
    expect(body.checks.database).toBe('ok');
    expect(body.checks.temporal).toMatch(/^unavailable/);
  });
  it('a Temporal outage during an order is a 503, not a 500', async () => {
    await expectError(await post(JSON.stringify(good)), 503, 'DEPENDENCY_UNAVAILABLE');
  });
});

describe('OpenAPI', () => {
  it('serves a 3.1 document describing the order routes', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/orders', '/api/v1/orders/{id}', '/api/v1/orders/{id}/cancel', '/api/v1/products']));
  });
});
