import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { FeedEnvelope } from '../../domain/feed';

/** How the receiver answers: 'ok' 204, a status to answer with, 'hang' (never answers), or 'down' (port closed: connections refused). */
export type ReceiverMode = 'ok' | 'down' | 'hang' | number;

export interface Received {
  envelope: FeedEnvelope;
  body: string;
  headers: Record<string, string>;
  /** what this receiver answered */
  answered: number | 'none';
  at: number;
}

/**
 * A real HTTP receiver on 127.0.0.1 that records every delivery and checks its Standard Webhooks
 * signature with the secrets it was told (a delivery without a valid one fails the test that
 * reads `invalid`). Going 'down' closes the port; coming back reopens the same port.
 */
export async function startWebhookReceiver(initial: ReceiverMode = 'ok') {
  let mode: ReceiverMode = initial;
  const secrets: string[] = [];
  const received: Received[] = [];
  const invalid: { body: string; reason: string }[] = [];
  const hanging = new Set<http.ServerResponse>();
  let port = 0;
  let server: http.Server | undefined;

  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const valid = secrets.some((s) => {
        try {
          new Webhook(s).verify(body, headers);
          return true;
        } catch {
          return false;
        }
      });
      if (!valid) invalid.push({ body, reason: secrets.length ? 'no secret verifies the signature' : 'the receiver knows no secret' });
      const answered: Received['answered'] = mode === 'hang' ? 'none' : mode === 'ok' ? 204 : typeof mode === 'number' ? mode : 'none';
      received.push({ envelope: JSON.parse(body) as FeedEnvelope, body, headers, answered, at: Date.now() });
      if (mode === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      res.writeHead(answered === 'none' ? 500 : answered).end();
    });
  };

  const open = () =>
    new Promise<void>((resolve, reject) => {
      const s = http.createServer(handler);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const close = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    for (const res of hanging) res.destroy();
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  mode = initial === 'down' ? 'ok' : initial;
  await open();
  if (initial === 'down') await close();

  return {
    get url() {
      return `http://127.0.0.1:${port}/hooks/orders`;
    },
    received,
    invalid,
    /** the signing secret(s) a delivery may verify with */
    trust(secret: string) {
      secrets.push(secret);
    },
    async set(next: ReceiverMode) {
      if (next === 'down') {
        await close();
      } else if (!server) {
        mode = next;
        await open();
      }
      mode = next;
    },
    /** the deliveries of one order, in arrival order */
    ofOrder(orderId: string) {
      return received.filter((r) => r.envelope.orderId === orderId);
    },
    async stop() {
      await close();
    },
  };
}
export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;

/**
 * What "in order, at least once" means for one order's deliveries: the first arrivals of its
 * sequence numbers are 1, 2, 3... with no gap and no step back, and any repeat is the same body.
 * Returns the problems found (empty when it holds), and the sequences that arrived.
 */
export function orderProblems(deliveries: Received[]): { problems: string[]; sequences: number[] } {
  const problems: string[] = [];
  const firstBody = new Map<number, string>();
  const sequences: number[] = [];
  for (const d of deliveries) {
    const seq = d.envelope.sequence;
    const seen = firstBody.get(seq);
    if (seen !== undefined) {
      if (seen !== d.body) problems.push(`sequence ${seq} arrived twice with different bodies`);
      continue;
    }
    const last = sequences.at(-1) ?? 0;
    if (seq < last) problems.push(`sequence ${seq} arrived after ${last}`);
    firstBody.set(seq, d.body);
    sequences.push(seq);
  }
  return { problems, sequences };
}
