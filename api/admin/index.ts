import type { OpenAPIHono } from '@hono/zod-openapi';
import { serveRoutes } from '../openapi';
import type { AppEnv } from '../types';
import { createAdminHandlers, type AdminDeps } from './admin.handlers';
import * as routes from './admin.routes';

/** Admin-only routes; app.ts guards /api/v1/admin/* with requireAuth + requireAdmin. */
export function registerAdminRoutes(app: OpenAPIHono<AppEnv>, deps: AdminDeps): void {
  serveRoutes(app, routes, createAdminHandlers(deps));
}
