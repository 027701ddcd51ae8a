/**
 * The production-like mode end to end (`npm run start:prod-like`, booted on
 * free ports in a temp dir): a real Temporal server v1.29.1 built from Go
 * modules, its persistence and visibility on PostgreSQL with the schema set up
 * by temporal-sql-tool, the namespace and search attributes registered by
 * temporal-config/setup-namespace.sh, two worker processes per task queue, the
 * Web UI server, the HTTP API. Driven over HTTP and with the `temporal` CLI.
 */
import { execFile } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb, type Db } from '../../prisma/client';
import { startProdLikeStack, type ProdLikeStack } from '../../scripts/prod-like/stack';
import { ensureTemporalServer } from '../../scripts/tools/provision';
import { SETUP_NAMESPACE_SCRIPT } from '../../temporal-config/namespace';
import { assertBooksBalance, initialStock } from '../support/books';
import { prodLikeTestOptions } from '../support/prod-like-options';
import { until } from '../support/until';
import { boundedContexts, searchAttributeDefinitions } from '../../temporal-config/place-order';

const exec = promisify(execFile);
const WORKERS_PER_QUEUE = 2;
let stack: ProdLikeStack;
let db: Db;
let dir: string;
let initial: Record<string, number>;
let customer: { id: string; token: string };
const timings: Record<string, number> = {};

beforeAll(async () => {
  // The first run on a machine builds the server from Go modules (minutes when
  // Go's build cache is cold); every later run finds it in .tools/.
  let t = Date.now();
  await ensureTemporalServer((m) => console.log(`[prod-like test] ${m}`));
  timings.provision = (Date.now() - t) / 1000;

  const prepared = await prodLikeTestOptions('orders-prod-like-');
  dir = prepared.dir;
  const log = createWriteStream(path.join(dir, 'stack.log'));
  t = Date.now();
  stack = await startProdLikeStack({
    ...prepared.options,
    workersPerQueue: WORKERS_PER_QUEUE,
    temporalCli: inject('temporalCli'),
    log: (m) => log.write(`[prod-like] ${m}\n`),
    output: (name, line) => log.write(`${name} | ${line}\n`),
    // a long enough warehouse window to cancel in, short enough to see SHIPPED
    env: { CHECKOUT_WAIT_MS: '30000', LOG_LEVEL: 'warn', FULFILMENT_HANDLING_MS: '10000', DB_POOL_SIZE: '4' },
  });
  timings.boot = (Date.now() - t) / 1000;
  console.log(`prod-like stack up in ${timings.boot}s (${JSON.stringify(stack.timings)}); its log: ${path.join(dir, 'stack.log')}`);
  db = createDb(stack.databaseUrl, { poolSize: 2 });
  initial = await initialStock(db);
  customer = await registerAndLogin('prod-like@example.com', 'correct horse battery');
}, 1_800_000);

