// The spawn queue's places (src/servers/queue.ts keeps the line in memory and writes each change through here), so a
// restarted hub takes the line up again in arrival order.
import type { Store } from './types.ts';
import { type Exec, stmt } from './sql.ts';

interface Row {
  user_id: number;
  user_name: string;
  admin: number;
  server_name: string;
  user_options: string | null;
  enqueued: number;
}

const add = stmt('queue_add', `
  INSERT INTO spawn_queue (user_id, server_name, user_options, enqueued) VALUES ($1, $2, $3, $4)
  ON CONFLICT (user_id, server_name) DO UPDATE SET user_options = excluded.user_options`);
const remove = stmt('queue_remove', 'DELETE FROM spawn_queue WHERE user_id = $1 AND server_name = $2');
const list = stmt('queue_list', `
  SELECT q.user_id, u.name AS user_name, u.admin, q.server_name, q.user_options, q.enqueued
  FROM spawn_queue q JOIN users u ON u.id = q.user_id ORDER BY q.seq`);
const clear = stmt('queue_clear', 'DELETE FROM spawn_queue');

export function spawnQueueRepo(x: Exec): Store['spawnQueue'] {
  return {
    async add(userId, serverName, options, enqueued) {
      await x.run(add, [userId, serverName, options === undefined ? null : JSON.stringify(options), enqueued]);
    },
    async remove(userId, serverName) {
      await x.run(remove, [userId, serverName]);
    },
    async list() {
      return (await x.all<Row>(list)).map((r) => ({
        user: { id: r.user_id, name: r.user_name, admin: r.admin === 1 },
        serverName: r.server_name,
        options: r.user_options === null ? undefined : (JSON.parse(r.user_options) as Record<string, unknown>),
        enqueued: r.enqueued,
      }));
    },
    async clear() {
      await x.run(clear);
    },
  };
}
