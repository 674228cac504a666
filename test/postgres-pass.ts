// The files the suite's PostgreSQL pass runs again with every hub on a PostgreSQL database of its own
// (NODEHUB_TEST_DB=postgresql, the `postgresql` project of vitest.config.ts; docs/database.md, "Tests").
// The rule: every file that starts a hub through the test support (support/hub.ts, hub-process.ts, k8s-hub.ts, e2e.ts,
// isolation.ts …), whose hubs then keep their data where the pass says (support/postgres.ts hubDbUrl). Found by what
// the file imports, so a new hub-level file is in both passes without anyone listing it. Left out, each for a reason:
// unit files (no hub, no database), and the files below.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const STARTS_A_HUB = /from '\.\/support\/(hub|hub-process|k8s-hub|e2e|isolation|front-visitor|scripted-visitor)(\.ts)?'/;

/** Files that start hubs but are about sqlite itself, or about a deployment whose database is sqlite by design. */
export const SQLITE_ONLY: Record<string, string> = {
  'readme-start': "the README's run command and its defaults, whose database is a sqlite file",
  'deploy-image': "the image's own hub, with its sqlite file on the image's volume",
  'deploy-hpc-example': "the HPC example's config files, which name sqlite files",
  'security-isolation': "the sqlite file's permissions against the users' servers",
  // these open PostgreSQL themselves, in both passes
  'hub-postgres': 'runs on PostgreSQL in both passes',
  'hub-postgres-restart': 'runs on PostgreSQL in both passes',
};

const dir = new URL('.', import.meta.url).pathname;

export const POSTGRES_PASS: string[] = readdirSync(dir)
  .filter((f) => f.endsWith('.test.ts') && !Object.hasOwn(SQLITE_ONLY, f.slice(0, -'.test.ts'.length)))
  .filter((f) => STARTS_A_HUB.test(readFileSync(join(dir, f), 'utf8')))
  .sort()
  .map((f) => `test/${f}`);