afterAll(async () => {
  await db?.$disconnect();
  const t = Date.now();
  await stack?.stop();
  console.log(`prod-like timings (s): ${JSON.stringify({ ...timings, stop: (Date.now() - t) / 1000 })}`);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const temporal = async (...args: string[]) => {
  const { stdout } = await exec(stack.temporalCli, [...args, '--address', stack.temporalAddress]);
  return stdout;
};

async function sql<T extends pg.QueryResultRow>(database: string, text: string, values: unknown[] = []): Promise<T[]> {
  const url = new URL(stack.postgresAdminUrl);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const address = { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London', postalCode: 'N1 1AA', country: 'GB' };
async function registerAndLogin(email: string, password: string): Promise<{ id: string; token: string }> {
  const post = (p: string) =>
    fetch(`${stack.apiUrl}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  const registered = (await (await post('/api/v1/users/register')).json()) as { id: string };
  const login = (await (await post('/api/v1/users/login')).json()) as { accessToken: string };
  return { id: registered.id, token: login.accessToken };
}

async function placeOrder(productId: string, quantity = 1): Promise<{ orderId: string; workflowId: string; total: { amount: number } }> {
  const res = await fetch(`${stack.apiUrl}/api/v1/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${customer.token}` },
    body: JSON.stringify({ shippingAddress: address, paymentMethod: { token: 'tok_visa' }, items: [{ productId, quantity }] }),
  });
  const body = (await res.json()) as { orderId: string; status: string; total: { amount: number } };
  expect(res.status, JSON.stringify(body)).toBe(201);
  expect(body.status).toBe('CONFIRMED');
  return { ...body, workflowId: `order-${body.orderId}` };
}

const statusInDb = (orderId: string, status: string, timeoutMs?: number) =>
  until(`order ${orderId} ${status} in PostgreSQL`, async () => (await db.order.findUniqueOrThrow({ where: { id: orderId } })).status === status, timeoutMs);

describe('production-like mode: a real Temporal server on PostgreSQL', () => {
  it('is the real server (not the dev server) with its stores and search attributes on PostgreSQL', async () => {
    const cluster = JSON.parse(await temporal('operator', 'cluster', 'describe', '-o', 'json'));
    // the CLI's dev server reports sqlite here and runs 1 shard
    expect(cluster).toMatchObject({ serverVersion: '1.29.1', persistenceStore: 'postgres12', visibilityStore: 'postgres12', historyShardCount: 4 });

    // temporal-sql-tool set the schema up at its newest version, in two databases owned by the temporal role
    const versions = await sql<{ curr_version: string }>('temporal', 'SELECT curr_version FROM schema_version');
    const visibility = await sql<{ curr_version: string }>('temporal_visibility', 'SELECT curr_version FROM schema_version');
    expect(versions[0].curr_version).toBe(newest('temporal'));
    expect(visibility[0].curr_version).toBe(newest('visibility'));
    const owners = await sql<{ datname: string; owner: string }>(
      'postgres',
      `SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname IN ('temporal', 'temporal_visibility') ORDER BY datname`,
    );
    expect(owners).toEqual([{ datname: 'temporal', owner: 'temporal' }, { datname: 'temporal_visibility', owner: 'temporal' }]);
    const shards = await sql<{ n: string }>('temporal', 'SELECT count(*) AS n FROM shards');
    expect(Number(shards[0].n)).toBe(4);

    // namespace + custom search attributes (SQL visibility maps them onto its KeywordNN columns)
    const ns = JSON.parse(await temporal('operator', 'namespace', 'describe', '--namespace', 'default', '-o', 'json'));
    expect(Object.values(ns.config.customSearchAttributeAliases).sort()).toEqual(searchAttributeDefinitions.map(([name]) => name).sort());
    // the script's own default list (used by docker compose / operators) is the app's list
    const defaults = /set -- ([^\n]+)/.exec(readFileSync(SETUP_NAMESPACE_SCRIPT, 'utf8'))![1].trim().split(/\s+/);
    expect(defaults.sort()).toEqual(searchAttributeDefinitions.map(([n, t]) => `${n}=${t}`).sort());

    // its Prometheus endpoint, a production server's usual companion
    expect((await fetch(`http://127.0.0.1:${stack.ports.metrics}/metrics`)).status).toBe(200);
  });

  it('an order placed over HTTP is CONFIRMED in PostgreSQL and found through visibility by OrderStatus and CustomerId, in the CLI and the Web UI', async () => {
    const { orderId, workflowId } = await placeOrder('prod_mug', 2);
    expect((await db.order.findUniqueOrThrow({ where: { id: orderId } })).status).toBe('CONFIRMED');

    const described = JSON.parse(await temporal('workflow', 'describe', '--workflow-id', workflowId, '-o', 'json'));
    expect(described.workflowExecutionInfo).toMatchObject({ status: 'WORKFLOW_EXECUTION_STATUS_RUNNING', taskQueue: 'orders' });

    const query = `CustomerId="${customer.id}" AND OrderStatus IN ("CONFIRMED", "PROCESSING", "SHIPPED")`;
    const listed = await until('the order in visibility', async () => {
      const out = await temporal('workflow', 'list', '--query', query, '-o', 'json');
      return out.includes(workflowId) ? out : undefined;
    });
    expect(listed).toContain(workflowId);
    // ...and that record lives in PostgreSQL
    const rows = await sql<{ workflow_id: string; search_attributes: Record<string, unknown> }>(
      'temporal_visibility',
      'SELECT workflow_id, search_attributes FROM executions_visibility WHERE workflow_id = $1',
      [workflowId],
    );
    expect(rows).toHaveLength(1);
    expect(Object.values(rows[0].search_attributes)).toContain(customer.id);

    const ui = await fetch(`${stack.uiUrl}/api/v1/namespaces/default/workflows?query=${encodeURIComponent(`WorkflowId="${workflowId}"`)}`);
    expect(ui.status).toBe(200);
    const uiBody = (await ui.json()) as { executions: { execution: { workflowId: string } }[] };
    expect(uiBody.executions.map((e) => e.execution.workflowId)).toEqual([workflowId]);
    expect((await fetch(`${stack.uiUrl}/`)).status).toBe(200);
  });

  it('`temporal workflow signal --name cancelOrder` during fulfilment voids the authorisation and restores the stock', async () => {
    const before = await db.stock.findUniqueOrThrow({ where: { productId: 'prod_hoodie' } });
    const { orderId, workflowId, total } = await placeOrder('prod_hoodie');
    await statusInDb(orderId, 'PROCESSING'); // authorised, in the warehouse window: nothing captured yet

    await temporal('workflow', 'signal', '--workflow-id', workflowId, '--name', 'cancelOrder', '--input', '"changed my mind"');

    await statusInDb(orderId, 'CANCELLED');
    expect((await db.order.findUniqueOrThrow({ where: { id: orderId } })).cancelReason).toBe('changed my mind');
    const ledger = await db.gatewayTransaction.findMany({ where: { idempotencyKey: { startsWith: workflowId } } });
    expect(ledger.map((t) => [t.kind, t.amount]).sort()).toEqual([['AUTHORISATION', total.amount], ['VOID', total.amount]]);
    expect(await db.payment.count({ where: { orderId, kind: { in: ['CAPTURE', 'REFUND'] } } })).toBe(0);
    expect(await db.stock.findUniqueOrThrow({ where: { productId: 'prod_hoodie' } })).toMatchObject({ available: before.available, reserved: before.reserved, sold: before.sold });
    const listed = await until('CANCELLED in visibility', async () => {
      const out = await temporal('workflow', 'list', '--query', `WorkflowId="${workflowId}" AND OrderStatus="CANCELLED"`, '-o', 'json');
      return out.includes(workflowId) ? out : undefined;
    });
    expect(listed).toContain(workflowId);
  });

  it(`runs ${WORKERS_PER_QUEUE} worker processes per task queue, and more than one of them does the work`, async () => {
    // every queue has two distinct pollers (identity = pid@host, one per process)
    const workerPids = new Set([...stack.workerProcesses.values()].flat().map((p) => p.pid));
    expect(workerPids.size).toBe(boundedContexts.length * WORKERS_PER_QUEUE);
    for (const queue of boundedContexts) {
      const described = JSON.parse(await temporal('task-queue', 'describe', '--task-queue', queue, '-o', 'json'));
      const pollers = new Set<string>(described.pollers.filter((p: { taskQueueType: string }) => p.taskQueueType === 'activity').map((p: { identity: string }) => p.identity));
      expect(pollers.size, `${queue} pollers: ${[...pollers].join(', ')}`).toBeGreaterThanOrEqual(WORKERS_PER_QUEUE);
      for (const identity of pollers) expect(workerPids).toContain(Number(identity.split('@')[0]));
    }

    // a few orders at once: which process ran each activity is in the history
    const orders = await Promise.all(['prod_tshirt', 'prod_lamp', 'prod_backpack', 'prod_mug'].map((p) => placeOrder(p)));
    const ranBy = new Map<string, Set<string>>(); // task queue → worker identities
    for (const { workflowId } of orders) {
      const history = JSON.parse(await temporal('workflow', 'show', '--workflow-id', workflowId, '-o', 'json')) as {
        events: { eventId: string; activityTaskScheduledEventAttributes?: { taskQueue: { name: string } }; activityTaskStartedEventAttributes?: { scheduledEventId: string; identity: string } }[];
      };
      const queueOf = new Map(history.events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [e.eventId, e.activityTaskScheduledEventAttributes!.taskQueue.name]));
      for (const e of history.events) {
        const started = e.activityTaskStartedEventAttributes;
        if (!started) continue;
        const queue = queueOf.get(started.scheduledEventId)!;
        if (!ranBy.has(queue)) ranBy.set(queue, new Set());
        ranBy.get(queue)!.add(started.identity);
      }
    }
    const summary = Object.fromEntries([...ranBy].map(([q, ids]) => [q, [...ids]]));
    console.log(`activity tasks by worker process: ${JSON.stringify(summary)}`);
    expect([...ranBy.values()].some((ids) => ids.size >= 2), JSON.stringify(summary)).toBe(true);
    for (const ids of ranBy.values()) for (const identity of ids) expect(workerPids).toContain(Number(identity.split('@')[0]));
  });

  it('survives a restart of the Temporal server mid-order: schema and namespace setup are no-ops, the order ships', async () => {
    const { orderId, workflowId, total } = await placeOrder('prod_lamp');
    await statusInDb(orderId, 'PROCESSING'); // its warehouse timer is running in Temporal

    const restarted = await stack.restartTemporal();
    expect(restarted).toEqual({ schema: { temporal: newest('temporal'), visibility: newest('visibility') }, namespaceCreated: false });

    await statusInDb(orderId, 'SHIPPED', 60_000);
    const q = JSON.parse(await temporal('workflow', 'query', '--workflow-id', workflowId, '--name', 'getStatus', '-o', 'json')).queryResult[0];
    expect(q.status).toBe('SHIPPED');
    // its share captured once at hand-over, after the restart
    expect(await db.payment.findMany({ where: { orderId, kind: 'CAPTURE' }, select: { status: true, amount: true } })).toEqual([{ status: 'SUCCEEDED', amount: total.amount }]);
  });

  it('health says ready, and the books balance after everything above', async () => {
    const ready = await fetch(`${stack.apiUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', temporal: 'ok' } });
    expect(await assertBooksBalance(db, initial)).toEqual([]);
  });
});

const newest = (kind: 'temporal' | 'visibility') => newestVersion(path.join(stack.tools.postgresSchemaDir, kind, 'versioned'));

/** the newest `vX.Y` directory name of a versioned schema dir, as temporal-sql-tool writes it ("X.Y") */
function newestVersion(dir: string): string {
  const names = readdirSync(dir).filter((n) => /^v\d+\.\d+$/.test(n));
  const parse = (n: string) => n.slice(1).split('.').map(Number) as [number, number];
  names.sort((a, b) => parse(a)[0] - parse(b)[0] || parse(a)[1] - parse(b)[1]);
  return names[names.length - 1].slice(1);
}
