import { mkdtemp, readFile, rm, stat, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { developmentSecrets, SECRET_NAMES, secretProblem } from '../../platform/secrets';

const dirs: string[] = [];
const tmpFile = async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'secrets-'));
  dirs.push(dir);
  return path.join(dir, '.data', 'secrets.env');
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('secrets', () => {
  it('refuses a missing, short, published or repetitive secret, naming the variable', () => {
    expect(secretProblem('JWT_SECRET', undefined)).toMatch(/JWT_SECRET is not set/);
    expect(secretProblem('JWT_SECRET', '')).toMatch(/JWT_SECRET is not set/);
    expect(secretProblem('JWT_SECRET', 'x'.repeat(31))).toMatch(/JWT_SECRET is 31 characters; it must be at least 32/);
    expect(secretProblem('JWT_SECRET', 'dev-only-jwt-secret-do-not-use-in-production-0000')).toMatch(/JWT_SECRET is a default published/);
    expect(secretProblem('CARRIER_WEBHOOK_SECRET', 'dev-carrier-secret')).toMatch(/CARRIER_WEBHOOK_SECRET is a default published/);
    expect(secretProblem('CARRIER_WEBHOOK_SECRET', 'ab'.repeat(20))).toMatch(/too few characters/);
    expect(secretProblem('JWT_SECRET', 'kQ3v9Zp1Lx7Ws2Ny8Rb4Tc6Hd0Fg5Jm-_aB')).toBeUndefined();
  });

  it('development mode makes each secret once, keeps it at mode 0600 and returns the same on restart', async () => {
    const file = await tmpFile();
    const first = await developmentSecrets(file, {});
    expect(Object.keys(first).sort()).toEqual([...SECRET_NAMES].sort());
    for (const n of SECRET_NAMES) expect(secretProblem(n, first[n])).toBeUndefined();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await developmentSecrets(file, {})).toEqual(first); // a restart finds them
    const other = await developmentSecrets(await tmpFile(), {});
    for (const n of SECRET_NAMES) expect(other[n]).not.toBe(first[n]); // another install, other keys
  });

  it('a secret given in the environment wins and is not written; a loosened file is tightened', async () => {
    const file = await tmpFile();
    const given = 'given-by-the-operator-7Hq2Lm9Xc4Vb8Nz1';
    const made = await developmentSecrets(file, { JWT_SECRET: given });
    expect(made.JWT_SECRET).toBeUndefined();
    expect(made.CARRIER_WEBHOOK_SECRET).toBeDefined();
    expect(await readFile(file, 'utf8')).not.toContain(given);
    await chmod(file, 0o644);
    await developmentSecrets(file, {});
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});
