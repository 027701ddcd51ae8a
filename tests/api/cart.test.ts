/**
 * The cart, in-process against a real PostgreSQL: every rule has its own 422
 * code, and a refused change leaves the cart exactly as it was.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { apiClient, expectError, fieldPaths, newCustomer, type ApiClient } from './support/harness';
import { startOfflineBackend } from './support/offline-backend';
import { perSuite } from './support/suite';

const backend = perSuite(() => startOfflineBackend('cart', { seeded: true }));
let api: ApiClient;
let ada: { id: string; token: string };
let bob: { id: string; token: string };

beforeAll(async () => {
  api = apiClient(backend.app());
  ada = await newCustomer(api, 'ada');
  bob = await newCustomer(api, 'bob');
});

const add = (token: string, productId: string, quantity: unknown) => api.call('POST', '/api/v1/cart/items', { token, body: { productId, quantity } });
const set = (token: string, productId: string, quantity: unknown) => api.call('PUT', `/api/v1/cart/items/${productId}`, { token, body: { quantity } });
const cart = (token: string) => api.call('GET', '/api/v1/cart', { token });

describe('cart', () => {
  it('starts empty with a zero total', async () => {
    const res = await cart(ada.token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [], itemCount: 0, total: { amount: 0, currency: 'USD' } });
  });

  it('shows names, unit prices, line totals and the total as Money', async () => {
    await add(ada.token, 'prod_mug', 2);
    const res = await add(ada.token, 'prod_tshirt', 1);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [
        { productId: 'prod_mug', sku: 'MUG-001', name: 'Enamel camping mug', quantity: 2, unitPrice: { amount: 1250, currency: 'USD' }, lineTotal: { amount: 2500, currency: 'USD' }, available: 60, active: true },
        { productId: 'prod_tshirt', sku: 'TSH-001', name: 'Organic cotton T-shirt', quantity: 1, unitPrice: { amount: 1999, currency: 'USD' }, lineTotal: { amount: 1999, currency: 'USD' }, available: 100, active: true },
      ],
      itemCount: 3,
      total: { amount: 4499, currency: 'USD' },
    });
    expect(await cart(ada.token)).toMatchObject({ body: res.body });
  });

  it('POST adds to a line already there; PUT sets it', async () => {
    expect((await add(ada.token, 'prod_mug', 3)).body.items[0]).toMatchObject({ productId: 'prod_mug', quantity: 5 });
    expect((await set(ada.token, 'prod_mug', 1)).body.items[0]).toMatchObject({ productId: 'prod_mug', quantity: 1 });
    expect((await set(ada.token, 'prod_lamp', 2)).body.items.map((i: { productId: string }) => i.productId)).toEqual(['prod_mug', 'prod_tshirt', 'prod_lamp']);
  });

  it('each customer sees only their own cart', async () => {
    expect((await cart(bob.token)).body.items).toEqual([]);
    await add(bob.token, 'prod_hoodie', 1);
    expect((await cart(ada.token)).body.items.map((i: { productId: string }) => i.productId)).not.toContain('prod_hoodie');
  });

  it('DELETE removes one line (twice is fine), DELETE /cart empties it', async () => {
    expect((await api.call('DELETE', '/api/v1/cart/items/prod_lamp', { token: ada.token })).body.items).toHaveLength(2);
    expect((await api.call('DELETE', '/api/v1/cart/items/prod_lamp', { token: ada.token })).status).toBe(200);
    const cleared = await api.call('DELETE', '/api/v1/cart', { token: bob.token });
    expect(cleared.body).toEqual({ items: [], itemCount: 0, total: { amount: 0, currency: 'USD' } });
    expect(await backend.db.cartItem.count({ where: { customerId: bob.id } })).toBe(0);
    expect(await backend.db.cartItem.count({ where: { customerId: ada.id } })).toBe(2);
  });
});

describe('cart rules → 422 with the rule as the code; the cart stays as it was', () => {
  let before: unknown;
  beforeAll(async () => {
    before = (await cart(ada.token)).body;
  });

  it.each([
    ['quantity 0', () => add(ada.token, 'prod_mug', 0), 'QUANTITY_OUT_OF_RANGE'],
    ['quantity 100', () => add(ada.token, 'prod_kettle', 100), 'QUANTITY_OUT_OF_RANGE'],
    ['adding past 99', () => add(ada.token, 'prod_mug', 99), 'QUANTITY_OUT_OF_RANGE'],
    ['setting -3', () => set(ada.token, 'prod_mug', -3), 'QUANTITY_OUT_OF_RANGE'],
    ['unknown product', () => add(ada.token, 'prod_nope', 1), 'PRODUCT_NOT_FOUND'],
    ['unknown product by PUT', () => set(ada.token, 'prod_nope', 1), 'PRODUCT_NOT_FOUND'],
  ])('%s', async (_name, act, code) => {
    expectError(await act(), 422, code);
    expect((await cart(ada.token)).body).toEqual(before);
  });

  it('an inactive product → PRODUCT_INACTIVE; the cart shows a line that became inactive', async () => {
    await backend.db.product.update({ where: { id: 'prod_tshirt' }, data: { active: false } });
    try {
      expectError(await add(ada.token, 'prod_tshirt', 1), 422, 'PRODUCT_INACTIVE');
      expect((await cart(ada.token)).body.items.find((i: { productId: string }) => i.productId === 'prod_tshirt')).toMatchObject({ active: false, quantity: 1 });
    } finally {
      await backend.db.product.update({ where: { id: 'prod_tshirt' }, data: { active: true } });
    }
  });

  it('a product in another currency → CART_CURRENCY_MISMATCH', async () => {
    await backend.db.product.create({ data: { id: 'prod_eur', sku: 'EUR-1', name: 'Euro thing', category: 'misc', priceAmount: 500, currency: 'EUR', stock: { create: { available: 5 } } } });
    const res = expectError(await add(ada.token, 'prod_eur', 1), 422, 'CART_CURRENCY_MISMATCH');
    expect(res.details).toEqual({ cartCurrency: 'USD', productCurrency: 'EUR' });
  });

  it('at most 50 different products → CART_TOO_MANY_ITEMS, also when adds race', async () => {
    await backend.db.product.createMany({
      data: Array.from({ length: 52 }, (_, i) => ({ id: `prod_bulk_${String(i).padStart(2, '0')}`, sku: `BULK-${i}`, name: `Bulk ${i}`, category: 'bulk', priceAmount: 100, currency: 'USD' })),
    });
    const carol = await newCustomer(api, 'carol');
    for (let i = 0; i < 48; i += 1) expect((await add(carol.token, `prod_bulk_${String(i).padStart(2, '0')}`, 1)).status).toBe(200);
    const racing = await Promise.all([48, 49, 50, 51].map((i) => add(carol.token, `prod_bulk_${i}`, 1)));
    expect(racing.map((r) => r.status).sort()).toEqual([200, 200, 422, 422]);
    expect(racing.filter((r) => r.status === 422).map((r) => r.body.code)).toEqual(['CART_TOO_MANY_ITEMS', 'CART_TOO_MANY_ITEMS']);
    expect(await backend.db.cartItem.count({ where: { customerId: carol.id } })).toBe(50);
    expect((await add(carol.token, 'prod_bulk_00', 1)).status).toBe(200); // more of a product already there is fine
  });

  it('wrong types are 400 VALIDATION_FAILED naming the field', async () => {
    const res = await api.call('POST', '/api/v1/cart/items', { token: ada.token, body: { productId: '', quantity: 1.5 } });
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(fieldPaths(res)).toEqual(['productId', 'quantity']);
    expect(fieldPaths(await set(ada.token, 'prod_mug', '2'))).toEqual(['quantity']);
    expectError(await api.call('POST', '/api/v1/cart/items', { token: ada.token, raw: '{"productId":', headers: { 'content-type': 'application/json' } }), 400, 'INVALID_JSON');
    expectError(await api.call('PUT', '/api/v1/cart/items/prod_mug', { token: ada.token, raw: 'quantity=2', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect((await cart(ada.token)).body).toEqual(before);
  });

  it('without a token → 401', async () => {
    expectError(await api.call('GET', '/api/v1/cart'), 401, 'UNAUTHENTICATED');
    expectError(await add('', 'prod_mug', 1), 401, 'UNAUTHENTICATED');
  });
});

it('every cart route was exercised and matched the document', () => {
  expect(api.contract.uncovered(['cart'])).toEqual([]);
});
