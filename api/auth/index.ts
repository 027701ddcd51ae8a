import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Db } from '../../prisma/client';
import type { AppEnv } from '../types';
import { createAuthHandlers } from './auth.handlers';
import * as routes from './auth.routes';
import type { Tokens } from './tokens';

export function registerAuthRoutes(app: OpenAPIHono<AppEnv>, db: Db, tokens: Tokens): void {
  const h = createAuthHandlers(db, tokens);
  app.openapi(routes.register, h.register);
  app.openapi(routes.login, h.login);
  app.openapi(routes.me, h.me);
}
