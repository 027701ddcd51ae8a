/**
 * The HTTP edge, in-process against a real PostgreSQL: every client mistake
 * gets a clear 4xx with a stable code, and writes nothing. Temporal is
 * deliberately unreachable here: nothing below may need it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { Writable } from 'node:stream';
import { createApiMetrics } from '../../api/metrics';
import { createDb } from '../../prisma/client';
import { freePort } from '../support/ports';
import { createLogger } from '../../platform/logger';
import { startOfflineBackend } from './support/offline-backend';
import { perSuite } from './support/suite';
import { parsePrometheus, total } from '../support/prometheus';
import { testSecrets } from '../support/test-secrets';

const backend = perSuite(() => startOfflineBackend('http', { seeded: true }));
let app: ReturnType<typeof createApp>;
let token: string;

beforeAll(async () => {
  app = createApp({ db: backend.db, temporal: backend.temporal, log: createLogger('test', 'silent'), ...testSecrets, maxBodyBytes: 16 * 1024 });
  // placing an order needs an account: the customer is the token's subject
  const account = { email: 'c1@example.com', password: 'correct horse battery' };
  const json = { 'content-type': 'application/json' };
  await app.request('/api/v1/users/register', { method: 'POST', body: JSON.stringify(account), headers: json });
  const login = await app.request('/api/v1/users/login', { method: 'POST', body: JSON.stringify(account), headers: json });
  token = ((await login.json()) as { accessToken: string }).accessToken;
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
    await backend.db.product.update({ where: { id: 'prod_kettle' }, data: { active: false } });
    await expectError(await post(JSON.stringify({ ...good, items: [{ productId: 'prod_kettle', quantity: 1 }] })), 422, 'PRODUCT_INACTIVE');
    await backend.db.product.update({ where: { id: 'prod_kettle' }, data: { active: true } });
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
    expect(await backend.db.order.count()).toBe(0);
    expect(await backend.db.reservation.count()).toBe(0);
    expect(await backend.db.payment.count()).toBe(0);
  });
});

describe('X-Request-Id', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const idFor = async (value: string) => (await app.request('/health/live', { headers: { 'x-request-id': value } })).headers.get('x-request-id');

  it('a short id of letters, digits and -._: is echoed, to follow one request across systems', async () => {
    expect(await idFor('checkout-7f3a.retry:2_b')).toBe('checkout-7f3a.retry:2_b');
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['spaces and angle brackets', 'x <script>alert(1)</script>'],
    ['a forged log field', 'abc","level":"fatal'],
    ['non-ASCII', 'Grüße'],
  ])('%s is replaced by a fresh UUID, never echoed', async (_name, value) => {
    expect(await idFor(value)).toMatch(UUID);
  });
});

describe('HTTP method semantics', () => {
  const ORDER = '00000000-0000-4000-8000-000000000000';
  const allowOf = (res: Response) => (res.headers.get('allow') ?? '').split(/,\s*/).filter(Boolean).sort();
  // a limit of one request: wrong methods must not spend it
  const metrics = createApiMetrics();
  let limited: ReturnType<typeof createApp>;
  beforeAll(() => {
    limited = createApp({ db: backend.db, temporal: backend.temporal, log: createLogger('test', 'silent'), ...testSecrets, rateLimitPerMinute: 1, metrics });
  });

  it.each([
    ['DELETE', '/api/v1/orders', ['GET', 'HEAD', 'POST']],
    ['PUT', `/api/v1/orders/${ORDER}`, ['GET', 'HEAD']],
    ['DELETE', '/api/v1/orders/not-even-a-uuid', ['GET', 'HEAD']],
    ['GET', `/api/v1/orders/${ORDER}/cancel`, ['POST']],
    ['PATCH', '/api/v1/cart/items/prod_mug', ['DELETE', 'PUT']],
    ['PATCH', '/api/v1/cart', ['DELETE', 'GET', 'HEAD']],
    ['GET', '/api/v1/checkout', ['POST']],
    ['GET', '/api/v1/webhooks/carrier', ['POST']],
    ['DELETE', '/api/v1/admin/products/prod_mug', ['PATCH']],
    ['POST', '/api/v1/products', ['GET', 'HEAD']],
    ['OPTIONS', '/api/v1/products', ['GET', 'HEAD']],
    ['POST', '/health/live', ['GET', 'HEAD']],
    ['PUT', '/openapi.json', ['GET', 'HEAD']],
  ])('%s %s → 405, Allow: %j, with no token, before auth and the rate limit', async (method, path, allow) => {
    for (let i = 0; i < 2; i++) {
      const res = await limited.request(path, { method });
      expect(allowOf(res)).toEqual(allow);
      const body = await expectError(res, 405, 'METHOD_NOT_ALLOWED');
      expect(body.details).toEqual({ allow });
    }
  });

  it('405 before the body is checked: an oversized or non-JSON body to a wrong method is still 405', async () => {
    await expectError(await limited.request('/api/v1/orders', { method: 'PUT', body: 'x'.repeat(80 * 1024), headers: { 'content-type': 'application/json' } }), 405, 'METHOD_NOT_ALLOWED');
    await expectError(await limited.request(`/api/v1/orders/${ORDER}`, { method: 'PATCH', body: 'a=1', headers: { 'content-type': 'text/plain' } }), 405, 'METHOD_NOT_ALLOWED');
  });

  it('HEAD is served wherever GET is; on a path without GET it is 405 with Allow', async () => {
    expect((await limited.request('/health/live', { method: 'HEAD' })).status).toBe(200);
    const res = await limited.request('/api/v1/checkout', { method: 'HEAD' });
    expect(res.status).toBe(405);
    expect(allowOf(res)).toEqual(['POST']);
  });

  it('unknown paths stay 404, also under prefixes that need a token', async () => {
    await expectError(await limited.request('/api/v1/nope', { method: 'DELETE' }), 404, 'NOT_FOUND');
    await expectError(await limited.request(`/api/v1/orders/${ORDER}/nope`), 404, 'NOT_FOUND');
    await expectError(await limited.request('/api/v1/cart/nope', { method: 'POST' }), 404, 'NOT_FOUND');
    expect((await limited.request('/api/v1/nope')).headers.get('allow')).toBeNull();
  });

  it('none of the above spent the rate limit, and the metrics count them as 405 and 404, never 5xx', async () => {
    expect((await limited.request('/api/v1/products')).status).toBe(200);
    expect((await limited.request('/api/v1/products')).status).toBe(429);
    const samples = parsePrometheus(await metrics.registry.metrics());
    expect(total(samples, 'http_requests_total', { status: '405' })).toBe(29);
    expect(total(samples, 'http_requests_total', { route: 'unmatched', status: '404' })).toBe(4);
    expect(samples.filter((s) => s.name === 'http_requests_total' && /^5/.test(s.labels.status ?? ''))).toEqual([]);
  });
});

