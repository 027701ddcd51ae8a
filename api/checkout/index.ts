import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from '../../platform/logger';
import type { OrderDeps } from '../orders';
import type { AppEnv } from '../types';
import { createCheckoutHandler } from './checkout.handlers';
import * as routes from './checkout.routes';

export function registerCheckoutRoutes(app: OpenAPIHono<AppEnv>, deps: OrderDeps, log: Logger): void {
  app.openapi(routes.checkout, createCheckoutHandler(deps, log));
}
