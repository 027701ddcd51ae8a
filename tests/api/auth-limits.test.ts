/**
 * Login and registration throttles (issue 15, item 4): per client address and
 * per target account, whatever token rides along; counted in PostgreSQL
 * (rate_limits) so that two API processes share them; a throttled attempt
 * runs no argon2.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAuthLimits, type AuthLimitSettings } from '../../api/middleware/auth-limits';
import { apiClient, expectError, newCustomer, type ApiClient } from './support/harness';
import { startOfflineBackend } from './support/offline-backend';
import { perSuite } from './support/suite';

// counts the password checks (each an argon2 hash) the API runs
vi.mock('../../api/auth/passwords', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../api/auth/passwords')>();
  return { ...real, verifyPassword: vi.fn(real.verifyPassword), burnPasswordCheck: vi.fn(real.burnPasswordCheck), hashPassword: vi.fn(real.hashPassword) };
});
const passwords = await import('../../api/auth/passwords');
const argon2Calls = () =>
  vi.mocked(passwords.verifyPassword).mock.calls.length + vi.mocked(passwords.burnPasswordCheck).mock.calls.length + vi.mocked(passwords.hashPassword).mock.calls.length;

const LIMITS: AuthLimitSettings = { loginPerAccount: 3, loginPerIp: 5, loginWindowSeconds: 900, registerPerIp: 2, registerWindowSeconds: 3600 };
const password = 'correct horse battery';

const backend = perSuite(() => startOfflineBackend('authlimits'));
let open: () => ApiClient; // unthrottled: sets up accounts
let apiA: ApiClient;
let apiB: ApiClient;
const pools: pg.Pool[] = [];

beforeAll(() => {
  // two app instances, each with its own pool, over one database: two API processes
  const instance = () => {
    const pool = new pg.Pool({ connectionString: backend.url, max: 2 });
    pools.push(pool);
    return apiClient(backend.app({ authLimits: createAuthLimits(LIMITS, pool) }));
  };
  apiA = instance();
  apiB = instance();
  const unthrottled = apiClient(backend.app());
  open = () => unthrottled;
});
afterAll(async () => {
  for (const pool of pools) await pool.end();
});

const login = (api: ApiClient, ip: string, email: string, pw: string, token?: string) => api.call('POST', '/api/v1/users/login', { ip, token, body: { email, password: pw } });

describe('login', () => {
  it('with a valid token of another account attached, the 4th guess for one account from one address → 429 with Retry-After, and no argon2 runs', async () => {
    const victim = await newCustomer(open(), 'victim');
    const attacker = await newCustomer(open(), 'attacker');
    const ip = '198.51.100.1';
    for (let i = 0; i < LIMITS.loginPerAccount; i++) expectError(await login(apiA, ip, victim.email, `guess ${i} wrong`, attacker.token), 401, 'UNAUTHENTICATED');
    const before = argon2Calls();
    // even the right password, in any case and with spaces: the limit is on the account, not the spelling
    const res = await login(apiA, ip, `  ${victim.email.toUpperCase()} `, password, attacker.token);
    const body = expectError(res, 429, 'RATE_LIMITED');
    expect(argon2Calls()).toBe(before);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(LIMITS.loginWindowSeconds - 60);
    expect(retryAfter).toBeLessThanOrEqual(LIMITS.loginWindowSeconds);
    expect(body.details).toMatchObject({ limit: LIMITS.loginPerAccount, retryAfterSeconds: retryAfter });
    // the attacker's own token still works elsewhere; the victim, from another address, logs in
    expect((await apiA.call('GET', '/api/v1/users/me', { token: attacker.token, ip })).status).toBe(200);
    expect((await login(apiA, '198.51.100.99', victim.email, password)).status).toBe(200);
  });

  it('two app instances sharing the database share the count (two API processes)', async () => {
    const victim = await newCustomer(open(), 'shared');
    const ip = '198.51.100.2';
    expectError(await login(apiA, ip, victim.email, 'wrong one'), 401, 'UNAUTHENTICATED');
    expectError(await login(apiB, ip, victim.email, 'wrong two'), 401, 'UNAUTHENTICATED');
    expectError(await login(apiA, ip, victim.email, 'wrong three'), 401, 'UNAUTHENTICATED');
    expectError(await login(apiB, ip, victim.email, password), 429, 'RATE_LIMITED');
    expectError(await login(apiA, ip, victim.email, password), 429, 'RATE_LIMITED');
    // the counters are rows of rate_limits, and no e-mail address is in them
    const rows = await backend.db.rateLimit.findMany({ where: { key: { startsWith: 'login_account:198.51.100.2|' } } });
    expect(rows).toHaveLength(1);
    expect(rows[0].points).toBe(5);
    expect((await backend.db.rateLimit.findMany()).map((r) => r.key).join(' ')).not.toContain('@');
  });

  it('another account from the same address is limited by the per-address limit', async () => {
    const ip = '198.51.100.3';
    const accounts = await Promise.all([1, 2, 3].map((i) => newCustomer(open(), `spray${i}`)));
    // 5 attempts from one address, at most 2 per account: under every per-account limit
    for (const [i, a] of [accounts[0], accounts[0], accounts[1], accounts[1], accounts[2]].entries()) {
      expectError(await login(i % 2 ? apiB : apiA, ip, a.email, 'wrong guess'), 401, 'UNAUTHENTICATED');
    }
    const before = argon2Calls();
    const res = await login(apiA, ip, accounts[2].email, password);
    expect(expectError(res, 429, 'RATE_LIMITED').details).toMatchObject({ limit: LIMITS.loginPerIp });
    expectError(await login(apiB, ip, 'nobody-at-all@example.com', password), 429, 'RATE_LIMITED');
    expect(argon2Calls()).toBe(before);
    // another address is not affected
    expect((await login(apiB, '198.51.100.4', accounts[2].email, password)).status).toBe(200);
  });

  it('a successful login forgets the account’s earlier misses from that address', async () => {
    const user = await newCustomer(open(), 'typo');
    const ip = '198.51.100.5';
    expectError(await login(apiA, ip, user.email, 'typo one'), 401, 'UNAUTHENTICATED');
    expectError(await login(apiA, ip, user.email, 'typo two'), 401, 'UNAUTHENTICATED');
    expect((await login(apiA, ip, user.email, password)).status).toBe(200);
    expectError(await login(apiA, ip, user.email, 'typo three'), 401, 'UNAUTHENTICATED');
    expect((await login(apiA, ip, user.email, password)).status).toBe(200);
  });
});

describe('register', () => {
  it('the 3rd registration from one address in an hour → 429, creates nothing and hashes nothing; another address registers', async () => {
    const ip = '203.0.113.50';
    const email = (i: number) => `reg-${i}-${Date.now()}@example.com`;
    expect((await apiA.call('POST', '/api/v1/users/register', { ip, body: { email: email(1), password } })).status).toBe(201);
    expect((await apiB.call('POST', '/api/v1/users/register', { ip, body: { email: email(2), password } })).status).toBe(201);
    const before = argon2Calls();
    const third = email(3);
    const res = await apiA.call('POST', '/api/v1/users/register', { ip, body: { email: third, password } });
    expectError(res, 429, 'RATE_LIMITED');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(3000);
    expect(argon2Calls()).toBe(before);
    expect(await backend.db.user.count({ where: { email: third } })).toBe(0);
    expect((await apiA.call('POST', '/api/v1/users/register', { ip: '203.0.113.51', body: { email: third, password } })).status).toBe(201);
  });
});
