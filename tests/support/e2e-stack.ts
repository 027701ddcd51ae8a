import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../platform/config';
import { createDb, type Db } from '../../prisma/client';
import { startStack, type Stack, type StackOptions } from '../../scripts/stack';
import { testStackConfig } from './stack-config';

export interface E2eStack {
  stack: Stack;
  config: Config;
  /** a small pool on the stack's database, for assertions */
  db: Db;
  stop(): Promise<void>;
}

/**
 * A whole stack of its own for one end-to-end file, its output in `<dir>/stack.log` (printed
 * path), with a database handle; stop() disconnects, stops everything and removes the folder.
 */
export async function startE2eStack(prefix: string, env: Record<string, string>, entries?: StackOptions['entries'], options: Pick<StackOptions, 'workerMetrics'> = {}): Promise<E2eStack> {
  const { dir, config } = await testStackConfig(prefix);
  const logFile = path.join(dir, 'stack.log');
  const log = createWriteStream(logFile);
  const stack = await startStack({
    config,
    log: (m) => log.write(`[stack] ${m}\n`),
    output: (name, line) => log.write(`${name} | ${line}\n`),
    env,
    entries,
    ...options,
  });
  console.log(`${prefix} stack up; its log: ${logFile}`);
  const db = createDb(stack.databaseUrl, { poolSize: 2 });
  return {
    stack,
    config,
    db,
    stop: async () => {
      await db.$disconnect();
      await stack.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Registers an account over HTTP and logs it in: the user id (the orders' customerId) and a token. */
export async function registerAndLogin(apiUrl: string, email: string, password: string): Promise<{ id: string; token: string }> {
  const post = (route: string) =>
    fetch(`${apiUrl}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  const registered = await post('/api/v1/users/register');
  if (registered.status !== 201) throw new Error(`register ${email}: ${registered.status} ${await registered.text()}`);
  const { id } = (await registered.json()) as { id: string };
  const { accessToken } = (await (await post('/api/v1/users/login')).json()) as { accessToken: string };
  return { id, token: accessToken };
}
