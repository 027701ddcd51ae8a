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
import { carrierSignatureHeaders } from '../../../api/carrier-signature';
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

/** Kept statuses: the order was confirmed and its payment stands (authorised, or captured as its parcels leave). */
export const CONFIRMED_STATES = ['CONFIRMED', 'PROCESSING', 'PARTIALLY_SHIPPED', 'SHIPPED', 'DELIVERED', 'DELIVERY_OVERDUE'];
/**
 * Confirmed, and past what follows the confirmation at once: a CONFIRMED order (confirmed as soon as its
 * payment is secured) still commits its stock (reserved → sold) and plans its shipments, then is PROCESSING.
 */
export const FULFILLING_STATES = CONFIRMED_STATES.filter((s) => s !== 'CONFIRMED');
/** Where the saga has nothing left to do until a person or a carrier acts. */
export const SETTLED_STATES = [...FULFILLING_STATES, 'CANCELLED', 'FAILED', 'RETURNED', 'PARTIALLY_RETURNED'];

export const address = { name: 'Grace Hopper', line1: '1 Compiler Way', city: 'Arlington', postalCode: '22201', country: 'US' };

export interface FaultStack {
  stack: Stack;
  db: Db;
  /** GET/POST/... against the real API over HTTP */
  api<T = any>(method: string, route: string, opts?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<Reply<T>>;
  customers(n: number): Promise<Customer[]>;
  /** a product of its own for one scenario, with `units` in stock, shipped from `warehouse` (default main) */
  product(units: number, priceAmount?: number, warehouse?: string): Promise<string>;
  /** a bearer token of an operator (an ADMIN account made for the suite) */
  admin(): Promise<string>;
  /** a carrier event (delivered, return_received) for a parcel, signed now with the stack's key */
  carrier(trackingNumber: string, event: 'delivered' | 'return_received'): Promise<Reply>;
  /** POST /api/v1/orders for one customer */
  order(customer: Customer, items: { productId: string; quantity: number }[], extra?: Record<string, unknown>): Promise<Reply>;
  /** waits until every order is in a state `done` accepts (default: settled), or fails naming the stuck ones */
  settle(orderIds: string[], timeoutMs: number, done?: (status: string) => boolean): Promise<void>;
  /** prints the scenario's one line and returns every violated invariant */
  report(scenario: string, orderIds: string[], startedAt: number): Promise<string[]>;
  stop(): Promise<void>;
}

type SucceededPayment = Awaited<ReturnType<Db['payment']['findMany']>>[number];

/**
 * Money moved twice for one thing (keys are unique, but a retry under a new
 * key would not be): more than one successful charge or legacy refund per
 * order, capture per shipment (reference = its tracking number), or refund per
 * return and capture (reference = the return id, parent = the capture's key).
 */
function movedTwice(payments: readonly SucceededPayment[]): string[] {
  const seen = new Map<string, number>();
  for (const p of payments) {
    const what = movedFor(p);
    if (what) seen.set(what, (seen.get(what) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([what, n]) => `${what} succeeded ${n} times`);
}

/** What one successful payment row moved money for, where that may happen once only (none for authorisations and voids). */
function movedFor(p: SucceededPayment): string | undefined {
  switch (p.kind) {
    case 'CHARGE':
      return `${p.orderId}: charge`;
    case 'CAPTURE':
      return `${p.orderId}: capture of ${p.reference}`;
    case 'REFUND':
      return p.parentKey ? `${p.orderId}: refund of return ${p.reference} from ${p.parentKey}` : `${p.orderId}: refund of the charge`;
    default:
      return undefined;
  }
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
  let adminToken: Promise<string> | undefined;

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
    async product(units, priceAmount = 1000, warehouse = 'main') {
      const id = `prod_fault_${randomUUID().slice(0, 8)}`;
      await db.product.create({ data: { id, sku: id.toUpperCase(), name: `Fault test ${id}`, category: 'test', priceAmount, currency: 'USD', warehouse, stock: { create: { available: units } } } });
      initial[id] = units;
      return id;
    },
    admin() {
      adminToken ??= (async () => {
        const id = randomUUID();
        await db.user.create({ data: { id, email: `admin-${id.slice(0, 8)}@faults.test`, passwordHash: 'unused', role: 'ADMIN' } });
        return (await tokens.issue({ id, role: 'ADMIN' })).accessToken;
      })();
      return adminToken;
    },
    carrier(trackingNumber, event) {
      const raw = JSON.stringify({ trackingNumber, event });
      return api('POST', '/api/v1/webhooks/carrier', { raw, headers: { 'content-type': 'application/json', ...carrierSignatureHeaders(stack.secrets.CARRIER_WEBHOOK_SECRET, raw) } });
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
      const ledger = await db.gatewayTransaction.findMany({ where: { OR: orders.map((o) => ({ idempotencyKey: { startsWith: `${o.workflowId}:` } })) } });
      const payments = await db.payment.findMany({ where: { orderId: { in: orderIds }, status: 'SUCCEEDED' } });
      const count = (states: string[]) => orders.filter((o) => states.includes(o.status)).length;
      const problems = await assertBooksBalance(db, initial);
      if (orders.length !== new Set(orderIds).size) problems.push(`${new Set(orderIds).size} orders placed, ${orders.length} in the database`);
      for (const o of orders) if (!SETTLED_STATES.includes(o.status)) problems.push(`${o.id}: stuck in ${o.status}`);
      problems.push(...movedTwice(payments));
      const kinds = (kind: string) => ledger.filter((t) => t.kind === kind && t.amount > 0).length;
      const line = [
        `scenario=${scenario}`,
        `orders=${orders.length}`,
        `confirmed=${count(CONFIRMED_STATES)}`,
        `rejected=${count(['FAILED'])}`,
        `cancelled=${count(['CANCELLED'])}`,
        `returned=${count(['RETURNED', 'PARTIALLY_RETURNED'])}`,
        `authorisations=${kinds('AUTHORISATION')}`,
        `captures=${kinds('CAPTURE')}`,
        `voids=${kinds('VOID')}`,
        `charges=${kinds('CHARGE')}`,
        `refunds=${kinds('REFUND')}`,
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
