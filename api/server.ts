/**
 * The HTTP API alone, against an existing database and Temporal:
 *   npx tsx api/server.ts
 */
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { createDb } from '../prisma/client';
import { databaseUrl, loadConfig, temporalAddress } from '../platform/config';
import { createLogger } from '../platform/logger';
import { createApp } from './app';

const config = loadConfig();
const log = createLogger('api', config.LOG_LEVEL);
const db = createDb(databaseUrl(config), { poolSize: config.DB_POOL_SIZE });
// lazy: the API starts (and answers 503 on /health/ready) while Temporal is still coming up
const connection = Connection.lazy({ address: temporalAddress(config) });
const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
const app = createApp({ db, temporal, log, reservationTtlMs: config.RESERVATION_TTL_MS, outcomeWaitMs: config.CHECKOUT_WAIT_MS });

const server = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT }, (info) => {
  log.info({ url: `http://${config.HOST}:${info.port}` }, 'API listening');
});

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'API stopping');
  server.close(async () => {
    await connection.close().catch(() => undefined);
    await db.$disconnect();
    process.exit(0);
  });
  setTimeout(() => process.exit(0), 5_000).unref();
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
