import path from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { serveStatic } from '@hono/node-server/serve-static';
import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from './types';

/** Where scripts/build-web.ts writes the front end, relative to the repository root, and the API reference's renderer in its docs/ folder. */
export const WebBuild = { dir: path.join('web', 'dist'), docsBundle: 'scalar.js' } as const;

/** The built front end beside this module (api/ in the repository, dist/api/ in a build). */
export const webRoot = path.resolve(import.meta.dirname, '..', WebBuild.dir);

/**
 * The page's policy: its own script and style sheet only. No inline script
 * or style, no other origin (no CDN, no web font), not framed, forms post
 * only here; connections (fetch, EventSource) to this origin alone.
 */
export const PAGE_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/**
 * serveStatic, made at the first request: it checks its folder when made, and
 * the app is also built before the front end is (scripts/build-web.ts reads
 * the API's document from it), where that check would only print noise.
 */
export const staticFiles = (options: Parameters<typeof serveStatic<AppEnv>>[0]): MiddlewareHandler<AppEnv> => {
  let serve: MiddlewareHandler<AppEnv> | undefined;
  return (c, next) => (serve ??= serveStatic<AppEnv>(options))(c, next);
};

const pageHeaders = secureHeaders({ contentSecurityPolicy: PAGE_POLICY, referrerPolicy: 'no-referrer', crossOriginEmbedderPolicy: false });

/**
 * The storefront and operator console: one HTML document at `/` whose routes
 * live in the URL's fragment (#/orders/…), so the server keeps no list of the
 * client's routes; its script and style sheet under /assets/.
 */
export function registerWebRoutes(app: OpenAPIHono<AppEnv>): void {
  const assets = staticFiles({ root: webRoot });
  app.get('/', pageHeaders, staticFiles({ root: webRoot, path: 'index.html' }));
  app.get('/assets/:file', pageHeaders, async (c, next) => {
    // long-cached would need hashed names; the build is small, so revalidate each load
    c.header('Cache-Control', 'no-cache');
    return assets(c, next);
  });
}
