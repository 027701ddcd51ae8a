/**
 * Fault suite: the attack run of issue 15, against a real stack over HTTP.
 * Forged and once-published-secret tokens, another customer's orders, an
 * order id replayed with the same and with another body, carrier deliveries
 * out of state, unsigned and for a finished order, 20 concurrent event
 * streams, password guesses with a valid token attached, LIKE wildcards.
 * Every answer is checked for what it must be, no answer may be a 5xx, and
 * the books balance at the end.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/until';
import { carrierSignatureHeaders } from '../../api/carrier-signature';
import { apiConfig } from '../../platform/config';
import { address, bootFaultStack, type Customer, type FaultStack, type Reply } from './support/fault-stack';

let f: FaultStack;
let started = 0;
let alice: Customer;
let bob: Customer;
let product: string;
const orderIds: string[] = [];
/** every status the API answered, to prove none was a 5xx */
const answered: { what: string; status: number }[] = [];

const DEFAULTS = apiConfig.parse({});
const PUBLISHED_JWT_SECRET = 'dev-only-jwt-secret-do-not-use-in-production-0000';
const PUBLISHED_CARRIER_SECRET = 'dev-carrier-secret';

async function call(what: string, method: string, route: string, opts: Parameters<FaultStack['api']>[2] = {}): Promise<Reply> {
  const reply = await f.api(method, route, opts);
  answered.push({ what, status: reply.status });
  return reply;
}

const adminClaims = () => ({ sub: randomUUID(), role: 'ADMIN', iss: 'order-fulfilment', aud: 'order-fulfilment-api', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 });
const signWith = (secret: string) => new SignJWT(adminClaims()).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));

function delivery(trackingNumber: string, secret: string | undefined): Parameters<FaultStack['api']>[2] {
  const raw = JSON.stringify({ trackingNumber, event: 'delivered' });
  return { raw, headers: { 'content-type': 'application/json', ...(secret ? carrierSignatureHeaders(secret, raw) : {}) } };
}

beforeAll(async () => {
  f = await bootFaultStack('attack', {
    // the warehouse holds confirmed orders for an hour: parcels stay in the warehouse
    FULFILMENT_HANDLING_MS: '3600000',
    // the login and registration limits as shipped (the fault stack turns them off for its other suites)
    LOGIN_LIMIT_PER_ACCOUNT: String(DEFAULTS.LOGIN_LIMIT_PER_ACCOUNT),
    LOGIN_LIMIT_PER_IP: String(DEFAULTS.LOGIN_LIMIT_PER_IP),
    REGISTER_LIMIT_PER_IP: String(DEFAULTS.REGISTER_LIMIT_PER_IP),
  });
  started = Date.now();
  [alice, bob] = (await f.customers(2)) as [Customer, Customer];
  product = await f.product(100, 1_000);
}, 240_000);

afterAll(async () => {
  await f?.stop();
});

