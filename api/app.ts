import { randomUUID } from 'node:crypto';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import { bodyLimit } from 'hono/body-limit';
import { ErrorCodes } from '../domain/errors';
import type { Db } from '../prisma/client';
import type { Logger } from '../platform/logger';
import { errorResponse, onError } from './errors';
import { registerOrderRoutes, type OrderDeps } from './orders';
import { ProductSchema } from './schemas';
import type { AppEnv } from './types';

export interface AppDeps {
  db: Db;
  temporal: Client;
  log: Logger;
  outcomeWaitMs?: number;
  reservationTtlMs?: number;
  maxBodyBytes?: number;
}

/** The whole HTTP surface, built from its dependencies so tests run it in-process. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const fields = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
        return errorResponse(c, ErrorCodes.VALIDATION_FAILED, `invalid request: ${fields.map((f) => f.path || '(body)').join(', ')}`, { fields });
      }
    },
  });

  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id') ?? randomUUID();
    c.set('requestId', requestId);
    c.set('log', deps.log.child({ requestId }));
    c.header('X-Request-Id', requestId);
    const started = performance.now();
    await next();
    c.get('log').info({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) }, 'request');
  });
  app.use('*', bodyLimit({ maxSize: deps.maxBodyBytes ?? 64 * 1024, onError: (c) => errorResponse(c, ErrorCodes.PAYLOAD_TOO_LARGE, 'request body is too large') }));
  app.use('/api/*', async (c, next) => {
    const hasBody = c.req.header('content-length') !== '0' && (c.req.header('content-length') || c.req.header('transfer-encoding'));
    if (['POST', 'PUT', 'PATCH'].includes(c.req.method) && hasBody && !/^application\/(.+\+)?json\b/i.test(c.req.header('content-type') ?? '')) {
      return errorResponse(c, ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'send the body as application/json');
    }
    await next();
  });
  app.onError(onError);
  app.notFound((c) => errorResponse(c, ErrorCodes.NOT_FOUND, `no route for ${c.req.method} ${c.req.path}`));

  app.get('/health/live', (c) => c.json({ status: 'ok' }));
  app.get('/health/ready', async (c) => {
    const check = async (fn: () => Promise<unknown>) => {
      try {
        await fn();
        return 'ok';
      } catch (err) {
        return `unavailable: ${(err as Error).message.split('\n')[0]}`;
      }
    };
    const [database, temporal] = await Promise.all([
      check(() => deps.db.$queryRaw`SELECT 1`),
      check(() =>
        Promise.race([
          deps.temporal.workflowService.getSystemInfo({}),
          new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 2s')), 2000).unref()),
        ]),
      ),
    ]);
    const ready = database === 'ok' && temporal === 'ok';
    return c.json({ status: ready ? 'ready' : 'not ready', checks: { database, temporal } }, ready ? 200 : 503);
  });

  const listProducts = createRoute({
    method: 'get',
    path: '/api/v1/products',
    tags: ['catalog'],
    summary: 'Products for sale with price and available stock',
    responses: { 200: { description: 'products', content: { 'application/json': { schema: z.object({ items: z.array(ProductSchema) }) } } } },
  });
  app.openapi(listProducts, async (c) => {
    const products = await deps.db.product.findMany({ where: { active: true }, include: { stock: true }, orderBy: { id: 'asc' } });
    return c.json(
      {
        items: products.map((p) => ({
          id: p.id,
          sku: p.sku,
          name: p.name,
          description: p.description,
          category: p.category,
          price: { amount: p.priceAmount, currency: p.currency },
          available: p.stock?.available ?? 0,
          active: p.active,
        })),
      },
      200,
    );
  });

  const orderDeps: OrderDeps = {
    db: deps.db,
    temporal: deps.temporal,
    outcomeWaitMs: deps.outcomeWaitMs ?? 10_000,
    reservationTtlMs: deps.reservationTtlMs ?? 15 * 60_000,
  };
  registerOrderRoutes(app, orderDeps);

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Order fulfilment API', version: '0.1.0', description: 'Checkout and orders, run as durable Temporal sagas.' },
  });
  return app;
}
