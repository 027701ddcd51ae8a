import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../platform/config';

const SECRET_VARIABLES = ['JWT_SECRET', 'CARRIER_WEBHOOK_SECRET', 'PAYLOAD_CODEC_KEYS'];

/** A process as an operator starts it (production), with only the given secrets in its environment. */
function start(entry: string[], secrets: Record<string, string>) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SECRET_VARIABLES.includes(k)));
  // nothing listens on these: the process must stop before it connects to anything
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...entry], {
    cwd: ROOT,
    env: { ...env, ...secrets, DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none', TEMPORAL_ADDRESS: '127.0.0.1:1', PORT: '0', NODE_ENV: 'production' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stderr: r.stderr };
}

const startApi = (secrets: Record<string, string>) => start(['api/server.ts'], secrets);
const GOOD = 'kQ3v9Zp1Lx7Ws2Ny8Rb4Tc6Hd0Fg5Jm-_aB';
const KEYS = `k1:${Buffer.alloc(32, 7).toString('base64')}`;

describe('the API refuses to start on a missing or guessable secret', () => {
  it.each([
    ['no secrets at all', {}, /JWT_SECRET is not set[\s\S]*CARRIER_WEBHOOK_SECRET is not set/],
    ['the once-published JWT default', { JWT_SECRET: 'dev-only-jwt-secret-do-not-use-in-production-0000', CARRIER_WEBHOOK_SECRET: GOOD }, /JWT_SECRET is a default published/],
    ['the once-published carrier default', { JWT_SECRET: GOOD, CARRIER_WEBHOOK_SECRET: 'dev-carrier-secret' }, /CARRIER_WEBHOOK_SECRET is a default published/],
    ['a short JWT secret', { JWT_SECRET: 'short-secret', CARRIER_WEBHOOK_SECRET: GOOD }, /JWT_SECRET is 12 characters/],
  ])('%s: exit 2 naming the variable', (_name, secrets, message) => {
    const { status, stderr } = startApi({ PAYLOAD_CODEC_KEYS: KEYS, ...secrets });
    expect(stderr).toMatch(message);
    expect(status).toBe(2);
  });

  it('outside development, the API and a worker refuse to keep personal data in clear in Temporal', () => {
    for (const entry of [['api/server.ts'], ['workers/main.ts', 'orders']]) {
      const { status, stderr } = start(entry, { JWT_SECRET: GOOD, CARRIER_WEBHOOK_SECRET: GOOD });
      expect(stderr).toMatch(/PAYLOAD_CODEC_KEYS is not set, and NODE_ENV=production may not store personal data in clear/);
      expect(status).toBe(2);
    }
    // a malformed key is refused by the configuration check, naming the entry but never the key
    const bad = start(['workers/main.ts', 'orders'], { PAYLOAD_CODEC_KEYS: 'k1:c2hvcnQ=' });
    expect(bad.stderr).toMatch(/PAYLOAD_CODEC_KEYS.*entry 1/);
    expect(bad.stderr).not.toContain('c2hvcnQ=');
    expect(bad.status).toBe(2);
  });
});
