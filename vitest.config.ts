import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native bridge and child processes want real processes, not threads.
    pool: 'forks',
    globalSetup: ['tests/support/global-setup.ts'],
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // The suites share one machine of 2 cores: run files one at a time so
    // timings stay honest and servers do not starve each other.
    fileParallelism: false,
    reporters: ['default'],
  },
});
