/**
 * The compiled build as the image runs it (Dockerfile, docker-compose.yml): `npm run build`, then
 * plain `node dist/...`, with no TypeScript loader and from a directory that is not the repo. Each
 * entry point gets as far as it can without Temporal: the API and a worker load every module and stop
 * at their secrets check; the migrate and seed steps run against a fresh database; the API serves
 * /health/ready from that database, and the storefront and API reference pages; the orders
 * worker's workflows bundle from dist/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from '../../platform/config';
import { ensureDatabase } from '../../platform/embedded-postgres';
import { freePort } from '../support/ports';
import { until } from '../support/until';

const DIST = path.join(ROOT, 'dist');
const GOOD = 'kQ3v9Zp1Lx7Ws2Ny8Rb4Tc6Hd0Fg5Jm-_aB';
const KEYS = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
/** nothing listens on these */
const NOWHERE = { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none', TEMPORAL_ADDRESS: '127.0.0.1:1' };

/** This process's environment less secrets, loaders and settings a developer may have exported. */
function baseEnv(): NodeJS.ProcessEnv {
  const drop = /^(JWT_SECRET|CARRIER_WEBHOOK_SECRET|PAYLOAD_CODEC_KEYS|NODE_OPTIONS|DATABASE_URL|TEMPORAL_ADDRESS|PORT|HOST|.*_PORT)$/;
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !drop.test(k)));
}

/** `node dist/<entry>` in production, run from a scratch directory as the image's /app would be. */
function runDist(entry: string, args: string[], env: Record<string, string>, timeout = 30_000) {
  const r = spawnSync(process.execPath, [path.join(DIST, entry), ...args], {
    cwd: os.tmpdir(),
    env: { ...baseEnv(), NODE_ENV: 'production', ...env },
    encoding: 'utf8',
    timeout,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error };
}

/** What the image runs: compose's commands and the worker's workflows. */
const ENTRIES = ['api/server.js', 'workers/main.js', 'workflows/index.js', 'prisma/migrate.js', 'prisma/seed-run.js'];

/**
 * Every module reachable from the entries by static or dynamic import (and require.resolve, as the
 * workers name their workflow modules): the dist/ files, and the packages by name.
 */
function importGraph(): { files: Set<string>; packages: Map<string, string>; unresolved: string[] } {
  const files = new Set<string>();
  const packages = new Map<string, string>(); // package -> a file importing it
  const unresolved: string[] = [];
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    const specifiers = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
    for (const m of text.matchAll(/require\.resolve\(\s*['"]([^'"]+)['"]\s*\)/g)) specifiers.push(m[1]);
    for (const spec of specifiers) {
      if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(file), spec);
        if (existsSync(target) && target.endsWith('.js')) visit(target);
        else unresolved.push(`${path.relative(DIST, file)}: ${spec}`);
      } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!packages.has(name)) packages.set(name, path.relative(DIST, file));
      }
    }
  };
  for (const entry of ENTRIES) visit(path.join(DIST, entry));
  return { files, packages, unresolved };
}

let buildMs = 0;

beforeAll(() => {
  const started = Date.now();
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, env: baseEnv(), encoding: 'utf8', timeout: 240_000 });
  buildMs = Date.now() - started;
  if (r.status !== 0) throw new Error(`npm run build failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}\n${r.stderr}`);
}, 300_000);

