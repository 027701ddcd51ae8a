import pg from 'pg';
import type { Logger } from './logger';

export interface PgListenOptions {
  connectionString: string;
  channel: string;
  /** each NOTIFY on the channel, with its payload */
  onNotify: (payload: string) => void;
  /**
   * After every successful LISTEN, the first one included: notifications sent while this
   * process was not listening are lost, so whoever relies on them should re-read now.
   */
  onListening: () => void;
  log: Logger;
  /** wait before the first retry, doubled per failed attempt (with jitter) up to maxMs */
  backoff?: { initialMs: number; maxMs: number };
  /** shown in pg_stat_activity.application_name */
  applicationName?: string;
}

export interface PgListener {
  /** true while the LISTEN connection is up */
  readonly listening: boolean;
  /** stops reconnecting and closes the connection */
  close(): Promise<void>;
}

export const LISTEN_BACKOFF = { initialMs: 250, maxMs: 10_000 };
/** a connection attempt that hangs (unreachable host) counts as failed after this long */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * One dedicated connection (outside Prisma's pool: LISTEN belongs to a session, and a pooled
 * connection goes back to the pool) that LISTENs on one channel and comes back by itself:
 * a refused connection (database down at start) or a dropped one (restart, pg_terminate_backend,
 * network) is retried with capped exponential backoff, forever, until close().
 */
export function listenPg(opts: PgListenOptions): PgListener {
  const { initialMs, maxMs } = opts.backoff ?? LISTEN_BACKOFF;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let attempt = 0;
  let listening = false;
  let closed = false;

  const connect = async () => {
    timer = undefined;
    if (closed) return;
    // TCP keepalive so a silently dead peer is noticed as an error, not waited on forever
    const c = new pg.Client({ connectionString: opts.connectionString, keepAlive: true, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: opts.applicationName ?? `listen:${opts.channel}` });
    client = c;
    let dropped = false;
    const drop = (err: unknown) => {
      if (dropped) return;
      dropped = true;
      listening = false;
      c.removeAllListeners('notification');
      c.end().catch(() => undefined);
      if (closed) return;
      const delay = Math.round(Math.min(maxMs, initialMs * 2 ** attempt) * (0.5 + Math.random() / 2));
      attempt += 1;
      opts.log.warn({ channel: opts.channel, err: err instanceof Error ? err.message : String(err), attempt, retryInMs: delay }, 'LISTEN connection unavailable; reconnecting');
      timer = setTimeout(() => void connect(), delay);
    };
    c.on('error', drop);
    c.on('end', () => drop(new Error('connection ended')));
    c.on('notification', (msg) => {
      if (msg.channel === opts.channel && msg.payload) opts.onNotify(msg.payload);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${c.escapeIdentifier(opts.channel)}`);
    } catch (err) {
      drop(err);
      return;
    }
    if (closed || dropped) return;
    if (attempt > 0) opts.log.info({ channel: opts.channel, attempts: attempt }, 'LISTEN connection back');
    attempt = 0;
    listening = true;
    opts.onListening();
  };
  void connect();

  return {
    get listening() {
      return listening;
    },
    async close() {
      closed = true;
      listening = false;
      clearTimeout(timer);
      await client?.end().catch(() => undefined);
    },
  };
}
