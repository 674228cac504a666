// A hub database of many users for the admin page's scale test and bench: user-0 … user-N, each seen at a different
// time, one in ten with a server record (one in a thousand started), one in a hundred in a group. Closes the store.
// The started servers' pids are made up, with a start time no process has: a hub opening the database must never take
// whatever process now has such a pid for a server (and stop its process group), as one did to a storm's servers.
import pg from 'pg';
import type { Store } from '../../src/store/types.ts';

export async function fillUsers(store: Store, count: number): Promise<void> {
  try {
    // batches of 5,000 users per transaction: one transaction per user would cost a commit each on PostgreSQL
    const group = await store.groups.create('cohort');
    const now = Date.now();
    for (let from = 0; from < count; from += 5000) {
      await store.tx(async (s) => {
        const members: number[] = [];
        for (let i = from; i < Math.min(count, from + 5000); i++) {
          const u = await s.users.create(`user-${i}`);
          await s.users.touch(u.id, now - i * 1000);
          if (i % 1000 === 999) {
            const rec = await s.servers.ensure(u.id, '');
            await s.servers.update(rec.id, { started: now, url: `http://127.0.0.1:${10000 + i / 1000}`, state: { pid: i, start_time: 0 } });
          } else if (i % 10 === 0) {
            await s.servers.ensure(u.id, '');
          }
          if (i % 100 === 0) members.push(u.id);
        }
        await s.groups.addUsers(group.id, members);
      });
    }
  } finally {
    await store.close();
  }
}

/**
 * The same users, servers and group on a migrated PostgreSQL database in a few set-based statements: through the
 * store, each of the ~230,000 statements is a round trip (half a minute on a busy machine; sqlite answers in-process).
 */
export async function fillUsersPostgres(url: string, count: number): Promise<void> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    const now = Date.now();
    const i = "(substr(u.name, 6)::bigint)";
    await c.query('BEGIN');
    await c.query(`INSERT INTO users (name, admin, created, last_activity, cookie_id)
      SELECT 'user-' || n, 0, $1::bigint, $1::bigint - n * 1000, md5(random()::text || n)
      FROM generate_series(0, $2::bigint - 1) AS n`, [now, count]);
    await c.query(`INSERT INTO servers (user_id, name) SELECT u.id, '' FROM users u
      WHERE u.name LIKE 'user-%' AND ${i} % 10 = 0 AND ${i} % 1000 <> 999`);
    await c.query(`INSERT INTO servers (user_id, name, started, url, state) SELECT u.id, '', $1::bigint,
      'http://127.0.0.1:' || (10000 + ${i} / 1000.0)::float8::text, '{"pid":' || ${i} || ',"start_time":0}'
      FROM users u WHERE u.name LIKE 'user-%' AND ${i} % 1000 = 999`, [now]);
    const group = await c.query<{ id: number }>(`INSERT INTO groups (name) VALUES ('cohort') RETURNING id`);
    await c.query(`INSERT INTO user_group_map (group_id, user_id) SELECT $1::bigint, u.id FROM users u
      WHERE u.name LIKE 'user-%' AND ${i} % 100 = 0`, [group.rows[0]!.id]);
    await c.query('COMMIT');
  } finally {
    await c.end();
  }
}
