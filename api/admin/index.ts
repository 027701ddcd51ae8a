import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import type { Db } from '../../prisma/client';
import type { AppEnv } from '../types';
import { createAdminHandlers } from './admin.handlers';
import * as routes from './admin.routes';
import { registerReturnRoutes } from './returns';

/** Admin-only routes; app.ts guards /api/v1/admin/* with requireAuth + requireAdmin. */
export function registerAdminRoutes(app: OpenAPIHono<AppEnv>, db: Db, temporal: Client): void {
  const h = createAdminHandlers(db);
  app.openapi(routes.createProduct, h.createProduct);
  app.openapi(routes.updateProduct, h.updateProduct);
  app.openapi(routes.setInventory, h.setInventory);
  app.openapi(routes.listAllOrders, h.listAllOrders);
  registerReturnRoutes(app, { db, temporal });
}
