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
import { boundedContexts } from '../../temporal-config/task-queues';

interface Service {
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
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

  it('every depends_on names a service', () => {
    for (const s of Object.values(compose.services)) {
      for (const dep of Object.keys(s.depends_on ?? {})) expect(Object.keys(compose.services)).toContain(dep);
    }
  });
});
