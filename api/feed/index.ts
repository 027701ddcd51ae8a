import type { OpenAPIHono } from '@hono/zod-openapi';
import { serveRoutes } from '../openapi';
import type { AppEnv } from '../types';
import { createFeedHandlers, type FeedDeps } from './feed.handlers';
import * as routes from './feed.routes';

export type { FeedDeps } from './feed.handlers';

/** The order event feed's webhook subscriptions and their deliveries; app.ts guards /api/v1/admin/* with requireAuth + requireAdmin. */
export function registerFeedRoutes(app: OpenAPIHono<AppEnv>, deps: FeedDeps): void {
  serveRoutes(app, routes, createFeedHandlers(deps));
}
