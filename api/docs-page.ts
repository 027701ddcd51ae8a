import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './types';

/**
 * /docs: a small page that renders /openapi.json and can try GET routes.
 * Self-contained on purpose: no CDN is reachable offline, and the packaged
 * Swagger UI (swagger-ui-dist) pulls in an install-time telemetry dependency
 * and ~10 MB of assets for what this page does in a few lines.
 */
const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Order fulfilment API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:980px;padding:1rem;color:#222}
h1{font-size:1.4rem} h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #ddd}
details{border:1px solid #ddd;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}
summary{cursor:pointer} code,pre{font:12px ui-monospace,monospace} pre{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:24rem}
.m{display:inline-block;min-width:4.2rem;font-weight:600;text-transform:uppercase}
.get{color:#0a6} .post{color:#06c} .put{color:#a60} .patch{color:#a0a} .delete{color:#c33}
label{display:block;margin:.2rem 0} input{font:inherit;padding:2px 4px;min-width:18rem}
#auth{background:#f3f7ff;padding:.5rem;border-radius:6px}
</style></head><body>
<h1 id="title">API</h1><p id="desc"></p>
<div id="auth"><label>Bearer token (from POST /api/v1/users/login):
<input id="token" placeholder="eyJhbGciOi..." autocomplete="off"></label></div>
<div id="ops">loading /openapi.json ...</div>
<script>
const el = (tag, props = {}, ...kids) => { const e = Object.assign(document.createElement(tag), props); e.append(...kids); return e; };
const token = document.getElementById('token');
token.value = sessionStorage.getItem('token') || '';
token.oninput = () => sessionStorage.setItem('token', token.value.trim());
function tryIt(path, op) {
  const params = (op.parameters || []).filter((p) => p.in === 'path' || p.in === 'query');
  const inputs = params.map((p) => [p, el('input', { placeholder: p.in + (p.required ? ' (required)' : '') })]);
  const out = el('pre', { textContent: '' });
  const go = el('button', { textContent: 'Send GET', type: 'button' });
  go.onclick = async () => {
    let url = path; const q = new URLSearchParams();
    for (const [p, i] of inputs) {
      if (!i.value) continue;
      if (p.in === 'path') url = url.replace('{' + p.name + '}', encodeURIComponent(i.value)); else q.set(p.name, i.value);
    }
    if (q.toString()) url += '?' + q;
    const headers = token.value ? { authorization: 'Bearer ' + token.value.trim() } : {};
    out.textContent = 'GET ' + url + ' ...';
    try {
      const res = await fetch(url, { headers });
      const type = res.headers.get('content-type') || '';
      if (type.includes('event-stream')) { out.textContent = res.status + ' (event stream; use curl -N to follow it)'; res.body?.cancel(); return; }
      const text = await res.text();
      let shown = text; try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch {}
      out.textContent = res.status + ' ' + res.statusText + '\\n' + shown;
    } catch (e) { out.textContent = String(e); }
  };
  return el('div', {}, ...inputs.map(([p, i]) => el('label', {}, p.name + ' ', i)), go, out);
}
fetch('/openapi.json').then((r) => r.json()).then((doc) => {
  document.getElementById('title').textContent = doc.info.title + ' ' + doc.info.version;
  document.getElementById('desc').textContent = doc.info.description || '';
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) {
    const tag = (op.tags && op.tags[0]) || 'other';
    if (!byTag.has(tag)) byTag.set(tag, []);
    byTag.get(tag).push([method, path, op]);
  }
  const root = document.getElementById('ops'); root.textContent = '';
  for (const [tag, ops] of byTag) {
    root.append(el('h2', { textContent: tag }));
    for (const [method, path, op] of ops) {
      const head = el('summary', {}, el('span', { className: 'm ' + method, textContent: method }), el('code', { textContent: path }),
        ' ' + (op.security ? '🔒 ' : '') + (op.summary || ''));
      const body = el('div');
      if (op.description) body.append(el('p', { textContent: op.description }));
      const statuses = Object.entries(op.responses || {}).map(([s, r]) => s + ': ' + r.description).join('\\n');
      body.append(el('pre', { textContent: statuses }));
      if (method === 'get') body.append(tryIt(path, op));
      root.append(el('details', {}, head, body));
    }
  }
}).catch((e) => { document.getElementById('ops').textContent = 'could not load /openapi.json: ' + e; });
</script></body></html>`;

export function registerDocsPage(app: OpenAPIHono<AppEnv>): void {
  app.get('/docs', (c) => c.html(page));
}
