import http from 'node:http';
import https from 'node:https';
import { outboundAgent, type AllowList } from '../platform/outbound-target';

export type WebhookResult = { ok: true; status: number } | { ok: false; status?: number; error: string };

/** what a receiver's answer may be: enough to log it, never more (a hostile receiver cannot fill memory) */
const MAX_ANSWER_BYTES = 4096;
const USER_AGENT = 'order-fulfilment-webhooks/1';

/**
 * POSTs one signed delivery. 2xx is delivered; anything else (another status, a
 * redirect, which is never followed, a refused or reset connection, no answer
 * within timeoutMs, a target that resolves to a forbidden address) is a failed
 * attempt with a reason an operator can read.
 */
export function postWebhook(url: string, body: string, headers: Record<string, string>, opts: { timeoutMs: number; allow: AllowList }): Promise<WebhookResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: WebhookResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return finish({ ok: false, error: `not a URL: ${url}` });
    }
    const send = target.protocol === 'https:' ? https.request : http.request;
    const req = send(
      target,
      {
        method: 'POST',
        agent: outboundAgent(url, opts.allow),
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': USER_AGENT, ...headers },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < MAX_ANSWER_BYTES) text += chunk.slice(0, MAX_ANSWER_BYTES - text.length);
        });
        res.on('error', (err) => finish({ ok: false, status, error: `answer broken off: ${err.message}` }));
        res.on('end', () => {
          if (status >= 200 && status < 300) finish({ ok: true, status });
          else if (status >= 300 && status < 400) finish({ ok: false, status, error: `HTTP ${status}: redirects are not followed (${res.headers.location ?? 'no location'})` });
          else finish({ ok: false, status, error: `HTTP ${status}${text ? `: ${text.trim().slice(0, 200)}` : ''}` });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, error: err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message }));
    req.end(body);
  });
}
