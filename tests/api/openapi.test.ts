/**
 * The OpenAPI document and the docs page. Responses of every route are
 * checked against this document by the other suites (support/contract.ts);
 * here the document itself must be valid OpenAPI 3.1 and complete.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import { carrierSignatureHeaders } from '../../api/carrier-signature';
import { TEST_CARRIER_WEBHOOK_SECRET } from '../support/test-secrets';
import { Contract } from './support/contract';
import { apiClient, newAdmin, newCustomer, type App } from './support/harness';
import { startOfflineBackend } from './support/offline-backend';
import { perSuite } from './support/suite';

type Operation = { summary?: string; tags?: string[]; security?: unknown[]; responses: Record<string, { description: string; content?: Record<string, unknown> }> };
type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
};

const backend = perSuite(() => startOfflineBackend('openapi'));
let app: App;
let doc: Doc;

beforeAll(async () => {
  app = backend.app();
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  doc = (await res.json()) as Doc;
});

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, op })),
  );

describe('/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator)', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes every route of the API', () => {
    expect(operations().map((o) => o.key)).toEqual(
      expect.arrayContaining([
        'POST /api/v1/users/register', 'POST /api/v1/users/login', 'GET /api/v1/users/me', 'POST /api/v1/users/me/logout', 'POST /api/v1/users/me/password',
        'GET /api/v1/products', 'GET /api/v1/products/{id}',
        'POST /api/v1/admin/products', 'PATCH /api/v1/admin/products/{id}', 'PUT /api/v1/admin/inventory/{productId}', 'GET /api/v1/admin/inventory', 'GET /api/v1/admin/orders',
        'GET /api/v1/cart', 'POST /api/v1/cart/items', 'PUT /api/v1/cart/items/{productId}', 'DELETE /api/v1/cart/items/{productId}', 'DELETE /api/v1/cart',
        'POST /api/v1/checkout',
        'POST /api/v1/orders', 'GET /api/v1/orders', 'GET /api/v1/orders/{id}', 'POST /api/v1/orders/{id}/cancel', 'GET /api/v1/orders/{id}/events',
        'GET /health/live', 'GET /health/ready',
      ]),
    );
  });

  it('every operation has a summary, a tag and described responses', () => {
    for (const { key, op } of operations()) {
      expect(op.summary, key).toBeTruthy();
      expect(op.tags?.length, key).toBeGreaterThan(0);
      expect(Object.keys(op.responses).length, key).toBeGreaterThan(0);
      for (const [status, r] of Object.entries(op.responses)) expect(r.description, `${key} ${status}`).toBeTruthy();
    }
  });

  it('every $ref resolves', () => {
    const refs: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, child] of Object.entries(v)) {
          if (k === '$ref' && typeof child === 'string') refs.push(child);
          else walk(child);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of new Set(refs)) {
      expect(ref, ref).toMatch(/^#\//);
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
      expect(target, `${ref} resolves`).toBeDefined();
    }
  });

  it('bearer security: declared as a scheme, required exactly where a token is', () => {
    expect(doc.components.securitySchemes.bearerAuth).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }));
    const needsToken = (key: string) => /\/(cart|checkout|orders|admin|users\/me)\b/.test(key);
    const bearer = (op: Operation) => !!op.security?.some((s) => 'bearerAuth' in (s as object));
    for (const { key, op } of operations()) {
      expect(bearer(op), key).toBe(needsToken(key));
      if (needsToken(key)) expect(op.responses['401'], `${key} documents 401`).toBeDefined();
    }
  });

  it('the carrier webhook declares its signature header as its security, and nothing else does', () => {
    expect(doc.components.securitySchemes.carrierSignature).toEqual(expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-Carrier-Signature' }));
    const signed = operations().filter(({ op }) => op.security?.some((s) => 'carrierSignature' in (s as object)));
    expect(signed.map((o) => o.key)).toEqual(['POST /api/v1/webhooks/carrier']);
  });

  it('errors share one schema; every API route documents 429, 503 and a default', () => {
    for (const { key, op } of operations()) {
      expect(op.responses.default, key).toBeDefined();
      if (!key.includes('/api/v1/')) continue;
      expect(op.responses['429'], key).toBeDefined();
      expect(op.responses['503'], key).toBeDefined();
      for (const [status, r] of Object.entries(op.responses)) {
        if (Number(status) >= 400 || status === 'default') expect(r.content?.['application/json'], `${key} ${status}`).toEqual({ schema: { $ref: '#/components/schemas/Error' } });
      }
    }
  });
});

/**
 * Every route is called the ways its middleware can refuse it, and each
 * answer must be in its document entry (Contract: status and body). The
 * statuses middleware answers are documented exactly where they happen, so an
 * entry claims none it cannot answer either.
 */
