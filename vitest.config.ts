import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real jupyterhub-singleuser processes; two cores do not take more at once.
    maxWorkers: 2,
    reporters: ['default'],
    // One throw-away PostgreSQL for the PostgreSQL tests (started only when the run includes one).
    globalSetup: ['test/support/postgres-global.ts'],
  },
});
