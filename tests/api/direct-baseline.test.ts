/**
 * The benchmark's baseline (a) (scripts/bench/direct-checkout.ts, CHECKOUT_ENGINE=direct-baseline): POST
 * /api/v1/orders does the confirmed order's effects in one PostgreSQL
 * transaction, without Temporal. The benchmark compares the saga with it, so
 * it must do the same effects, and a refusal must leave nothing behind.
 * Real PostgreSQL; Temporal is unreachable on purpose.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baselineCheckoutRoute } from '../../scripts/bench/direct-checkout';
import { TestTokens } from '../../domain/payment';
import type { Db } from '../../prisma/client';
import { freshDatabase } from '../support/db';
import { apiClient, newCustomer, testApp, unreachableTemporal, type ApiClient } from './support/harness';

let db: Db;
let api: ApiClient;
let closeTemporal: () => Promise<void>;

beforeAll(async () => {
  ({ db } = await freshDatabase('direct'));
  const { temporal, close } = await unreachableTemporal();
  closeTemporal = close;
  const gateway = { latencyMs: 0, slowMs: 0, declineRate: 0, transientFailures: 0 };
  api = apiClient(testApp({ db, temporal, extraRoutes: baselineCheckoutRoute(db, gateway) }));
  await db.product.create({ data: { id: 'direct_a', sku: 'DIRECT-A', name: 'Direct A', category: 'test', priceAmount: 1250, currency: 'EUR', stock: { create: { available: 3 } } } });
});

afterAll(async () => {
  await closeTemporal?.();
  await db?.$disconnect();
});

const address = { name: 'Ada Lovelace', line1: '1 Analytical St', city: 'London', postalCode: 'N1 1AA', country: 'GB' };
const order = (token: string, quantity: number, card: string = TestTokens.success) =>
  api.call('POST', '/api/v1/orders', { token, body: { items: [{ productId: 'direct_a', quantity }], shippingAddress: address, paymentMethod: { token: card } } });

describe('CHECKOUT_ENGINE=direct-baseline (benchmark baseline a)', () => {
  it('confirms in one transaction: CONFIRMED row with its timeline, stock available → sold, one charge at the provider and one payment', async () => {
    const customer = await newCustomer(api, 'direct');
    const res = await order(customer.token, 2);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'CONFIRMED', total: { amount: 2500, currency: 'EUR' } });
    const orderId = res.body.orderId as string;

    const row = await db.order.findUniqueOrThrow({ where: { id: orderId }, include: { items: true, timeline: true } });
    expect(row.status).toBe('CONFIRMED');
    expect(row.items.map((i) => [i.productId, i.quantity, i.lineTotalAmount])).toEqual([['direct_a', 2, 2500]]);
    expect(row.timeline.map((e) => e.status).sort()).toEqual(['CONFIRMED', 'PENDING']);
    expect(await db.stock.findUniqueOrThrow({ where: { productId: 'direct_a' } })).toMatchObject({ available: 1, reserved: 0, sold: 2 });
    const charges = await db.gatewayTransaction.findMany({ where: { idempotencyKey: `order-${orderId}:charge` } });
    expect(charges.map((c) => [c.kind, c.amount, c.currency])).toEqual([['CHARGE', 2500, 'EUR']]);
    expect(await db.payment.count({ where: { orderId, kind: 'CHARGE', status: 'SUCCEEDED', amount: 2500 } })).toBe(1);
  });

  it('out of stock → 409 INVENTORY_UNAVAILABLE and a declined card → 402 PAYMENT_DECLINED; both roll back everything', async () => {
    const customer = await newCustomer(api, 'direct');
    const before = { orders: await db.order.count(), ledger: await db.gatewayTransaction.count(), payments: await db.payment.count() };

    const short = await order(customer.token, 5);
    expect(short.status).toBe(409);
    expect(short.body.code).toBe('INVENTORY_UNAVAILABLE');
    const declined = await order(customer.token, 1, TestTokens.declined);
    expect(declined.status).toBe(402);
    expect(declined.body.code).toBe('PAYMENT_DECLINED');

    expect({ orders: await db.order.count(), ledger: await db.gatewayTransaction.count(), payments: await db.payment.count() }).toEqual(before);
    expect(await db.stock.findUniqueOrThrow({ where: { productId: 'direct_a' } })).toMatchObject({ available: 1, reserved: 0, sold: 2 });
  });
});
