// The servers table: one record per (user, server name) the user ever asked for; `started` marks the active ones.
import type { ActiveServerRecord, ServerRecord, Store } from './types.ts';
import { type Db, fromJson, toJson } from './db.ts';

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

export function serversRepo(db: Db): Store['servers'] {
  const get = db.prepare<[number, string], ServerRow>('SELECT * FROM servers WHERE user_id = ? AND name = ?');
  const listForUser = db.prepare<[number], ServerRow>('SELECT * FROM servers WHERE user_id = ? ORDER BY name');
  const listForUsers = db.prepare<[string], ServerRow>(
    'SELECT * FROM servers WHERE user_id IN (SELECT value FROM json_each(?)) ORDER BY user_id, name',
  );
  const ensure = db.prepare<[number, string]>(
    'INSERT INTO servers (user_id, name) VALUES (?, ?) ON CONFLICT (user_id, name) DO NOTHING',
  );
  // Flags say which fields the patch carries, so one prepared statement serves every patch and null can be written.
  const update = db.prepare<[Record<string, unknown>]>(`
    UPDATE servers SET
      ${patchable.map((f) => `${f} = CASE WHEN @set_${f} THEN @${f} ELSE ${f} END`).join(',\n      ')}
    WHERE id = @id`);
  const touch = db.prepare<[number, number, number]>(
    'UPDATE servers SET last_activity = ? WHERE id = ? AND (last_activity IS NULL OR last_activity < ?)',
  );
  const remove = db.prepare<[number]>('DELETE FROM servers WHERE id = ?');
  // Both read only the partial index of started servers: start-up work follows active servers, not users.
  const listActive = db.prepare<[], ServerRow & { user_name: string }>(`
    SELECT s.*, u.name AS user_name FROM servers s INDEXED BY ix_servers_active
    JOIN users u ON u.id = s.user_id
    WHERE s.started IS NOT NULL`);
  const countActive = db.prepare<[], number>(
    'SELECT COUNT(*) FROM servers INDEXED BY ix_servers_active WHERE started IS NOT NULL',
  ).pluck();

  return {
    get(userId, name) {
      const row = get.get(userId, name);
      return row && toRecord(row);
    },
    listForUser(userId) {
      return listForUser.all(userId).map(toRecord);
    },
    listForUsers(userIds) {
      const byUser = new Map<number, ServerRecord[]>();
      for (const row of listForUsers.all(JSON.stringify(userIds))) {
        const list = byUser.get(row.user_id);
        if (list) list.push(toRecord(row));
        else byUser.set(row.user_id, [toRecord(row)]);
      }
      return byUser;
    },
    ensure(userId, name) {
      ensure.run(userId, name);
      return toRecord(get.get(userId, name)!);
    },
    update(id, patch) {
      const params: Record<string, unknown> = { id };
      for (const f of patchable) {
        const v = patch[f];
        params[`set_${f}`] = v !== undefined ? 1 : 0;
        params[f] = v === undefined ? null : f === 'state' || f === 'user_options' ? toJson(v ?? {}) : v;
      }
      update.run(params);
    },
    touch(id, when) {
      touch.run(when, id, when);
    },
    delete(id) {
      remove.run(id);
    },
    listActive(): ActiveServerRecord[] {
      return listActive.all().map((row) => ({ ...toRecord(row), user_name: row.user_name }));
    },
    countActive() {
      return countActive.get()!;
    },
  };
}
