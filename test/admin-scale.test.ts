// /hub/admin on a hub whose database holds 100,000 users: the first page (and the sorted and deeper ones) render with a
// bounded number of statements, each planned as an index read that stops once the page is full, never a scan of every
// user or a sort of them all. What it costs in time is measured by bench/admin-page.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.ts';
import { recordSql } from './support/sql-recorder.ts';
import { startTestHub, type TestHub } from './support/hub.ts';
import { login } from './hub-protocol-support.ts';
import { fillUsers } from '../bench/lib/admin-fill.ts';

const userCount = 100_000;
let dir: string;
let hub: TestHub;
let cookie: string;
const sql = recordSql();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nodehub-admin-scale-'));
  await fillUsers(await openStore(`sqlite:///${join(dir, 'nodehub.sqlite')}`), userCount);
  hub = await startTestHub({ Authenticator: { admin_users: ['root'] } }, { dir });
  cookie = await login(hub, 'root');
}, 120_000);

afterAll(async () => {
  sql.restore();
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function render(query: string): Promise<{ body: string; ran: string[] }> {
  sql.take();
  const res = await fetch(`${hub.url}hub/admin${query}`, { headers: { cookie } });
  const body = await res.text();
  expect(res.status).toBe(200);
  return { body, ran: sql.take() };
}

const rowsOf = (body: string) => [...body.matchAll(/<tr data-user="([^"]+)"/g)].map((m) => m[1]);

describe(`/hub/admin with ${userCount} users`, () => {
  it('renders pages with a bounded number of index reads, whatever the page size or depth', async () => {
    const db = new Database(join(dir, 'nodehub.sqlite'), { readonly: true });
    // Planned with every parameter NULL: the plan depends on the statement's shape, not on the values.
    const plan = (s: string) => {
      const stmt = db.prepare(`EXPLAIN QUERY PLAN ${s}`);
      const named = Object.fromEntries([...s.matchAll(/@(\w+)/g)].map((m) => [m[1], null]));
      const positional = [...s.matchAll(/\?/g)].map(() => null);
      const rows = Object.keys(named).length ? stmt.all(named) : stmt.all(...positional);
      return rows.map((r) => (r as { detail: string }).detail).join(' | ');
    };
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
      expect(big.ran).toEqual(first.ran);
      expect(small.ran.length).toBe(first.ran.length);
      for (const s of [...first.ran, ...byActivity.ran]) {
        const p = plan(s);
        // A full scan shows as a bare "SCAN <table>"; walking an index in order and stopping is "SCAN x USING INDEX".
        expect(p, s).not.toMatch(/SCAN (u|users|servers|s)(\s*\||$)/);
        // Sorting a handful of rows (one user's roles) is fine; sorting users is not.
        if (/FROM users\b/.test(s)) expect(p, s).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
      }
      const listing = [...first.ran, ...byActivity.ran].filter((s) => /FROM users u WHERE/.test(s));
      expect(listing.map(plan)).toEqual([
        expect.stringMatching(/SCAN u USING INDEX sqlite_autoindex_users_1/),
        expect.stringMatching(/SCAN u USING INDEX ix_users_last_activity/),
      ]);
    } finally {
      db.close();
    }
  }, 60_000);

  it('finds users by a part of their name', async () => {
    const found = await render('?q=USER-9999');
    expect(rowsOf(found.body)).toEqual(['user-9999', ...Array.from({ length: 10 }, (_, i) => `user-9999${i}`)]);
  });
});
