import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Db } from '../../prisma/client';
import { serveRoutes } from '../openapi';
import type { SagaClient } from '../orders';
import type { AppEnv } from '../types';
import { createAdminHandlers } from './admin.handlers';
import * as routes from './admin.routes';

/** Admin-only routes; app.ts guards /api/v1/admin/* with requireAuth + requireAdmin. */
export function registerAdminRoutes(app: OpenAPIHono<AppEnv>, db: Db, saga: SagaClient): void {
  serveRoutes(app, routes, createAdminHandlers(db, saga));
}
