/**
 * The codec endpoint: Temporal's codec-server protocol, so the Web UI and the CLIs
 * (`temporal workflow show --codec-endpoint ... --codec-auth "Bearer <token>"`) show the payloads
 * platform/payload-codec.ts encrypts. POST <any prefix>/decode and /encode take and answer
 * {"payloads":[{"metadata":{"encoding":"<base64>",...},"data":"<base64>"}]} (Payloads as proto JSON).
 *
 * It is served on a port of its own (CODEC_PORT), never on the public API port: it hands out
 * plain personal data. Who may call it:
 *  - a browser page of an allowed origin (CODEC_UI_ORIGINS; in development the local Web UI), which
 *    has no login of its own to pass on. The Origin check keeps every other web page out (their
 *    preflight and their requests are refused); a non-browser client can forge the header, so the
 *    port must be reachable only where the Web UI is (HOST, loopback by default);
 *  - anyone else with an admin's access token (Authorization: Bearer, from the API's login; checked
 *    like the API checks it, revocation included).
 * X-Namespace, when sent, must be the namespace whose keys this process holds.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { z } from 'zod';
import type { Payload } from '@temporalio/common';
import { ErrorCodes } from '../domain/errors';
import type { Config } from '../platform/config';
import { PayloadDecryptionError, type EncryptionCodec } from '../platform/payload-codec';
import type { AuthUser } from './types';
import { errorResponse } from './errors';

/** a decoded history page is far below this; Temporal's own limit per payload is 2 MB */
export const CODEC_BODY_LIMIT_BYTES = 8 * 1024 * 1024;
const MAX_PAYLOADS = 10_000;

export interface CodecServerDeps {
  /** undefined: PAYLOAD_CODEC_KEYS is unset; plain payloads pass, encrypted ones cannot be read */
  codec?: EncryptionCodec;
  namespace: string;
  allowedOrigins: readonly string[];
  /** verifies an access token (throws when invalid) */
  verifyToken: (token: string) => Promise<AuthUser>;
}

/**
 * CODEC_UI_ORIGINS; unset: in development the local Web UI on TEMPORAL_UI_PORT (it has no login to
 * pass on), elsewhere none (only admin tokens) until an operator opts a UI in.
 */
export const codecUiOrigins = (config: Pick<Config, 'CODEC_UI_ORIGINS' | 'TEMPORAL_UI_PORT' | 'NODE_ENV'>): string[] => {
  if (config.CODEC_UI_ORIGINS !== undefined) return config.CODEC_UI_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean);
  if (config.NODE_ENV !== 'development') return [];
  return [`http://127.0.0.1:${config.TEMPORAL_UI_PORT}`, `http://localhost:${config.TEMPORAL_UI_PORT}`];
};

// proto3 JSON writes bytes as base64, standard or URL-safe
const Base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'base64');
const PayloadsJson = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), Base64).optional(), data: Base64.optional() }))
    .max(MAX_PAYLOADS)
    // proto3 JSON leaves an empty list out: the CLI sends {} for an event without payloads
    .default([]),
});

const fromJson = (p: z.infer<typeof PayloadsJson>['payloads'][number]): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

export function createCodecApp({ codec, namespace, allowedOrigins, verifyToken }: CodecServerDeps): Hono {
  const app = new Hono();
  const allowed = new Set(allowedOrigins);

  // another site's page (or a rebound DNS name) never gets in, preflight included
  app.use('*', async (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && !allowed.has(origin)) return errorResponse(c, ErrorCodes.FORBIDDEN, 'this origin may not use the codec endpoint');
    await next();
  });
  app.use(
    '*',
    cors({
      origin: (origin) => (allowed.has(origin) ? origin : null),
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['Authorization', 'Content-Type', 'X-Namespace'],
      credentials: true,
      maxAge: 600,
    }),
  );

  const authorized = async (c: Context): Promise<Response | undefined> => {
    if (c.req.header('origin') !== undefined) return undefined; // an allowed origin (checked above)
    const match = /^Bearer +(\S+)$/i.exec(c.req.header('authorization')?.trim() ?? '');
    if (!match) {
      c.header('WWW-Authenticate', 'Bearer');
      return errorResponse(c, ErrorCodes.UNAUTHENTICATED, "send an admin's access token: Authorization: Bearer <accessToken>");
    }
    let user: AuthUser;
    try {
      user = await verifyToken(match[1]);
    } catch (err) {
      c.header('WWW-Authenticate', 'Bearer error="invalid_token"');
      return errorResponse(c, ErrorCodes.UNAUTHENTICATED, (err as Error).message);
    }
    if (user.role !== 'ADMIN') return errorResponse(c, ErrorCodes.FORBIDDEN, 'admins only');
    return undefined;
  };

  app.post(
    '*',
    bodyLimit({ maxSize: CODEC_BODY_LIMIT_BYTES, onError: (c) => errorResponse(c, ErrorCodes.PAYLOAD_TOO_LARGE, 'request body is too large') }),
    async (c) => {
      const operation = /(?:^|\/)(encode|decode)$/.exec(c.req.path)?.[1];
      if (!operation) return errorResponse(c, ErrorCodes.NOT_FOUND, 'POST .../encode or .../decode');
      const refused = await authorized(c);
      if (refused) return refused;
      const ns = c.req.header('x-namespace');
      // the CLI sends an empty one when no --namespace flag was given
      if (ns && ns !== namespace) return errorResponse(c, ErrorCodes.FORBIDDEN, `this codec holds the keys of namespace "${namespace}" only`);

      let json: unknown;
      try {
        json = await c.req.json();
      } catch {
        return errorResponse(c, ErrorCodes.INVALID_JSON, 'request body is not valid JSON');
      }
      const body = PayloadsJson.safeParse(json);
      if (!body.success) {
        return errorResponse(c, ErrorCodes.VALIDATION_FAILED, 'expected {"payloads":[{"metadata":{...},"data":"<base64>"}]}', {
          fields: body.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        });
      }
      const payloads = body.data.payloads.map(fromJson);
      try {
        const out = !codec ? payloads : operation === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
        return c.json({ payloads: out.map(toJson) });
      } catch (err) {
        if (err instanceof PayloadDecryptionError) return errorResponse(c, ErrorCodes.PAYLOAD_UNDECODABLE, err.message);
        throw err;
      }
    },
  );
  app.all('*', (c) => (c.req.method === 'OPTIONS' ? c.body(null, 204) : errorResponse(c, ErrorCodes.NOT_FOUND, 'POST .../encode or .../decode')));
  app.onError((err, c) => {
    console.error(err);
    return errorResponse(c, ErrorCodes.INTERNAL, 'internal error');
  });
  return app;
}
