// The built-in idle culler (jupyterhub-idle-culler's job, done in process): every `cull_every` seconds it stops
// servers idle longer than `timeout` or older than `max_age`, and with `cull_users` deletes users who have no running
// server and were last seen more than `timeout` ago. A round reads the active servers from memory and the idle users
// through one indexed query in small batches, so its cost never grows with the number of users in the database.
// Deleted users stay counted by jupyterhub_active_users: that count reads the activity record, not the users.
import { forgetServers } from '../servers/forget.ts';
import type { Hub } from './context.ts';
import type { HubConfig } from '../config/types.ts';
import type { Authenticator } from '../auth/index.ts';
import type { ActiveServer } from '../servers/index.ts';

/** Users deleted per transaction; small enough that one batch blocks the event loop for a few milliseconds. */
const USER_BATCH = 200;

export interface CullerSettings {
  timeoutMs: number;
  everyMs: number;
  /** 0 = no limit */
  maxAgeMs: number;
  cullUsers: boolean;
}

export interface CullerOptions {
  /** Users the culler must leave alone whatever their activity (visitors in the spawn queue are always kept). */
  keepUser?: (userName: string) => boolean;
}

/** The IdleCuller section read for this hub, or null when the culler is off; throws on settings that cannot work. */
export function cullerSettings(config: HubConfig, authenticator: Authenticator): CullerSettings | null {
  const s = config.sections.IdleCuller;
  const ephemeral = authenticator.capabilities.temporaryUsers;
  if (!(s.enabled ?? ephemeral)) return null;
  if (s.timeout <= 0) {
    throw new Error(`IdleCuller.timeout must be a positive number of seconds when the culler is enabled, got ${s.timeout}`);
  }
  return {
    timeoutMs: s.timeout * 1000,
    everyMs: (s.cull_every > 0 ? s.cull_every : s.timeout / 2) * 1000,
    maxAgeMs: Math.max(0, s.max_age) * 1000,
    cullUsers: s.cull_users ?? ephemeral,
  };
}

export interface CullResult {
  servers: number;
  users: number;
}

export class IdleCuller {
  readonly settings: CullerSettings;
  private readonly hub: Hub;
  private readonly keepUser: (userName: string) => boolean;
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<CullResult> | null = null;
  private stopped = false;
  /** Servers seen waiting in the warm pool; once handed to a visitor, their age and idleness count from then. */
  private readonly seenPooled = new WeakSet<ActiveServer>();
  private readonly handedOver = new WeakMap<ActiveServer, number>();

  constructor(hub: Hub, settings: CullerSettings, opts: CullerOptions = {}) {
    this.hub = hub;
    this.settings = settings;
    this.keepUser = opts.keepUser ?? (() => false);
  }

