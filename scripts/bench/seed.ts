/**
 * What the benchmark orders from and as whom: products with more stock than
 * any run can sell, and customers straight in the database with tokens signed
 * by the API's key (hundreds of argon2 hashes would measure the password
 * hasher, not the checkout).
 */
import { randomUUID } from 'node:crypto';
import { createTokens } from '../../api/auth/tokens';
import type { Db } from '../../prisma/client';
import type { BenchCustomer } from './load';

export const BENCH_UNITS_PER_PRODUCT = 10_000_000;

export async function seedProducts(db: Db, count: number, priceAmount = 1_999): Promise<string[]> {
  const run = randomUUID().slice(0, 8);
  const ids = Array.from({ length: count }, (_, i) => `bench_${run}_${String(i).padStart(4, '0')}`);
  await db.product.createMany({
    data: ids.map((id) => ({ id, sku: id.toUpperCase(), name: `Benchmark item ${id}`, category: 'bench', priceAmount, currency: 'USD' })),
  });
  await db.stock.createMany({ data: ids.map((productId) => ({ productId, available: BENCH_UNITS_PER_PRODUCT })) });
  return ids;
}

export async function seedCustomers(db: Db, count: number, jwtSecret: string): Promise<BenchCustomer[]> {
  const run = randomUUID().slice(0, 8);
  const rows = Array.from({ length: count }, (_, i) => ({ id: randomUUID(), email: `bench-${run}-${i}@bench.test`, passwordHash: 'unused' }));
  await db.user.createMany({ data: rows });
  const tokens = createTokens({ secret: jwtSecret, ttlSeconds: 24 * 3600 });
  return Promise.all(rows.map(async (r) => ({ id: r.id, token: (await tokens.issue({ id: r.id, role: 'CUSTOMER' })).accessToken })));
}
