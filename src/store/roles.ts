// Role definitions and which users, groups and services hold them. Scope expansion lives in auth/, not here.
import type { RoleRecord, Store } from './types.ts';
import { fromJson, toJson } from './db.ts';
import { type Exec, type Stmt, stmt } from './sql.ts';
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

// Upsert keeps the row id, so replacing a definition keeps who holds it.
const upsert = stmt('roles_upsert', `
  INSERT INTO roles (name, description, scopes) VALUES ($1, $2, $3)
  ON CONFLICT (name) DO UPDATE SET description = excluded.description, scopes = excluded.scopes`);
const get = stmt('roles_get', 'SELECT name, description, scopes FROM roles WHERE name = $1');
const list = stmt('roles_list', 'SELECT name, description, scopes FROM roles ORDER BY name');
const remove = stmt('roles_delete', 'DELETE FROM roles WHERE name = $1');
const ofUsers = stmt('roles_of_users', `
  SELECT m.user_id, r.name FROM user_role_map m JOIN roles r ON r.id = m.role_id
  WHERE m.user_id IN_LIST($1) ORDER BY m.user_id, r.name`);

const maps = {} as Record<Holder, { clear: Stmt; add: Stmt; of: Stmt }>;
for (const holder of ['user', 'group', 'service'] as const) {
  const table = `${holder}_role_map`;
  const col = `${holder}_id`;
  maps[holder] = {
    clear: stmt(`roles_clear_${holder}`, `DELETE FROM ${table} WHERE ${col} = $1`),
    add: stmt(`roles_add_${holder}`, `INSERT INTO ${table} (${col}, role_id) SELECT CAST($1 AS BIGINT), id FROM roles WHERE name = $2 ON CONFLICT DO NOTHING`),
    of: stmt(`roles_of_${holder}`, `SELECT r.name FROM ${table} m JOIN roles r ON r.id = m.role_id WHERE m.${col} = $1 ORDER BY r.name`),
  };
}

export function rolesRepo(x: Exec): Store['roles'] {
  const add = async (t: Exec, holder: Holder, id: number, role: string) => {
    if (!(await t.get(get, [role]))) throw new Error(`no role named ${role}`);
    await t.run(maps[holder].add, [id, role]);
  };
  // All or nothing: an unknown role name leaves the holder's roles as they were.
  const set = (holder: Holder, id: number, roles: string[]) =>
    x.tx(async (t) => {
      await t.run(maps[holder].clear, [id]);
      for (const role of roles) await add(t, holder, id, role);
    });
  const of = async (holder: Holder, id: number) => (await x.all<{ name: string }>(maps[holder].of, [id])).map((r) => r.name);

  return {
    async upsert(r) {
      if (typeof r.name !== 'string' || r.name === '') throw new Error('role name must be a non-empty string');
      await x.run(upsert, [r.name, r.description ?? '', toJson(r.scopes ?? [])]);
    },
    async get(name) {
      const row = await x.get<RoleRow>(get, [name]);
      return row && toRecord(row);
    },
    async list() {
      return (await x.all<RoleRow>(list)).map(toRecord);
    },
    async delete(name) {
      await x.run(remove, [name]);
    },
    setForUser: (userId, roles) => set('user', userId, roles),
    setForGroup: (groupId, roles) => set('group', groupId, roles),
    setForService: (serviceId, roles) => set('service', serviceId, roles),
    addToUser: (userId, role) => add(x, 'user', userId, role),
    ofUser: (userId) => of('user', userId),
    ofUsers: async (userIds) => groupByUser(await x.all(ofUsers, [userIds])),
    ofGroup: (groupId) => of('group', groupId),
    ofService: (serviceId) => of('service', serviceId),
  };
}
