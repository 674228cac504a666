// The warm pool: servers started ahead of time, each under a fresh, never-used user, so a new visitor of the `tmp`
// authenticator becomes one of those users and is in a running server at once. Pool users are known only to this
// process (nothing is stored): a pooled server left over by a hub that was killed is adopted as an ordinary user's
// server and left to the culler. A clean shutdown stops every pooled server and deletes its user.
//
// Budget: pooled servers count for neither active_server_limit nor concurrent_spawn_limit (the lifecycle skips them),
// but the pool only refills while all servers together stay under those limits and nobody waits in the spawn queue,
// so a refill never takes the last free slot from a visitor.
import type { HubConfig } from '../config/types.ts';
import type { Store } from '../store/types.ts';
import type { Logger } from '../util/log.ts';
import type { ActiveServer, UserRef } from './lifecycle-types.ts';
import type { ServerManager } from './lifecycle.ts';
import { selectionKey, selectProfile, selectUserOptions } from './profiles.ts';

export interface PoolObserver {
  poolHit(profile: string): void;
  poolMiss(profile: string): void;
}

export interface PoolDeps {
  config: HubConfig;
  store: Store;
  /** Where the pool's users come from: the authenticator side makes and removes them, never the pool itself. */
  users: { create(): Promise<UserRef>; discard(id: number): Promise<void> } | null;
  servers: ServerManager;
  log: Logger;
  observe?: PoolObserver;
}

interface PoolEntry {
  user: UserRef;
  /** The profile's slug; '' when the spawner has no profile_list. */
  profile: string;
  active: ActiveServer;
}

const MAX_BACKOFF_MS = 60_000;

export class ServerPool {
  private readonly deps: PoolDeps;
  /** Wanted pool size per profile slug. */
  private readonly targets = new Map<string, number>();
  private readonly entries = new Map<string, PoolEntry[]>();
  private maxAgeMs: number;
  private timer: NodeJS.Timeout | null = null;
  private fillScheduled = false;
  private filling: Promise<void> | null = null;
  private refill = false;
  private closed = false;
  /** Consecutive failed pool spawns: refills pause for a growing while instead of spinning on a broken cmd. */
  private failures = 0;
  private pausedUntil = 0;

  constructor(deps: PoolDeps) {
    this.deps = deps;
    this.maxAgeMs = 1000;
    this.setTargets(deps.config);
  }

  /**
   * A config reload: new sizes (and profiles) apply to refills from now on. Pooled servers beyond a smaller size are
   * not stopped; they wait to be handed out or to reach pool_max_age, and are not replaced.
   */
  applyConfig(config: HubConfig): void {
    this.deps.config = config;
    this.setTargets(config);
    if (this.timer) this.scheduleFill();
    else this.start();
  }

  private setTargets(config: HubConfig): void {
    const spawner = config.spawner;
    this.maxAgeMs = Math.max(1, spawner.pool_max_age) * 1000;
    this.targets.clear();
    const profiles = spawner.profile_list ?? [];
    if (profiles.length === 0) {
      this.targets.set('', Math.max(0, spawner.pool_size));
    } else {
      // A profile's own pool_size wins; otherwise only the default profile (what a visitor without ?profile= gets)
      // is pooled, with Spawner.pool_size, so a long profile list does not multiply idle servers.
      const fallback = selectProfile(spawner, {});
      for (const p of profiles) {
        const size = Math.max(0, p.pool_size ?? (p === fallback ? spawner.pool_size : 0));
        // A profile whose option has only free text has no defaults to start a pooled server with.
        if (size > 0 && !startsWithDefaults(spawner, p.slug)) {
          this.deps.log.warn(`Not pooling profile ${p.slug}: an option of it has no default choice`);
          this.targets.set(p.slug, 0);
        } else {
          this.targets.set(p.slug, size);
        }
      }
    }
    for (const profile of this.targets.keys()) if (!this.entries.has(profile)) this.entries.set(profile, []);
  }