describe('the compiled build (npm run build, node dist/...)', () => {
  it('emits JavaScript for every entry point the image runs, with Prisma migrations beside it', () => {
    console.log(`[compiled-build] npm run build took ${(buildMs / 1000).toFixed(1)} s`);
    for (const entry of [...ENTRIES, 'prisma/generated/client.js']) expect(existsSync(path.join(DIST, entry)), entry).toBe(true);
    expect(readdirSync(path.join(DIST, 'prisma', 'migrations')).sort()).toEqual(readdirSync(path.join(ROOT, 'prisma', 'migrations')).sort());
    // nothing from the tests is compiled into what ships
    expect(existsSync(path.join(DIST, 'tests'))).toBe(false);
  });

  it('imports only dist/ files that exist and packages the runtime stage installs (production dependencies)', () => {
    const { files, packages, unresolved } = importGraph();
    // every relative import carries its .js (Node ESM resolves no extensionless or directory imports)
    expect(unresolved).toEqual([]);
    expect(files.size).toBeGreaterThan(50);
    // `npm ci --omit=dev` (Dockerfile): a package imported but declared only for development would be missing
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const notProduction = [...packages].filter(([name]) => !(name in pkg.dependencies)).map(([name, from]) => `${name} (imported by ${from})`);
    expect(notProduction).toEqual([]);
    for (const dev of ['tsx', 'typescript']) expect(packages.has(dev), dev).toBe(false);
  });

  it('the API loads and refuses to start without its secrets (exit 2, naming them)', () => {
    const { status, stderr, error } = runDist('api/server.js', [], { ...NOWHERE, PAYLOAD_CODEC_KEYS: KEYS, PORT: '0' });
    expect(error).toBeUndefined();
    expect(stderr).toMatch(/JWT_SECRET is not set/);
    expect(stderr).toMatch(/CARRIER_WEBHOOK_SECRET is not set/);
    expect(stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|ERR_UNSUPPORTED_DIR_IMPORT|ERR_UNKNOWN_FILE_EXTENSION/);
    expect(status).toBe(2);
  });

  it('a worker loads and refuses to keep personal data in clear in production (exit 2)', () => {
    const { status, stderr, error } = runDist('workers/main.js', ['orders'], { ...NOWHERE });
    expect(error).toBeUndefined();
    expect(stderr).toMatch(/PAYLOAD_CODEC_KEYS is not set/);
    expect(stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|ERR_UNSUPPORTED_DIR_IMPORT|ERR_UNKNOWN_FILE_EXTENSION/);
    expect(status).toBe(2);
  });

  it("the orders worker's workflows (and the tracing interceptors) bundle from dist/", () => {
    // what Worker.create does with workflowsPath, in a plain Node process
    const script = `
      import { bundleWorkflowCode } from '@temporalio/worker';
      const { workflowsPath } = await import(${JSON.stringify(path.join(DIST, 'workers', 'contexts.js'))});
      const { workflowTracingModule } = await import(${JSON.stringify(path.join(DIST, 'workers', 'observability.js'))});
      const warnings = [];
      const note = (message, meta) => warnings.push(message + (meta ? ' ' + JSON.stringify(meta) : ''));
      const logger = { log() {}, trace() {}, debug() {}, info() {}, warn: note, error: note };
      const { code } = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: [workflowTracingModule], logger });
      console.log(JSON.stringify({ workflowsPath, bytes: code.length, warnings }));
    `;
    // cwd: the repo, so that the script's own bare import finds node_modules as dist/'s imports do
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: baseEnv(), encoding: 'utf8', timeout: 90_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { workflowsPath: string; bytes: number; warnings: string[] };
    expect(out.workflowsPath).toBe(path.join(DIST, 'workflows', 'index.js'));
    expect(out.bytes).toBeGreaterThan(100_000);
    expect(out.warnings).toEqual([]);
  }, 120_000);

  it('migrate and seed run from dist/ against a fresh database, and the API serves /health/ready from it', async () => {
    const url = await ensureDatabase(inject('pgAdminUrl'), `compiled_${randomBytes(4).toString('hex')}`);

    const migrate = runDist('prisma/migrate.js', [], { DATABASE_URL: url }, 60_000);
    expect(migrate.stderr).toBe('');
    expect(migrate.status).toBe(0);
    const migrations = readdirSync(path.join(ROOT, 'prisma', 'migrations')).filter((m) => m !== 'migration_lock.toml');
    expect(migrate.stdout).toContain(`Applied: ${migrations.sort().join(', ')}`);
    expect(runDist('prisma/migrate.js', [], { DATABASE_URL: url }).stdout).toContain('Database is up to date');

    const seed = runDist('prisma/seed-run.js', [], { DATABASE_URL: url });
    expect(seed.stderr).toBe('');
    expect(seed.status).toBe(0);
    expect(seed.stdout).toMatch(/seeded \d+ demo products/);

    // the API itself: Hono, the generated Prisma client, LISTEN; Temporal is down, so not ready
    const port = await freePort();
    const api = spawn(process.execPath, [path.join(DIST, 'api', 'server.js')], {
      cwd: os.tmpdir(),
      env: {
        ...baseEnv(),
        NODE_ENV: 'production',
        DATABASE_URL: url,
        TEMPORAL_ADDRESS: NOWHERE.TEMPORAL_ADDRESS,
        HOST: '127.0.0.1',
        PORT: String(port),
        API_METRICS_PORT: '0',
        CODEC_PORT: '0',
        JWT_SECRET: GOOD,
        CARRIER_WEBHOOK_SECRET: GOOD,
        PAYLOAD_CODEC_KEYS: KEYS,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    api.stdout.on('data', (d: Buffer) => (output += d.toString()));
    api.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => api.once('exit', (code) => resolve(code)));
    try {
      const live = await until(
        'the compiled API to answer /health/live',
        () => fetch(`http://127.0.0.1:${port}/health/live`).then((r) => (r.ok ? r : undefined), () => undefined),
        20_000,
      );
      expect(await live.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'not ready', checks: { database: 'ok', temporal: 'down' } });
      // the storefront and the API reference come with the build (dist/web/dist), no source or package needed
      for (const [path, type] of [['/', 'text/html'], ['/assets/app.js', 'javascript'], ['/docs/scalar.js', 'javascript']]) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        expect(res.status, path).toBe(200);
        expect(res.headers.get('content-type'), path).toContain(type);
      }
    } catch (err) {
      throw new Error(`${(err as Error).message}\napi output:\n${output}`, { cause: err });
    } finally {
      api.kill('SIGTERM');
    }
    expect(await exited, output).toBe(0);
  }, 120_000);
});
