// A hub database of many users for the admin page's scale test and bench: user-0 … user-N, each seen at a different
// time, one in ten with a server record (one in a thousand started), one in a hundred in a group. Closes the store.
import type { Store } from '../../src/store/types.ts';

export async function fillUsers(store: Store, count: number): Promise<void> {
  try {
    // batches of 5,000 users per transaction: one transaction per user would cost a commit each on PostgreSQL
    const group = await store.groups.create('cohort');
    const now = Date.now();
    for (let from = 0; from < count; from += 5000) {
      await store.tx(async (s) => {
        const members: number[] = [];
        for (let i = from; i < Math.min(count, from + 5000); i++) {
          const u = await s.users.create(`user-${i}`);
          await s.users.touch(u.id, now - i * 1000);
          if (i % 1000 === 999) {
            const rec = await s.servers.ensure(u.id, '');
            await s.servers.update(rec.id, { started: now, url: `http://127.0.0.1:${10000 + i / 1000}`, state: { pid: i } });
          } else if (i % 10 === 0) {
            await s.servers.ensure(u.id, '');
          }
          if (i % 100 === 0) members.push(u.id);
        }
        await s.groups.addUsers(group.id, members);
      });
    }
  } finally {
    await store.close();
  }
}
