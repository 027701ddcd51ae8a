/**
 * Fault suite, scenario 4: the Temporal dev server (killed, its history file
 * kept) and, separately, PostgreSQL go away in the middle of a stream of
 * orders and come back. Clients retry a 503 with the same orderId, as the API
 * tells them to. Nothing may be lost or doubled, nothing may answer 500, and
 * nobody restarts the API or the workers: they recover on their own.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorisationKey, orderWorkflowId } from '../../temporal-config/place-order';
import { bootFaultStack, FULFILLING_STATES, until, type Customer, type FaultStack, type Reply } from './support/fault-stack';

let f: FaultStack;
let product: string;
let temporal: Client;
let connection: Connection;

beforeAll(async () => {
  f = await bootFaultStack('infrastructure', { FULFILMENT_HANDLING_MS: '3600000' });
  product = await f.product(10_000, 900);
  connection = await Connection.connect({ address: f.stack.temporalAddress });
  temporal = new Client({ connection });
});
afterAll(async () => {
  await connection?.close();
  await f?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Submitted {
  orderId: string;
  statuses: number[];
  final: Reply;
}

/** One customer's checkout, retried on 503 with the same orderId until it gets a real answer. */
async function submit(customer: Customer): Promise<Submitted> {
  const orderId = randomUUID();
  const statuses: number[] = [];
  const deadline = Date.now() + 120_000;
  for (;;) {
    const reply = await f.order(customer, [{ productId: product, quantity: 1 }], { orderId });
    statuses.push(reply.status);
    if (reply.status !== 503 || Date.now() > deadline) return { orderId, statuses, final: reply };
    await sleep(1_000);
  }
}

/**
 * Orders arrive every 250 ms for `durationMs`; `fault` runs alongside, from
 * `faultAtMs`. Returns every checkout once each has its final answer.
 */
async function streamWithFault(durationMs: number, faultAtMs: number, fault: () => Promise<void>): Promise<Submitted[]> {
  const customers = await f.customers(Math.ceil(durationMs / 250) + 1);
  const pending: Promise<Submitted>[] = [];
  const faulted = sleep(faultAtMs).then(fault);
  const end = Date.now() + durationMs;
  for (let i = 0; Date.now() < end; i++) {
    pending.push(submit(customers[i]));
    await sleep(250);
  }
  await faulted;
  return Promise.all(pending);
}

/** What a client and an operator see while a dependency is down. */
async function probeWhileDown(what: string, c: Customer): Promise<Reply[]> {
  const probes = await Promise.all([
    f.api('GET', '/health/ready'),
    f.order(c, [{ productId: product, quantity: 1 }]),
    ...(what === 'postgres' ? [f.api('GET', '/api/v1/products'), f.api('GET', '/api/v1/orders', { token: c.token })] : []),
  ]);
  for (const p of probes) {
    expect(p.status, `${what} down: ${JSON.stringify(p.body)}`).toBe(503);
    if (p.body?.code) expect(p.body.code).toBe('DEPENDENCY_UNAVAILABLE');
  }
  return probes;
}

async function checkStream(scenario: string, submitted: Submitted[], started: number) {
  const all = submitted.flatMap((s) => s.statuses);
  const retried = submitted.filter((s) => s.statuses.length > 1).length;
  console.log(`${scenario}: ${submitted.length} checkouts, ${all.filter((s) => s === 503).length} answers 503 (${retried} orders retried), statuses ${JSON.stringify(countBy(all))}`);
  // never a 500: a dependency being down is a 503, and every retry ends in a real answer
  expect(all.filter((s) => s >= 500 && s !== 503)).toEqual([]);
  for (const s of submitted) expect([201, 202], JSON.stringify(s.final.body)).toContain(s.final.status);
  expect(retried).toBeGreaterThan(0); // the fault really was in the stream's way

  const orderIds = submitted.map((s) => s.orderId);
  await f.settle(orderIds, 120_000, (st) => FULFILLING_STATES.includes(st));
  // no order lost, none doubled: exactly the submitted ids, each with one saga and one authorisation
  const customers = (await f.db.order.findMany({ where: { id: { in: orderIds } }, select: { customerId: true } })).map((o) => o.customerId);
  const rows = await f.db.order.findMany({ where: { customerId: { in: customers } }, select: { id: true } });
  expect(rows.map((r) => r.id).sort()).toEqual([...orderIds].sort());
  const ledger = await f.db.gatewayTransaction.findMany({ where: { idempotencyKey: { in: orderIds.map((id) => authorisationKey(orderWorkflowId(id), 0)) } } });
  expect(ledger.filter((t) => t.kind === 'AUTHORISATION')).toHaveLength(orderIds.length);
  const inDb = await f.db.order.count();
  await until('every order has exactly one workflow run in Temporal visibility', async () => (await temporal.workflow.count('WorkflowType="placeOrder"')).count === inDb, 30_000, 500);
  expect(await f.report(scenario, orderIds, started)).toEqual([]);
}

const countBy = (xs: number[]) => xs.reduce<Record<number, number>>((acc, x) => ((acc[x] = (acc[x] ?? 0) + 1), acc), {});

describe('fault suite: infrastructure restarts (real Temporal dev server and PostgreSQL)', () => {
  it('the Temporal dev server is killed mid-stream and started again on its history file: no order lost or doubled, 503 while it is down', async () => {
    const started = Date.now();
    const [prober] = await f.customers(1);
    const submitted = await streamWithFault(20_000, 5_000, async () => {
      await f.stack.stopTemporal('SIGKILL');
      await probeWhileDown('temporal', prober);
      await sleep(3_000);
      await f.stack.startTemporal();
    });
    await checkStream('temporal-restart', submitted, started);
    // the API recovered on its own
    expect(await f.api('GET', '/health/ready')).toMatchObject({ status: 200 });
  }, 300_000);

  it('PostgreSQL stops mid-stream and starts again: no order lost or doubled, 503 while it is down', async () => {
    const started = Date.now();
    const [prober] = await f.customers(1);
    const submitted = await streamWithFault(20_000, 5_000, async () => {
      await f.stack.stopPostgres();
      await probeWhileDown('postgres', prober);
      await sleep(3_000);
      await f.stack.startPostgres();
    });
    await checkStream('postgres-restart', submitted, started);
    expect(await f.api('GET', '/health/ready')).toMatchObject({ status: 200 });
  }, 300_000);
});
