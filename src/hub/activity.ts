// Proxy activity reaches the database in batches: the forwarder only stamps routes in memory, and this copies the
// stamps of routes that moved into user and server last_activity every few seconds, in one transaction.
import type { Hub } from './context.ts';

const FLUSH_MS = 10_000;

export class ActivityFlusher {
  private readonly hub: Hub;
  private timer: NodeJS.Timeout | null = null;
  /** Last stamp written per route prefix, so an idle route costs nothing. */
  private readonly written = new Map<string, number>();

  constructor(hub: Hub) {
    this.hub = hub;
  }

  start(): void {
    const every = Math.min(FLUSH_MS, this.hub.config.hub.last_activity_interval * 1000);
    this.timer = setInterval(() => void this.flush(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Resolves once the batch is written; a failed write is logged and retried with the next batch. */
  async flush(): Promise<void> {
    const { servers, store } = this.hub;
    const moved: { prefix: string; userId: number; userName: string; recordId: number; when: number }[] = [];
    for (const active of servers.all()) {
      const route = this.hub.routes.get(active.prefix);
      if (!route) continue;
      if ((this.written.get(active.prefix) ?? 0) >= route.lastActivity) continue;
      this.written.set(active.prefix, route.lastActivity);
      moved.push({ prefix: active.prefix, userId: active.user.id, userName: active.user.name, recordId: active.recordId, when: route.lastActivity });
    }
    for (const prefix of this.written.keys()) if (!this.hub.routes.get(prefix)) this.written.delete(prefix);
    if (moved.length === 0) return;
    try {
      await store.tx(async (s) => {
        for (const m of moved) {
          await s.servers.touch(m.recordId, m.when);
          await s.users.touch(m.userId, m.when);
          await s.activity.record(m.userName, m.when);
        }
      });
    } catch (err) {
      // the database is away (PostgreSQL restarting): the stamps stay in the routes and go with the next batch
      for (const m of moved) this.written.delete(m.prefix);
      this.hub.log.warn(`Could not record activity: ${(err as Error).message}`);
    }
  }
}
