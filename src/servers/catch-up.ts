// Servers another hub on the same database started: two hubs overlap on PostgreSQL during a rolling update, and a
// server started through the old one after the new one adopted the rest is in the database but not in the new hub's
// memory. The new hub learns of it when asked: a request for /user/<name>/… that finds no route, or a server action
// on a server this hub does not hold, reads that user's started records (one indexed query) and adopts an answering
// server it does not know, as start-up does (adopt.ts); the request then goes to the server without a restart.
// A user is looked up at most once per interval (a stopped server's open tabs polling must not hammer the database);
// misses arriving while a look-up runs share it. sqlite has one hub per file, so there is nothing to catch up on.
import type { Store } from '../store/types.ts';
import type { Spawner } from '../spawner/types.ts';
import type { Logger } from '../util/log.ts';
import { normalisePath } from '../proxy/paths.ts';
import type { RouteTable } from '../proxy/index.ts';
import type { ServerManager } from './lifecycle.ts';

/** How long a user's look-up counts as fresh: misses within it are not looked up again. */
const INTERVAL_MS = 2000;
/** Users remembered at once; beyond that the oldest entries go (a storm over many names stays bounded). */
const MAX_REMEMBERED = 10_000;

export interface CatchUpDeps {
  store: Store;
  servers: ServerManager;
  routes: RouteTable;
  base: string;
  log: Logger;
  isAlive: (spawner: Spawner, url: string | null) => Promise<boolean>;
}

export class ServerCatchUp {
  readonly #deps: CatchUpDeps;
  readonly #looked = new Map<string, { at: number; pending: Promise<number> | null }>();
  readonly #baseDepth: number;

  constructor(deps: CatchUpDeps) {
    this.#deps = deps;
    this.#baseDepth = deps.base.split('/').filter(Boolean).length;
  }

  /**
   * For a request reaching the proxy: null when it is not a miss for /user/<name>/… (the common case, answered
   * without waiting), else a promise that settles once that user's servers were looked up.
   */
  forRequest(url: string | undefined): Promise<unknown> | null {
    if (!url || !url.startsWith(`${this.#deps.base}user/`)) return null;
    const path = normalisePath(url);
    if (!path || path.segments[this.#baseDepth] !== 'user') return null;
    const name = path.segments[this.#baseDepth + 1];
    if (!name || this.#deps.routes.matchSegments(path.segments)?.data.hub !== true) return null;
    return this.user(name);
  }

  /**
   * Adopts the user's answering servers this hub does not know; resolves how many. `fresh` (a server action) looks
   * even within the interval, still sharing a look-up in flight. Never rejects: a database that does not answer
   * leaves the request to the hub, which says so.
   */
  user(name: string, fresh = false): Promise<number> {
    const seen = this.#looked.get(name);
    if (seen?.pending) return seen.pending;
    if (seen && !fresh && Date.now() - seen.at < INTERVAL_MS) return Promise.resolve(0);
    if (this.#looked.size >= MAX_REMEMBERED) this.#forgetOld();
    const entry: { at: number; pending: Promise<number> | null } = { at: Date.now(), pending: null };
    entry.pending = this.#look(name).finally(() => {
      entry.pending = null;
      entry.at = Date.now();
    });
    this.#looked.delete(name); // re-inserted at the back: the map stays in look-up order for #forgetOld
    this.#looked.set(name, entry);
    return entry.pending;
  }

  async #look(name: string): Promise<number> {
    const { store, servers, log, isAlive } = this.#deps;
    try {
      const records = (await store.servers.listActiveOfUser(name)).filter((r) => r.url !== null && !servers.get(name, r.name));
      if (!records.length) return 0;
      const user = await store.users.get(name);
      if (!user) return 0;
      const adopted = await servers.adoptRunning(records, { id: user.id, name: user.name, admin: user.admin }, isAlive);
      if (adopted) log.info(`Adopted ${adopted} server(s) of ${name} that another hub on this database started`);
      return adopted;
    } catch (err) {
      log.warn(`Could not look up the servers of ${name}: ${(err as Error).message}`);
      return 0;
    }
  }

  #forgetOld(): void {
    const cutoff = Date.now() - INTERVAL_MS;
    for (const [name, e] of this.#looked) {
      if (this.#looked.size < MAX_REMEMBERED / 2) break;
      if (!e.pending && e.at < cutoff) this.#looked.delete(name);
      else if (e.at >= cutoff) break; // in look-up order: the rest are fresher
    }
    // all fresh (a storm over more names than fit): forget the oldest anyway, the cost is one more query each
    for (const [name, e] of this.#looked) {
      if (this.#looked.size < MAX_REMEMBERED) break;
      if (!e.pending) this.#looked.delete(name);
    }
  }
}