  /** A size is configured (whether or not there are users to give it: see `usable`). */
  get enabled(): boolean {
    for (const n of this.targets.values()) if (n > 0) return true;
    return false;
  }

  /** A size is configured and the authenticator mints the users pooled servers are started for. */
  get usable(): boolean {
    return this.enabled && this.deps.users !== null;
  }

  /** Fills the pool and keeps it full (and fresh) until close(). */
  start(): void {
    if (!this.usable || this.closed || this.timer) return;
    const every = Math.min(5000, Math.max(250, this.maxAgeMs / 4));
    this.timer = setInterval(() => this.tick(), every);
    this.timer.unref();
    this.fill();
  }

  /**
   * Hands out a ready pooled server's user for a new visitor who asks for these spawn options (user_options or query
   * lists), or null: no pool for that profile, none ready, options the pooled servers were not started with (other
   * choices than the profile's defaults), or bad options, which the spawn page explains later. Synchronous, so two
   * requests can never get the same user.
   */
  take(options: Record<string, unknown> = {}): UserRef | null {
    if (this.closed) return null;
    const profile = this.profileKey(options);
    if (profile === null || !this.targets.get(profile)) return null;
    const list = this.entries.get(profile)!;
    const i = list.findIndex((e) => this.isReady(e, Date.now()));
    if (i < 0) {
      this.deps.observe?.poolMiss(profile);
      this.scheduleFill();
      return null;
    }
    const [entry] = list.splice(i, 1);
    // From now on an ordinary server of an ordinary user: it counts toward the limits and may be culled when idle.
    entry.active.pooled = false;
    this.deps.observe?.poolHit(profile);
    this.deps.log.info(`Handed pooled server of ${entry.user.name} to a new visitor`);
    this.scheduleFill();
    return entry.user;
  }

  /** Ready pooled servers per profile slug, for the nodehub_pool_size gauge. */
  readyCounts(): Record<string, number> {
    const now = Date.now();
    const out: Record<string, number> = {};
    for (const [profile, list] of this.entries) {
      if (this.targets.get(profile)) out[profile] = list.filter((e) => this.isReady(e, now)).length;
    }
    return out;
  }

  /** Names of the users whose servers wait in the pool (ready or starting). */
  users(): string[] {
    return [...this.entries.values()].flat().map((e) => e.user.name);
  }

  isPooled(userName: string): boolean {
    for (const list of this.entries.values()) if (list.some((e) => e.user.name === userName)) return true;
    return false;
  }

  /** Stops every pooled server and deletes its user; nothing refills afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.filling;
    const all = [...this.entries.values()].flat();
    for (const list of this.entries.values()) list.length = 0;
    await Promise.all(all.map((e) => this.dispose(e)));
  }

  /** The pool a visitor's options may take from: '' without a profile list, the profile's slug when the options come
   *  to that profile's defaults (what its pooled servers started with), null otherwise. */
  private profileKey(options: Record<string, unknown>): string | null {
    const spawner = this.deps.config.spawner;
    if ((spawner.profile_list ?? []).length === 0) return '';
    try {
      const wanted = selectUserOptions(spawner, options);
      if (!wanted) return null;
      return selectionKey(wanted) === selectionKey(selectUserOptions(spawner, { profile: wanted.profile.slug })) ? wanted.profile.slug : null;
    } catch {
      return null;
    }
  }

  private isReady(e: PoolEntry, now: number): boolean {
    return e.active.phase === 'ready' && this.deps.servers.get(e.user.name, '') === e.active && now - e.active.started < this.maxAgeMs;
  }

  /** Room for one more pooled server: everything together under both limits, and nobody waiting in line. */
  private hasRoom(): boolean {
    const { servers, config } = this.deps;
    const hub = config.hub;
    if (servers.queue.length > 0) return false;
    if (hub.active_server_limit > 0 && servers.size >= hub.active_server_limit) return false;
    if (hub.concurrent_spawn_limit > 0 && servers.spawning >= hub.concurrent_spawn_limit) return false;
    return true;
  }

