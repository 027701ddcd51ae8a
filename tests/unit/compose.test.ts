/**
 * docker-compose.yml and the Dockerfile cannot run here (no Docker engine), so
 * they are checked statically: compose parses, every app service's command and
 * environment refer to compiled entry points and variables that exist in the
 * code, and the image runs dist/ without TypeScript or tsx.
 * (tests/integration/compiled-build.test.ts runs those compiled entry points.)
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, stackConfig } from '../../platform/config';
import { boundedContexts } from '../../temporal-config/place-order';

interface Service {
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, unknown>;
}
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const appServices = Object.entries(compose.services).filter(([, s]) => s.build);

/** what `npm run build` compiles (tsconfig.build.json's include): dist/<dir>/... comes from <dir>/... */
const buildConfig = ts.readConfigFile(path.join(ROOT, 'tsconfig.build.json'), (file) => ts.sys.readFile(file));
const compiledDirs = (buildConfig.config as { include: string[] }).include;

/** dist/x/y.js in a command: x/y.ts exists and is compiled by the build */
function expectCompiledEntry(jsPath: string): void {
  expect(jsPath, 'a compiled entry point under dist/').toMatch(/^dist\/.+\.js$/);
  const source = jsPath.replace(/^dist\//, '').replace(/\.js$/, '.ts');
  expect(existsSync(path.join(ROOT, source)), source).toBe(true);
  expect(compiledDirs, `${source} is outside tsconfig.build.json's include`).toContain(source.split('/')[0]);
}

/** the Dockerfile's stages, each from its FROM line on (comments left out) */
const stages = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')
  .split('\n')
  .filter((line) => !line.trimStart().startsWith('#'))
  .join('\n')
  .split(/^(?=FROM\s)/m)
  .filter((stage) => stage.startsWith('FROM'));
const runtimeStage = stages.at(-1) ?? '';

describe('docker-compose.yml', () => {
  it('has the infrastructure and one service per bounded context', () => {
    const names = Object.keys(compose.services);
    for (const n of ['postgres', 'temporal', 'temporal-ui', 'temporal-admin-tools', 'api', 'migrate']) expect(names).toContain(n);
    for (const ctx of boundedContexts) expect(names).toContain(`worker-${ctx}`);
  });

  it.each(appServices)('%s runs a compiled entry point of the image, not TypeScript through tsx', (_name, service) => {
    const text = (service.command ?? []).join(' ');
    expect(text).not.toMatch(/\btsx\b|--import|--loader|\.ts\b/);
    const files = [...text.matchAll(/(?:^|[\s"'])(dist\/[\w/.-]+\.js)/g)].map((m) => m[1]);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expectCompiledEntry(f);
    const worker = text.match(/dist\/workers\/main\.js (\S+)/);
    if (worker) expect(boundedContexts).toContain(worker[1]);
  });

  it.each(appServices)('%s sets only variables the code reads', (_name, service) => {
    const known = Object.keys(stackConfig.shape);
    for (const key of Object.keys(service.environment ?? {})) expect(known, key).toContain(key);
  });

  it('mounts files that exist in the repo', () => {
    for (const s of Object.values(compose.services)) {
      for (const v of s.volumes ?? []) {
        if (v.startsWith('./')) expect(existsSync(path.join(ROOT, v.split(':')[0])), v).toBe(true);
      }
    }
  });

  it('runs in production with its secrets required, and the Web UI decodes payloads through the API on loopback', () => {
    const api = compose.services.api;
    const env = api.environment ?? {};
    expect(env.NODE_ENV).toBe('production');
    for (const secret of ['JWT_SECRET', 'CARRIER_WEBHOOK_SECRET', 'PAYLOAD_CODEC_KEYS']) expect(env[secret], secret).toMatch(new RegExp(`^\\$\\{${secret}:\\?`));
    const ui = compose.services['temporal-ui'];
    const uiHostPort = ui.ports!.find((p) => p.endsWith(':8080'))!.split(':')[0];
    expect(env.CODEC_UI_ORIGINS).toBe(`http://localhost:${uiHostPort}`);
    expect(ui.environment!.TEMPORAL_CODEC_ENDPOINT).toBe(`http://localhost:${env.CODEC_PORT}`);
    expect(api.ports).toContain(`127.0.0.1:${env.CODEC_PORT}:${env.CODEC_PORT}`);
  });

  it('every depends_on names a service', () => {
    for (const s of Object.values(compose.services)) {
      for (const dep of Object.keys(s.depends_on ?? {})) expect(Object.keys(compose.services)).toContain(dep);
    }
  });
});

describe('Dockerfile', () => {
  it('builds dist/ in a stage with the dev dependencies', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((stage) => /^FROM\s+\S+\s+AS\s+build\b/im.test(stage));
    expect(build, 'a stage named build').toBeDefined();
    expect(build).toMatch(/^RUN npm ci\b(?!.*--omit=dev)/m);
    expect(build).toMatch(/^RUN npm run build\b/m);
  });

  it('runs the compiled API by default, with production dependencies and dist/ only: no TypeScript, no tsx', () => {
    const cmd = runtimeStage.match(/^CMD\s+(\[.*\])\s*$/m);
    expect(cmd, 'the runtime stage has an exec-form CMD').not.toBeNull();
    const argv = JSON.parse(cmd?.[1] ?? '[]') as string[];
    expect(argv.join(' ')).not.toMatch(/\btsx\b|--import|--loader|\.ts\b/);
    expect(argv.slice(0, 2)).toEqual(['node', 'dist/api/server.js']);
    expectCompiledEntry(argv[1]);

    // --legacy-peer-deps: else npm installs @prisma/client's optional peers (prisma CLI, TypeScript), dev dependencies here
    expect(runtimeStage).toMatch(/^RUN npm ci --omit=dev --legacy-peer-deps\b/m);
    // nothing but package.json, the lockfile and the build stage's dist/ comes into the runtime stage
    const copies = runtimeStage.match(/^COPY .*$/gm) ?? [];
    expect(copies).toContain('COPY --from=build /app/dist ./dist');
    for (const copy of copies) expect(copy).toMatch(/^COPY (package\.json package-lock\.json \.\/|--from=build \/app\/dist \.\/dist)$/);
    expect(runtimeStage).not.toMatch(/\btsx\b|\btsc\b|typescript/);
    // what runs or compiles TypeScript is a dev dependency, so --omit=dev leaves it out of the image
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    for (const dev of ['tsx', 'typescript', 'tsc-alias']) {
      expect(Object.keys(pkg.dependencies), dev).not.toContain(dev);
      expect(Object.keys(pkg.devDependencies), dev).toContain(dev);
    }
  });

  it('leaves local state, secrets and build output out of the build context', () => {
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', '.data', '.tools', 'prisma/generated', '.env']) expect(ignored, entry).toContain(entry);
  });
});
