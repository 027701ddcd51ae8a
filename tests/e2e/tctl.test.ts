/**
 * The legacy `tctl`, as operators still run it, against a whole stack (embedded
 * PostgreSQL, Temporal CLI dev server, worker processes, HTTP API): an order
 * placed over HTTP is found, queried and cancelled from the command line: its
 * authorisation is voided (nothing was captured) and the stock comes back.
 *
 * A stack of its own rather than a case in stack.test.ts: the order must still
 * be cancellable (CONFIRMED/PROCESSING) when tctl signals it, which takes a long
 * FULFILMENT_HANDLING_MS; the API stamps that onto each order at placement, and
 * stack.test.ts needs a short one to walk orders to SHIPPED.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Config } from '../../platform/config';
import type { Db } from '../../prisma/client';
import type { Stack } from '../../scripts/stack';
import { assertBooksBalance, initialStock } from '../support/books';
import { registerAndLogin, startE2eStack, type E2eStack } from '../support/e2e-stack';
import { until } from '../support/until';
import { CustomerIdKey, OrderStatusKey, cancelOrderSignal, getStatusQuery, orderWorkflowId } from '../../temporal-config/place-order';

const exec = promisify(execFile);
let stack: Stack;
let config: Config;
let db: Db;
let e2e: E2eStack;
let initial: Record<string, number>;
let customer: { id: string; token: string };

beforeAll(async () => {
  e2e = await startE2eStack('orders-tctl-', { CHECKOUT_WAIT_MS: '30000', LOG_LEVEL: 'warn', FULFILMENT_HANDLING_MS: '3600000' });
  ({ stack, config, db } = e2e);
  initial = await initialStock(db);
  customer = await registerAndLogin(stack.apiUrl, 'operator-e2e@example.com', 'correct horse battery');
});

afterAll(async () => {
  await e2e?.stop();
});

/** `tctl --address <dev server> --ns <namespace> <args>`, exactly as typed at a shell */
const tctl = async (...args: string[]) => {
  const { stdout } = await exec(inject('tctl'), ['--address', stack.temporalAddress, '--ns', config.TEMPORAL_NAMESPACE, ...args], { timeout: 30_000 });
  return stdout;
};

describe('tctl against the running stack', () => {
  it('is the pinned build', async () => {
    const { stdout } = await exec(inject('tctl'), ['--version']);
    expect(stdout.trim()).toBe('tctl version 1.13.1');
  });

  it('describes, queries and cancels (signal cancelOrder) a PROCESSING order: authorisation voided, nothing captured, stock back, books balance', async () => {
    const stockOf = () => db.stock.findUniqueOrThrow({ where: { productId: 'prod_kettle' } });
    const before = await stockOf();
    const res = await fetch(`${stack.apiUrl}/api/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${customer.token}` },
      body: JSON.stringify({
        items: [{ productId: 'prod_kettle', quantity: 2 }],
        shippingAddress: { name: 'Grace Hopper', line1: '1 Compiler Way', city: 'Arlington', postalCode: '22201', country: 'US' },
        paymentMethod: { token: 'tok_visa' },
      }),
    });
    expect(res.status).toBe(201);
    const { orderId, status, total } = (await res.json()) as { orderId: string; status: string; total: { amount: number } };
    expect(status).toBe('CONFIRMED');
    const workflowId = orderWorkflowId(orderId);
    await until('PROCESSING in the database', async () => (await db.order.findUniqueOrThrow({ where: { id: orderId } })).status === 'PROCESSING');
    expect((await stockOf()).available).toBe(before.available - 2);

    // PostgreSQL is written first; the search attribute follows when that workflow task completes
    const described = await until('PROCESSING in tctl workflow describe', async () => {
      const out = await tctl('workflow', 'describe', '--workflow_id', workflowId);
      return /"OrderStatus":\s*"PROCESSING"/.test(out) ? out : undefined;
    });
    expect(described).toContain(workflowId);
    expect(described).toMatch(/"status":\s*"Running"/);

    const queried = await tctl('workflow', 'query', '--workflow_id', workflowId, '--query_type', getStatusQuery.name);
    expect(queried).toMatch(/"status":\s*"PROCESSING"/);

    const signalled = await tctl('workflow', 'signal', '--workflow_id', workflowId, '--name', cancelOrderSignal.name, '--input', '"customer phoned: cancel"');
    expect(signalled).toContain('Signal workflow succeeded');

    const order = await until('CANCELLED in the database', async () => {
      const o = await db.order.findUniqueOrThrow({ where: { id: orderId } });
      return o.status === 'CANCELLED' ? o : undefined;
    });
    expect(order.cancelReason).toBe('customer phoned: cancel');
    // nothing had been handed over: the authorisation is voided whole, nothing captured, nothing to refund
    const ledger = await db.gatewayTransaction.findMany({ where: { idempotencyKey: { startsWith: `${workflowId}:` } } });
    expect(ledger.map((t) => [t.kind, t.amount]).sort()).toEqual([['AUTHORISATION', total.amount], ['VOID', total.amount]]);
    expect(await db.payment.findFirstOrThrow({ where: { orderId, kind: 'VOID' } })).toMatchObject({ status: 'SUCCEEDED', amount: total.amount });
    expect(await db.payment.count({ where: { orderId, kind: { in: ['CAPTURE', 'REFUND'] } } })).toBe(0);
    const shown = await fetch(`${stack.apiUrl}/api/v1/orders/${orderId}`, { headers: { authorization: `Bearer ${customer.token}` } });
    expect(((await shown.json()) as { money: unknown }).money).toMatchObject({ authorised: total.amount, captured: 0, voided: total.amount, refunded: 0 });
    const after = await until('the stock back', async () => {
      const s = await stockOf();
      return s.available === before.available ? s : undefined;
    });
    expect(after).toMatchObject({ available: before.available, reserved: before.reserved, sold: before.sold, returned: before.returned });
    expect(await assertBooksBalance(db, initial)).toEqual([]);

    expect(await tctl('workflow', 'query', '--workflow_id', workflowId, '--query_type', getStatusQuery.name)).toMatch(/"status":\s*"CANCELLED"/);
    const listed = await until('the order in visibility as CANCELLED', async () => {
      const out = await tctl('workflow', 'list', '--query', `${OrderStatusKey.name}="CANCELLED"`);
      return out.includes(workflowId) ? out : undefined;
    });
    expect(listed).toContain(workflowId);
    expect(await tctl('workflow', 'list', '--query', `${CustomerIdKey.name}="${customer.id}" AND ${OrderStatusKey.name}="CANCELLED"`)).toContain(workflowId);
  });
});