describe('health', () => {
  it('live answers without dependencies; ready says which dependency is down (503)', async () => {
    expect((await app.request('/health/live')).status).toBe(200);
    const res = await app.request('/health/ready');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not ready', checks: { database: 'ok', temporal: 'down' } });
  });

  it('ready names the dependency that is down, never its error text; the error goes to the log', async () => {
    const lines: string[] = [];
    const destination = new Writable({ write: (chunk, _enc, done) => (lines.push(...chunk.toString().split('\n').filter(Boolean)), done()) });
    const deadPort = await freePort();
    const deadDb = createDb(`postgresql://nobody:pw@127.0.0.1:${deadPort}/gone`, { poolSize: 1 });
    try {
      const down = createApp({ db: deadDb, temporal: backend.temporal, log: createLogger('test', 'info', { format: 'json', destination }), ...testSecrets });
      const res = await down.request('/health/ready');
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ status: 'not ready', checks: { database: 'down', temporal: 'down' } });
      expect(text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|UNAVAILABLE|connect|nobody|\d{4,5}/);
      const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'readiness check failed');
      expect(logged.map((l) => l.dependency).sort()).toEqual(['database', 'temporal']);
      expect(logged.every((l) => typeof l.err?.message === 'string' && l.err.message.length > 0)).toBe(true);
    } finally {
      await deadDb.$disconnect();
    }
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
