/**
 * Order event streams are bounded (issue 15, item 5): capped per customer and per API process
 * (429 with Retry-After before a stream opens), closed after a lifetime the client resumes from
 * with Last-Event-ID, and fed by one LISTEN connection per process instead of per-stream polling —
 * an event inserted by another process arrives at once, an idle stream costs no queries, and the
 * number of PostgreSQL connections does not grow with the number of streams. The LISTEN
 * connection comes back after it is killed, and waits for a database that is not there yet.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { AppDeps } from '../../api/app';
import { listenForOrderEvents, type OrderEventListener } from '../../api/orders/event-notifier';
import { ROOT } from '../../platform/config';
import { ensureDatabase } from '../../platform/embedded-postgres';
import { createLogger } from '../../platform/logger';
import { applyMigrations } from '../../prisma/engine';
import { createDb, type Db } from '../../prisma/client';
import { freshDatabase } from '../support/db';
import { freePort } from '../support/ports';
import { until } from '../support/until';
import { apiClient, expectError, newCustomer, testApp, type ApiClient } from './support/harness';
import { startOfflineBackend } from './support/offline-backend';
import { sseReader } from './support/sse';
import { perSuite } from './support/suite';

const LISTENER_APP = 'order-events-listener';
/** application_name of the test's own connections to the API process's database */
const TEST_SIDE = 'streams-test';
const quiet = createLogger('test', 'silent');

const backend = perSuite(() => startOfflineBackend('streams'));
/** another process's connection: plain inserts, pg_stat_activity */
let other: pg.Client;
let listener: OrderEventListener;
/** order_events reads made by the apps under test */
let reads = 0;
let countingDb: Db;

