// Role definitions and which users, groups and services hold them. Scope expansion lives in auth/, not here.
import type Database from 'better-sqlite3';
import type { RoleRecord, Store } from './types.ts';
import { type Db, fromJson, toJson } from './db.ts';
import { groupByUser } from './users.ts';

interface RoleRow {
  name: string;
  description: string;
  scopes: string;
}

function toRecord(row: RoleRow): RoleRecord {
  return { name: row.name, description: row.description, scopes: fromJson(row.scopes, []) };
}

type Holder = 'user' | 'group' | 'service';
type Statement = Database.Statement<unknown[], unknown>;

export type RolesRepo = Store['roles'] & {
  /** Deletes a role definition; holders lose it through the foreign keys. */
  delete(name: string): void;
};

export function rolesRepo(db: Db): RolesRepo {
  // Upsert keeps the row id, so replacing a definition keeps who holds it.
  const upsert = db.prepare<[string, string, string]>(`
    INSERT INTO roles (name, description, scopes) VALUES (?, ?, ?)
    ON CONFLICT (name) DO UPDATE SET description = excluded.description, scopes = excluded.scopes`);
  const get = db.prepare<[string], RoleRow>('SELECT name, description, scopes FROM roles WHERE name = ?');
  const list = db.prepare<[], RoleRow>('SELECT name, description, scopes FROM roles ORDER BY name');
  const remove = db.prepare<[string]>('DELETE FROM roles WHERE name = ?');
  const ofUsers = db.prepare<[string], { user_id: number; name: string }>(`
    SELECT m.user_id, r.name FROM user_role_map m JOIN roles r ON r.id = m.role_id
    WHERE m.user_id IN (SELECT value FROM json_each(?)) ORDER BY m.user_id, r.name`);

  const maps = {} as Record<Holder, { clear: Statement; add: Statement; of: Statement }>;
  for (const holder of ['user', 'group', 'service'] as const) {
    const table = `${holder}_role_map`;
    const col = `${holder}_id`;
    maps[holder] = {
      clear: db.prepare(`DELETE FROM ${table} WHERE ${col} = ?`),
      add: db.prepare(`INSERT OR IGNORE INTO ${table} (${col}, role_id) SELECT ?, id FROM roles WHERE name = ?`),
      of: db.prepare(`SELECT r.name FROM ${table} m JOIN roles r ON r.id = m.role_id WHERE m.${col} = ? ORDER BY r.name`).pluck(),
    };
  }

  const add = (holder: Holder, id: number, role: string) => {
    if (!get.get(role)) throw new Error(`no role named ${role}`);
    maps[holder].add.run(id, role);
  };
  // All or nothing: an unknown role name leaves the holder's roles as they were.
  const set = db.transaction((holder: Holder, id: number, roles: string[]) => {
    maps[holder].clear.run(id);
    for (const role of roles) add(holder, id, role);
  });
  const of = (holder: Holder, id: number) => maps[holder].of.all(id) as string[];

  return {
    upsert(r) {
      if (typeof r.name !== 'string' || r.name === '') throw new Error('role name must be a non-empty string');
      upsert.run(r.name, r.description ?? '', toJson(r.scopes ?? []));
    },
    get(name) {
      const row = get.get(name);
      return row && toRecord(row);
    },
    list() {
      return list.all().map(toRecord);
    },
    delete(name) {
      remove.run(name);
    },
    setForUser: (userId, roles) => set('user', userId, roles),
    setForGroup: (groupId, roles) => set('group', groupId, roles),
    setForService: (serviceId, roles) => set('service', serviceId, roles),
    addToUser: (userId, role) => add('user', userId, role),
    ofUser: (userId) => of('user', userId),
    ofUsers: (userIds) => groupByUser(ofUsers.all(JSON.stringify(userIds))),
    ofGroup: (groupId) => of('group', groupId),
    ofService: (serviceId) => of('service', serviceId),
  };
}
