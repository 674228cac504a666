// Size and cost at the scale of a busy ephemeral hub: 100,000 users must not make a page, a start-up or the file slow.
// What is asserted is which statements run and how SQLite plans them; the times are measured in bench/store-scale.ts.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.ts';
import type { Store } from '../src/store/types.ts';
import { recordSql } from './support/sql-recorder.ts';

const userCount = 100_000;
let dir: string;
let file: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nodehub-store-scale-'));
  file = join(dir, 'hub.sqlite');
  const store = await openStore(file);
  await store.tx(async () => {
    for (let i = 0; i < userCount; i++) {
      const u = await store.users.create(`user-${i}`);
      if (i % 1000 === 999) {
        const s = await store.servers.ensure(u.id, '');
        await store.servers.update(s.id, { started: Date.now(), url: `http://127.0.0.1:${10000 + i / 1000}`, state: { pid: i } });
      } else if (i % 10 === 0) {
        await store.servers.ensure(u.id, ''); // a stopped server record, as most users have
      }
    }
  });
  await store.close();
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

// Installed before any store in this file is opened: stores prepare their statements up front.
const sql = recordSql();
afterAll(() => sql.restore());

async function statementsRun<T>(fn: () => Promise<T>): Promise<{ value: T; ran: string[] }> {
  sql.take();
  const value = await fn();
  return { value, ran: sql.take() };
}

const readsUsersOrServers = (sql: string) => /\b(users|servers)\b/.test(sql.replace(/CREATE[\s\S]*$/i, ''));

describe(`a database with ${userCount} users`, () => {
  it('opens without reading the users or servers tables', async () => {
    const { value: store, ran } = await statementsRun(() => openStore(file));
    try {
      expect(ran.filter(readsUsersOrServers)).toEqual([]);
      expect(await store.users.count()).toBe(userCount);
    } finally {
      await store.close();
    }
  });

  it('serves a page of users in two statements whatever its size, the active ones from the started-servers index', async () => {
    const store = await openStore(file);
    const db = new Database(file, { readonly: true });
    // the store's statements have positional ? parameters: any value does for a plan
    const explain = (sql: string) => db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array<number>((sql.match(/\?/g) ?? []).length).fill(0))
      .map((r) => (r as { detail: string }).detail).join(' | ');
    try {
      const one = await statementsRun(() => store.users.page({ offset: 0, limit: 1 }));
      const first = await statementsRun(() => store.users.page({ offset: 0, limit: 200 }));
      expect(first.value.items).toHaveLength(200);
      expect(first.value.items[0]!.name).toBe('user-0');
      expect(first.value.total).toBe(userCount);
      // No per-user look-ups: a page of 200 runs the same statements as a page of 1.
      expect(first.ran).toHaveLength(2);
      expect(first.ran).toEqual(one.ran);

      const active = await statementsRun(() => store.users.page({ offset: 0, limit: 200, state: 'active' }));
      expect(active.value.total).toBe(userCount / 1000);
      expect(active.value.items[0]!.name).toBe('user-999');
      expect(active.ran).toHaveLength(2);
      for (const sql of active.ran) expect(explain(sql)).toMatch(/ix_servers_active/);

      const inactive = await statementsRun(() => store.users.page({ offset: 200, limit: 200, state: 'inactive' }));
      expect(inactive.value.total).toBe(userCount - userCount / 1000);
      expect(inactive.value.items).toHaveLength(200);
      expect(inactive.ran).toHaveLength(2);

      const deep = await statementsRun(() => store.users.page({ offset: userCount - 100, limit: 200 }));
      expect(deep.value.items).toHaveLength(100);
      expect(deep.ran).toEqual(first.ran);

      const restart = await statementsRun(() => store.servers.listActive());
      expect(restart.value).toHaveLength(userCount / 1000);
      expect(restart.value[0]).toMatchObject({ user_name: 'user-999', state: { pid: 999 } });
      expect(restart.ran).toHaveLength(1);
      expect(explain(restart.ran[0]!)).toMatch(/ix_servers_active/);
      expect(explain(restart.ran[0]!)).not.toMatch(/SCAN u\b|SCAN users/);
    } finally {
      db.close();
      await store.close();
    }
  });

  it('plans the per-request look-ups as index reads', () => {
    const db = new Database(file, { readonly: true });
    const plan = (sql: string) => db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all().map((r) => (r as { detail: string }).detail).join(' | ');
    expect(plan("SELECT * FROM api_tokens WHERE hash = 'x'")).toMatch(/SEARCH api_tokens USING INDEX/);
    expect(plan('SELECT * FROM servers WHERE started IS NOT NULL')).toMatch(/ix_servers_active/);
    expect(plan("SELECT * FROM users WHERE cookie_id = 'x'")).toMatch(/SEARCH users USING INDEX/);
    db.close();
  });
});

describe('100,000 visitors of an ephemeral hub', () => {
  it('leave a database of a few MB once culled, and are still counted', async () => {
    const small = join(dir, 'ephemeral.sqlite');
    const store = await openStore(small);
    const now = Date.now();
    const total = 100_000;
    // Batches of 1,000 like a hub culling and recording activity over a day.
    for (let batch = 0; batch < total / 1000; batch++) {
      await store.tx(async () => {
        const ids: number[] = [];
        for (let i = batch * 1000; i < (batch + 1) * 1000; i++) {
          const u = await store.users.create(`visitor-${i}`);
          await store.tokens.create({ user_id: u.id, kind: 'api', token: `visitor-token-${i}-abcdefgh` });
          await store.activity.record(u.name, now - (i % 3) * 3_600_000);
          ids.push(u.id);
        }
        for (const id of ids) await store.users.delete(id);
      });
    }
    expect(await store.users.count()).toBe(0);
    expect(await store.activity.countSince(now - 86_400_000)).toBe(total);
    await store.close();
    const size = statSync(small).size;
    expect(size).toBeLessThan(5 * 1024 * 1024);
    const again = await openStore(small);
    expect(await again.activity.countSince(now - 1_800_000)).toBe(Math.ceil(total / 3));
    await again.close();
  }, 120_000);
});
