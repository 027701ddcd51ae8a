// Usage: DATABASE_URL=postgresql://... npx tsx prisma/migrate.ts
import { applyMigrations } from './engine.js';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is not set: export DATABASE_URL=postgresql://user:pass@host:5432/db and retry.');
  process.exit(1);
}

try {
  const { applied } = await applyMigrations(url, (msg) => console.log(`[migrate] ${msg}`));
  console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date; nothing applied.');
} catch (err) {
  console.error('[migrate] failed:', err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
