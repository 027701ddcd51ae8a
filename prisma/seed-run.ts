/** `npm run db:seed`: loads the demo catalog into DATABASE_URL (idempotent). */
import { createDb } from './client';
import { seed } from './seed';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is not set');
  process.exit(1);
}
const db = createDb(url, { poolSize: 1 });
try {
  const { created } = await seed(db);
  console.log(created ? `seeded ${created} demo products` : 'demo catalog already present');
} finally {
  await db.$disconnect();
}
