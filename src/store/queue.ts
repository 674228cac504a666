// The spawn queue's places (src/servers/queue.ts keeps the line in memory and writes each change through here), so a
// restarted hub takes the line up again in arrival order.
import type { Store } from './types.ts';
import type { Db } from './db.ts';

interface Row {
  user_id: number;
  user_name: string;
  admin: number;
  server_name: string;
  user_options: string | null;
  enqueued: number;
}

export function spawnQueueRepo(db: Db): Store['spawnQueue'] {
  const add = db.prepare<[number, string, string | null, number]>(`
    INSERT INTO spawn_queue (user_id, server_name, user_options, enqueued) VALUES (?, ?, ?, ?)
    ON CONFLICT (user_id, server_name) DO UPDATE SET user_options = excluded.user_options`);
  const remove = db.prepare<[number, string]>('DELETE FROM spawn_queue WHERE user_id = ? AND server_name = ?');
  const list = db.prepare<[], Row>(`
    SELECT q.user_id, u.name AS user_name, u.admin, q.server_name, q.user_options, q.enqueued
    FROM spawn_queue q JOIN users u ON u.id = q.user_id ORDER BY q.seq`);
  const clear = db.prepare('DELETE FROM spawn_queue');
  return {
    add(userId, serverName, options, enqueued) {
      add.run(userId, serverName, options === undefined ? null : JSON.stringify(options), enqueued);
    },
    remove(userId, serverName) {
      remove.run(userId, serverName);
    },
    list() {
      return list.all().map((r) => ({
        user: { id: r.user_id, name: r.user_name, admin: r.admin === 1 },
        serverName: r.server_name,
        options: r.user_options === null ? undefined : (JSON.parse(r.user_options) as Record<string, unknown>),
        enqueued: r.enqueued,
      }));
    },
    clear() {
      clear.run();
    },
  };
}
