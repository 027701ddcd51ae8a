import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Db } from '../../prisma/client';
import type { AppEnv } from '../types';
import { createCartHandlers } from './cart.handlers';
import * as routes from './cart.routes';

export function registerCartRoutes(app: OpenAPIHono<AppEnv>, db: Db): void {
  const h = createCartHandlers(db);
  app.openapi(routes.getCart, h.getCart);
  app.openapi(routes.addItem, h.addItem);
  app.openapi(routes.setItem, h.setItem);
  app.openapi(routes.removeItem, h.removeItem);
  app.openapi(routes.clearCart, h.clearCart);
}