beforeAll(async () => {
  other = new pg.Client({ connectionString: backend.url });
  await other.connect();
  listener = listenForOrderEvents({ databaseUrl: backend.url, log: quiet });
  await until('the LISTEN connection', async () => listener.listening);
  // the same client, counting db.orderEvent.findMany: the stream's only query after it opened
  const events = new Proxy(backend.db.orderEvent, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop !== 'findMany') return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) => {
        reads += 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  countingDb = new Proxy(backend.db, {
    get(target, prop) {
      if (prop === 'orderEvent') return events;
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
});
afterAll(async () => {
  await listener?.close();
  await other?.end();
});

/** An API whose streams are woken only by LISTEN: the backstop re-read and heartbeats are a minute away. */
const app = (over: Partial<AppDeps> = {}) =>
  apiClient(testApp({ db: countingDb, temporal: backend.temporal, orderEvents: listener.feed, eventRereadMs: 60_000, eventHeartbeatMs: 60_000, ...over }));

async function order(customerId: string, on: Db = backend.db) {
  const id = randomUUID();
  await on.order.create({
    data: {
      id, customerId, workflowId: `order-${id}`, status: 'PENDING', currency: 'USD', totalAmount: 2500,
      shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' },
      items: { create: { productId: 'prod_mug', sku: 'MUG-001', name: 'Enamel camping mug', quantity: 2, unitPriceAmount: 1250, lineTotalAmount: 2500, currency: 'USD' } },
    },
  });
  await on.orderEvent.create({ data: { orderId: id, key: '000-ORDER_PLACED', type: 'ORDER_PLACED', status: 'PENDING', occurredAt: new Date() } });
  return id;
}

/** A row written the way another process writes it: a plain INSERT on a connection of its own. */
async function insertElsewhere(orderId: string, type: string, status: string | null = null, client: pg.Client = other): Promise<string> {
  const { rows } = await client.query(
    `INSERT INTO order_events (order_id, key, type, status, occurred_at) VALUES ($1, $2, $3, $4::"OrderStatus", now()) RETURNING id`,
    [orderId, `${type}-${randomUUID()}`, type, status],
  );
  return String(rows[0].id);
}

async function openStream(api: ApiClient, orderId: string, token: string, lastEventId?: string) {
  const res = await api.raw('GET', `/api/v1/orders/${orderId}/events`, { token, headers: lastEventId ? { 'last-event-id': lastEventId } : {} });
  expect(res.status).toBe(200);
  return sseReader(res);
}

const ids = (r: { events: { id: string }[] }) => r.events.map((e) => e.id);

/** A stream that must be refused before it opens: checked on the status, so an opened one fails at once rather than hanging. */
async function refusedStream(api: ApiClient, orderId: string, token: string) {
  const res = await api.raw('GET', `/api/v1/orders/${orderId}/events`, { token });
  if (res.status !== 429) await res.body?.cancel();
  expect(res.status).toBe(429);
  const reply = { status: res.status, body: await res.json(), headers: res.headers, res };
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  return expectError(reply, 429, 'RATE_LIMITED');
}

/** connections to a database (default: this test's), but for the test's own (this one, and any named TEST_SIDE) */
async function connections(database?: string): Promise<{ total: number; listening: number; pid?: number }> {
  const { rows } = await other.query(
    `SELECT pid, application_name, query FROM pg_stat_activity WHERE datname = coalesce($1, current_database()) AND pid <> pg_backend_pid()`,
    [database ?? null],
  );
  const theirs = rows.filter((r) => r.application_name !== TEST_SIDE);
  const listening = rows.filter((r) => r.application_name === LISTENER_APP && /^LISTEN/i.test(r.query));
  return { total: theirs.length, listening: listening.length, pid: listening[0]?.pid };
}

describe('caps', () => {
  it("a customer's 6th concurrent stream is 429 RATE_LIMITED with Retry-After before it opens; the first 5 keep working; a closed one frees its slot", async () => {
    const api = app();
    const ada = await newCustomer(api, 'ada');
    const eve = await newCustomer(api, 'eve');
    const id = await order(ada.id);
    const streams = [];
    for (let i = 0; i < 5; i += 1) {
      const s = await openStream(api, id, ada.token);
      expect((await s.events((e) => e.type === 'ORDER_PLACED')).events).toHaveLength(1);
      streams.push(s);
    }
    expect((await refusedStream(api, id, ada.token)).details).toMatchObject({ scope: 'customer', limit: 5 });

    // the five open ones still get what happens, and another customer is not held up by ada's
    const shipped = await insertElsewhere(id, 'SHIPMENT_CREATED');
    for (const s of streams) expect(ids(await s.events((e) => e.id === shipped, 5_000))).toEqual([shipped]);
    const eves = await openStream(api, await order(eve.id), eve.token);
    await eves.close();

    await streams.pop()!.close();
    const again = await until('a slot freed by the closed stream', async () => {
      const res = await api.raw('GET', `/api/v1/orders/${id}/events`, { token: ada.token });
      if (res.status === 200) return sseReader(res);
      await res.body?.cancel();
      expect(res.status).toBe(429);
      return undefined;
    }, 5_000, 20);
    expect(ids(await again.events((e) => e.id === shipped))).toContain(shipped);
    for (const s of [...streams, again]) await s.close();
  });

  it('the process-wide cap refuses any customer once reached (429, scope process); a stream that ends with `end` frees its slot', async () => {
    const api = app({ eventStreamsPerProcess: 2 });
    const [ada, eve, bob] = [await newCustomer(api, 'ada'), await newCustomer(api, 'eve'), await newCustomer(api, 'bob')];
    const a = await openStream(api, await order(ada.id), ada.token);
    const e = await openStream(api, await order(eve.id), eve.token);
    const bobs = await order(bob.id);
    expect((await refusedStream(api, bobs, bob.token)).details).toMatchObject({ scope: 'process', limit: 2 });
    await a.close();
    await e.close();

    // an ended order's stream sends `end` and closes: three in a row fit under a cap of one
    const single = app({ eventStreamsPerCustomer: 1 });
    await insertElsewhere(bobs, 'STATUS_CHANGED', 'CANCELLED');
    for (let i = 0; i < 3; i += 1) {
      const s = await openStream(single, bobs, bob.token);
      expect(await s.events(() => false)).toMatchObject({ ended: true, end: { status: 'CANCELLED' } });
    }
  });
});

describe('lifetime', () => {
  it('the server closes a stream after its lifetime (no `end`); a resume with Last-Event-ID gets exactly the events missed meanwhile', async () => {
    const api = app({ eventStreamLifetimeMs: 1_000, eventStreamsPerCustomer: 1 });
    const ada = await newCustomer(api, 'ada');
    const id = await order(ada.id);
    const opened = Date.now();
    const stream = await openStream(api, id, ada.token);
    await stream.events((e) => e.type === 'ORDER_PLACED');
    const reserved = await insertElsewhere(id, 'STOCK_RESERVED');
    const during = await stream.events(() => false, 5_000);
    const closedAfter = Date.now() - opened;
    expect(during).toEqual({ events: [expect.objectContaining({ id: reserved })], ended: true, end: undefined });
    expect(closedAfter).toBeGreaterThanOrEqual(950);
    expect(closedAfter).toBeLessThan(3_000);

    // what happened between the close and the reconnect (EventSource waits `retry` ms)
    const charged = await insertElsewhere(id, 'PAYMENT_CHARGED');
    const committed = await insertElsewhere(id, 'STOCK_COMMITTED');
    // the cap is 1: this is accepted only because the closed stream gave its slot back
    const resumed = await openStream(api, id, ada.token, reserved);
    expect(ids(await resumed.events((e) => e.id === committed))).toEqual([charged, committed]);
    const confirmed = await insertElsewhere(id, 'ORDER_CONFIRMED');
    const rest = await resumed.events(() => false, 5_000);
    expect({ ids: ids(rest), ended: rest.ended }).toEqual({ ids: [confirmed], ended: true });
  });
});

describe('one LISTEN connection per process, no polling', () => {
  it("an event inserted by another process reaches every open stream of its order within a second, with one read each; idle streams make no queries", async () => {
    const api = app();
    const ada = await newCustomer(api, 'ada');
    const id = await order(ada.id);
    const streams = [];
    for (let i = 0; i < 3; i += 1) {
      const s = await openStream(api, id, ada.token);
      await s.events((e) => e.type === 'ORDER_PLACED');
      streams.push(s);
    }
    const before = reads;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(reads - before, 'order_events reads by 3 idle streams in 1.5 s').toBe(0);

    const sent = Date.now();
    const shipped = await insertElsewhere(id, 'SHIPMENT_CREATED');
    for (const s of streams) expect(ids(await s.events((e) => e.id === shipped, 1_000))).toEqual([shipped]);
    expect(Date.now() - sent).toBeLessThan(1_000);
    expect(reads - before, 'one read per stream for one notification').toBe(3);
    for (const s of streams) await s.close();
  });
});

describe('the LISTEN connection recovers', () => {
  it('killed, it reconnects and every stream re-reads once: an event inserted while it was down arrives, exactly once', async () => {
    const api = app();
    const ada = await newCustomer(api, 'ada');
    const id = await order(ada.id);
    const stream = await openStream(api, id, ada.token);
    await stream.events((e) => e.type === 'ORDER_PLACED');
    const { pid } = await connections();
    expect(pid).toBeDefined();
    const before = reads;

    await other.query('SELECT pg_terminate_backend($1)', [pid]);
    const missed = await insertElsewhere(id, 'STOCK_RESERVED'); // nobody listens now
    // the backstop re-read is a minute away: only the reconnect's re-read can deliver it
    expect(ids(await stream.events((e) => e.id === missed, 5_000))).toEqual([missed]);
    const back = await until('a new LISTEN connection', async () => {
      const c = await connections();
      return c.listening === 1 && c.pid !== pid ? c : undefined;
    }, 5_000, 50);
    expect(back.listening).toBe(1);
    const charged = await insertElsewhere(id, 'PAYMENT_CHARGED');
    expect(ids(await stream.events((e) => e.id === charged, 1_000))).toEqual([charged]);
    await new Promise((r) => setTimeout(r, 1_000)); // and nothing more while idle
    expect(reads - before, 'one read on the reconnect, one for the notification: no polling').toBe(2);
    await stream.close();
  });

  it('a database that is not there at start is waited for; close() ends the open streams and the LISTEN connection', async () => {
    const name = `streams_late_${randomBytes(4).toString('hex')}`;
    const lateUrl = new URL(backend.url);
    lateUrl.pathname = `/${name}`;
    const late = listenForOrderEvents({ databaseUrl: lateUrl.toString(), log: quiet, backoff: { initialMs: 100, maxMs: 400 } });
    let lateDb: Db | undefined;
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect(late.listening).toBe(false);
      await ensureDatabase(inject('pgAdminUrl'), name);
      await applyMigrations(lateUrl.toString());
      await until('the LISTEN connection to the new database', async () => late.listening, 5_000, 50);

      lateDb = createDb(lateUrl.toString(), { poolSize: 2 });
      const api = apiClient(testApp({ db: lateDb, temporal: backend.temporal, orderEvents: late.feed, eventRereadMs: 60_000, eventHeartbeatMs: 60_000 }));
      const ada = await newCustomer(api, 'ada');
      const id = randomUUID();
      await lateDb.order.create({
        data: {
          id, customerId: ada.id, workflowId: `order-${id}`, status: 'PENDING', currency: 'USD', totalAmount: 0,
          shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' },
        },
      });
      const stream = await openStream(api, id, ada.token);
      const row = await lateDb.orderEvent.create({ data: { orderId: id, key: 'late', type: 'ORDER_PLACED', status: 'PENDING', occurredAt: new Date() } });
      expect(ids(await stream.events((e) => e.id === String(row.id), 1_000))).toEqual([String(row.id)]);

      await late.close();
      expect(await stream.events(() => false, 2_000)).toEqual({ events: [], ended: true, end: undefined });
      await until('the LISTEN connection gone', async () => {
        const { rows } = await other.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`, [name, LISTENER_APP]);
        return rows[0].n === 0;
      }, 2_000, 50);
      expect(late.listening).toBe(false);
    } finally {
      await late.close();
      await lateDb?.$disconnect();
    }
  });
});

describe('the API process', () => {
  it('one LISTEN connection whatever the number of streams: 20 streams add no connection to one; the 21st is refused; SIGTERM ends them and closes it', async () => {
    const { db: unused, url: apiUrl } = await freshDatabase('streams_api');
    await unused.$disconnect();
    const name = new URL(apiUrl).pathname.slice(1);
    // the test's own connections to that database are named, to be told apart from the API's
    const ours = `${apiUrl}?application_name=${TEST_SIDE}`;
    const apiDb = createDb(ours, { poolSize: 2 });
    const writer = new pg.Client({ connectionString: ours });
    await writer.connect();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(ADMIN_|EVENT_STREAM|DB_POOL|LOG_)/.test(k)));
    const proc = spawn(process.execPath, ['--import', 'tsx', 'api/server.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...env, DATABASE_URL: apiUrl, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, HOST: '127.0.0.1', PORT: String(port), DB_POOL_SIZE: '1',
        LOG_LEVEL: 'warn', LOG_FORMAT: 'json', JWT_SECRET: randomBytes(32).toString('base64url'), CARRIER_WEBHOOK_SECRET: randomBytes(32).toString('base64url'),
      },
    });
    let output = '';
    proc.stdout.on('data', (d) => (output += d));
    proc.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const streams: ReturnType<typeof sseReader>[] = [];
    try {
      await until('the API process listening on HTTP', async () => (await fetch(`${base}/health/live`).catch(() => undefined))?.ok, 30_000, 100);
      expect((await until('its LISTEN connection', async () => ((await connections(name)).listening === 1 ? true : undefined), 10_000, 100).catch(() => false)), `one LISTEN connection to ${name}; output: ${output}`).toBe(true);

      const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const customers: { id: string; token: string }[] = [];
      for (let i = 0; i < 4; i += 1) {
        const email = `streamer-${i}-${Date.now()}@example.com`;
        const reg = await post('/api/v1/users/register', { email, password: 'correct horse battery' });
        expect(reg.status).toBe(201);
        const login = await post('/api/v1/users/login', { email, password: 'correct horse battery' });
        expect(login.status).toBe(200);
        customers.push({ id: ((await reg.json()) as { id: string }).id, token: ((await login.json()) as { accessToken: string }).accessToken });
      }
      const orders: string[] = [];
      for (const c of customers) orders.push(await order(c.id, apiDb));
      let withOne = { total: 0, listening: 0 };
      const get = (orderId: string, token: string) => fetch(`${base}/api/v1/orders/${orderId}/events`, { headers: { authorization: `Bearer ${token}` } });
      for (let i = 0; i < 4; i += 1) {
        for (let k = 0; k < 5; k += 1) {
          const res = await get(orders[i], customers[i].token);
          expect(res.status).toBe(200);
          const s = sseReader(res);
          streams.push(s);
          await s.events((e) => e.type === 'ORDER_PLACED');
          if (streams.length === 1) withOne = await connections(name);
        }
      }
      const refused = await get(orders[0], customers[0].token);
      if (refused.status !== 429) await refused.body?.cancel();
      expect({ status: refused.status, retryAfter: Number(refused.headers.get('retry-after')) > 0 }).toEqual({ status: 429, retryAfter: true });
      expect(((await refused.json()) as { code: string }).code).toBe('RATE_LIMITED');

      // every stream reads at once
      const shipped: string[] = [];
      for (const o of orders) shipped.push(await insertElsewhere(o, 'SHIPMENT_CREATED', null, writer));
      await Promise.all(streams.map(async (s, n) => expect(ids(await s.events((e) => e.id === shipped[Math.floor(n / 5)], 5_000))).toEqual([shipped[Math.floor(n / 5)]])));
      const withTwenty = await connections(name);
      expect(withTwenty.listening).toBe(1);
      // a Prisma pool of one: every stream shares it, and 20 streams reading at once open nothing more
      expect(withOne.listening).toBe(1);
      expect(withTwenty.total, `connections of the API process with 20 streams (with one: ${withOne.total})`).toBeLessThanOrEqual(withOne.total);

      // shutdown: the streams end at once (not after the 3 s drain), the process exits 0, its connections are gone
      const stopping = Date.now();
      proc.kill('SIGTERM');
      for (const s of streams) expect((await s.events(() => false, 5_000)).ended).toBe(true);
      expect(await exited, output).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(3_000);
      await until('no connection of the API process left', async () => (await connections(name)).total === 0, 5_000, 50);
    } finally {
      for (const s of streams) await s.close();
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await writer.end();
      await apiDb.$disconnect();
    }
  });
});
