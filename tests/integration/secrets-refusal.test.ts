import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../platform/config';

/** The API process as an operator starts it, with only the given secrets in its environment. */
function startApi(secrets: Record<string, string>) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'JWT_SECRET' && k !== 'CARRIER_WEBHOOK_SECRET'));
  // nothing listens on these: the process must stop before it connects to anything
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'api/server.ts'], {
    cwd: ROOT,
    env: { ...env, ...secrets, DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none', TEMPORAL_ADDRESS: '127.0.0.1:1', PORT: '0', NODE_ENV: 'production' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stderr: r.stderr };
}

const GOOD = 'kQ3v9Zp1Lx7Ws2Ny8Rb4Tc6Hd0Fg5Jm-_aB';

describe('the API refuses to start on a missing or guessable secret', () => {
  it.each([
    ['no secrets at all', {}, /JWT_SECRET is not set[\s\S]*CARRIER_WEBHOOK_SECRET is not set/],
    ['the once-published JWT default', { JWT_SECRET: 'dev-only-jwt-secret-do-not-use-in-production-0000', CARRIER_WEBHOOK_SECRET: GOOD }, /JWT_SECRET is a default published/],
    ['the once-published carrier default', { JWT_SECRET: GOOD, CARRIER_WEBHOOK_SECRET: 'dev-carrier-secret' }, /CARRIER_WEBHOOK_SECRET is a default published/],
    ['a short JWT secret', { JWT_SECRET: 'short-secret', CARRIER_WEBHOOK_SECRET: GOOD }, /JWT_SECRET is 12 characters/],
  ])('%s: exit 2 naming the variable', (_name, secrets, message) => {
    const { status, stderr } = startApi(secrets);
    expect(stderr).toMatch(message);
    expect(status).toBe(2);
  });
});
