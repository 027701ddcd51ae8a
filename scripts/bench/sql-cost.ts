/**
 * What the orders cost PostgreSQL in statements (round trips), counted by the
 * server itself with pg_stat_statements: every session of every process, the
 * workers' and the API's alike, which no client-side counter can see. It needs
 * the library preloaded at server start (startEmbeddedPostgres does that); on a
 * server without it both functions do nothing and the count is unknown.
 *
 * Counted: each top-level statement that completed (BEGIN and COMMIT too,
 * statements a trigger runs are part of the one that fired it); a statement
 * that failed is not counted.
 */
import type { Db } from '../../prisma/client';

/** Whether the view can be read through this client, asked once per client (CREATE EXTENSION is per database). */
const available = new WeakMap<Db, Promise<boolean>>();

function statementsReadable(db: Db): Promise<boolean> {
  let known = available.get(db);
  if (!known) {
    known = (async () => {
      try {
        await db.$executeRawUnsafe('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
        // errors unless the library was preloaded at server start
        await db.$queryRawUnsafe('SELECT 1 FROM pg_stat_statements LIMIT 1');
        return true;
      } catch {
        return false;
      }
    })();
    available.set(db, known);
  }
  return known;
}

/** Statements executed by every session since the last reset (or server start), not counting those that read or reset these statistics; undefined when pg_stat_statements is not loaded. */
export async function statementCount(db: Db): Promise<number | undefined> {
  if (!(await statementsReadable(db))) return undefined;
  const [row] = await db.$queryRaw<{ n: bigint | null }[]>`
    SELECT sum(calls)::bigint AS n FROM pg_stat_statements WHERE query NOT ILIKE '%pg_stat_statements%'`;
  return Number(row?.n ?? 0);
}

/** Starts the count again from zero (pg_stat_statements_reset()); does nothing when pg_stat_statements is not loaded. */
export async function resetStatementCount(db: Db): Promise<void> {
  if (!(await statementsReadable(db))) return;
  await db.$queryRawUnsafe('SELECT pg_stat_statements_reset()');
}
