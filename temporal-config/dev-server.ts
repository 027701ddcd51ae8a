/**
 * What every Temporal dev server of this project is started with — `npm start`
 * and the benchmark (scripts/stack.ts) and the tests' (tests/support/temporal.ts):
 * the frontend features the API relies on (updates, update-with-start), taken
 * from the real servers' dynamic config so both kinds of server agree, and the
 * order's search attributes.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { searchAttributeDefinitions } from './place-order';

const DYNAMIC_CONFIG_FILE = fileURLToPath(new URL('./dynamicconfig.yaml', import.meta.url));

/** `key=value` of each `frontend.*` setting in dynamicconfig.yaml (the API features a client needs; the rest tunes a real cluster). */
export function frontendDynamicConfig(): string[] {
  const settings = parse(readFileSync(DYNAMIC_CONFIG_FILE, 'utf8')) as Record<string, { value: unknown }[]>;
  return Object.entries(settings)
    .filter(([key]) => key.startsWith('frontend.'))
    .map(([key, [first]]) => `${key}=${JSON.stringify(first.value)}`);
}

/** The flags of `temporal server start-dev` every dev server here gets; `extraDynamicConfig` adds `key=value` settings. */
export const devServerFlags = (extraDynamicConfig: readonly string[] = []): string[] => [
  ...[...frontendDynamicConfig(), ...extraDynamicConfig].flatMap((setting) => ['--dynamic-config-value', setting]),
  ...searchAttributeDefinitions.flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
];
