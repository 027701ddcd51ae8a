/**
 * Namespace + custom search attributes on a real Temporal server (the
 * production-like mode), through temporal-config/setup-namespace.sh so that
 * docker compose's admin-tools container and operators run the very same
 * steps. Idempotent. The dev server needs none of this: `start-dev` takes
 * `--namespace` and `--search-attribute` flags.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { searchAttributeDefinitions } from './place-order';

const run = promisify(execFile);

export const SETUP_NAMESPACE_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'setup-namespace.sh');

export interface NamespaceSetup {
  /** the `temporal` CLI binary */
  cli: string;
  address: string;
  namespace: string;
  /** how long closed workflows are kept (a Go duration, e.g. 72h) */
  retention?: string;
  log?: (msg: string) => void;
  /** retried until this long after the server came up (it may still be joining its services) */
  timeoutMs?: number;
}

/**
 * Runs setup-namespace.sh until it succeeds; answers whether it created
 * anything. After a change, the server's services see it at their next
 * namespace cache refresh (system.namespaceCacheRefreshInterval, 2 s by
 * default): wait that long before starting workflows that use the attributes.
 */
export async function ensureNamespace({ cli, address, namespace, retention = '72h', log = () => undefined, timeoutMs = 60_000 }: NamespaceSetup): Promise<{ created: boolean; output: string }> {
  const deadline = Date.now() + timeoutMs;
  const args = searchAttributeDefinitions.map(([name, type]) => `${name}=${type}`);
  const env = { ...process.env, TEMPORAL_CLI: cli, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, TEMPORAL_NAMESPACE_RETENTION: retention };
  // a failed attempt may have created something before it failed (e.g. the
  // namespace, then listing its attributes raced the namespace cache)
  let created = false;
  for (;;) {
    try {
      const { stdout } = await run('sh', [SETUP_NAMESPACE_SCRIPT, ...args], { env });
      for (const line of stdout.trim().split('\n')) log(line);
      return { created: created || /: created/.test(stdout), output: stdout };
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      created ||= /: created/.test(e.stdout ?? '');
      for (const line of (e.stdout ?? '').trim().split('\n')) if (line) log(line);
      if (Date.now() > deadline) throw new Error(`namespace setup on ${address} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
