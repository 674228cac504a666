// The servers table: one record per (user, server name) the user ever asked for; `started` marks the active ones.
import type { ActiveServerRecord, ServerRecord, Store } from './types.ts';
import { fromJson, toJson } from './db.ts';
import { type Exec, stmt } from './sql.ts';

interface ServerRow {
  id: number;
  user_id: number;
  name: string;
  started: number | null;
  last_activity: number | null;
  state: string;
  user_options: string;
  url: string | null;
}

function toRecord(row: ServerRow): ServerRecord {
  return { ...row, state: fromJson(row.state, {}), user_options: fromJson(row.user_options, {}) };
}

const patchable = ['started', 'last_activity', 'state', 'user_options', 'url'] as const;

const get = stmt('servers_get', 'SELECT * FROM servers WHERE user_id = $1 AND name = $2');
const listForUser = stmt('servers_for_user', 'SELECT * FROM servers WHERE user_id = $1 ORDER BY name');
const listForUsers = stmt('servers_for_users', 'SELECT * FROM servers WHERE user_id IN_LIST($1) ORDER BY user_id, name');
const ensure = stmt('servers_ensure', 'INSERT INTO servers (user_id, name) VALUES ($1, $2) ON CONFLICT (user_id, name) DO NOTHING');
// Flags say which fields the patch carries, so one prepared statement serves every patch and null can be written:
// field i is $(2i+2), its flag $(2i+3).
const update = stmt('servers_update', `
  UPDATE servers SET
    ${patchable.map((f, i) => `${f} = CASE WHEN $${2 * i + 3} = 1 THEN $${2 * i + 2} ELSE ${f} END`).join(',\n    ')}
  WHERE id = $1`);
const touch = stmt('servers_touch', 'UPDATE servers SET last_activity = $1 WHERE id = $2 AND (last_activity IS NULL OR last_activity < $1)');
const remove = stmt('servers_delete', 'DELETE FROM servers WHERE id = $1');
// Both read only the partial index of started servers: start-up work follows active servers, not users.
const listActive = stmt('servers_active', `
  SELECT s.*, u.name AS user_name FROM servers s INDEXED BY ix_servers_active
  JOIN users u ON u.id = s.user_id
  WHERE s.started IS NOT NULL`);
// One user's started servers by the user's name, in one look-up through the users' name index: what a hub asks when a
// request finds no route for the user (a server another hub on the database started, src/servers/catch-up.ts).
const activeOfUser = stmt('servers_active_of_user', `
  SELECT s.*, u.name AS user_name FROM users u
  JOIN servers s ON s.user_id = u.id
  WHERE u.name = $1 AND s.started IS NOT NULL`);
const countActive = stmt('servers_count_active', 'SELECT COUNT(*) FROM servers INDEXED BY ix_servers_active WHERE started IS NOT NULL');

export function serversRepo(x: Exec): Store['servers'] {
  return {
    async get(userId, name) {
      const row = await x.get<ServerRow>(get, [userId, name]);
      return row && toRecord(row);
    },
    async listForUser(userId) {
      return (await x.all<ServerRow>(listForUser, [userId])).map(toRecord);
    },
    async listForUsers(userIds) {
      const byUser = new Map<number, ServerRecord[]>();
      for (const row of await x.all<ServerRow>(listForUsers, [userIds])) {
        const list = byUser.get(row.user_id);
        if (list) list.push(toRecord(row));
        else byUser.set(row.user_id, [toRecord(row)]);
      }
      return byUser;
    },
    async ensure(userId, name) {
      await x.run(ensure, [userId, name]);
      return toRecord((await x.get<ServerRow>(get, [userId, name]))!);
    },
    async update(id, patch) {
      const params: unknown[] = [id];
      for (const f of patchable) {
        const v = patch[f];
        params.push(v === undefined ? null : f === 'state' || f === 'user_options' ? toJson(v ?? {}) : v, v !== undefined ? 1 : 0);
      }
      await x.run(update, params);
    },
    async touch(id, when) {
      await x.run(touch, [when, id]);
    },
    async delete(id) {
      await x.run(remove, [id]);
    },
    async listActive(): Promise<ActiveServerRecord[]> {
      return (await x.all<ServerRow & { user_name: string }>(listActive)).map((row) => ({ ...toRecord(row), user_name: row.user_name }));
    },
    async listActiveOfUser(userName) {
      return (await x.all<ServerRow & { user_name: string }>(activeOfUser, [userName])).map((row) => ({ ...toRecord(row), user_name: row.user_name }));
    },
    async countActive() {
      return (await x.value<number>(countActive))!;
    },
  };
}
