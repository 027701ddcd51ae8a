import pino from 'pino';

/** JSON lines; one child logger per process with its role bound. */
export function createLogger(role: string, level = process.env.LOG_LEVEL ?? 'info') {
  return pino({
    level,
    base: { role, pid: process.pid },
    redact: { paths: ['*.token', '*.password', '*.passwordHash', '*.authorization', '*.cardNumber'], censor: '[redacted]' },
  });
}
export type Logger = ReturnType<typeof createLogger>;
