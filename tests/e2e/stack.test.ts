/**
 * End to end, as a user runs it: the whole stack `npm start` boots (embedded
 * PostgreSQL, Temporal CLI dev server with Web UI, one worker process per
 * context, HTTP API) on free ports, driven over HTTP and with the real
 * `temporal` CLI.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carrierSignatureHeaders } from '../../api/carrier-signature';
import type { Db } from '../../prisma/client';
import type { Stack } from '../../scripts/stack';
import { assertBooksBalance, initialStock } from '../support/books';
import { registerAndLogin, startE2eStack, type E2eStack } from '../support/e2e-stack';
import { sseReader } from '../api/support/sse';
import { until } from '../support/until';
import { FAULT_WORKER } from '../faults/support/fault-stack';
import { authorisationKey } from '../../temporal-config/place-order';

const exec = promisify(execFile);
let stack: Stack;
let db: Db;
let e2e: E2eStack;
let initial: Record<string, number>;
/** the customer every order below belongs to: the subject of their access token */
let customer: { id: string; token: string };
/** the operator the API makes at start (ADMIN_EMAIL / ADMIN_PASSWORD): records returns as received */
const ADMIN = { email: 'warehouse@example.com', password: 'warehouse password 1' };

beforeAll(async () => {
  e2e = await startE2eStack('orders-e2e-', { CHECKOUT_WAIT_MS: '30000', LOG_LEVEL: 'warn', FULFILMENT_HANDLING_MS: '1500', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password }, { worker: FAULT_WORKER });
  ({ stack, db } = e2e);
  initial = await initialStock(db);
  customer = await registerAndLogin(stack.apiUrl, 'e2e@example.com', 'correct horse battery');
});

afterAll(async () => {
  await e2e?.stop();
});

const temporal = async (...args: string[]) => {
  const { stdout } = await exec(stack.temporalCli!, [...args, '--address', stack.temporalAddress]);
  return stdout;
};

const address = { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London', postalCode: 'N1 1AA', country: 'GB' };
const placeOrder = (body: Record<string, unknown>) =>
  fetch(`${stack.apiUrl}/api/v1/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${customer.token}` },
    body: JSON.stringify({ shippingAddress: address, paymentMethod: { token: 'tok_visa' }, ...body }),
  });

/** Swaps the payments worker for one started with `env` (e.g. a fault hook). */
async function replacePaymentsWorker(env: NodeJS.ProcessEnv = {}, signal: NodeJS.Signals = 'SIGTERM') {
  const old = stack.workers.get('payments')!;
  const exited = new Promise((r) => old.once('exit', r));
  old.kill(signal);
  await exited;
  stack.startWorker('payments', env);
}

/** the fault worker holds back the gateway's answer to a payment that went through (an authorisation or a capture) */
const HOLD = { FAULT_PAYMENT_HOLD_AFTER_CHARGE_MS: '4000' };

/** An order's money as its customer reads it from the API: totals in minor units. */
async function moneyOf(orderId: string) {
  const res = await fetch(`${stack.apiUrl}/api/v1/orders/${orderId}`, { headers: { authorization: `Bearer ${customer.token}` } });
  expect(res.status).toBe(200);
  const { money } = (await res.json()) as { money: { authorised: number; captured: number; voided: number; refunded: number } };
  return { authorised: money.authorised, captured: money.captured, voided: money.voided, refunded: money.refunded };
}

/** The provider's ledger rows of one workflow, as [kind, amount] pairs in a stable order. */
async function ledgerOf(workflowId: string) {
  const rows = await db.gatewayTransaction.findMany({ where: { idempotencyKey: { startsWith: `${workflowId}:` } } });
  return rows.map((t) => [t.kind, t.amount]).sort();
}

