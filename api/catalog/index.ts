import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Db } from '../../prisma/client';
import type { AppEnv } from '../types';
import { createCatalogHandlers } from './catalog.handlers';
import * as routes from './catalog.routes';

export function registerCatalogRoutes(app: OpenAPIHono<AppEnv>, db: Db): void {
  const h = createCatalogHandlers(db);
  app.openapi(routes.listProducts, h.listProducts);
  app.openapi(routes.getProduct, h.getProduct);
}
