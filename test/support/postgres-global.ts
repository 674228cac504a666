// vitest globalSetup: one PostgreSQL server for the run, started only when the run includes a PostgreSQL test (the
// files named below, or any file of the PostgreSQL pass), stopped at the end. Its socket directory reaches the test
// workers through the environment.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startPostgres } from './postgres.ts';

const PG_TESTS = /^(store-contract|hub-postgres.*)\.test\.ts$/;

export default function setup(): (() => void) | undefined {
  // one server for the run, whichever project asks first
  if (process.env.NODEHUB_TEST_PG_DIR) return undefined;
  const pass = (process.env.NODEHUB_TEST_DB ?? '').split(',').includes('postgresql');
  const all = readdirSync(join(import.meta.dirname, '..')).filter((f) => f.endsWith('.test.ts')).map((f) => `test/${f}`);
  const pgFiles = all.filter((f) => PG_TESTS.test(f.slice('test/'.length)));
  // `vitest run a.test.ts b` filters by file name; words that match no test file are option values, not filters
  const matches = (filter: string, f: string) => f.includes(filter) || filter.endsWith(f);
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-') && all.some((f) => matches(a, f)));
  if (!pass && filters.length && !pgFiles.some((f) => filters.some((flt) => matches(flt, f)))) return undefined;
  const server = startPostgres();
  process.env.NODEHUB_TEST_PG_DIR = server.dir;
  return () => server.stop();
}
