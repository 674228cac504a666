// Benchmark: sqlite and PostgreSQL side by side on a hub whose database holds 100,000 users: start-up (startHub until
// it serves, in this process) and the first GET /hub/api/users page (200 users, admin token, timed from the client).
// PostgreSQL is the throw-away server the tests use (initdb + pg_ctl as nobody, unix socket, fsync off: a lower bound
// on a networked database's cost, whose round trips add on top). Users are inserted in bulk with SQL, the same rows on
// both; no server is running (adoption costs the same on both and is measured elsewhere).
//
//   node_modules/.bin/node bench/db-compare.ts [--rounds N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase, openStore, parseDbUrl } from '../src/store/index.ts';
import { startTestHub } from '../test/support/hub.ts';
import { createDatabase, startPostgres } from '../test/support/postgres.ts';
import { formatMs, summarize } from './lib/stats.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);
const userCount = 100_000;

async function fillSqlite(url: string): Promise<void> {
  await (await openStore(url)).close();
  const db = openDatabase(url);
  db.exec(`WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < ${userCount - 1})
    INSERT INTO users (name, admin, created, last_activity, cookie_id)
    SELECT 'user-' || i, 0, 1700000000000 + i, 1700000000000 + i * 1000, lower(hex(randomblob(16))) FROM g`);
  db.close();
}

async function fillPostgres(url: string): Promise<void> {
  await (await openStore(url)).close();
  const loc = parseDbUrl(url);
  if (loc.kind !== 'postgres') throw new Error('not postgres');
  const c = new pg.Client({ host: loc.host, user: loc.user, database: loc.database });
  await c.connect();
  await c.query(`INSERT INTO users (name, admin, created, last_activity, cookie_id)
    SELECT 'user-' || i, 0, 1700000000000 + i, 1700000000000 + i * 1000, md5(i::text || random()::text)
    FROM generate_series(0, ${userCount - 1}) i`);
  await c.query('ANALYZE');
  await c.end();
}

async function measure(dbUrl: string, dir: string): Promise<{ startup: number[]; page: number[] }> {
  const startup: number[] = [];
  const page: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    const hub = await startTestHub({ JupyterHub: { db_url: dbUrl, log_level: 'error' } }, { dir });
    await hub.running.hub.ready;
    startup.push(performance.now() - t);
    try {
      const t2 = performance.now();
      const res = await hub.api('/users?limit=200');
      const body = (await res.json()) as unknown[];
      page.push(performance.now() - t2);
      if (res.status !== 200 || body.length !== 200) throw new Error(`GET /users answered ${res.status}`);
    } finally {
      await hub.close();
    }
  }
  return { startup, page };
}

const server = startPostgres();
process.env.NODEHUB_TEST_PG_DIR = server.dir;
const dir = mkdtempSync(join(tmpdir(), 'nodehub-bench-db-'));
try {
  const sqliteUrl = `sqlite:///${join(dir, 'nodehub.sqlite')}`;
  const pgUrl = await createDatabase('bench');
  await fillSqlite(sqliteUrl);
  await fillPostgres(pgUrl);
  const lite = await measure(sqliteUrl, dir);
  const post = await measure(pgUrl, dir);
  const lines = [
    `| ${userCount.toLocaleString('en')} users, ${rounds} rounds, median (range) | sqlite | PostgreSQL | PostgreSQL / sqlite |`,
    '|---|--:|--:|--:|',
  ];
  for (const [label, a, b] of [['start-up until it serves', lite.startup, post.startup], ['first GET /hub/api/users (200 users)', lite.page, post.page]] as const) {
    const sa = summarize([...a]);
    const sb = summarize([...b]);
    lines.push(`| ${label} | ${formatMs(sa.median)} (${formatMs(sa.min)}–${formatMs(sa.max)}) | ${formatMs(sb.median)} (${formatMs(sb.min)}–${formatMs(sb.max)}) | ${(sb.median / sa.median).toFixed(2)} |`);
  }
  console.log(lines.join('\n'));
} finally {
  rmSync(dir, { recursive: true, force: true });
  server.stop();
}
