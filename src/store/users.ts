// The users table: look-ups by name, id and login-cookie id, and the paginated listing behind GET /hub/api/users.
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Store, UserPageQuery, UserRecord, UserState } from './types.ts';
import { type Db, fromJson, toJson } from './db.ts';
import { adminUsersPage } from './admin-users.ts';

interface UserRow {
  id: number;
  name: string;
  admin: number;
  created: number;
  last_activity: number | null;
  cookie_id: string;
  auth_state: string | null;
  encrypted_auth_state: string | null;
}

function toRecord(row: UserRow): UserRecord {
  return { ...row, admin: row.admin === 1, auth_state: fromJson(row.auth_state, null) };
}

function newCookieId(): string {
  return randomUUID().replaceAll('-', '');
}

// Active and ready are driven from the partial index of started servers, so their cost follows the number of active
// servers, not of users; inactive walks users in id order and stops once the page is full.
const stateCondition: Record<UserState, string> = {
  active: 'u.id IN (SELECT user_id FROM servers WHERE started IS NOT NULL)',
  ready: 'u.id IN (SELECT user_id FROM servers WHERE started IS NOT NULL AND url IS NOT NULL)',
  inactive: 'NOT EXISTS (SELECT 1 FROM servers s WHERE s.user_id = u.id AND s.started IS NOT NULL)',
};

function variantKey(state: UserState | undefined, byName: boolean, byNames: boolean): string {
  return `${state ?? 'any'}:${byName ? 1 : 0}:${byNames ? 1 : 0}`;
}

