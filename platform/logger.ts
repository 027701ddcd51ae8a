import { createHash } from 'node:crypto';
import pino, { type DestinationStream, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';

/**
 * Field names (case-insensitive) whose values never reach a log line, at any
 * depth of a logged object: credentials, tokens, card data, payment methods.
 */
export const REDACTED_KEYS = [
  'password',
  'passwordHash',
  'newPassword',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'authorization',
  'cookie',
  'set-cookie',
  'x-carrier-signature',
  'secret',
  'jwtSecret',
  'JWT_SECRET',
  'ADMIN_PASSWORD',
  'CARRIER_WEBHOOK_SECRET',
  'cardNumber',
  'card_number',
  'pan',
  'cvc',
  'cvv',
  'expiry',
  'paymentMethod',
  // Temporal SDK trace lines carry raw task tokens and encoded payloads (activity inputs)
  'taskToken',
  'input',
  'jobs',
] as const;
export const CENSOR = '[redacted]';
const SENSITIVE = new Set<string>(REDACTED_KEYS.map((k) => k.toLowerCase()));
const MAX_DEPTH = 8;

/** 13 to 19 digits, optionally grouped by spaces or dashes: what a card number looks like */
const PAN_LIKE = /(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)/g;
function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}
/** Masks every card-number-like run of digits (Luhn-valid) in a string. */
export function maskCardNumbers(text: string): string {
  if (!/\d{4}/.test(text)) return text;
  return text.replace(PAN_LIKE, (m) => (luhn(m.replace(/[ -]/g, '')) ? '[redacted-card]' : m));
}

/** local@domain.tld; not pid@host (a Temporal worker identity) nor user@127.0.0.1 (a database URL) */
const EMAIL_LIKE = /(?<![\w.%+-])(?!\d+@)[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g;
/**
 * Replaces every e-mail address in a string by a short digest of it: the
 * lines about one recipient still group together, and none names a person.
 */
export function maskEmails(text: string): string {
  if (!text.includes('@')) return text;
  return text.replace(EMAIL_LIKE, (m) => `[email:${createHash('sha256').update(m.toLowerCase()).digest('hex').slice(0, 12)}]`);
}

/**
 * A copy of `value` with every sensitive field replaced by CENSOR and every
 * card-number-like string masked, at any depth; `value` itself if nothing
 * needed it (no allocation on the common path). Only plain objects and arrays
 * are walked (errors go through pino's own serializer and maskCardNumbers).
 */
export function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskEmails(maskCardNumbers(value));
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const next = scrub(v, depth + 1);
      if (next !== v) (out ??= [...(value as unknown[])])[i] = next;
    });
    return out ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    const next = SENSITIVE.has(key.toLowerCase()) ? (v === undefined || v === null ? v : CENSOR) : scrub(v, depth + 1);
    if (next !== v) (out ??= { ...(value as Record<string, unknown>) })[key] = next;
  }
  return out ?? value;
}

/**
 * LOG_FORMAT, or its default: human-readable (pino-pretty) only when running
 * in development on a terminal; JSON lines everywhere else (files, pipes,
 * containers, the stack runner's children).
 */
export function resolveLogFormat(
  format: LogFormat | undefined = process.env.LOG_FORMAT as LogFormat | undefined,
  nodeEnv = process.env.NODE_ENV ?? 'development',
  isTty = !!process.stdout.isTTY,
): LogFormat {
  if (format === 'json' || format === 'pretty') return format;
  return nodeEnv === 'development' && isTty ? 'pretty' : 'json';
}

export interface LoggerSettings {
  format?: LogFormat;
  /** where the lines go (tests); default stdout */
  destination?: DestinationStream;
}

/** Pino options shared by every process (exported for tests of the redaction). */
export const loggerOptions = (role: string, level: string): LoggerOptions => ({
  level,
  base: { role, pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: {
    log: (obj) => scrub(obj) as Record<string, unknown>,
  },
  serializers: {
    err: (err: unknown) => (err instanceof Error ? scrub({ ...pino.stdSerializers.err(err) }) : scrub(err)),
  },
  hooks: {
    // the message text too: a card number pasted into a message is masked
    logMethod(args, method) {
      for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = maskEmails(maskCardNumbers(args[i] as string));
      return method.apply(this, args);
    },
  },
});

/**
 * One logger per process with its role bound: JSON lines (or pino-pretty in
 * development on a terminal), secrets and card data redacted.
 */
export function createLogger(role: string, level = process.env.LOG_LEVEL ?? 'info', settings: LoggerSettings = {}) {
  const format = settings.format ?? resolveLogFormat();
  const destination =
    settings.destination ??
    (format === 'pretty'
      ? pretty({ sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,role' })
      : undefined);
  return destination ? pino(loggerOptions(role, level), destination) : pino(loggerOptions(role, level));
}
export type Logger = ReturnType<typeof createLogger>;
