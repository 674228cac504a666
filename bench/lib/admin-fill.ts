// A hub database of many users for the admin page's scale test and bench: user-0 … user-N, each seen at a different
// time, one in ten with a server record (one in a thousand started), one in a hundred in a group. Closes the store.
import type { SqliteStore } from '../../src/store/index.ts';

export function fillUsers(store: SqliteStore, count: number): void {
  try {
    store.transaction(() => {
      const group = await store.groups.create('cohort');
      const now = Date.now();
      const members: number[] = [];
      for (let i = 0; i < count; i++) {
        const u = await store.users.create(`user-${i}`);
        await store.users.touch(u.id, now - i * 1000);
        if (i % 1000 === 999) {
          const s = await store.servers.ensure(u.id, '');
          await store.servers.update(s.id, { started: now, url: `http://127.0.0.1:${10000 + i / 1000}`, state: { pid: i } });
        } else if (i % 10 === 0) {
          await store.servers.ensure(u.id, '');
        }
        if (i % 100 === 0) members.push(u.id);
      }
      await store.groups.addUsers(group.id, members);
    });
  } finally {
    store.close();
  }
}