  private scheduleFill(): void {
    if (this.fillScheduled || this.closed) return;
    this.fillScheduled = true;
    // Refills begin after the visitor's response is on its way.
    setImmediate(() => {
      this.fillScheduled = false;
      this.fill();
    });
  }

  /** One fill at a time (each pooled user is made in the store first, asynchronously): a fill asked for meanwhile
   *  runs again after it, so the pool never overshoots its size. */
  private fill(): void {
    if (this.filling) {
      this.refill = true;
      return;
    }
    this.filling = this.fillNow()
      .catch((err: Error) => this.deps.log.warn(`Could not refill the pool: ${err.message}`))
      .finally(() => {
        this.filling = null;
        if (this.refill) {
          this.refill = false;
          this.fill();
        }
      });
  }

  private async fillNow(): Promise<void> {
    if (this.closed || Date.now() < this.pausedUntil) return;
    for (const [profile, target] of this.targets) {
      const list = this.entries.get(profile)!;
      while (list.length < target && this.hasRoom() && !this.closed) {
        if (!(await this.spawnOne(profile, list))) return;
      }
    }
  }

  private discard(id: number): void {
    this.deps.users!.discard(id).catch((err: Error) => this.deps.log.warn(`Could not remove pooled user ${id}: ${err.message}`));
  }

  private async spawnOne(profile: string, list: PoolEntry[]): Promise<boolean> {
    const { servers, log } = this.deps;
    const users = this.deps.users!;
    const user = await users.create();
    let active: ActiveServer;
    try {
      // In the shape a spawn from ?profile= has, so the API shows a pooled visitor's options like anyone else's.
      active = servers.start(user, '', profile ? { profile: [profile] } : {}, { pooled: true });
    } catch (err) {
      this.discard(user.id);
      log.warn(`Could not start a pooled server: ${err instanceof Error ? err.message : String(err)}`);
      this.backOff();
      return false;
    }
    const entry: PoolEntry = { user, profile, active };
    list.push(entry);
    void active.spawned.then((ok) => {
      if (ok) {
        this.failures = 0;
        return;
      }
      // The lifecycle already cleaned the failed server up; only our user is left.
      if (this.forget(entry)) {
        this.discard(user.id);
        this.backOff();
      }
    });
    return true;
  }

  private backOff(): void {
    this.failures++;
    this.pausedUntil = Date.now() + Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.failures, 10));
  }

  /** Drops pooled servers that went away on their own and replaces those past pool_max_age, then refills. */
  private tick(): void {
    const now = Date.now();
    for (const list of this.entries.values()) {
      for (const e of [...list]) {
        const current = this.deps.servers.get(e.user.name, '');
        if (current !== e.active) {
          // Stopped from outside (an admin, a crash): the record is already released.
          this.forget(e);
          this.discard(e.user.id);
        } else if (e.active.phase === 'ready' && now - e.active.started >= this.maxAgeMs) {
          this.forget(e);
          this.deps.log.info(`Replacing pooled server of ${e.user.name}: older than ${this.maxAgeMs / 1000} s`);
          void this.dispose(e);
        }
      }
    }
    this.fill();
  }

  private forget(entry: PoolEntry): boolean {
    const list = this.entries.get(entry.profile);
    const i = list ? list.indexOf(entry) : -1;
    if (i < 0) return false;
    list!.splice(i, 1);
    return true;
  }

  private async dispose(e: PoolEntry): Promise<void> {
    try {
      await this.deps.servers.stop(e.user.name, '');
      await this.deps.users!.discard(e.user.id);
    } catch (err) {
      this.deps.log.warn(`Could not remove pooled server of ${e.user.name}`, err);
    }
  }
}

function startsWithDefaults(spawner: HubConfig['spawner'], slug: string): boolean {
  try {
    selectUserOptions(spawner, { profile: slug });
    return true;
  } catch {
    return false;
  }
}
