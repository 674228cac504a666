// /hub/admin on a hub whose database holds 100,000 users: the first page (and the sorted and deeper ones) render with a
// bounded number of statements, each planned as an index read that stops once the page is full, never a scan of every
// user or a sort of them all. What it costs in time is measured by bench/admin-page.ts. On both backends: sqlite's plans
// from EXPLAIN QUERY PLAN, PostgreSQL's from EXPLAIN of each statement with the values it ran with (after ANALYZE, which
// autovacuum runs on a live database after a bulk load like this one).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.ts';
import pg from 'pg';
import { recordPgSql, recordSql } from './support/sql-recorder.ts';
import { hubDbUrl, testOnPostgres } from './support/postgres.ts';
import { startTestHub, type TestHub } from './support/hub.ts';
import { login } from './hub-protocol-support.ts';
import { fillUsers, fillUsersPostgres } from '../bench/lib/admin-fill.ts';

const userCount = 100_000;
let dir: string;
let hub: TestHub;
let cookie: string;
const onPg = testOnPostgres();
// the statements a page ran: sqlite's text, or PostgreSQL's text with its values
const sql = onPg ? recordPgSql() : recordSql();
const textOf = (s: string | { text: string }) => (typeof s === 'string' ? s : s.text);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nodehub-admin-scale-'));
  // the schema first (openStore migrates), then the users: through the store on sqlite, set-based on PostgreSQL
  const store = await openStore(hubDbUrl(dir));
  if (onPg) {
    await store.close();
    await fillUsersPostgres(hubDbUrl(dir), userCount);
    await withPg((c) => c.query('ANALYZE'));
  } else {
    await fillUsers(store, userCount);
  }
  hub = await startTestHub({ Authenticator: { admin_users: ['root'] } }, { dir });
  cookie = await login(hub, 'root');
}, 120_000);

afterAll(async () => {
  sql.restore();
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function withPg<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(hubDbUrl(dir));
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function render(query: string): Promise<{ body: string; ran: Array<string | { text: string; values: unknown[] }> }> {
  sql.take();
  const res = await fetch(`${hub.url}hub/admin${query}`, { headers: { cookie } });
  const body = await res.text();
  expect(res.status).toBe(200);
  return { body, ran: sql.take() };
}

const rowsOf = (body: string) => [...body.matchAll(/<tr data-user="([^"]+)"/g)].map((m) => m[1]);

describe(`/hub/admin with ${userCount} users`, () => {
  it('renders pages with a bounded number of index reads, whatever the page size or depth', async () => {
    const db = onPg ? null : new Database(join(dir, 'nodehub.sqlite'), { readonly: true });
    const pgClient = onPg ? new pg.Client(hubDbUrl(dir)) : null;
    await pgClient?.connect();
    // sqlite: planned with every parameter NULL (the plan depends on the statement's shape, not on the values)
    const sqlitePlan = (s: string) => {
      const stmt = db!.prepare(`EXPLAIN QUERY PLAN ${s}`);
      const named = Object.fromEntries([...s.matchAll(/@(\w+)/g)].map((m) => [m[1], null]));
      const positional = [...s.matchAll(/\?/g)].map(() => null);
      const rows = Object.keys(named).length ? stmt.all(named) : stmt.all(...positional);
      return rows.map((r) => (r as { detail: string }).detail).join(' | ');
    };
    const pgPlan = async (s: { text: string; values: unknown[] }) =>
      (await pgClient!.query({ text: `EXPLAIN ${s.text}`, values: s.values })).rows.map((r) => r['QUERY PLAN']).join(' | ');
    const plan = async (s: string | { text: string; values: unknown[] }) => (typeof s === 'string' ? sqlitePlan(s) : pgPlan(s));
    try {
      const first = await render('');
      expect(rowsOf(first.body)).toHaveLength(50);
      expect(rowsOf(first.body)[0]).toBe('root');
      expect(first.body).toContain('rel="next"');
      const small = await render('?limit=1');
      const big = await render('?limit=500');
      expect(rowsOf(big.body)).toHaveLength(500);
      const byActivity = await render('?sort=last_activity&dir=desc&offset=5000');
      expect(rowsOf(byActivity.body)).toHaveLength(50);
      const last = await render(`?offset=${userCount - 10}`);
      expect(rowsOf(last.body)).toHaveLength(11); // 100,000 users plus root
      expect(last.body).not.toContain('rel="next"');

      // The statements a page runs do not grow with its size: users, their servers, groups and roles are each read
      // once for the page (plus the caller's own look-ups).
      expect(first.ran.length).toBeLessThanOrEqual(12);
      expect(big.ran.map(textOf)).toEqual(first.ran.map(textOf));
      expect(small.ran.length).toBe(first.ran.length);
      for (const s of [...first.ran, ...byActivity.ran]) {
        const text = textOf(s);
        const p = await plan(s);
        if (onPg) {
          // PostgreSQL names a full scan "Seq Scan on <table>"; an index walk that stops is "Index Scan … using".
          expect(p, text).not.toMatch(/Seq Scan on (users|servers)\b/);
          if (/FROM users\b/.test(text)) expect(p, text).not.toMatch(/Sort Key: u\.|Sort Key: users\./);
        } else {
          // A full scan shows as a bare "SCAN <table>"; walking an index in order and stopping is "SCAN x USING INDEX".
          expect(p, text).not.toMatch(/SCAN (u|users|servers|s)(\s*\||$)/);
          // Sorting a handful of rows (one user's roles) is fine; sorting users is not.
          if (/FROM users\b/.test(text)) expect(p, text).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
        }
      }
      const listing = [...first.ran, ...byActivity.ran].filter((s) => /FROM users u WHERE/.test(textOf(s)));
      const plans = await Promise.all(listing.map(plan));
      expect(plans).toEqual(onPg ? [
        expect.stringMatching(/Index Scan using users_name_key on users u/),
        expect.stringMatching(/Index Scan Backward using ix_users_last_activity on users u/),
      ] : [
        expect.stringMatching(/SCAN u USING INDEX sqlite_autoindex_users_1/),
        expect.stringMatching(/SCAN u USING INDEX ix_users_last_activity/),
      ]);
    } finally {
      db?.close();
      await pgClient?.end();
    }
  }, 60_000);

  it('finds users by a part of their name', async () => {
    const found = await render('?q=USER-9999');
    expect(rowsOf(found.body)).toEqual(['user-9999', ...Array.from({ length: 10 }, (_, i) => `user-9999${i}`)]);
  });
});
