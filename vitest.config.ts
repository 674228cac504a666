import { defineConfig } from 'vitest/config';
import { POSTGRES_PASS } from './test/postgres-pass.ts';

// NODEHUB_TEST_DB picks the passes: sqlite (the default: every file), postgresql (the files of test/postgres-pass.ts,
// each hub on its own PostgreSQL database), or both (`npm test`, comma-separated). `vitest run test/x.test.ts` filters
// within the chosen passes.
const passes = (process.env.NODEHUB_TEST_DB ?? 'sqlite').split(',').map((p) => p.trim());
for (const p of passes) if (p !== 'sqlite' && p !== 'postgresql') throw new Error(`NODEHUB_TEST_DB: sqlite, postgresql or both comma-separated, not ${p}`);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real jupyterhub-singleuser processes, Chromium and hubs. Two files at once leave about a
    // quarter of two cores idle, but three finished no sooner (941 s against 920 s for the whole suite): the rest waits
    // on CPU.
    maxWorkers: 2,
    reporters: ['default'],
    // One throw-away PostgreSQL for the PostgreSQL tests (started only when the run includes one).
    globalSetup: ['test/support/postgres-global.ts'],
    projects: [
      ...(passes.includes('sqlite') ? [{
        extends: true as const,
        test: { name: 'sqlite', include: ['test/**/*.test.ts'], env: { NODEHUB_TEST_DB: 'sqlite' } },
      }] : []),
      ...(passes.includes('postgresql') ? [{
        extends: true as const,
        test: {
          name: 'postgresql', include: POSTGRES_PASS, env: { NODEHUB_TEST_DB: 'postgresql' },
          setupFiles: ['test/support/postgres-setup.ts'],
        },
      }] : []),
    ],
  },
});
