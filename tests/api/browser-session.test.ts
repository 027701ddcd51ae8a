/**
 * What the web front end stands on, in-process against a real PostgreSQL: the
 * browser's session cookie (POST /users/session: HttpOnly, SameSite=Strict,
 * refused when a page of another site makes it change something), and the
 * storefront's document and assets at / under a strict Content-Security-Policy.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { apiClient, expectError, newCustomer, type ApiClient } from './support/harness';
import { startOfflineBackend } from './support/offline-backend';
import { perSuite } from './support/suite';

const backend = perSuite(() => startOfflineBackend('browser-session', { seeded: true }));
let api: ApiClient;
const password = 'correct horse battery';
const HERE = 'http://localhost';

beforeAll(() => {
  api = apiClient(backend.app());
});

/** Logs a browser in: the cookie pair to send back (name=value) and the Set-Cookie header as the server wrote it. */
async function session(email: string) {
  const res = await api.call('POST', '/api/v1/users/session', { body: { email, password } });
  expect(res.status).toBe(200);
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { account: res.body, setCookie, cookie: setCookie.split(';')[0] };
}

describe('POST /users/session', () => {
  it('answers the account and sets an HttpOnly, SameSite=Strict cookie for /api/ that lasts as long as a token; no token in the body', async () => {
    const { email, id } = await newCustomer(api, 'cookie');
    const { account, setCookie } = await session(email);
    expect(account).toEqual({ id, email, role: 'CUSTOMER' });
    expect(setCookie).toMatch(/^session=[\w-]+\.[\w-]+\.[\w-]+;/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\/api\//);
    expect(setCookie).toMatch(/Max-Age=900/);
    expect(setCookie).not.toMatch(/Secure/); // plain http here; https requests get Secure
  });

  it('a wrong password is 401 and sets no cookie', async () => {
    const { email } = await newCustomer(api, 'cookie-wrong');
    const res = await api.call('POST', '/api/v1/users/session', { body: { email, password: 'not the password' } });
    expectError(res, 401, 'UNAUTHENTICATED');
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('over https the cookie is Secure', async () => {
    const { email } = await newCustomer(api, 'cookie-https');
    const res = await api.call('POST', '/api/v1/users/session', { body: { email, password }, headers: { 'x-forwarded-proto': 'https' } });
    expect(res.headers.get('set-cookie')).toMatch(/; Secure/);
  });
});

describe('the session cookie on later requests', () => {
  it('reads (GET) with the cookie alone, from anywhere', async () => {
    const { email, id } = await newCustomer(api, 'cookie-read');
    const { cookie } = await session(email);
    const me = await api.call('GET', '/api/v1/users/me', { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(id);
  });

  it('changes (POST, PUT, DELETE) only when the page that sent them is of this site; another origin or none is 403 CROSS_ORIGIN_REFUSED and changes nothing', async () => {
    const { email, id } = await newCustomer(api, 'cookie-csrf');
    const { cookie } = await session(email);
    const add = (headers: Record<string, string>) => api.call('POST', '/api/v1/cart/items', { body: { productId: 'prod_mug', quantity: 1 }, headers: { cookie, ...headers } });
    expectError(await add({ origin: 'http://elsewhere.example' }), 403, 'CROSS_ORIGIN_REFUSED');
    expectError(await add({ origin: 'http://localhost:8080' }), 403, 'CROSS_ORIGIN_REFUSED'); // same site, another port
    expectError(await add({}), 403, 'CROSS_ORIGIN_REFUSED');
    expectError(await add({ origin: 'null' }), 403, 'CROSS_ORIGIN_REFUSED');
    expect(await backend.db.cartItem.count({ where: { customerId: id } })).toBe(0);
    const ok = await add({ origin: HERE });
    expect(ok.status).toBe(200);
    expect(await backend.db.cartItem.count({ where: { customerId: id } })).toBe(1);
  });

  it('a bearer header wins over the cookie and needs no Origin (API clients are unchanged)', async () => {
    const a = await newCustomer(api, 'cookie-a');
    const b = await newCustomer(api, 'cookie-b');
    const { cookie } = await session(a.email);
    const me = await api.call('GET', '/api/v1/users/me', { token: b.token, headers: { cookie } });
    expect(me.body.id).toBe(b.id);
    const add = await api.call('POST', '/api/v1/cart/items', { token: b.token, body: { productId: 'prod_mug', quantity: 1 } });
    expect(add.status).toBe(200);
  });

  it('log-out clears the cookie and revokes it: sent again, it is 401', async () => {
    const { email } = await newCustomer(api, 'cookie-out');
    const { cookie } = await session(email);
    const out = await api.call('POST', '/api/v1/users/me/logout', { headers: { cookie, origin: HERE } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^session=;.*Max-Age=0/);
    const me = await api.call('GET', '/api/v1/users/me', { headers: { cookie } });
    expectError(me, 401, 'UNAUTHENTICATED');
    expect(me.body.message).toMatch(/session ended/);
  });

  it('a password change made through the cookie renews the cookie (the old one is revoked with every other token)', async () => {
    const { email } = await newCustomer(api, 'cookie-pw');
    const { cookie } = await session(email);
    const changed = await api.call('POST', '/api/v1/users/me/password', { body: { currentPassword: password, newPassword: 'another long password' }, headers: { cookie, origin: HERE } });
    expect(changed.status).toBe(200);
    const renewed = (changed.headers.get('set-cookie') ?? '').split(';')[0];
    expect(renewed).toMatch(/^session=/);
    expectError(await api.call('GET', '/api/v1/users/me', { headers: { cookie } }), 401, 'UNAUTHENTICATED');
    expect((await api.call('GET', '/api/v1/users/me', { headers: { cookie: renewed } })).status).toBe(200);
  });
});

describe('the web front end at /', () => {
  it('serves its document under a policy allowing only its own script, style and connections', async () => {
    const res = await backend.app().request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const policy = res.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'"]) expect(policy).toContain(directive);
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/assets/app.js">');
    expect(html).not.toMatch(/<script>|<style>| style=/);
  });

  it('serves the bundle and style sheet; any other name under /assets/, or a path out of it, is 404', async () => {
    const app = backend.app();
    const js = await app.request('/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await app.request('/assets/app.css')).status).toBe(200);
    for (const path of ['/assets/nope.js', '/assets/..%2f..%2fpackage.json', '/assets/%2e%2e%2fassets%2fapp.js']) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe('NOT_FOUND');
    }
  });
});
