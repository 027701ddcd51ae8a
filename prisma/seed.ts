import type { Db } from './client';

/** A small demo catalog. Prices in minor units (USD cents). */
export const demoProducts = [
  { id: 'prod_tshirt', sku: 'TSH-001', name: 'Organic cotton T-shirt', category: 'apparel', priceAmount: 1999, weightGrams: 200, warehouse: 'main', stock: 100 },
  { id: 'prod_hoodie', sku: 'HOO-001', name: 'Zip hoodie', category: 'apparel', priceAmount: 4950, weightGrams: 650, warehouse: 'main', stock: 40 },
  { id: 'prod_mug', sku: 'MUG-001', name: 'Enamel camping mug', category: 'kitchen', priceAmount: 1250, weightGrams: 300, warehouse: 'main', stock: 60 },
  { id: 'prod_kettle', sku: 'KET-001', name: 'Gooseneck kettle', category: 'kitchen', priceAmount: 6900, weightGrams: 1100, warehouse: 'north', stock: 15 },
  { id: 'prod_backpack', sku: 'BAG-001', name: 'Daypack 20L', category: 'outdoor', priceAmount: 8900, weightGrams: 900, warehouse: 'north', stock: 25 },
  { id: 'prod_lamp', sku: 'LMP-001', name: 'Rechargeable lantern', category: 'outdoor', priceAmount: 3499, weightGrams: 450, warehouse: 'main', stock: 3 },
] as const;

/**
 * Loads the demo catalog. Idempotent: existing products and their stock are
 * left exactly as they are, so running it again (every `npm start`) changes nothing.
 */
export async function seed(db: Db): Promise<{ created: number }> {
  let created = 0;
  for (const { stock, ...p } of demoProducts) {
    const result = await db.product.createMany({ data: [{ ...p, currency: 'USD', description: `${p.name} (demo)` }], skipDuplicates: true });
    if (result.count === 1) {
      await db.stock.create({ data: { productId: p.id, available: stock } });
      created += 1;
    }
  }
  return { created };
}
