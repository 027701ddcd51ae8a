import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import type { Pool } from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { ErrorCodes } from '../../domain/errors';
import type { ApiConfig } from '../../platform/config';
import { ApiError } from '../errors';
import type { AppEnv } from '../types';
import { clientIp } from './rate-limit';

/** Attempts allowed per window; a limit of 0 is off. */
export interface AuthLimitSettings {
  /** login attempts for one account (the normalised e-mail) from one address */
  loginPerAccount: number;
  /** login attempts from one address, whatever the accounts */
  loginPerIp: number;
  loginWindowSeconds: number;
  /** registrations from one address */
  registerPerIp: number;
  registerWindowSeconds: number;
}

export const authLimitSettings = (c: ApiConfig): AuthLimitSettings => ({
  loginPerAccount: c.LOGIN_LIMIT_PER_ACCOUNT,
  loginPerIp: c.LOGIN_LIMIT_PER_IP,
  loginWindowSeconds: c.LOGIN_LIMIT_WINDOW_SECONDS,
  registerPerIp: c.REGISTER_LIMIT_PER_IP,
  registerWindowSeconds: c.REGISTER_LIMIT_WINDOW_SECONDS,
});

/** rate-limiter-flexible's table, created by a migration (prisma/migrations) */
const TABLE = 'rate_limits';

/**
 * Login and registration throttles, keyed by client address and target
 * account, never by the token that came along. With a pg Pool the counters
 * live in PostgreSQL (table rate_limits), so every API process shares them;
 * an in-process counter takes over only while the database cannot be reached
 * (rate-limiter-flexible's insurance limiter). Without a pool (tests) they are
 * per process.
 */
export function createAuthLimits(settings: AuthLimitSettings, pool?: Pool) {
  const limiter = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract | undefined => {
    if (points <= 0) return undefined;
    const memory = new RateLimiterMemory({ keyPrefix, points, duration });
    if (!pool) return memory;
    return new RateLimiterPostgres({
      storeClient: pool,
      storeType: 'pool',
      tableName: TABLE,
      tableCreated: true,
      keyPrefix,
      points,
      duration,
      insuranceLimiter: memory,
    });
  };
  const loginIp = limiter('login_ip', settings.loginPerIp, settings.loginWindowSeconds);
  const loginAccount = limiter('login_account', settings.loginPerAccount, settings.loginWindowSeconds);
  const registerIp = limiter('register_ip', settings.registerPerIp, settings.registerWindowSeconds);

  // a digest of the e-mail: the key fits varchar(255) and no address sits in rate_limits
  const accountKey = (ip: string, email: string) => `${ip}|${createHash('sha256').update(email).digest('hex').slice(0, 32)}`;

  /** Spends one attempt on every limiter; throws RATE_LIMITED (429 with Retry-After) when one is over. */
  async function spend(c: Context<AppEnv>, what: string, attempts: [RateLimiterAbstract | undefined, string][]): Promise<void> {
    const results = await Promise.allSettled(attempts.filter(([l]) => l).map(([l, key]) => l!.consume(key)));
    let waitMs = 0;
    let limit = 0;
    for (const [i, r] of results.entries()) {
      if (r.status === 'fulfilled') continue;
      if (!(r.reason instanceof RateLimiterRes)) throw r.reason;
      if (r.reason.msBeforeNext > waitMs) {
        waitMs = r.reason.msBeforeNext;
        limit = attempts.filter(([l]) => l)[i][0]!.points;
      }
    }
    if (limit === 0) return;
    const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
    c.header('Retry-After', String(retryAfterSeconds));
    throw new ApiError(ErrorCodes.RATE_LIMITED, `too many ${what} attempts; retry in ${retryAfterSeconds}s`, { limit, retryAfterSeconds });
  }

  return {
    /** Before the password is checked: a throttled attempt costs no argon2 hash. */
    login: (c: Context<AppEnv>, email: string) => {
      const ip = clientIp(c);
      return spend(c, 'login', [[loginIp, ip], [loginAccount, accountKey(ip, email)]]);
    },
    /** After a successful login, the account's failed attempts from that address are forgotten. */
    loginSucceeded: async (c: Context<AppEnv>, email: string) => {
      await loginAccount?.delete(accountKey(clientIp(c), email)).catch(() => undefined);
    },
    register: (c: Context<AppEnv>) => spend(c, 'registration', [[registerIp, clientIp(c)]]),
  };
}
export type AuthLimits = ReturnType<typeof createAuthLimits>;
