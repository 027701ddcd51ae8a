import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { ErrorCodes } from '../../domain/errors';
import { errorResponse } from '../errors';
import type { AppEnv } from '../types';

export interface RateLimitOptions {
  /** requests per window; 0 turns limiting off */
  limit: number;
  windowMs?: number;
  now?: () => number;
}

/** The socket's address; behind a proxy, put the limit in the proxy instead. */
export function clientIp(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // in-process requests (tests) have no socket
  }
}

/**
 * Fixed-window limit per user (per IP when anonymous). The counters live in
 * this API process's memory: with N API processes a client gets up to N times
 * the limit, and a restart resets them. It guards against a runaway client
 * and costs no database write per request; what an attacker profits from
 * (password guesses, sign-ups) has its own limits, keyed by address and
 * account and shared through PostgreSQL (auth-limits.ts).
 */
export function rateLimit({ limit, windowMs = 60_000, now = Date.now }: RateLimitOptions) {
  const windows = new Map<string, { start: number; count: number }>();
  let sweptAt = now();
  return createMiddleware<AppEnv>(async (c, next) => {
    if (limit <= 0) return next();
    const t = now();
    if (t - sweptAt > windowMs) {
      for (const [key, w] of windows) if (t - w.start >= windowMs) windows.delete(key);
      sweptAt = t;
    }
    const user = c.get('user');
    const key = user ? `user:${user.id}` : `ip:${clientIp(c)}`;
    let w = windows.get(key);
    if (!w || t - w.start >= windowMs) {
      w = { start: t, count: 0 };
      windows.set(key, w);
    }
    w.count += 1;
    const resetSeconds = Math.max(1, Math.ceil((w.start + windowMs - t) / 1000));
    c.header('RateLimit-Limit', String(limit));
    c.header('RateLimit-Remaining', String(Math.max(0, limit - w.count)));
    c.header('RateLimit-Reset', String(resetSeconds));
    if (w.count > limit) {
      c.header('Retry-After', String(resetSeconds));
      return errorResponse(c, ErrorCodes.RATE_LIMITED, `more than ${limit} requests per minute; retry in ${resetSeconds}s`, { limit, retryAfterSeconds: resetSeconds });
    }
    await next();
  });
}