describe('the document lists what the middleware answers', () => {
  const MIDDLEWARE = [400, 403, 413, 415, 429];
  const ID = '00000000-0000-4000-8000-000000000000';
  const big = 'x'.repeat(70 * 1024); // over the default 64 KiB body limit

  it('for every route: 400, 401, 403, 413, 415 and 429 where they apply, and only there', async () => {
    let customer = (await newCustomer(apiClient(app), 'doc')).token;
    let admin = (await newAdmin(apiClient(app), backend.db)).token;
    const limited = backend.app({ rateLimitPerMinute: 1 });
    expect((await limited.request('/api/v1/products')).status).toBe(200); // spends the one request
    const contracts = new Map([[app, new Contract(app)], [limited, new Contract(limited)]]);

    const problems: string[] = [];
    for (const { key, method, path, op } of operations()) {
      const url = path.replace(/\{[^}]+\}/g, ID);
      const produced = new Map<number, string>();
      const probe = async (name: string, target: App, init: { path?: string; token?: string; body?: string; type?: string; headers?: Record<string, string> } = {}) => {
        const headers: Record<string, string> = { ...init.headers };
        if (init.token) headers.authorization = `Bearer ${init.token}`;
        if (init.type) headers['content-type'] = init.type;
        // as over HTTP: in-process requests carry no content-length of their own
        if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
        const at = init.path ?? url;
        const res = await target.request(at, { method, headers, body: init.body });
        problems.push(...(await contracts.get(target)!.check(method, at, res)).map((p) => `${name}: ${p}`));
        produced.set(res.status, name);
        return res.status;
      };
      const hasBody = method !== 'GET';

      const anonymous = await probe('no token', app);
      if (op.security && anonymous !== 401) problems.push(`${key}: without a token ${anonymous}, not 401`);
      if (!op.security && anonymous === 401) problems.push(`${key}: 401 without a token but no security declared`);
      // the browser's session cookie, sent by a page of another site (before 'a customer': log-out revokes the token)
      await probe('session cookie from elsewhere', app, { headers: { cookie: `session=${customer}`, origin: 'http://elsewhere.example' } });
      await probe('a customer', app, { token: customer });
      // every request part at once is invalid: params too long, limit=0, no required header, broken JSON
      await probe('invalid request', app, {
        path: `${path.replace(/\{[^}]+\}/g, 'x'.repeat(101))}?limit=0`,
        token: admin,
        ...(hasBody ? { body: '{', type: 'application/json' } : {}),
        // authenticated as the route wants, like the admin token above: a carrier signs its (broken) body
        ...(op.security?.some((s) => 'carrierSignature' in (s as object)) ? { headers: carrierSignatureHeaders(TEST_CARRIER_WEBHOOK_SECRET, '{') } : {}),
      });
      if (hasBody) {
        await probe('body over the limit', app, { body: big, type: 'application/json' });
        await probe('text body', app, { body: 'a=1', type: 'text/plain' });
      }
      await probe('rate limited', limited);
      // log-out revoked the tokens the probes above sent: fresh ones for the next route
      if (key === 'POST /api/v1/users/me/logout') {
        customer = (await newCustomer(apiClient(app), 'doc')).token;
        admin = (await newAdmin(apiClient(app), backend.db)).token;
      }

      for (const status of MIDDLEWARE) {
        const documented = status in op.responses;
        if (documented !== produced.has(status)) problems.push(`${key}: ${status} ${documented ? 'documented but never answered' : `answered (${produced.get(status)}) but not documented`}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('/docs', () => {
  it("is Scalar's reference page drawing /openapi.json, every script from this origin, under a script policy of 'self'", async () => {
    const res = await app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
    const html = await res.text();
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=["']?https?:/i);
    expect(html).not.toMatch(/<script>/);
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(['/docs/scalar.js', '/docs/start.js']);
    const start = await (await app.request('/docs/start.js')).text();
    expect(start).toContain('"url":"/openapi.json"');
    const bundle = await app.request('/docs/scalar.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    expect((await bundle.text()).length).toBeGreaterThan(1_000_000);
  });
});
