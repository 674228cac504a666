// The users table: look-ups by name, id and login-cookie id, and the paginated listing behind GET /hub/api/users.
import { randomUUID } from 'node:crypto';
import type { Store, UserPageQuery, UserRecord, UserState } from './types.ts';
import { fromJson, toJson } from './db.ts';
import { type Exec, type Stmt, stmt } from './sql.ts';
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

export function toRecord(row: UserRow): UserRecord {
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

const byName = stmt('users_by_name', 'SELECT * FROM users WHERE name = $1');
const byId = stmt('users_by_id', 'SELECT * FROM users WHERE id = $1');
const byCookie = stmt('users_by_cookie', 'SELECT * FROM users WHERE cookie_id = $1');
// A taken name inserts nothing and returns no row: one statement where a look-up before the insert was two, and no
// unique violation, which on PostgreSQL would abort a surrounding transaction.
const insert = stmt('users_insert', `
  INSERT INTO users (name, admin, created, last_activity, cookie_id) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (name) DO NOTHING RETURNING *`);
// One statement for any subset of fields; a rename also replaces cookie_id so existing login cookies stop working.
const update = stmt('users_update', `
  UPDATE users SET
    cookie_id = CASE WHEN $2 = 1 AND $3 <> name THEN $4 ELSE cookie_id END,
    name = CASE WHEN $2 = 1 THEN $3 ELSE name END,
    admin = CASE WHEN $5 = 1 THEN $6 ELSE admin END,
    auth_state = CASE WHEN $7 = 1 THEN $8 ELSE auth_state END
  WHERE id = $1 RETURNING *`);
const touch = stmt('users_touch', 'UPDATE users SET last_activity = $1 WHERE id = $2 AND (last_activity IS NULL OR last_activity < $1)');
const setEncrypted = stmt('users_set_encrypted', 'UPDATE users SET encrypted_auth_state = $1 WHERE id = $2');
const remove = stmt('users_delete', 'DELETE FROM users WHERE id = $1');
const count = stmt('users_count', 'SELECT COUNT(*) AS n FROM users');
// Walks ix_users_idle from the oldest entry; users with a started server are skipped, and there are at most as many
// of those as active servers.
const idle = stmt('users_idle', `
  SELECT u.* FROM users u
  WHERE u.admin = 0 AND coalesce(u.last_activity, u.created) < $1
    AND NOT EXISTS (SELECT 1 FROM servers s WHERE s.user_id = u.id AND s.started IS NOT NULL)
  ORDER BY coalesce(u.last_activity, u.created) LIMIT $2`);

// Placeholders: $1 the LIKE pattern, $2 the list of names (each only in the variants that filter by it), then limit
// and offset.
const pages = new Map<string, { items: Stmt; total: Stmt }>();
for (const state of [undefined, 'active', 'ready', 'inactive'] as const) {
  for (const filterName of [false, true]) {
    for (const filterNames of [false, true]) {
      const conds = ['TRUE'];
      let n = 0;
      if (filterName) conds.push(`u.name ILIKE $${++n} ESCAPE '\\'`);
      if (filterNames) conds.push(`u.name IN_LIST($${++n})`);
      const base = conds.join(' AND ');
      const where = state ? `${base} AND ${stateCondition[state]}` : base;
      // Counting inactive users directly probes servers once per user; all minus active reads two indexes instead.
      const total =
        state === 'inactive'
          ? `SELECT (SELECT COUNT(*) FROM users u WHERE ${base}) - (SELECT COUNT(*) FROM users u WHERE ${base} AND ${stateCondition.active})`
          : `SELECT COUNT(*) FROM users u WHERE ${where}`;
      const key = variantKey(state, filterName, filterNames);
      pages.set(key, {
        items: stmt(`users_page_${key}`, `SELECT u.* FROM users u WHERE ${where} ORDER BY u.id LIMIT $${n + 1} OFFSET $${n + 2}`),
        total: stmt(`users_total_${key}`, total),
      });
    }
  }
}

export function usersRepo(x: Exec): Store['users'] {
  const one = async (s: Stmt, params: unknown[]) => {
    const row = await x.get<UserRow>(s, params);
    return row && toRecord(row);
  };

  const add: Store['users']['add'] = async (name, opts = {}) => {
    if (typeof name !== 'string' || name === '') throw new Error('user name must be a non-empty string');
    const row = await x.get<UserRow>(insert, [name, opts.admin ? 1 : 0, Date.now(), opts.lastActivity ?? null, newCookieId()]);
    return row && toRecord(row);
  };

  return {
    get: (name) => one(byName, [name]),
    getById: (id) => one(byId, [id]),
    getByCookieId: (cookieId) => one(byCookie, [cookieId]),
    adminPage: adminUsersPage(x),
    add,
    async create(name, opts = {}) {
      const user = await add(name, opts);
      if (!user) throw new Error(`user ${name} already exists`);
      return user;
    },
    async update(id, patch) {
      if (patch.name !== undefined) {
        if (typeof patch.name !== 'string' || patch.name === '') throw new Error('user name must be a non-empty string');
        const other = await x.get<UserRow>(byName, [patch.name]);
        if (other && other.id !== id) throw new Error(`user ${patch.name} already exists`);
      }
      const row = await x.get<UserRow>(update, [
        id,
        patch.name !== undefined ? 1 : 0,
        patch.name ?? null,
        newCookieId(),
        patch.admin !== undefined ? 1 : 0,
        patch.admin ? 1 : 0,
        patch.auth_state !== undefined ? 1 : 0,
        patch.auth_state === undefined || patch.auth_state === null ? null : toJson(patch.auth_state),
      ]);
      if (!row) throw new Error(`no user with id ${id}`);
      return toRecord(row);
    },
    async setEncryptedAuthState(id, value) {
      await x.run(setEncrypted, [value, id]);
    },
    async touch(id, when) {
      await x.run(touch, [when, id]);
    },
    async delete(id) {
      await x.run(remove, [id]);
    },
    async page(q: UserPageQuery) {
      checkPage(q);
      const filterName = q.nameFilter !== undefined && q.nameFilter !== '';
      const filterNames = q.names !== undefined;
      if (q.state !== undefined && !Object.hasOwn(stateCondition, q.state)) throw new Error(`unknown user state ${String(q.state)}`);
      const stmts = pages.get(variantKey(q.state, filterName, filterNames))!;
      const params: unknown[] = [];
      if (filterName) params.push(likeSubstring(q.nameFilter!));
      if (filterNames) params.push(q.names);
      const items = (await x.all<UserRow>(stmts.items, [...params, q.limit, q.offset])).map(toRecord);
      if (q.withTotal === false) return { items };
      return { items, total: (await x.value<number>(stmts.total, params))! };
    },
    async count() {
      return (await x.value<number>(count))!;
    },
    async listIdle(before, limit) {
      if (!Number.isFinite(before)) throw new Error(`before must be a finite epoch ms, got ${before}`);
      if (!Number.isInteger(limit) || limit < 0) throw new Error(`limit must be a non-negative integer, got ${limit}`);
      return (await x.all<UserRow>(idle, [before, limit])).map(toRecord);
    },
  };
}
