import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Db } from '../../prisma/client';
import type { AppEnv } from '../types';
import { createAuthHandlers } from './auth.handlers';
import * as routes from './auth.routes';
import type { Tokens } from './tokens';
import type { AuthLimits } from '../middleware/auth-limits';

export function registerAuthRoutes(app: OpenAPIHono<AppEnv>, db: Db, tokens: Tokens, limits?: AuthLimits): void {
  const h = createAuthHandlers(db, tokens, limits);
  app.openapi(routes.register, h.register);
  app.openapi(routes.login, h.login);
  app.openapi(routes.me, h.me);
  app.openapi(routes.logout, h.logout);
  app.openapi(routes.changePassword, h.changePassword);
}
