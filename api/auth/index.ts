import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Db } from '../../prisma/client';
import { serveRoutes } from '../openapi';
import type { AppEnv } from '../types';
import { createAuthHandlers } from './auth.handlers';
import * as routes from './auth.routes';
import type { Tokens } from './tokens';
import type { AuthLimits } from '../middleware/auth-limits';

export function registerAuthRoutes(app: OpenAPIHono<AppEnv>, db: Db, tokens: Tokens, limits?: AuthLimits): void {
  serveRoutes(app, routes, createAuthHandlers(db, tokens, limits));
}