describe('the stack end to end', () => {
  it('an order placed over HTTP is CONFIRMED in PostgreSQL, in Temporal and in the Web UI', async () => {
    const products = (await (await fetch(`${stack.apiUrl}/api/v1/products`)).json()) as { items: { id: string; available: number }[] };
    const mugBefore = products.items.find((p) => p.id === 'prod_mug')!.available;

    const res = await placeOrder({ items: [{ productId: 'prod_mug', quantity: 2 }] });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { orderId: string; status: string; total: { amount: number; currency: string } };
    expect(body).toMatchObject({ status: 'CONFIRMED', total: { amount: 2500, currency: 'USD' } });

    const order = await db.order.findUniqueOrThrow({ where: { id: body.orderId } });
    expect(order.status).toBe('CONFIRMED');
    expect((await db.stock.findUniqueOrThrow({ where: { productId: 'prod_mug' } })).available).toBe(mugBefore - 2);

    const workflowId = `order-${body.orderId}`;
    // the order lives on (fulfilment): the workflow is still running
    const described = JSON.parse(await temporal('workflow', 'describe', '--workflow-id', workflowId, '-o', 'json'));
    expect(described.workflowExecutionInfo.status).toBe('WORKFLOW_EXECUTION_STATUS_RUNNING');
    expect(described.workflowExecutionInfo.taskQueue).toBe('orders');

    const shipped = await until('SHIPPED after the warehouse handling time', async () => {
      const q = JSON.parse(await temporal('workflow', 'query', '--workflow-id', workflowId, '--name', 'getStatus', '-o', 'json')).queryResult[0];
      return q.status === 'SHIPPED' ? q : undefined;
    });
    expect(shipped.completedSteps).toEqual([
      'ORDER_CREATED', 'STOCK_RESERVED', 'PAYMENT_AUTHORISED', 'ORDER_CONFIRMED', 'STOCK_COMMITTED', 'SHIPMENTS_PLANNED', 'HANDED_TO_CARRIER',
    ]);
    expect(shipped.shipments).toMatchObject([{ carrier: 'GlobalPost', status: 'HANDED_TO_CARRIER' }]); // GB address: international carrier
    // authorised at checkout, the shipment's share captured as it was handed over
    expect(await moneyOf(body.orderId)).toEqual({ authorised: 2500, captured: 2500, voided: 0, refunded: 0 });

    const listed = await until('the order in visibility', async () => {
      const out = await temporal('workflow', 'list', '--query', `OrderStatus="SHIPPED" AND CustomerId="${customer.id}"`, '-o', 'json');
      return out.includes(workflowId) ? out : undefined;
    });
    expect(listed).toContain(workflowId);

    // What the Web UI shows is what its own HTTP API answers.
    const ui = await fetch(`${stack.uiUrl}/api/v1/namespaces/default/workflows?query=${encodeURIComponent(`WorkflowId="${workflowId}"`)}`);
    expect(ui.status).toBe(200);
    const uiBody = (await ui.json()) as { executions: { execution: { workflowId: string }; status: string }[] };
    expect(uiBody.executions.map((e) => e.execution.workflowId)).toEqual([workflowId]);
    expect((await fetch(`${stack.uiUrl}/`)).status).toBe(200);
  });

  it('`temporal workflow signal ... cancelOrder` cancels an authorised order: voided, nothing captured or refunded, stock restored', async () => {
    await replacePaymentsWorker(HOLD);
    const orderId = randomUUID();
    const before = await db.stock.findUniqueOrThrow({ where: { productId: 'prod_hoodie' } });
    const pending = placeOrder({ orderId, items: [{ productId: 'prod_hoodie', quantity: 1 }] });
    await until('the authorisation at the provider', () => db.gatewayTransaction.findUnique({ where: { idempotencyKey: authorisationKey(`order-${orderId}`, 0) } }));

    await temporal('workflow', 'signal', '--workflow-id', `order-${orderId}`, '--name', 'cancelOrder', '--input', '"changed my mind"');

    const res = await pending;
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: 'ORDER_CANCELLED', message: 'changed my mind' });
    const order = await until('CANCELLED in the database', async () => {
      const o = await db.order.findUniqueOrThrow({ where: { id: orderId } });
      return o.status === 'CANCELLED' ? o : undefined;
    });
    expect(order.cancelReason).toBe('changed my mind');
    expect(await ledgerOf(`order-${orderId}`)).toEqual([['AUTHORISATION', 4950], ['VOID', 4950]]);
    // the authorisation's answer is still held back by the fault hook: the void settled our row of it, so the
    // books balance as soon as the order reads CANCELLED
    expect(await moneyOf(orderId)).toEqual({ authorised: 4950, captured: 0, voided: 4950, refunded: 0 });
    expect(await db.payment.count({ where: { orderId, kind: { in: ['CAPTURE', 'REFUND', 'CHARGE'] } } })).toBe(0);
    expect(await db.stock.findUniqueOrThrow({ where: { productId: 'prod_hoodie' } })).toMatchObject({ available: before.available, sold: before.sold, reserved: before.reserved });
    await replacePaymentsWorker();
  });

  it('a payments worker killed after the gateway authorised, before it reports: the order completes with exactly one authorisation', async () => {
    await replacePaymentsWorker(HOLD);
    const orderId = randomUUID();
    const pending = placeOrder({ orderId, items: [{ productId: 'prod_tshirt', quantity: 3 }] });
    await until('the authorisation at the provider', () => db.gatewayTransaction.findUnique({ where: { idempotencyKey: authorisationKey(`order-${orderId}`, 0) } }));

    await replacePaymentsWorker({}, 'SIGKILL');

    const res = await pending;
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ orderId, status: 'CONFIRMED', total: { amount: 5997 } });
    const payment = await db.payment.findFirstOrThrow({ where: { orderId, kind: 'AUTHORISATION' } });
    expect(payment).toMatchObject({ status: 'SUCCEEDED', amount: 5997 });
    expect(payment.attempts).toBeGreaterThanOrEqual(2);
    // it ships as usual: its share captured once at hand-over, under that one authorisation
    await until('SHIPPED', async () => (await db.order.findUniqueOrThrow({ where: { id: orderId } })).status === 'SHIPPED');
    expect(await ledgerOf(`order-${orderId}`)).toEqual([['AUTHORISATION', 5997], ['CAPTURE', 5997]]);
    expect(await moneyOf(orderId)).toEqual({ authorised: 5997, captured: 5997, voided: 0, refunded: 0 });
  });

  it('walks SHIPPED → DELIVERED → RETURN_REQUESTED → received, inspected → RETURNED from the command line, watched live on the event stream', async () => {
    const res = await placeOrder({ items: [{ productId: 'prod_backpack', quantity: 1 }] });
    expect(res.status).toBe(201);
    const { orderId } = (await res.json()) as { orderId: string };
    const workflowId = `order-${orderId}`;
    const stream = sseReader(
      await fetch(`${stack.apiUrl}/api/v1/orders/${orderId}/events`, { headers: { authorization: `Bearer ${customer.token}`, accept: 'text/event-stream' } }),
    );
    const statusInDb = (status: string) =>
      until(status, async () => (await db.order.findUniqueOrThrow({ where: { id: orderId } })).status === status);

    await statusInDb('SHIPPED');
    // read once settled: confirmed on the secured payment, the stock is committed (reserved → sold) only after the 201
    const before = await db.stock.findUniqueOrThrow({ where: { productId: 'prod_backpack' } });
    await temporal('workflow', 'signal', '--workflow-id', workflowId, '--name', 'markDelivered');
    await statusInDb('DELIVERED');
    expect(await moneyOf(orderId)).toEqual({ authorised: 8900, captured: 8900, voided: 0, refunded: 0 });
    // no lines named: every delivered unit; it answers once the return (and the order's RETURN_REQUESTED) is in PostgreSQL
    const update = (name: string, input: unknown) =>
      temporal('workflow', 'update', 'execute', '--workflow-id', workflowId, '--name', name, '--input', JSON.stringify(input), '-o', 'json');
    const requested = JSON.stringify(JSON.parse(await update('requestLineReturn', { reason: 'too small', lines: [] })));
    expect(requested).toContain('"status":"REQUESTED"');
    expect(requested).toContain('{"productId":"prod_backpack","quantity":1}');
    const ret = await db.orderReturn.findFirstOrThrow({ where: { orderId } });
    expect(requested).toContain(`"returnId":"${ret.id}"`);
    expect(await db.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({ status: 'RETURN_REQUESTED' });
    // asked for, not back: nothing refunded, nothing restocked
    expect(await ledgerOf(workflowId)).toEqual([['AUTHORISATION', 8900], ['CAPTURE', 8900]]);
    expect(await db.stock.findUniqueOrThrow({ where: { productId: 'prod_backpack' } })).toMatchObject({ available: before.available, returned: before.returned });
    // the warehouse has it back (the only return awaiting its goods) ...
    await temporal('workflow', 'signal', '--workflow-id', workflowId, '--name', 'returnReceived', '--input', '"strap frayed, otherwise fine"');
    await until('the return RECEIVED', async () => (await db.orderReturn.findUniqueOrThrow({ where: { id: ret.id } })).status === 'RECEIVED');
    expect(await ledgerOf(workflowId)).toEqual([['AUTHORISATION', 8900], ['CAPTURE', 8900]]); // received, not yet inspected: no refund
    // ... and inspects it: back on the shelf
    await update('inspectReturn', { returnId: ret.id, lines: [{ productId: 'prod_backpack', quantity: 1, outcome: 'RESTOCK' }] });
    await statusInDb('RETURNED');

    const seen = await stream.events((e) => e.status === 'RETURNED');
    await stream.close();
    expect(seen.events.map((e) => e.status).filter(Boolean)).toEqual(['PENDING', 'CONFIRMED', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'RETURN_REQUESTED', 'RETURNED']);

    expect(await ledgerOf(workflowId)).toEqual([['AUTHORISATION', 8900], ['CAPTURE', 8900], ['REFUND', 8900]]);
    expect(await moneyOf(orderId)).toEqual({ authorised: 8900, captured: 8900, voided: 0, refunded: 8900 });
    expect(await db.orderReturn.findUniqueOrThrow({ where: { id: ret.id } })).toMatchObject({ status: 'REFUNDED', refundAmount: 8900 });
    expect(await db.stock.findUniqueOrThrow({ where: { productId: 'prod_backpack' } })).toMatchObject({
      available: before.available + 1,
      sold: before.sold,
      returned: before.returned + 1,
    });
    const sent = await until('the refund notification', async () => {
      const n = await db.notification.findMany({ where: { orderId, status: 'SENT' } });
      return n.some((x) => x.kind === 'ORDER_REFUNDED') ? n : undefined;
    });
    expect(new Set(sent.map((n) => n.kind))).toEqual(new Set(['ORDER_CONFIRMED', 'ORDER_SHIPPED', 'ORDER_DELIVERED', 'ORDER_REFUNDED']));
  });

  it('delivery through the carrier webhook, a return through the API, received by the warehouse through the admin API', async () => {
    const res = await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 1 }] });
    expect(res.status).toBe(201);
    const lampBefore = await db.stock.findUniqueOrThrow({ where: { productId: 'prod_lamp' } });
    const { orderId } = (await res.json()) as { orderId: string };
    const auth = { authorization: `Bearer ${customer.token}`, 'content-type': 'application/json' };
    const returnIt = () => fetch(`${stack.apiUrl}/api/v1/orders/${orderId}/return`, { method: 'POST', headers: auth, body: '{"reason":"broken"}' });

    const early = await returnIt();
    expect(early.status).toBe(409);
    expect(await early.json()).toMatchObject({ code: 'ORDER_NOT_RETURNABLE' });

    const order = await until('SHIPPED', async () => {
      const o = (await (await fetch(`${stack.apiUrl}/api/v1/orders/${orderId}`, { headers: auth })).json()) as { status: string; shipments: { trackingNumber: string; status: string }[] };
      return o.status === 'SHIPPED' ? o : undefined;
    });
    expect(order.shipments).toMatchObject([{ status: 'HANDED_TO_CARRIER' }]);
    // signed as a carrier signs: HMAC-SHA256 over "<timestamp>.<raw body>" with the stack's key
    const webhook = (key: string, trackingNumber: string) => {
      const body = JSON.stringify({ trackingNumber, event: 'delivered' });
      return fetch(`${stack.apiUrl}/api/v1/webhooks/carrier`, { method: 'POST', headers: { 'content-type': 'application/json', ...carrierSignatureHeaders(key, body) }, body });
    };
    const key = stack.secrets.CARRIER_WEBHOOK_SECRET;
    expect((await webhook('not-the-key-not-the-key-not-the-key', order.shipments[0].trackingNumber)).status).toBe(401);
    expect((await webhook(key, 'ZZ000000000000')).status).toBe(404);
    expect((await webhook(key, order.shipments[0].trackingNumber)).status).toBe(202);
    await until('DELIVERED', async () => (await db.order.findUniqueOrThrow({ where: { id: orderId } })).status === 'DELIVERED');

    const accepted = await returnIt();
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ orderId, accepted: true, status: 'RETURN_REQUESTED' });
    expect(await db.payment.count({ where: { orderId, kind: 'REFUND' } })).toBe(0);

    const login = await fetch(`${stack.apiUrl}/api/v1/users/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const receive = (token: string) =>
      fetch(`${stack.apiUrl}/api/v1/admin/orders/${orderId}/return-received`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"note":"lantern works"}' });
    expect((await receive(customer.token)).status).toBe(403);
    expect((await receive(accessToken)).status).toBe(202);
    await until('RETURNED', async () => (await db.order.findUniqueOrThrow({ where: { id: orderId } })).status === 'RETURNED');
    expect(await db.payment.findFirstOrThrow({ where: { orderId, kind: 'REFUND' } })).toMatchObject({ status: 'SUCCEEDED', amount: 3499 });
    expect(await moneyOf(orderId)).toEqual({ authorised: 3499, captured: 3499, voided: 0, refunded: 3499 });
    expect(await db.stock.findUniqueOrThrow({ where: { productId: 'prod_lamp' } })).toMatchObject({ available: lampBefore.available + 1, returned: lampBefore.returned + 1 });
    const again = await returnIt();
    expect(again.status).toBe(409);
    const twice = await receive(accessToken);
    expect(twice.status).toBe(409);
    expect(await twice.json()).toMatchObject({ code: 'RETURN_NOT_REQUESTED', details: { status: 'RETURNED' } });
  });

  it('development mode made its own secrets, readable by their owner only, and the API runs on them', async () => {
    const file = e2e.config.SECRETS_FILE;
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const kept = await readFile(file, 'utf8');
    expect(kept).toContain(`JWT_SECRET=${stack.secrets.JWT_SECRET}`);
    expect(kept).toContain(`CARRIER_WEBHOOK_SECRET=${stack.secrets.CARRIER_WEBHOOK_SECRET}`);
    expect(stack.secrets.JWT_SECRET).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    // the token this stack issued verifies only under the key it made
    const me = await fetch(`${stack.apiUrl}/api/v1/users/me`, { headers: { authorization: `Bearer ${customer.token}` } });
    expect(me.status).toBe(200);
  });

  it('health says ready, and the books balance after everything above', async () => {
    const ready = await fetch(`${stack.apiUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', temporal: 'ok' } });
    expect(await assertBooksBalance(db, initial)).toEqual([]);
  });
});
