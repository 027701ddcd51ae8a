/**
 * docker-compose.yml cannot run here (no Docker engine), so it is checked
 * statically: it parses, and every app service's command and environment
 * refer to entry points and variables that exist in the code.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema, ROOT } from '../../platform/config';
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

describe('docker-compose.yml', () => {
  it('has the infrastructure and one service per bounded context', () => {
    const names = Object.keys(compose.services);
    for (const n of ['postgres', 'temporal', 'temporal-ui', 'temporal-admin-tools', 'api', 'migrate']) expect(names).toContain(n);
    for (const ctx of boundedContexts) expect(names).toContain(`worker-${ctx}`);
  });

  it.each(appServices)('%s runs an entry point that exists', (_name, service) => {
    const text = (service.command ?? []).join(' ');
    const files = [...text.matchAll(/([\w/-]+\.ts)/g)].map((m) => m[1]!);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(existsSync(path.join(ROOT, f)), f).toBe(true);
    const worker = text.match(/workers\/main\.ts (\w+)/);
    if (worker) expect(boundedContexts).toContain(worker[1]);
  });

  it.each(appServices)('%s sets only variables the code reads', (_name, service) => {
    const known = Object.keys(configSchema.shape);
    for (const key of Object.keys(service.environment ?? {})) expect(known, key).toContain(key);
  });

  it('mounts files that exist in the repo', () => {
    for (const s of Object.values(compose.services)) {
      for (const v of s.volumes ?? []) {
        if (v.startsWith('./')) expect(existsSync(path.join(ROOT, v.split(':')[0]!)), v).toBe(true);
      }
    }
  });

  it('runs in production with its secrets required, and the Web UI decodes payloads through the API on loopback', () => {
    const api = compose.services.api!;
    const env = api.environment ?? {};
    expect(env.NODE_ENV).toBe('production');
    for (const secret of ['JWT_SECRET', 'CARRIER_WEBHOOK_SECRET', 'PAYLOAD_CODEC_KEYS']) expect(env[secret], secret).toMatch(new RegExp(`^\\$\\{${secret}:\\?`));
    const ui = compose.services['temporal-ui']!;
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
