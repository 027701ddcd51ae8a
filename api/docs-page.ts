import path from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { secureHeaders } from 'hono/secure-headers';
import { PAGE_POLICY, staticFiles, WebBuild, webRoot } from './web';
import type { AppEnv } from './types';

/**
 * /docs: the API reference, drawn from /openapi.json by Scalar's standalone
 * bundle (@scalar/api-reference, maintained, with a request console), which
 * the front end's build copies beside it (web/dist/docs): nothing comes from
 * a CDN, it works offline, and the running API needs no package for it.
 * Chosen over Redoc for its "try it" client and over Swagger UI for its
 * single-file bundle. Its start-up lives in /docs/start.js, not inline, so
 * the page keeps a script policy of 'self'.
 */
const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Order fulfilment API · reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><div id="reference"></div>
<script src="/docs/${WebBuild.docsBundle}"></script>
<script src="/docs/start.js"></script>
</body></html>`;

// no default fonts (they come from Scalar's CDN), no telemetry; every request the page makes goes to this origin
// the method colours darkened to keep 4.5:1 contrast on the light theme (axe-core's colour-contrast rule)
const contrast = '.light-mode { --scalar-color-green: #0f6b38; --scalar-color-blue: #0b57a4; --scalar-color-orange: #8a4500; --scalar-color-yellow: #6e5600; --scalar-color-red: #a3141b; --scalar-color-purple: #6a2c9e; --scalar-color-3: #5c5c5c; }';
const start = `Scalar.createApiReference('#reference', ${JSON.stringify({ url: '/openapi.json', withDefaultFonts: false, telemetry: false, forceDarkModeState: 'light', hideDarkModeToggle: true, customCss: contrast, agent: { disabled: true }, mcp: { disabled: true } })});\n`;

/** The page policy, but Scalar's components set styles at run time, and its icons are data: URLs. */
const docsHeaders = secureHeaders({
  contentSecurityPolicy: { ...PAGE_POLICY, styleSrc: ["'self'", "'unsafe-inline'"], fontSrc: ["'self'", 'data:'] },
  referrerPolicy: 'no-referrer',
  crossOriginEmbedderPolicy: false,
});

export function registerDocsPage(app: OpenAPIHono<AppEnv>): void {
  app.get('/docs', docsHeaders, (c) => c.html(page));
  app.get('/docs/start.js', docsHeaders, (c) => c.body(start, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
  app.get(`/docs/${WebBuild.docsBundle}`, docsHeaders, staticFiles({ root: path.join(webRoot, 'docs'), path: WebBuild.docsBundle }));
}