describe('the attack run', () => {
  it('forged tokens, including one signed with the once-published default secret, are refused', async () => {
    const tokens = [await signWith('an-attacker-guessed-this-secret-of-32+chars'), await signWith(PUBLISHED_JWT_SECRET)];
    for (const token of tokens) {
      expect((await call('forged admin lists orders', 'GET', '/api/v1/admin/orders', { token })).status).toBe(401);
      expect((await call('forged admin adds stock', 'PUT', `/api/v1/admin/inventory/${product}`, { token, body: { add: 1_000 } })).status).toBe(401);
    }
    expect((await f.db.stock.findUniqueOrThrow({ where: { productId: product } })).available).toBe(100);
  });

  it("another customer's order can be neither read, streamed, cancelled nor returned", async () => {
    const placed = await f.order(alice, [{ productId: product, quantity: 1 }]);
    expect(placed.status).toBe(201);
    const id = placed.body.orderId as string;
    orderIds.push(id);
    for (const [method, route] of [
      ['GET', `/api/v1/orders/${id}`],
      ['GET', `/api/v1/orders/${id}/events`],
      ['POST', `/api/v1/orders/${id}/cancel`],
      ['POST', `/api/v1/orders/${id}/return`],
    ] as const) {
      const reply = await call(`bob ${method} ${route}`, method, route, { token: bob.token, ...(method === 'POST' ? { body: { reason: 'mine now' } } : {}) });
      expect(reply.status, route).toBe(404);
    }
    expect((await f.db.order.findUniqueOrThrow({ where: { id } })).status).toBe('CONFIRMED');
  });

  it('an order id replayed: the same body gets the same order, another body or customer 422, one authorisation', async () => {
    const orderId = randomUUID();
    orderIds.push(orderId);
    const first = await f.order(alice, [{ productId: product, quantity: 2 }], { orderId });
    expect(first.status).toBe(201);
    const body = (quantity: number) => ({ items: [{ productId: product, quantity }], shippingAddress: address, paymentMethod: { token: 'tok_visa' }, orderId });
    const again = await call('same id, same body', 'POST', '/api/v1/orders', { token: alice.token, body: body(2) });
    expect(again.status).toBe(201);
    expect(again.body.total).toEqual(first.body.total);
    const other = await call('same id, another body', 'POST', '/api/v1/orders', { token: alice.token, body: body(9) });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('ORDER_ID_REUSED');
    const taken = await f.order(bob, [{ productId: product, quantity: 2 }], { orderId });
    answered.push({ what: "bob takes alice's order id", status: taken.status });
    expect(taken.status).toBe(422);
    const lines = await f.db.orderItem.findMany({ where: { orderId } });
    expect(lines.map((l) => l.quantity)).toEqual([2]);
    expect(await f.db.payment.count({ where: { orderId, kind: 'AUTHORISATION', status: 'SUCCEEDED' } })).toBe(1);
  });

  it('carrier deliveries: unsigned, signed with the old default, for a parcel in the warehouse and for a finished order are refused', async () => {
    const placed = await f.order(alice, [{ productId: product, quantity: 1 }]);
    expect(placed.status).toBe(201);
    const id = placed.body.orderId as string;
    orderIds.push(id);
    const shipment = await until('the planned shipment', async () => f.db.shipment.findFirst({ where: { orderId: id } }));
    const secret = f.stack.secrets.CARRIER_WEBHOOK_SECRET;
    expect((await call('unsigned delivery', 'POST', '/api/v1/webhooks/carrier', delivery(shipment.trackingNumber, undefined))).status).toBe(401);
    expect((await call('delivery signed with the old default', 'POST', '/api/v1/webhooks/carrier', delivery(shipment.trackingNumber, PUBLISHED_CARRIER_SECRET))).status).toBe(401);
    const early = await call('delivered while in the warehouse', 'POST', '/api/v1/webhooks/carrier', delivery(shipment.trackingNumber, secret));
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('SHIPMENT_NOT_IN_TRANSIT');

    expect((await call('alice cancels', 'POST', `/api/v1/orders/${id}/cancel`, { token: alice.token, body: { reason: 'changed my mind' } })).status).toBe(200);
    await f.settle([id], 60_000, (s) => s === 'CANCELLED');
    const late = await call('delivered for a cancelled order', 'POST', '/api/v1/webhooks/carrier', delivery(shipment.trackingNumber, secret));
    expect(late.status).toBe(409);
    const order = await f.db.order.findUniqueOrThrow({ where: { id } });
    expect(order.status).toBe('CANCELLED');
  });

  it('20 concurrent event streams from one customer: 5 open, 15 refused with Retry-After', async () => {
    const id = orderIds[0];
    const aborts = Array.from({ length: 20 }, () => new AbortController());
    const responses = await Promise.all(
      aborts.map((a) => fetch(`${f.stack.apiUrl}/api/v1/orders/${id}/events`, { headers: { authorization: `Bearer ${alice.token}` }, signal: a.signal })),
    );
    try {
      const statuses = responses.map((r) => r.status);
      for (const s of statuses) answered.push({ what: 'event stream', status: s });
      expect(statuses.filter((s) => s === 200)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(15);
      for (const r of responses.filter((x) => x.status === 429)) expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      for (const a of aborts) a.abort();
      await Promise.all(responses.map((r) => r.body?.cancel().catch(() => undefined) ?? Promise.resolve()));
    }
  });

  it('password guesses with a valid token attached are throttled per account; the right password then waits too', async () => {
    const email = `victim-${randomUUID().slice(0, 8)}@attack.test`;
    const password = 'the victim password 1';
    expect((await call('register the victim', 'POST', '/api/v1/users/register', { body: { email, password } })).status).toBe(201);
    const guesses: number[] = [];
    const limit = DEFAULTS.LOGIN_LIMIT_PER_ACCOUNT;
    for (let i = 0; i < limit + 2; i++) {
      const r = await call('a guess with a token attached', 'POST', '/api/v1/users/login', { token: bob.token, body: { email, password: `guess number ${i}` } });
      guesses.push(r.status);
    }
    expect(guesses.slice(0, limit)).toEqual(Array(limit).fill(401));
    expect(guesses.slice(limit)).toEqual([429, 429]);
    const right = await call('the right password, throttled', 'POST', '/api/v1/users/login', { token: bob.token, body: { email, password } });
    expect(right.status).toBe(429);
    expect(right.body.accessToken).toBeUndefined();
  });

  it('LIKE wildcards in the category filter match nothing', async () => {
    for (const category of ['%', '_%', 'o_tdoor', 'out%']) {
      const r = await call(`category ${category}`, 'GET', `/api/v1/products?category=${encodeURIComponent(category)}`);
      expect(r.status).toBe(200);
      expect(r.body.items).toEqual([]);
    }
  });

  it('no answer was a 5xx, and the books balance', async () => {
    expect(answered.length).toBeGreaterThan(40);
    expect(answered.filter((a) => a.status >= 500)).toEqual([]);
    expect(await f.report('attack', orderIds, started)).toEqual([]);
  });
});
