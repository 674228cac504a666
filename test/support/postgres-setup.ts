// setupFiles of the PostgreSQL pass (vitest.config.ts): once a test file is done (its own afterAll hooks ran first,
// closing its hubs), the databases its hubs used are dropped, so the suite's PostgreSQL holds only the running files'.
import { afterAll } from 'vitest';
import { dropHubDatabases } from './postgres.ts';

afterAll(async () => {
  await dropHubDatabases();
});
