// The user listing behind /hub/admin: sorted by name or last activity, optionally a name substring (as JupyterHub's
// name_filter) or a fixed set of names (a caller whose list:users scope is filtered). Every variant walks an index in
// the requested order and stops once the page is full: no total is counted, so nothing reads every user just to show
// a page; the page asks for one row more than it shows to know whether a next page exists.
import type { AdminUserQuery, UserRecord } from './types.ts';
import { type Exec, type Stmt, stmt } from './sql.ts';
import { likeSubstring, toRecord } from './users.ts';

export const ADMIN_SORTS = ['name', 'last_activity'] as const;

const ORDER: Record<string, string> = {
  'name:asc': 'u.name ASC',
  'name:desc': 'u.name DESC',
  // (last_activity, name) is ix_users_last_activity's order, read forwards or backwards; NULL (never active) sorts
  // first ascending and last descending, as JupyterHub orders it (sqlite's own NULL order, spelled out for PostgreSQL).
  'last_activity:asc': 'u.last_activity ASC NULLS_FIRST, u.name ASC',
  'last_activity:desc': 'u.last_activity DESC NULLS_LAST, u.name DESC',
};

const stmts = new Map<string, Stmt>();
for (const order of Object.keys(ORDER)) {
  for (const byLike of [false, true]) {
    for (const byNames of [false, true]) {
      const conds = ['TRUE'];
      let n = 0;
      if (byLike) conds.push(`u.name ILIKE $${++n} ESCAPE '\\'`);
      if (byNames) conds.push(`u.name IN_LIST($${++n})`);
      const key = `${order}:${byLike}:${byNames}`;
      stmts.set(key, stmt(`admin_users_${key.replaceAll(':', '_')}`,
        `SELECT u.* FROM users u WHERE ${conds.join(' AND ')} ORDER BY ${ORDER[order]} LIMIT $${n + 1} OFFSET $${n + 2}`));
    }
  }
}

export function adminUsersPage(x: Exec): (q: AdminUserQuery) => Promise<{ items: UserRecord[]; more: boolean }> {
  return async (q) => {
    if (!Number.isInteger(q.offset) || q.offset < 0) throw new Error(`offset must be a non-negative integer, got ${q.offset}`);
    if (!Number.isInteger(q.limit) || q.limit < 1) throw new Error(`limit must be a positive integer, got ${q.limit}`);
    const key = `${q.sort}:${q.dir}`;
    if (!Object.hasOwn(ORDER, key)) throw new Error(`unknown admin sort ${key}`);
    const byLike = q.nameFilter !== undefined && q.nameFilter !== '';
    const byNames = q.names !== undefined;
    const params: unknown[] = [];
    if (byLike) params.push(likeSubstring(q.nameFilter!));
    if (byNames) params.push(q.names);
    const rows = await x.all<never>(stmts.get(`${key}:${byLike}:${byNames}`)!, [...params, q.limit + 1, q.offset]);
    return { items: rows.slice(0, q.limit).map(toRecord), more: rows.length > q.limit };
  };
}
