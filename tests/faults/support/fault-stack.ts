/**
 * The fault suite's stack: everything `npm start` runs (embedded PostgreSQL,
 * the Temporal CLI dev server with a persistent history file, one worker
 * process per context, the HTTP API), on free ports in a temporary folder,
 * plus what a scenario needs to break it and then check the books.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTokens } from '../../../api/auth/tokens';
import { createDb, type Db } from '../../../prisma/client';
import { startStack, type Stack } from '../../../scripts/stack';
import { assertBooksBalance, initialStock } from '../../support/books';
import { testStackConfig } from '../../support/stack-config';

export { until } from '../../support/until';

export interface Customer {
  id: string;
  token: string;
}

export interface Reply<T = any> {
  status: number;
  body: T;
}

/** Kept statuses: the order was confirmed and its charge stands. */
export const CONFIRMED_STATES = ['CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'DELIVERY_OVERDUE'];
/** Where the saga has nothing left to do until a person or a carrier acts. */
export const SETTLED_STATES = [...CONFIRMED_STATES, 'CANCELLED', 'FAILED', 'RETURNED'];

export const address = { name: 'Grace Hopper', line1: '1 Compiler Way', city: 'Arlington', postalCode: '22201', country: 'US' };

export interface FaultStack {
  stack: Stack;
  db: Db;
  /** GET/POST/... against the real API over HTTP */
  api<T = any>(method: string, route: string, opts?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<Reply<T>>;
  customers(n: number): Promise<Customer[]>;
  /** a product of its own for one scenario, with `units` in stock */
  product(units: number, priceAmount?: number): Promise<string>;
  /** POST /api/v1/orders for one customer */
  order(customer: Customer, items: { productId: string; quantity: number }[], extra?: Record<string, unknown>): Promise<Reply>;
  /** waits until every order is in a state `done` accepts (default: settled), or fails naming the stuck ones */
  settle(orderIds: string[], timeoutMs: number, done?: (status: string) => boolean): Promise<void>;
  /** prints the scenario's one line and returns every violated invariant */
  report(scenario: string, orderIds: string[], startedAt: number): Promise<string[]>;
  stop(): Promise<void>;
}

/** The worker entry with the fault hooks, for this suite's stacks and the end-to-end crash test. */
export const FAULT_WORKER = 'tests/faults/support/fault-worker.ts';

export async function bootFaultStack(name: string, env: NodeJS.ProcessEnv = {}): Promise<FaultStack> {
  const { dir, config } = await testStackConfig(`orders-faults-${name}-`);
  // outside the stack's folder, so it outlives the run for whoever reads a failure
  const logFile = path.join(os.tmpdir(), `orders-faults-${name}.log`);
  const log = createWriteStream(logFile);
  const stack = await startStack({
    config,
    // workers with the fault hooks (FAULT_*, PAYMENT_FAULT), set per restart by the scenarios
    entries: { worker: FAULT_WORKER },
    log: (m) => log.write(`[stack] ${m}\n`),
    output: (who, line) => log.write(`${who} | ${line}\n`),
    env: {
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '0', // one test client plays hundreds of customers
      // and the login/register throttles: one address registers them all and guesses on purpose
      REGISTER_LIMIT_PER_IP: '0',
      LOGIN_LIMIT_PER_IP: '0',
      LOGIN_LIMIT_PER_ACCOUNT: '0',
      CHECKOUT_WAIT_MS: '60000', // answers are final outcomes, not 202s
      ...env,
    },
  });
  console.log(`[faults:${name}] stack up; its log: ${logFile}`);
  const db = createDb(stack.databaseUrl, { poolSize: 4 });
  const initial = await initialStock(db);
  const tokens = createTokens({ secret: stack.secrets.JWT_SECRET, ttlSeconds: 3600 });
  let customerSeq = 0;

  const api: FaultStack['api'] = async (method, route, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${stack.apiUrl}${route}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: the text is the body
    }
    return { status: res.status, body: parsed as never };
  };

  return {
    stack,
    db,
    api,
    async customers(n) {
      // Accounts straight in the database, tokens signed with the API's key:
      // hundreds of argon2 hashes would test the password hasher, not the saga.
      const rows = Array.from({ length: n }, () => ({ id: randomUUID(), email: `c${++customerSeq}-${randomUUID().slice(0, 8)}@faults.test`, passwordHash: 'unused' }));
      await db.user.createMany({ data: rows });
      return Promise.all(rows.map(async (r) => ({ id: r.id, token: (await tokens.issue({ id: r.id, role: 'CUSTOMER' })).accessToken })));
    },
    async product(units, priceAmount = 1000) {
      const id = `prod_fault_${randomUUID().slice(0, 8)}`;
      await db.product.create({ data: { id, sku: id.toUpperCase(), name: `Fault test ${id}`, category: 'test', priceAmount, currency: 'USD', stock: { create: { available: units } } } });
      initial[id] = units;
      return id;
    },
    order: (customer, items, extra = {}) =>
      api('POST', '/api/v1/orders', { token: customer.token, body: { items, shippingAddress: address, paymentMethod: { token: 'tok_visa' }, ...extra } }),
    async settle(orderIds, timeoutMs, done = (s) => SETTLED_STATES.includes(s)) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const rows = await db.order.findMany({ where: { id: { in: orderIds } }, select: { id: true, status: true } });
        const waiting = orderIds.filter((id) => !rows.some((r) => r.id === id && done(r.status)));
        if (!waiting.length) return;
        if (Date.now() > deadline) {
          const states = waiting.slice(0, 10).map((id) => `${id}=${rows.find((r) => r.id === id)?.status ?? 'missing'}`);
          throw new Error(`${waiting.length} of ${orderIds.length} orders not settled after ${timeoutMs} ms: ${states.join(', ')}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async report(scenario, orderIds, startedAt) {
      const orders = await db.order.findMany({ where: { id: { in: orderIds } }, select: { id: true, workflowId: true, status: true } });
      const keys = orders.flatMap((o) => [`${o.workflowId}:charge`, `${o.workflowId}:refund`, `${o.workflowId}:return-refund`]);
      const ledger = await db.gatewayTransaction.findMany({ where: { idempotencyKey: { in: keys } } });
      const payments = await db.payment.groupBy({ by: ['orderId'], where: { orderId: { in: orderIds }, kind: 'CHARGE', status: 'SUCCEEDED' }, _count: { _all: true } });
      const count = (states: string[]) => orders.filter((o) => states.includes(o.status)).length;
      const problems = await assertBooksBalance(db, initial);
      if (orders.length !== new Set(orderIds).size) problems.push(`${new Set(orderIds).size} orders placed, ${orders.length} in the database`);
      for (const o of orders) if (!SETTLED_STATES.includes(o.status)) problems.push(`${o.id}: stuck in ${o.status}`);
      for (const p of payments) if (p._count._all > 1) problems.push(`${p.orderId}: ${p._count._all} successful charges`);
      const line = [
        `scenario=${scenario}`,
        `orders=${orders.length}`,
        `confirmed=${count(CONFIRMED_STATES)}`,
        `rejected=${count(['FAILED'])}`,
        `cancelled=${count(['CANCELLED'])}`,
        `charges=${ledger.filter((t) => t.kind === 'CHARGE').length}`,
        `refunds=${ledger.filter((t) => t.kind === 'REFUND').length}`,
        `invariants=${problems.length ? `violated(${problems.length})` : 'ok'}`,
        `duration=${((Date.now() - startedAt) / 1000).toFixed(1)}s`,
      ].join(' ');
      console.log(line);
      if (problems.length) console.log(problems.slice(0, 20).map((p) => `  violated: ${p}`).join('\n'));
      return problems;
    },
    async stop() {
      await db.$disconnect();
      await stack.stop();
      log.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
