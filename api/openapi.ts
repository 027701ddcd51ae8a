import type { OpenAPIHono, z } from '@hono/zod-openapi';
import { ErrorSchema } from './schemas';
import type { AppEnv } from './types';

export const json = <T extends z.ZodTypeAny>(schema: T) => ({ 'application/json': { schema } });
export const errorContent = json(ErrorSchema);

const meaning: Record<number, string> = {
  400: 'invalid request: VALIDATION_FAILED (details.fields names each bad field) or INVALID_JSON',
  401: 'UNAUTHENTICATED: missing, malformed, forged or expired bearer token',
  402: 'PAYMENT_DECLINED: details.reason says why',
  403: 'FORBIDDEN: admins only',
  404: 'not found',
  409: 'conflict with the current state',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE: send application/json',
  422: 'a business rule refused the request; the code names the rule',
  429: 'RATE_LIMITED: wait Retry-After seconds',
};

/**
 * Error responses of a route, each with the one error shape. Every route can
 * be rate limited (429) and fail on a dependency (default: 5xx), so those are
 * always declared.
 */
export const errors = (...statuses: number[]) => ({
  ...Object.fromEntries([...statuses, 429].map((s) => [s, { description: meaning[s] ?? 'error', content: errorContent }])),
  default: { description: 'DEPENDENCY_UNAVAILABLE (503, with Retry-After) or INTERNAL (500)', content: errorContent },
});

/** Statuses every route with a JSON body can answer besides its own. */
export const bodyErrors = [400, 413, 415] as const;

export const bearer = [{ bearerAuth: [] }];

export function registerDocument(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'accessToken from POST /api/v1/users/login',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Order fulfilment API',
      version: '0.2.0',
      description:
        'Accounts, catalog, cart, checkout and orders; each order runs as a durable Temporal saga. ' +
        'Every error has the shape {code, message, details?, requestId}.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'accounts' },
      { name: 'catalog' },
      { name: 'cart' },
      { name: 'checkout' },
      { name: 'orders' },
      { name: 'admin' },
      { name: 'health' },
    ],
  });
}