  start(): void {
    this.timer = setInterval(() => void this.cullOnce(), this.settings.everyMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a round in progress, so close() never races a deletion. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.round?.catch(() => undefined);
  }

  /** One culling round; a round already running is joined rather than doubled. */
  cullOnce(now = Date.now()): Promise<CullResult> {
    this.round ??= this.run(now)
      .catch((err) => {
        this.hub.log.warn('Idle culling round failed', err);
        return { servers: 0, users: 0 };
      })
      .finally(() => {
        this.round = null;
      });
    return this.round;
  }

  private async run(now: number): Promise<CullResult> {
    const doomed: { a: ActiveServer; why: string }[] = [];
    for (const a of [...this.hub.servers.all()]) {
      const why = await this.shouldStop(a, now);
      if (why) doomed.push({ a, why });
    }
    await Promise.all(doomed.map(({ a, why }) => {
      this.hub.log.info(`Culling server ${a.prefix}: ${why}`);
      return this.hub.servers.stop(a.user.name, a.name);
    }));
    const users = this.settings.cullUsers ? await this.cullUsers(now) : 0;
    if (doomed.length || users) this.hub.log.info(`Culled ${doomed.length} idle servers and ${users} idle users`);
    return { servers: doomed.length, users };
  }

  /**
   * Why the server should stop, or null. Only ready servers are judged: a spawn in progress or a stop under way is
   * someone else's business.
   */
  private async shouldStop(a: ActiveServer, now: number): Promise<string | null> {
    if (a.pooled) this.seenPooled.add(a);
    if (a.phase !== 'ready' || a.pooled || this.keepUser(a.user.name)) return null;
    const age = now - this.since(a, now);
    if (this.settings.maxAgeMs && age > this.settings.maxAgeMs) return `running for ${Math.round(age / 1000)} s`;
    const idle = now - (await this.lastActivity(a, now));
    return idle > this.settings.timeoutMs ? `idle for ${Math.round(idle / 1000)} s` : null;
  }

  /**
   * When the server became its user's: its start, or for a pooled one the round that first saw it handed out (a
   * visitor handed a server that waited long in the pool is not idle, nor old, before their first request arrives).
   */
  private since(a: ActiveServer, now: number): number {
    if (this.seenPooled.has(a)) {
      this.seenPooled.delete(a);
      this.handedOver.set(a, now);
    }
    return this.handedOver.get(a) ?? a.started;
  }

  /** The latest of: proxied traffic (in memory, freshest), activity the server reported, and since(). */
  private async lastActivity(a: ActiveServer, now: number): Promise<number> {
    const route = this.hub.routes.get(a.prefix);
    const record = await this.hub.store.servers.get(a.user.id, a.name);
    return Math.max(this.since(a, now), route?.lastActivity ?? 0, record?.last_activity ?? 0);
  }

  /** Deletes idle users in small transactions, yielding between them so requests keep flowing. */
  private async cullUsers(now: number): Promise<number> {
    const { store } = this.hub;
    const before = now - this.settings.timeoutMs;
    let deleted = 0;
    // A user the query keeps returning (spawning, kept) is skipped by id, so a batch of them cannot stall the loop.
    const skipped = new Set<number>();
    for (;;) {
      if (this.stopped) break;
      const batch = (await store.users.listIdle(before, USER_BATCH + skipped.size)).filter((u) => !skipped.has(u.id));
      if (batch.length === 0) break;
      // The store says no started server; memory also knows spawns that have not reached the store yet.
      const busy = new Set<string>();
      for (const a of this.hub.servers.all()) busy.add(a.user.name);
      // A spawner that keeps something beyond a stop (KubeSpawner's claims) releases it with the user, as the
      // jupyterhub-idle-culler's DELETE /users/:name has JupyterHub do.
      const { deps } = this.hub.servers;
      const records = deps.spawnerClass.deleteForever ? await store.servers.listForUsers(batch.map((u) => u.id)) : null;
      const gone: typeof batch = [];
      await store.tx(async (s) => {
        for (const u of batch) {
          // a visitor waiting in the spawn queue has no server yet but is anything but idle
          if (busy.has(u.name) || this.hub.servers.queue.has(u.name, '') || this.keepUser(u.name)) {
            skipped.add(u.id);
            continue;
          }
          await s.users.delete(u.id);
          gone.push(u);
          deleted++;
        }
      });
      if (records) for (const u of gone) void forgetServers(deps, u, records.get(u.id) ?? []);
      if (batch.length < USER_BATCH) break;
      await new Promise((r) => setImmediate(r));
    }
    return deleted;
  }
}

/** Starts the culler with settings from cullerSettings (read before the hub listens, so a bad value stops start-up). */
export function startCuller(hub: Hub, settings: CullerSettings, opts: CullerOptions = {}): IdleCuller {
  const culler = new IdleCuller(hub, settings, opts);
  culler.start();
  hub.log.info(`Idle culler: servers idle for ${settings.timeoutMs / 1000} s are stopped${settings.cullUsers ? ' and idle users deleted' : ''}, every ${settings.everyMs / 1000} s`);
  return culler;
}
