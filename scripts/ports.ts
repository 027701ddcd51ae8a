import net from 'node:net';

/**
 * Where ports are chosen: below Linux's ephemeral range (32768–60999), so an outgoing connection's local
 * port cannot take one between choosing it and the child binding it; and at most 32767, because Temporal's
 * cluster-membership ports go into cluster_membership.rpc_port, a SMALLINT (above it the server dies at start).
 */
const FIRST_PORT = 20_000;
const LAST_PORT = 32_767;

/** Ports this process has handed out: a port chosen for a child that has not bound it yet is never chosen again. */
const handedOut = new Set<number>();

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = net.createServer().once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });

/** A TCP port nothing listens on right now and this process has not handed out before. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = FIRST_PORT + Math.floor(Math.random() * (LAST_PORT - FIRST_PORT + 1));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port between ${FIRST_PORT} and ${LAST_PORT}`);
}
