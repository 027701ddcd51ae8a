import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import type { Db } from '../prisma/client';
import type { AppEnv } from './types';

const live = createRoute({
  method: 'get',
  path: '/health/live',
  tags: ['health'],
  summary: 'The process answers',
  responses: { 200: { description: 'alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
});

const Readiness = z
  .object({ status: z.enum(['ready', 'not ready']), checks: z.object({ database: z.enum(['ok', 'down']), temporal: z.enum(['ok', 'down']) }) })
  .openapi('Readiness');

const ready = createRoute({
  method: 'get',
  path: '/health/ready',
  tags: ['health'],
  summary: 'PostgreSQL and Temporal are reachable',
  responses: {
    200: { description: 'ready', content: { 'application/json': { schema: Readiness } } },
    503: { description: 'a dependency is down; checks says which', content: { 'application/json': { schema: Readiness } } },
  },
});

/** How long /health/ready waits for Temporal's answer. */
const READY_TIMEOUT_MS = 2_000;

export function registerHealthRoutes(app: OpenAPIHono<AppEnv>, deps: { db: Db; temporal: Client }): void {
  app.openapi(live, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(ready, async (c) => {
    // the answer says only which dependency is down; why (hosts, ports, driver messages) goes to the log
    const check = async (dependency: string, fn: () => Promise<unknown>): Promise<'ok' | 'down'> => {
      try {
        await fn();
        return 'ok';
      } catch (err) {
        c.get('log').warn({ err, dependency }, 'readiness check failed');
        return 'down';
      }
    };
    const [database, temporal] = await Promise.all([
      check('database', () => deps.db.$queryRaw`SELECT 1`),
      // a deadline on the call itself, not a race: the call (and its retries) ends with the check
      check('temporal', () => deps.temporal.withDeadline(Date.now() + READY_TIMEOUT_MS, () => deps.temporal.workflowService.getSystemInfo({}))),
    ]);
    const body = { checks: { database, temporal } };
    return database === 'ok' && temporal === 'ok' ? c.json({ status: 'ready' as const, ...body }, 200) : c.json({ status: 'not ready' as const, ...body }, 503);
  });
}
