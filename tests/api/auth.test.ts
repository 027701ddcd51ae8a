/**
 * Accounts and tokens, in-process against a real PostgreSQL: registration,
 * login, what a forged, tampered, expired or unsigned token gets (401), what
 * a customer gets on admin routes (403), and the per-user / per-IP rate limit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureAdmin } from '../../api/auth/admin-bootstrap';
import { apiClient, expectError, fieldPaths, forgeToken, newCustomer, type ApiClient } from './support/harness';
import { startOfflineBackend } from './support/offline-backend';
import { perSuite } from './support/suite';

const backend = perSuite(() => startOfflineBackend('auth'));
let api: ApiClient;

beforeAll(() => {
  api = apiClient(backend.app());
});

const password = 'correct horse battery';

describe('POST /users/register', () => {
  it('creates a customer; the password is stored only as an argon2id hash', async () => {
    const res = await api.call('POST', '/api/v1/users/register', { body: { email: '  Ada@Example.com ', password } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), email: 'ada@example.com', role: 'CUSTOMER' });
    const row = await backend.db.user.findUniqueOrThrow({ where: { email: 'ada@example.com' } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(row.passwordHash).not.toContain(password);
  });

  it('the same email again (any case) → 409 EMAIL_TAKEN', async () => {
    expectError(await api.call('POST', '/api/v1/users/register', { body: { email: 'ADA@example.com', password: 'another password' } }), 409, 'EMAIL_TAKEN');
    expect(await backend.db.user.count({ where: { email: 'ada@example.com' } })).toBe(1);
  });

  it('two registrations racing for one email: one 201, one 409', async () => {
    const body = { email: 'race@example.com', password };
    const replies = await Promise.all([api.call('POST', '/api/v1/users/register', { body }), api.call('POST', '/api/v1/users/register', { body })]);
    expect(replies.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it('a bad email and a short password are named', async () => {
    const res = await api.call('POST', '/api/v1/users/register', { body: { email: 'not-an-email', password: 'short' } });
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(fieldPaths(res)).toEqual(['email', 'password']);
  });

  it('malformed JSON, wrong content type, oversized body', async () => {
    expectError(await api.call('POST', '/api/v1/users/register', { raw: '{"email":', headers: { 'content-type': 'application/json' } }), 400, 'INVALID_JSON');
    expectError(await api.call('POST', '/api/v1/users/register', { raw: 'email=a', headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await api.call('POST', '/api/v1/users/register', { body: { email: 'big@example.com', password: 'x'.repeat(70_000) } }), 413, 'PAYLOAD_TOO_LARGE');
    expect(await backend.db.user.count({ where: { email: 'big@example.com' } })).toBe(0);
  });
});

describe('POST /users/login', () => {
  it('answers a short-lived HS256 bearer token whose subject is the user id', async () => {
    const res = await api.call('POST', '/api/v1/users/login', { body: { email: 'ada@example.com', password } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    const [header, payload] = (res.body.accessToken as string).split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header.alg).toBe('HS256');
    const user = await backend.db.user.findUniqueOrThrow({ where: { email: 'ada@example.com' } });
    expect(payload).toMatchObject({ sub: user.id, role: 'CUSTOMER' });
    expect(payload.exp - payload.iat).toBe(900);

    const me = await api.call('GET', '/api/v1/users/me', { token: res.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ id: user.id, email: 'ada@example.com', role: 'CUSTOMER' });
  });

  it('a wrong password and an unknown email get the same 401', async () => {
    const wrong = expectError(await api.call('POST', '/api/v1/users/login', { body: { email: 'ada@example.com', password: 'wrong password' } }), 401, 'UNAUTHENTICATED');
    const unknown = expectError(await api.call('POST', '/api/v1/users/login', { body: { email: 'nobody@example.com', password } }), 401, 'UNAUTHENTICATED');
    expect(wrong.message).toBe(unknown.message);
  });
});

describe('tokens', () => {
  let userId: string;
  let token: string;
  beforeAll(async () => {
    ({ id: userId, token } = await newCustomer(api, 'tok'));
  });

  const me = (headers: Record<string, string>) => api.call('GET', '/api/v1/users/me', { headers });
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

  it('no token on a protected route → 401 with WWW-Authenticate', async () => {
    for (const [method, path] of [['GET', '/api/v1/cart'], ['GET', '/api/v1/orders'], ['POST', '/api/v1/checkout'], ['GET', '/api/v1/users/me'], ['GET', '/api/v1/admin/orders']] as const) {
      const res = await api.call(method, path);
      expectError(res, 401, 'UNAUTHENTICATED');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it.each([
    ['not a bearer scheme', () => `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['garbage', () => 'Bearer not.a.jwt'],
    ['tampered payload (role ADMIN)', () => {
      const [h, , s] = token.split('.');
      return `Bearer ${h}.${b64({ sub: userId, role: 'ADMIN', iss: 'order-fulfilment', aud: 'order-fulfilment-api', iat: 1, exp: 4102444800 })}.${s}`;
    }],
    ['alg none', () => `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: userId, role: 'CUSTOMER', iss: 'order-fulfilment', aud: 'order-fulfilment-api', iat: 1, exp: 4102444800 })}.`],
  ])('%s → 401', async (_name, header) => {
    const res = await me({ authorization: header() });
    expectError(res, 401, 'UNAUTHENTICATED');
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('expired, wrong secret, another HMAC algorithm, no subject → 401', async () => {
    const expired = expectError(await me({ authorization: `Bearer ${await forgeToken({ sub: userId, expSecondsFromNow: -5 })}` }), 401, 'UNAUTHENTICATED');
    expect(expired.message).toMatch(/expired/);
    expectError(await me({ authorization: `Bearer ${await forgeToken({ sub: userId }, 'some-other-secret-of-at-least-32-chars!!')}` }), 401, 'UNAUTHENTICATED');
    expectError(await me({ authorization: `Bearer ${await forgeToken({ sub: userId }, undefined, 'HS512')}` }), 401, 'UNAUTHENTICATED');
    expectError(await me({ authorization: `Bearer ${await forgeToken({})}` }), 401, 'UNAUTHENTICATED');
  });

  it.each([
    ['not a UUID', 'not-a-uuid'],
    ['SQL-like', "1' OR '1'='1"],
    ['a UUID with extra text', '00000000-0000-4000-8000-000000000000x'],
  ])('a correctly signed token whose subject is %s → 401, not 500', async (_name, sub) => {
    const res = await me({ authorization: `Bearer ${await forgeToken({ sub })}` });
    expectError(res, 401, 'UNAUTHENTICATED');
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('a valid token with the right claims is accepted (the forger helper is sound)', async () => {
    expect((await me({ authorization: `Bearer ${await forgeToken({ sub: userId })}` })).status).toBe(200);
  });

  it('a customer on an admin route → 403 FORBIDDEN', async () => {
    expectError(await api.call('GET', '/api/v1/admin/orders', { token }), 403, 'FORBIDDEN');
    expectError(await api.call('POST', '/api/v1/admin/products', { token, body: { sku: 'X' } }), 403, 'FORBIDDEN');
  });
});

describe('admin account from ADMIN_EMAIL / ADMIN_PASSWORD', () => {
  it('is created once, and takes over (role and password) an account that squatted the email', async () => {
    expect(await ensureAdmin(backend.db, 'Boss@Example.com', 'boss password')).toBe('created');
    expect(await ensureAdmin(backend.db, 'boss@example.com', 'boss password')).toBe('unchanged');
    const login = await api.call('POST', '/api/v1/users/login', { body: { email: 'boss@example.com', password: 'boss password' } });
    const me = await api.call('GET', '/api/v1/users/me', { token: login.body.accessToken });
    expect(me.body.role).toBe('ADMIN');

    await api.call('POST', '/api/v1/users/register', { body: { email: 'squat@example.com', password: 'squatter password' } });
    expect(await ensureAdmin(backend.db, 'squat@example.com', 'the real admin password')).toBe('updated');
    expectError(await api.call('POST', '/api/v1/users/login', { body: { email: 'squat@example.com', password: 'squatter password' } }), 401, 'UNAUTHENTICATED');
    expect((await api.call('POST', '/api/v1/users/login', { body: { email: 'squat@example.com', password: 'the real admin password' } })).status).toBe(200);
  });
});

describe('revoking tokens: log-out and password change', () => {
  const me = (token: string) => api.call('GET', '/api/v1/users/me', { token });
  const loginAs = (email: string, pw: string) => api.call('POST', '/api/v1/users/login', { body: { email, password: pw } });

  it('after log-out every token of the account → 401; a new login works', async () => {
    const user = await newCustomer(api, 'logout');
    const other = (await loginAs(user.email, password)).body.accessToken as string; // a second session
    const bystander = await newCustomer(api, 'bystander');
    expect((await me(user.token)).status).toBe(200);
    const out = await api.call('POST', '/api/v1/users/me/logout', { token: user.token });
    expect(out.status).toBe(204);
    for (const token of [user.token, other]) {
      const res = await me(token);
      expect(expectError(res, 401, 'UNAUTHENTICATED').message).toMatch(/revoked/);
      expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    }
    expectError(await api.call('GET', '/api/v1/orders', { token: user.token }), 401, 'UNAUTHENTICATED');
    expectError(await api.call('POST', '/api/v1/users/me/logout', { token: user.token }), 401, 'UNAUTHENTICATED');
    expect((await me(bystander.token)).status).toBe(200);
    const again = await loginAs(user.email, password);
    expect(again.status).toBe(200);
    expect((await me(again.body.accessToken)).status).toBe(200);
  });

  it('log-out without a token → 401', async () => {
    expectError(await api.call('POST', '/api/v1/users/me/logout'), 401, 'UNAUTHENTICATED');
  });

  it('a password change needs the current password; then the old tokens → 401, the old password fails and the new one logs in', async () => {
    const user = await newCustomer(api, 'pwchange');
    const wrong = await api.call('POST', '/api/v1/users/me/password', { token: user.token, body: { currentPassword: 'not my password', newPassword: 'a brand new password' } });
    expectError(wrong, 422, 'WRONG_PASSWORD');
    expect((await me(user.token)).status).toBe(200); // nothing changed
    expect(fieldPaths(await api.call('POST', '/api/v1/users/me/password', { token: user.token, body: { currentPassword: password, newPassword: 'short' } }))).toEqual(['newPassword']);

    const changed = await api.call('POST', '/api/v1/users/me/password', { token: user.token, body: { currentPassword: password, newPassword: 'a brand new password' } });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(expectError(await me(user.token), 401, 'UNAUTHENTICATED').message).toMatch(/revoked/);
    expect((await me(changed.body.accessToken)).status).toBe(200); // the answer's token is current
    expectError(await loginAs(user.email, password), 401, 'UNAUTHENTICATED');
    const fresh = await loginAs(user.email, 'a brand new password');
    expect(fresh.status).toBe(200);
    expect((await me(fresh.body.accessToken)).body.email).toBe(user.email);
  });

  it('a token of an account that no longer exists → 401', async () => {
    const user = await newCustomer(api, 'gone');
    await backend.db.user.delete({ where: { id: user.id } });
    expectError(await me(user.token), 401, 'UNAUTHENTICATED');
  });
});

describe('rate limit', () => {
  it('per user: the 6th request in a minute → 429 RATE_LIMITED with Retry-After; other users are unaffected', async () => {
    const limited = apiClient(backend.app({ rateLimitPerMinute: 5 }));
    const a = await newCustomer(api, 'rl-a');
    const b = await newCustomer(api, 'rl-b');
    for (let i = 0; i < 5; i += 1) expect((await limited.call('GET', '/api/v1/users/me', { token: a.token })).status).toBe(200);
    const res = await limited.call('GET', '/api/v1/users/me', { token: a.token });
    const body = expectError(res, 429, 'RATE_LIMITED');
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(body.details).toMatchObject({ limit: 5 });
    expect((await limited.call('GET', '/api/v1/users/me', { token: b.token })).status).toBe(200);
  });

  it('per IP when anonymous; a rate-limited request writes nothing', async () => {
    const limited = apiClient(backend.app({ rateLimitPerMinute: 2 }));
    const ip = '203.0.113.7';
    expect((await limited.call('GET', '/api/v1/products', { ip })).status).toBe(200);
    expect((await limited.call('GET', '/api/v1/products', { ip })).status).toBe(200);
    const res = await limited.call('POST', '/api/v1/users/register', { ip, body: { email: 'limited@example.com', password } });
    expectError(res, 429, 'RATE_LIMITED');
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await backend.db.user.count({ where: { email: 'limited@example.com' } })).toBe(0);
    expect((await limited.call('GET', '/api/v1/products', { ip: '203.0.113.8' })).status).toBe(200);
  });

  it('the window resets after a minute', async () => {
    let now = 1_000_000;
    const { rateLimit } = await import('../../api/middleware/rate-limit');
    const { Hono } = await import('hono');
    const app = new Hono().use(rateLimit({ limit: 1, now: () => now })).get('/', (c) => c.text('ok'));
    expect((await app.request('/')).status).toBe(200);
    expect((await app.request('/')).status).toBe(429);
    now += 60_000;
    expect((await app.request('/')).status).toBe(200);
  });
});

describe('POST /users/session (the browser\'s login; tests/api/browser-session.test.ts has the rest)', () => {
  it('the right password: the account, and the token only in an HttpOnly cookie; a wrong one: 401 and no cookie', async () => {
    await api.call('POST', '/api/v1/users/register', { body: { email: 'browser@example.com', password } });
    const res = await api.call('POST', '/api/v1/users/session', { body: { email: 'browser@example.com', password } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: expect.any(String), email: 'browser@example.com', role: 'CUSTOMER' });
    expect(res.headers.get('set-cookie')).toMatch(/^session=.+HttpOnly/);
    const wrong = await api.call('POST', '/api/v1/users/session', { body: { email: 'browser@example.com', password: 'not the password' } });
    expectError(wrong, 401, 'UNAUTHENTICATED');
    expect(wrong.headers.get('set-cookie')).toBeNull();
  });
});

it('every accounts route was exercised and matched the document', () => {
  expect(api.contract.uncovered(['accounts'])).toEqual([]);
});
