// The user listing behind /hub/admin: sorted by name or last activity, optionally a name substring (as JupyterHub's
// name_filter) or a fixed set of names (a caller whose list:users scope is filtered). Every variant walks an index in
// the requested order and stops once the page is full: no total is counted, so nothing reads every user just to show
// a page; the page asks for one row more than it shows to know whether a next page exists.
import type Database from 'better-sqlite3';
import type { AdminUserQuery, UserRecord } from './types.ts';
import type { Db } from './db.ts';
import { likeSubstring } from './users.ts';

export const ADMIN_SORTS = ['name', 'last_activity'] as const;

const ORDER: Record<string, string> = {
  'name:asc': 'u.name ASC',
  'name:desc': 'u.name DESC',
  // (last_activity, name) is ix_users_last_activity's order, read forwards or backwards; NULL (never active) sorts
  // first ascending and last descending, as JupyterHub orders it.
  'last_activity:asc': 'u.last_activity ASC, u.name ASC',
  'last_activity:desc': 'u.last_activity DESC, u.name DESC',
};

export function adminUsersPage(db: Db, toRecord: (row: never) => UserRecord): (q: AdminUserQuery) => { items: UserRecord[]; more: boolean } {
  const stmts = new Map<string, Database.Statement>();
  for (const order of Object.keys(ORDER)) {
    for (const byLike of [false, true]) {
      for (const byNames of [false, true]) {
        const conds = ['1'];
        if (byLike) conds.push("u.name LIKE @like ESCAPE '\\'");
        if (byNames) conds.push('u.name IN (SELECT value FROM json_each(@names))');
        stmts.set(`${order}:${byLike}:${byNames}`,
          db.prepare(`SELECT u.* FROM users u WHERE ${conds.join(' AND ')} ORDER BY ${ORDER[order]} LIMIT @limit OFFSET @offset`));
      }
    }
  }
  return (q) => {
    if (!Number.isInteger(q.offset) || q.offset < 0) throw new Error(`offset must be a non-negative integer, got ${q.offset}`);
    if (!Number.isInteger(q.limit) || q.limit < 1) throw new Error(`limit must be a positive integer, got ${q.limit}`);
    const key = `${q.sort}:${q.dir}`;
    if (!Object.hasOwn(ORDER, key)) throw new Error(`unknown admin sort ${key}`);
    const byLike = q.nameFilter !== undefined && q.nameFilter !== '';
    const byNames = q.names !== undefined;
    const params: Record<string, unknown> = { limit: q.limit + 1, offset: q.offset };
    if (byLike) params.like = likeSubstring(q.nameFilter!);
    if (byNames) params.names = JSON.stringify(q.names);
    const rows = stmts.get(`${key}:${byLike}:${byNames}`)!.all(params) as never[];
    return { items: rows.slice(0, q.limit).map(toRecord), more: rows.length > q.limit };
  };
}