/** LIKE pattern for a literal substring: % and _ in the filter must not act as wildcards. */
export function likeSubstring(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** (user_id, name) rows, ordered by user, as a map of each user's names: the shape of the batched per-page look-ups. */
export function groupByUser(rows: readonly { user_id: number; name: string }[]): Map<number, string[]> {
  const byUser = new Map<number, string[]>();
  for (const { user_id, name } of rows) {
    const names = byUser.get(user_id);
    if (names) names.push(name);
    else byUser.set(user_id, [name]);
  }
  return byUser;
}

export function checkPage(q: { offset: number; limit: number }): void {
  if (!Number.isInteger(q.offset) || q.offset < 0) throw new Error(`offset must be a non-negative integer, got ${q.offset}`);
  if (!Number.isInteger(q.limit) || q.limit < 0) throw new Error(`limit must be a non-negative integer, got ${q.limit}`);
}

export function usersRepo(db: Db): Store['users'] {
  const byName = db.prepare<[string], UserRow>('SELECT * FROM users WHERE name = ?');
  const byId = db.prepare<[number], UserRow>('SELECT * FROM users WHERE id = ?');
  const byCookie = db.prepare<[string], UserRow>('SELECT * FROM users WHERE cookie_id = ?');
  const insert = db.prepare<[string, number, number, string], UserRow>(
    'INSERT INTO users (name, admin, created, cookie_id) VALUES (?, ?, ?, ?) RETURNING *',
  );
  // One statement for any subset of fields; a rename also replaces cookie_id so existing login cookies stop working.
  const update = db.prepare<[Record<string, unknown>], UserRow>(`
    UPDATE users SET
      cookie_id = CASE WHEN @set_name AND @name <> name THEN @cookie_id ELSE cookie_id END,
      name = CASE WHEN @set_name THEN @name ELSE name END,
      admin = CASE WHEN @set_admin THEN @admin ELSE admin END,
      auth_state = CASE WHEN @set_auth_state THEN @auth_state ELSE auth_state END
    WHERE id = @id RETURNING *`);
  const touch = db.prepare<[number, number, number]>(
    'UPDATE users SET last_activity = ? WHERE id = ? AND (last_activity IS NULL OR last_activity < ?)',
  );
  const setEncrypted = db.prepare<[string | null, number]>('UPDATE users SET encrypted_auth_state = ? WHERE id = ?');
  const remove = db.prepare<[number]>('DELETE FROM users WHERE id = ?');
  const count = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM users');
  // Walks ix_users_idle from the oldest entry; users with a started server are skipped, and there are at most as many
  // of those as active servers.
  const idle = db.prepare<[number, number], UserRow>(`
    SELECT u.* FROM users u
    WHERE u.admin = 0 AND coalesce(u.last_activity, u.created) < ?
      AND NOT EXISTS (SELECT 1 FROM servers s WHERE s.user_id = u.id AND s.started IS NOT NULL)
    ORDER BY coalesce(u.last_activity, u.created) LIMIT ?`);

  const pages = new Map<string, { items: Database.Statement; total: Database.Statement }>();
  for (const state of [undefined, 'active', 'ready', 'inactive'] as const) {
    for (const filterName of [false, true]) {
      for (const filterNames of [false, true]) {
        const conds = ['1'];
        if (filterName) conds.push("u.name LIKE @like ESCAPE '\\'");
        if (filterNames) conds.push('u.name IN (SELECT value FROM json_each(@names))');
        const base = conds.join(' AND ');
        const where = state ? `${base} AND ${stateCondition[state]}` : base;
        // Counting inactive users directly probes servers once per user; all minus active reads two indexes instead.
        const total =
          state === 'inactive'
            ? `SELECT (SELECT COUNT(*) FROM users u WHERE ${base}) - (SELECT COUNT(*) FROM users u WHERE ${base} AND ${stateCondition.active})`
            : `SELECT COUNT(*) FROM users u WHERE ${where}`;
        pages.set(variantKey(state, filterName, filterNames), {
          items: db.prepare(`SELECT u.* FROM users u WHERE ${where} ORDER BY u.id LIMIT @limit OFFSET @offset`),
          total: db.prepare(total).pluck(),
        });
      }
    }
  }

  const get = (name: string) => {
    const row = byName.get(name);
    return row && toRecord(row);
  };

  const adminPage = adminUsersPage(db, toRecord as (row: never) => UserRecord);

  return {
    get,
    adminPage,
    getById(id) {
      const row = byId.get(id);
      return row && toRecord(row);
    },
    getByCookieId(cookieId) {
      const row = byCookie.get(cookieId);
      return row && toRecord(row);
    },
    create(name, opts = {}) {
      if (typeof name !== 'string' || name === '') throw new Error('user name must be a non-empty string');
      if (byName.get(name)) throw new Error(`user ${name} already exists`);
      return toRecord(insert.get(name, opts.admin ? 1 : 0, Date.now(), newCookieId())!);
    },
    update(id, patch) {
      if (patch.name !== undefined) {
        if (typeof patch.name !== 'string' || patch.name === '') throw new Error('user name must be a non-empty string');
        const other = byName.get(patch.name);
        if (other && other.id !== id) throw new Error(`user ${patch.name} already exists`);
      }
      const row = update.get({
        id,
        set_name: patch.name !== undefined ? 1 : 0,
        name: patch.name ?? null,
        cookie_id: newCookieId(),
        set_admin: patch.admin !== undefined ? 1 : 0,
        admin: patch.admin ? 1 : 0,
        set_auth_state: patch.auth_state !== undefined ? 1 : 0,
        auth_state: patch.auth_state === undefined || patch.auth_state === null ? null : toJson(patch.auth_state),
      });
      if (!row) throw new Error(`no user with id ${id}`);
      return toRecord(row);
    },
    setEncryptedAuthState(id, value) {
      setEncrypted.run(value, id);
    },
    touch(id, when) {
      touch.run(when, id, when);
    },
    delete(id) {
      remove.run(id);
    },
    page(q: UserPageQuery) {
      checkPage(q);
      const filterName = q.nameFilter !== undefined && q.nameFilter !== '';
      const filterNames = q.names !== undefined;
      if (q.state !== undefined && !Object.hasOwn(stateCondition, q.state)) throw new Error(`unknown user state ${String(q.state)}`);
      const stmts = pages.get(variantKey(q.state, filterName, filterNames))!;
      const params: Record<string, unknown> = {};
      if (filterName) params.like = likeSubstring(q.nameFilter!);
      if (filterNames) params.names = JSON.stringify(q.names);
      const items = (stmts.items.all({ ...params, limit: q.limit, offset: q.offset }) as UserRow[]).map(toRecord);
      if (q.withTotal === false) return { items };
      return { items, total: stmts.total.get(params) as number };
    },
    count() {
      return count.get()!.n;
    },
    listIdle(before, limit) {
      if (!Number.isFinite(before)) throw new Error(`before must be a finite epoch ms, got ${before}`);
      if (!Number.isInteger(limit) || limit < 0) throw new Error(`limit must be a non-negative integer, got ${limit}`);
      return idle.all(before, limit).map(toRecord);
    },
  };
}
