/**
 * Catalog (public) and its admin side, in-process against a real PostgreSQL.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { apiClient, expectError, fieldPaths, newAdmin, newCustomer, type ApiClient } from './support/harness';
import { startOfflineBackend } from './support/offline-backend';
import { perSuite } from './support/suite';

const backend = perSuite(() => startOfflineBackend('catalog', { seeded: true }));
let api: ApiClient;
let admin: string;
let customer: string;

beforeAll(async () => {
  api = apiClient(backend.app());
  admin = (await newAdmin(api, backend.db)).token;
  customer = (await newCustomer(api)).token;
});

const ids = (r: { body: { items: { id: string }[] } }) => r.body.items.map((p) => p.id);

describe('GET /products', () => {
  it('lists active products with Money prices and available stock', async () => {
    const res = await api.call('GET', '/api/v1/products');
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(6);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items.find((p: { id: string }) => p.id === 'prod_mug')).toEqual({
      id: 'prod_mug', sku: 'MUG-001', name: 'Enamel camping mug', description: 'Enamel camping mug (demo)', category: 'kitchen',
      price: { amount: 1250, currency: 'USD' }, available: 60, active: true,
    });
  });

  it('pages with limit and an opaque cursor, without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await api.call('GET', `/api/v1/products?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.body.items.length).toBeLessThanOrEqual(4);
      seen.push(...ids(res));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(6);
  });

  it('the category filter matches the whole name in any case, never as a LIKE pattern', async () => {
    expect(ids(await api.call('GET', '/api/v1/products?category=OUTDOOR'))).toEqual(['prod_backpack', 'prod_lamp']);
    for (const pattern of ['%', '_', 'o_tdoor', 'out%', '%door', '\\']) {
      expect(ids(await api.call('GET', `/api/v1/products?category=${encodeURIComponent(pattern)}`)), pattern).toEqual([]);
    }
  });

  it('filters by name (any case), category and price range in minor units', async () => {
    expect(ids(await api.call('GET', '/api/v1/products?q=HOOD'))).toEqual(['prod_hoodie']);
    expect(ids(await api.call('GET', '/api/v1/products?category=outdoor'))).toEqual(['prod_backpack', 'prod_lamp']);
    expect(ids(await api.call('GET', '/api/v1/products?minPrice=1250&maxPrice=3499'))).toEqual(['prod_lamp', 'prod_mug', 'prod_tshirt']);
    expect(ids(await api.call('GET', '/api/v1/products?category=kitchen&maxPrice=5000'))).toEqual(['prod_mug']);
    expect(ids(await api.call('GET', '/api/v1/products?q=%25'))).toEqual([]); // "%" is a character, not a wildcard
  });

  it('bad query values are named; a cursor we did not issue is a 400, not a 500', async () => {
    const res = await api.call('GET', '/api/v1/products?limit=0&minPrice=-1&maxPrice=abc');
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(fieldPaths(res)).toEqual(['limit', 'maxPrice', 'minPrice']);
    expect(fieldPaths(await api.call('GET', '/api/v1/products?minPrice=500&maxPrice=100'))).toEqual(['maxPrice']);
    expect(fieldPaths(await api.call('GET', '/api/v1/products?cursor=bm9wZQ'))).toEqual(['cursor']);
    expect(fieldPaths(await api.call('GET', '/api/v1/products?q=%00'))).toEqual(['q']);
  });
});

describe('GET /products/:id', () => {
  it('one product; an unknown id → 404', async () => {
    const res = await api.call('GET', '/api/v1/products/prod_lamp');
    expect(res.body).toMatchObject({ id: 'prod_lamp', price: { amount: 3499, currency: 'USD' }, available: 3 });
    expectError(await api.call('GET', '/api/v1/products/prod_nope'), 404, 'NOT_FOUND');
  });
});

describe('admin: products', () => {
  const lantern = { id: 'prod_lantern2', sku: 'LMP-002', name: 'Camp lantern XL', category: 'Outdoor', price: { amount: 4599, currency: 'USD' }, stock: 7 };

  it('POST creates a product with its stock; the public catalog shows it', async () => {
    const res = await api.call('POST', '/api/v1/admin/products', { token: admin, body: lantern });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: 'prod_lantern2', sku: 'LMP-002', name: 'Camp lantern XL', description: '', category: 'outdoor',
      price: { amount: 4599, currency: 'USD' }, available: 7, active: true,
    });
    expect((await api.call('GET', '/api/v1/products/prod_lantern2')).body.available).toBe(7);
  });

  it('an id is generated when not given; a duplicate id or sku → 409 PRODUCT_EXISTS', async () => {
    const res = await api.call('POST', '/api/v1/admin/products', { token: admin, body: { ...lantern, id: undefined, sku: 'LMP-003' } });
    expect(res.body.id).toMatch(/^prod_[0-9a-f]{12}$/);
    expectError(await api.call('POST', '/api/v1/admin/products', { token: admin, body: { ...lantern, sku: 'NEW-1' } }), 409, 'PRODUCT_EXISTS');
    expectError(await api.call('POST', '/api/v1/admin/products', { token: admin, body: { ...lantern, id: 'prod_new' } }), 409, 'PRODUCT_EXISTS');
  });

  it('invalid products are named field by field', async () => {
    const res = await api.call('POST', '/api/v1/admin/products', { token: admin, body: { ...lantern, id: 'bad id!', price: { amount: 12.5, currency: 'usd' }, stock: -1 } });
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(fieldPaths(res)).toEqual(['id', 'price.amount', 'price.currency', 'stock']);
  });

  it('PATCH changes price and active; an inactive product leaves the public list', async () => {
    const res = await api.call('PATCH', '/api/v1/admin/products/prod_lantern2', { token: admin, body: { price: { amount: 3999, currency: 'USD' }, active: false } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ price: { amount: 3999, currency: 'USD' }, active: false });
    expect(ids(await api.call('GET', '/api/v1/products?category=outdoor'))).not.toContain('prod_lantern2');
    expectError(await api.call('PATCH', '/api/v1/admin/products/prod_nope', { token: admin, body: { active: true } }), 404, 'NOT_FOUND');
    expectError(await api.call('PATCH', '/api/v1/admin/products/prod_lantern2', { token: admin, body: {} }), 400, 'VALIDATION_FAILED');
  });

  it('search treats % and _ as characters', async () => {
    await api.call('POST', '/api/v1/admin/products', { token: admin, body: { ...lantern, id: 'prod_wool', sku: 'WOOL-1', name: 'Socks 100% wool_blend' } });
    expect(ids(await api.call('GET', '/api/v1/products?q=100%25%20WOOL_'))).toEqual(['prod_wool']);
    expect(ids(await api.call('GET', '/api/v1/products?q=%25'))).toEqual(['prod_wool']);
    expect(ids(await api.call('GET', '/api/v1/products?q=s_1'))).toEqual([]); // _ would match the space in "Socks 100"
  });

  it('customers get 403 and anonymous callers 401; nothing changes', async () => {
    expectError(await api.call('PATCH', '/api/v1/admin/products/prod_mug', { token: customer, body: { price: { amount: 1, currency: 'USD' } } }), 403, 'FORBIDDEN');
    expectError(await api.call('POST', '/api/v1/admin/products', { body: lantern }), 401, 'UNAUTHENTICATED');
    expect((await backend.db.product.findUniqueOrThrow({ where: { id: 'prod_mug' } })).priceAmount).toBe(1250);
  });
});

describe('admin: inventory', () => {
  const put = (productId: string, body: unknown, token = admin) => api.call('PUT', `/api/v1/admin/inventory/${productId}`, { token, body });

  it('{available} sets, {add} adds and removes', async () => {
    expect((await put('prod_kettle', { available: 20 })).body).toEqual({ productId: 'prod_kettle', available: 20, reserved: 0, sold: 0, returned: 0 });
    expect((await put('prod_kettle', { add: 5 })).body.available).toBe(25);
    expect((await put('prod_kettle', { add: -25 })).body.available).toBe(0);
  });

  it('never below zero → 422 STOCK_BELOW_ZERO, stock unchanged', async () => {
    await put('prod_kettle', { available: 3 });
    const res = expectError(await put('prod_kettle', { add: -4 }), 422, 'STOCK_BELOW_ZERO');
    expect(res.details).toMatchObject({ available: 3, add: -4 });
    expectError(await put('prod_kettle', { available: -1 }), 422, 'STOCK_BELOW_ZERO');
    expect((await backend.db.stock.findUniqueOrThrow({ where: { productId: 'prod_kettle' } })).available).toBe(3);
  });

  it('concurrent removals never oversell the shelf', async () => {
    await put('prod_kettle', { available: 5 });
    const replies = await Promise.all(Array.from({ length: 8 }, () => put('prod_kettle', { add: -1 })));
    expect(replies.filter((r) => r.status === 200)).toHaveLength(5);
    expect(replies.filter((r) => r.status === 422)).toHaveLength(3);
    expect((await backend.db.stock.findUniqueOrThrow({ where: { productId: 'prod_kettle' } })).available).toBe(0);
  });

  it('both or neither of available/add → 400; unknown product → 404; customer → 403', async () => {
    expectError(await put('prod_kettle', { available: 1, add: 1 }), 400, 'VALIDATION_FAILED');
    expectError(await put('prod_kettle', {}), 400, 'VALIDATION_FAILED');
    expectError(await put('prod_kettle', { add: 1.5 }), 400, 'VALIDATION_FAILED');
    expectError(await put('prod_nope', { available: 1 }), 404, 'NOT_FOUND');
    expectError(await put('prod_kettle', { available: 1 }, customer), 403, 'FORBIDDEN');
  });
});

describe('admin: orders', () => {
  it("lists every customer's orders newest first, filtered by status", async () => {
    const mk = (id: string, customerId: string, status: 'CONFIRMED' | 'FAILED', minutesAgo: number) =>
      backend.db.order.create({
        data: {
          id, customerId, workflowId: `order-${id}`, status, currency: 'USD', totalAmount: 1250,
          shippingAddress: {}, createdAt: new Date(Date.now() - minutesAgo * 60_000),
        },
      });
    await mk('00000000-0000-4000-8000-00000000000a', 'cust-a', 'CONFIRMED', 3);
    await mk('00000000-0000-4000-8000-00000000000b', 'cust-b', 'FAILED', 2);
    await mk('00000000-0000-4000-8000-00000000000c', 'cust-a', 'CONFIRMED', 1);
    const all = await api.call('GET', '/api/v1/admin/orders', { token: admin });
    expect(all.body.items.map((o: { id: string }) => o.id.slice(-1))).toEqual(['c', 'b', 'a']);
    const confirmed = await api.call('GET', '/api/v1/admin/orders?status=CONFIRMED&limit=1', { token: admin });
    expect(confirmed.body.items.map((o: { customerId: string }) => o.customerId)).toEqual(['cust-a']);
    const next = await api.call('GET', `/api/v1/admin/orders?status=CONFIRMED&limit=1&cursor=${confirmed.body.nextCursor}`, { token: admin });
    expect(next.body.items.map((o: { id: string }) => o.id.slice(-1))).toEqual(['a']);
    expect(next.body.nextCursor).toBeNull();
    expect(fieldPaths(await api.call('GET', '/api/v1/admin/orders?status=LOST', { token: admin }))).toEqual(['status']);
  });

  // the whole return flow, with Temporal, is in returns.test.ts; these answers need only PostgreSQL
  it('return-received: 404 for an unknown order, 409 RETURN_NOT_REQUESTED (with the status) when no return awaits the goods, 403 for a customer', async () => {
    const received = (id: string, token = admin) => api.call('POST', `/api/v1/admin/orders/${id}/return-received`, { token, body: { note: 'arrived' } });
    expectError(await received('00000000-0000-4000-8000-0000000000ff'), 404, 'ORDER_NOT_FOUND');
    expect(expectError(await received('00000000-0000-4000-8000-00000000000a'), 409, 'RETURN_NOT_REQUESTED').details).toEqual({ status: 'CONFIRMED' });
    expectError(await received('00000000-0000-4000-8000-00000000000a', customer), 403, 'FORBIDDEN');
  });
});

it('every catalog and admin route was exercised and matched the document', () => {
  expect(api.contract.uncovered(['catalog', 'admin'])).toEqual([]);
});
