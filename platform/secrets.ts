import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The secrets the processes need. There are no defaults in the source: the
 * API and the workers refuse to start without them. `npm start` (any stack
 * started through scripts/stack.ts or the prod-like launcher) is the explicit
 * development mode: it makes each missing one once with a CSPRNG and keeps
 * them in SECRETS_FILE (git-ignored, mode 0600), so they survive restarts and
 * differ per install.
 */
export const SECRET_RULES = {
  /** HS256 key of access tokens */
  JWT_SECRET: { minLength: 32, make: () => randomBytes(32).toString('base64url') },
  /** HMAC-SHA256 key of carrier webhook signatures */
  CARRIER_WEBHOOK_SECRET: { minLength: 32, make: () => randomBytes(32).toString('base64url') },
} as const;
export type SecretName = keyof typeof SECRET_RULES;
export const SECRET_NAMES = Object.keys(SECRET_RULES) as SecretName[];

/** Values once published as defaults in this repository's history: never accepted. */
const PUBLISHED = new Set(['dev-only-jwt-secret-do-not-use-in-production-0000', 'dev-carrier-secret']);

/** Why `value` may not be used as `name`, or undefined when it may. */
export function secretProblem(name: SecretName, value: string | undefined): string | undefined {
  const rule = SECRET_RULES[name];
  if (value === undefined || value === '') {
    return `${name} is not set. \`npm start\` makes one for development; elsewhere set it to at least ${rule.minLength} random characters, e.g. $(openssl rand -base64 32)`;
  }
  if (PUBLISHED.has(value)) return `${name} is a default published in this project's source: anyone can use it. Set a random one.`;
  if (value.length < rule.minLength) return `${name} is ${value.length} characters; it must be at least ${rule.minLength}`;
  if (new Set(value).size < 8) return `${name} repeats too few characters to be random`;
  return undefined;
}

/**
 * The named secrets from `env`, or an exit with status 2 naming each one that
 * is missing or weak (a process must not run on a guessable key).
 */
export function requireSecrets<N extends SecretName>(
  env: Record<string, string | undefined>,
  names: readonly N[],
  payloadKeys?: { NODE_ENV: string; PAYLOAD_CODEC_KEYS?: string },
): Record<N, string> {
  const problems = [...names.map((n) => secretProblem(n, env[n])), payloadKeys && payloadKeysProblem(payloadKeys)].filter((p): p is string => p !== undefined);
  if (problems.length > 0) {
    console.error(`refusing to start:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    process.exit(2);
  }
  return Object.fromEntries(names.map((n) => [n, env[n]!])) as Record<N, string>;
}

/**
 * Temporal payloads carry names, addresses and payment tokens: in production they must be
 * encrypted, so PAYLOAD_CODEC_KEYS is required (its format is checked with the rest of the
 * configuration). In development and tests they may travel in clear, which keeps
 * `temporal workflow query` and tctl readable on one's own machine.
 */
export function payloadKeysProblem(config: { NODE_ENV: string; PAYLOAD_CODEC_KEYS?: string }): string | undefined {
  if (config.NODE_ENV !== 'production' || config.PAYLOAD_CODEC_KEYS) return undefined;
  return `PAYLOAD_CODEC_KEYS is not set, and NODE_ENV=${config.NODE_ENV} may not store personal data in clear in Temporal: set it to <keyId>:<base64 of 32 bytes>, e.g. k1:$(openssl rand -base64 32)`;
}

function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2]!;
  }
  return out;
}

/**
 * Development mode: the secrets kept in `file`, making (and saving) any that
 * are missing. Values already set in `env` win and are not written.
 * Returns only the secrets `env` lacks, to add to the children's environment.
 */
export async function developmentSecrets(file: string, env: Record<string, string | undefined> = process.env): Promise<Partial<Record<SecretName, string>>> {
  const stored: Record<string, string> = await readFile(file, 'utf8').then(parseEnvFile, (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return {};
    throw err;
  });
  const missing = SECRET_NAMES.filter((n) => !env[n]);
  const made = missing.filter((n) => !stored[n]);
  if (made.length > 0) {
    for (const n of made) stored[n] = SECRET_RULES[n].make();
    await mkdir(path.dirname(file), { recursive: true });
    const text = `# Secrets of this development install, made by npm start. Keep private; delete to rotate.\n${Object.entries(stored)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`;
    await writeFile(file, text, { mode: 0o600 });
  }
  // a copy made looser by hand (or by an old umask) is tightened again
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  return Object.fromEntries(missing.map((n) => [n, stored[n]]));
}
