import { afterAll, beforeAll } from 'vitest';

/**
 * What `start` gives, up before the suite's first test and closed after its
 * last: the one place a suite's backend is started and stopped. Read it in
 * hooks and tests; before it is up, reading it throws.
 */
export function perSuite<T extends { close(): Promise<void> }>(start: () => Promise<T>): T {
  let value: T | undefined;
  beforeAll(async () => {
    value = await start();
  });
  afterAll(async () => {
    await value?.close();
  });
  return new Proxy({} as T, {
    get(_target, key) {
      if (!value) throw new Error(`the suite's backend is not up yet (reading ${String(key)})`);
      return value[key as keyof T];
    },
  });
}
