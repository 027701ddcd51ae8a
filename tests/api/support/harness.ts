import { Client } from '@temporalio/client';
import { SignJWT } from 'jose';
import { expect } from 'vitest';
import { createApp, type AppDeps } from '../../../api/app';
import { ensureAdmin } from '../../../api/auth/admin-bootstrap';
import { TEST_JWT_SECRET, testSecrets } from '../../support/test-secrets';
import { createLogger } from '../../../platform/logger';
import { lazyTemporalConnection } from '../../../platform/temporal-connection';
import type { Db } from '../../../prisma/client';
import { freePort } from '../../support/ports';
import { Contract } from './contract';

export type App = ReturnType<typeof createApp>;

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** sent as is (for malformed JSON) */
  raw?: string;
  headers?: Record<string, string>;
  /** the socket address the request seems to come from */
  ip?: string;
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
  res: Response;
}

/**
 * An in-process API client: every response is checked against the OpenAPI
 * document (see Contract) and the test fails on the first mismatch.
 */
export function apiClient(app: App) {
  const contract = new Contract(app);
  async function raw(method: string, path: string, opts: CallOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const env = opts.ip ? { incoming: { socket: { remoteAddress: opts.ip } } } : undefined;
    const res = await app.request(path, { method, headers, body }, env);
    expect(await contract.check(method, path, res), `${method} ${path} matches the OpenAPI document`).toEqual([]);
    return res;
  }
  async function call<T = any>(method: string, path: string, opts: CallOptions = {}): Promise<Reply<T>> {
    const res = await raw(method, path, opts);
    const text = await res.text();
    let body: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) body = JSON.parse(text);
    return { status: res.status, body: body as T, headers: res.headers, res };
  }
  return { call, raw, contract };
}
export type ApiClient = ReturnType<typeof apiClient>;

/** A Temporal client nobody answers: for suites where nothing may need Temporal. */
export async function unreachableTemporal(): Promise<{ temporal: Client; close: () => Promise<void> }> {
  return temporalClientAt(`127.0.0.1:${await freePort()}`);
}

/**
 * A Temporal client of its own for an in-process API, closed before the server goes away:
 * close() ends the calls the API left running (a 202's outcome, a 503's retries) first.
 */
export function temporalClientAt(address: string): { temporal: Client; close: () => Promise<void> } {
  const { connection, close } = lazyTemporalConnection({ address, connectTimeout: 500 });
  return { temporal: new Client({ connection }), close };
}

/** An in-process app; its secrets are the fixed test ones unless given. */
export const testApp = (deps: Omit<AppDeps, 'log' | 'jwtSecret' | 'carrierWebhookSecret'> & Partial<Pick<AppDeps, 'log' | 'jwtSecret' | 'carrierWebhookSecret'>>) =>
  createApp({ log: createLogger('test', 'silent'), rateLimitPerMinute: 0, ...testSecrets, ...deps });

/** What a suite sets on an app of its backend, besides the database and Temporal. */
export type AppSettings = Partial<Parameters<typeof testApp>[0]>;

/** A database and a Temporal client, and in-process apps on them. */
export interface AppBackend {
  db: Db;
  temporal: Client;
  app(settings?: AppSettings): App;
}

export const appsOn = (db: Db, temporal: Client): AppBackend => ({ db, temporal, app: (settings) => testApp({ db, temporal, ...settings }) });

let n = 0;
/** Registers and logs in a fresh customer; returns their id and token. */
export async function newCustomer(api: ApiClient, label = 'user'): Promise<{ id: string; email: string; token: string }> {
  n += 1;
  const email = `${label}-${n}-${Date.now()}@example.com`;
  const password = 'correct horse battery';
  const reg = await api.call('POST', '/api/v1/users/register', { body: { email, password } });
  expect(reg.status).toBe(201);
  const login = await api.call('POST', '/api/v1/users/login', { body: { email, password } });
  expect(login.status).toBe(200);
  return { id: reg.body.id, email, token: login.body.accessToken };
}

export async function newAdmin(api: ApiClient, db: Db): Promise<{ token: string }> {
  const email = `admin-${Date.now()}@example.com`;
  await ensureAdmin(db, email, 'admin password 1');
  const login = await api.call('POST', '/api/v1/users/login', { body: { email, password: 'admin password 1' } });
  expect(login.status).toBe(200);
  return { token: login.body.accessToken };
}

/** A token signed with the test app's secret but with claims of the test's choosing. */
export async function forgeToken(claims: { sub?: string; role?: string; expSecondsFromNow?: number }, secret = TEST_JWT_SECRET, alg = 'HS256') {
  const jwt = new SignJWT({ role: claims.role ?? 'CUSTOMER' })
    .setProtectedHeader({ alg })
    .setIssuer('order-fulfilment')
    .setAudience('order-fulfilment-api')
    .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
    .setExpirationTime(Math.floor(Date.now() / 1000) + (claims.expSecondsFromNow ?? 600));
  if (claims.sub) jwt.setSubject(claims.sub);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** Error shape every error response has. */
export function expectError(reply: Reply, status: number, code: string) {
  expect({ status: reply.status, code: reply.body?.code }).toEqual({ status, code });
  expect(reply.body.message.length).toBeGreaterThan(0);
  expect(reply.body.requestId).toMatch(/[0-9a-f-]{36}/);
  return reply.body as { code: string; message: string; details?: any; requestId: string };
}

export const fieldPaths = (reply: Reply): string[] => (reply.body.details?.fields ?? []).map((f: { path: string }) => f.path).sort();
