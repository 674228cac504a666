// The one owner of a server's lifecycle: stopped → spawning → ready → stopping → stopped. Only this code changes a
// server's state; it writes the store, adds and removes routes, creates and deletes the server's token and OAuth client,
// and emits progress events. A restarted hub takes back the servers left running through `adopt` (adopt.ts).
import { EventEmitter } from 'node:events';
import type { HubConfig, SpawnerConfig } from '../config/types.ts';
import type { ActiveServer, HubEvent, LifecycleDeps, UserRef } from './lifecycle-types.ts';
import type { ServerRecord } from '../store/types.ts';
import { DomainError } from '../util/errors.ts';
import { withTimeout } from '../util/time.ts';
import type { Spawner } from '../spawner/types.ts';
import { describeServer as describe, serverPrefix } from './naming.ts';
import { createServerCredentials, releaseServerCredentials } from './credentials.ts';
import { effectiveSpawnerConfig } from './profiles.ts';
import { runPreSpawnHooks } from './hooks.ts';
import { SpawnQueue } from './queue.ts';
import { readopt, type AdoptionHost } from './adopt.ts';

export type { Phase, HubEvent, UserRef, ActiveServer, LifecycleDeps, LifecycleObserver } from './lifecycle-types.ts';

const key = (user: string, server: string) => `${user}/${server}`;

export class ServerManager {
  readonly deps: LifecycleDeps;
  private readonly active = new Map<string, ActiveServer>();
  /** The last spawn failure per server, for the spawn-pending page (JupyterHub's `_spawn_future` exception). */
  private readonly failures = new Map<string, string>();
  private spawningCount = 0;
  /** Spawns waiting for a slot (pages queue visitors here instead of answering 429); started head first as slots free. */
  readonly queue: SpawnQueue;
  private draining = false;
  private closing = false;

  constructor(deps: LifecycleDeps) {
    this.deps = deps;
    this.queue = new SpawnQueue({ persist: deps.store.spawnQueue });
  }

  /**
   * A config reload: spawner settings, profiles and limits apply to spawns from now on; running servers keep what they
   * were started with. Raised limits let waiting spawns go at once.
   */
  applyConfig(config: HubConfig): void {
    this.deps.config = config;
    this.drainQueue();
  }

  get(userName: string, serverName: string): ActiveServer | undefined {
    return this.active.get(key(userName, serverName));
  }

  /** Active servers of one user, by server name. */
  ofUser(userName: string): ActiveServer[] {
    const out: ActiveServer[] = [];
    for (const a of this.active.values()) if (a.user.name === userName) out.push(a);
    return out;
  }

  lastFailure(userName: string, serverName: string): string | undefined {
    return this.failures.get(key(userName, serverName));
  }

  get spawning(): number {
    return this.spawningCount;
  }

  get running(): number {
    let n = 0;
    for (const a of this.active.values()) if (a.phase === 'ready') n++;
    return n;
  }

  get size(): number {
    return this.active.size;
  }

  all(): IterableIterator<ActiveServer> {
    return this.active.values();
  }

  /**
   * Throws the 429 JupyterHub answers when a limit is reached, or when others already wait in line (newcomers queue
   * behind them). Pooled servers have their own budget (see pool.ts), so they count for neither limit.
   */
  checkLimits(fromQueue = false): void {
    const refusal = this.limitReached(fromQueue);
    if (refusal === 'spawns') {
      this.deps.observe?.spawnFinished?.('throttled', 0);
      throw new DomainError('limit-reached', 'Too many users trying to log in right now. Try again soon.', { retryAfterSeconds: 30 });
    }
    if (refusal === 'servers') {
      this.deps.observe?.spawnFinished?.('too-many-users', 0);
      throw new DomainError('limit-reached', 'Active user limit exceeded. Try again in a few minutes.', { retryAfterSeconds: 60 });
    }
  }

  private limitReached(fromQueue: boolean): 'spawns' | 'servers' | null {
    const hub = this.deps.config.hub;
    let active = 0;
    let spawning = 0;
    for (const a of this.active.values()) {
      if (a.pooled) continue;
      active++;
      if (a.phase === 'spawning' && !a.waitingForCapacity) spawning++;
    }
    if (hub.concurrent_spawn_limit > 0 && spawning >= hub.concurrent_spawn_limit) return 'spawns';
    if (!fromQueue && this.queue.length > 0) return 'spawns';
    if (hub.active_server_limit > 0 && active >= hub.active_server_limit) return 'servers';
    return null;
  }

  /** Starts waiting spawns, head first, while there are free slots. Runs whenever a slot may have freed. */
  private drainQueue(): void {
    if (this.draining || this.closing) return;
    this.draining = true;
    try {
      for (let head = this.queue.peek(); head && !this.limitReached(true); head = this.queue.peek()) {
        // start() takes the entry out of the line; a failure to start must not block the ones behind it.
        this.queue.remove(head.user.name, head.serverName);
        if (this.active.has(key(head.user.name, head.serverName))) continue;
        try {
          this.start(head.user, head.serverName, head.options, { fromQueue: true });
        } catch (err) {
          this.deps.log.warn(`Queued spawn of ${describe(head.user.name, head.serverName)} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Begins a spawn and returns at once; `spawned` settles when it is ready or failed. A server already spawning is
   * returned as is (JupyterHub answers 202 then); one that is ready or stopping is a 400. A `pooled` start is the warm
   * pool's: no limit check (the pool checks its own budget) and marked until handed to a visitor.
   */
  start(user: UserRef, serverName: string, userOptions?: Record<string, unknown>,
    opts: { pooled?: boolean; fromQueue?: boolean } = {}): ActiveServer {
    const k = key(user.name, serverName);
    const existing = this.active.get(k);
    if (existing) {
      if (existing.phase === 'spawning') {
        this.deps.observe?.spawnFinished?.('already-pending', 0);
        return existing;
      }
      if (existing.phase === 'stopping') throw new DomainError('wrong-state', `${describe(user.name, serverName)} is pending stop`);
      throw new DomainError('wrong-state', `${describe(user.name, serverName)} is already running`);
    }
    if (!opts.pooled) this.checkLimits(opts.fromQueue);
    this.queue.remove(user.name, serverName);
    const emitter = new EventEmitter();
    emitter.setMaxListeners(0);
    const active: ActiveServer = {
      user,
      name: serverName,
      // known once runSpawn has the record (the store answers asynchronously); `recorded` says when
      recordId: 0,
      prefix: serverPrefix(this.deps.config.hub.base_url, user.name, serverName),
      phase: 'spawning',
      spawner: null,
      url: null,
      started: Date.now(),
      events: [],
      emitter,
      spawned: Promise.resolve(false),
      stopped: null,
      pooled: opts.pooled === true,
    };
    this.active.set(k, active);
    this.failures.delete(k);
    this.spawningCount++;
    this.emit(active, { progress: 0, message: 'Server requested' });
    // The record is marked started before anything else, and a stop waits for that, so a stop arriving meanwhile
    // cannot release the record before the spawn marks it (which would leave a started record for a restarted hub).
    const recorded = this.record(active, userOptions);
    active.recorded = recorded.then(() => undefined, () => undefined);
    active.spawned = this.runSpawn(active, recorded).finally(() => {
      this.spawningCount--;
      this.drainQueue();
    });
    return active;
  }

  /**
   * The server's record, created if new and marked started; resolves to the options the spawn uses and the state the
   * last spawner kept across its stop (keptState), handed to the next one.
   */
  private async record(active: ActiveServer, userOptions: Record<string, unknown> | undefined): Promise<{ options: Record<string, unknown>; kept: Record<string, unknown> }> {
    const { store } = this.deps;
    const record = await store.servers.ensure(active.user.id, active.name);
    active.recordId = record.id;
    const options = userOptions ?? record.user_options ?? {};
    await store.servers.update(record.id, { started: active.started, user_options: options, url: null });
    return { options, kept: record.state };
  }

  private async runSpawn(active: ActiveServer, recorded: Promise<{ options: Record<string, unknown>; kept: Record<string, unknown> }>): Promise<boolean> {
    const { config, store, log } = this.deps;
    const t0 = performance.now();
    const k = key(active.user.name, active.name);
    let spawnConfig: SpawnerConfig;
    try {
      const { options, kept } = await recorded;
      if (active.phase !== 'spawning') throw new Error('stopped while starting');
      const effective = effectiveSpawnerConfig(config.spawner, options, config.spawnerSection);
      // Each spawn's own copy: a hook setting this user's environment must never reach the shared config (and so
      // the next user's server).
      spawnConfig = { ...effective, environment: { ...effective.environment } };
      const spec = await createServerCredentials(this.deps, active, options, spawnConfig);
      await runPreSpawnHooks(spawnConfig, { user: active.user, serverName: active.name, config: spawnConfig, userOptions: options, spec },
        (await this.deps.authState?.(active.user)) ?? null);
      await this.deps.authenticator?.preSpawnStart?.(active.user.name);
      const spawner = this.deps.spawnerClass.create({
        spec,
        config: spawnConfig,
        hubConfig: config,
        systemUsers: this.deps.authenticator?.capabilities.systemUsers === true,
        state: kept,
        log: log.child(`${active.user.name}/${active.name}`),
        onExit: (reason) => this.crashed(active, reason),
        waitingForCapacity: (waiting) => {
          if ((active.waitingForCapacity ?? false) === waiting) return;
          active.waitingForCapacity = waiting;
          log.debug(`Spawn of ${describe(active.user.name, active.name)} ${waiting ? 'waits for a node an autoscaler is adding (outside concurrent_spawn_limit)' : 'no longer waits for a node'}`);
          // a place under concurrent_spawn_limit freed: the head of the line creates its pod now
          if (waiting) this.drainQueue();
        },
        recordState: (state) => {
          store.servers.update(active.recordId, { state }).catch((err: Error) => log.warn(`Could not record the state of ${active.prefix}: ${err.message}`));
        },
      });
      active.spawner = spawner;
      this.emit(active, { progress: 10, message: 'Spawning server...' });
      void this.relayProgress(active, spawner);
      const url = await withTimeout(spawner.start(), spawnConfig.start_timeout * 1000 + spawnConfig.http_timeout * 1000,
        `Server at ${active.prefix} didn't respond in time`);
      if (active.phase !== 'spawning') throw new Error('stopped while starting');
      // A crash between start() resolving and the route being added would otherwise go unnoticed (onExit is ignored
      // while spawning, since a failed start rejects instead).
      if ((await spawner.poll()) !== null) throw new Error('the server exited right after it started');
      active.url = url;
      await store.servers.update(active.recordId, { state: spawner.getState(), url });
      this.deps.routes.add(active.prefix, url, { user: active.user.name, server_name: active.name });
      active.phase = 'ready';
      const now = Date.now();
      await store.servers.touch(active.recordId, now);
      await store.users.touch(active.user.id, now);
      this.emit(active, {
        progress: 100, ready: true, message: `Server ready at ${active.prefix}`,
        html_message: `Server ready at <a href="${active.prefix}">${active.prefix}</a>`, url: active.prefix,
      });
      this.deps.observe?.spawnFinished?.('success', (performance.now() - t0) / 1000);
      log.info(`Server ${describe(active.user.name, active.name)} ready at ${url} in ${Math.round(performance.now() - t0)} ms`);
      return true;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const stoppedOnPurpose = active.phase === 'stopping';
      if (!stoppedOnPurpose) {
        log.warn(`Spawn of ${describe(active.user.name, active.name)} failed: ${reason}`);
        this.failures.set(k, reason);
        this.deps.observe?.spawnFinished?.('failure', (performance.now() - t0) / 1000);
        this.emit(active, { progress: 100, failed: true, message: `Spawn failed: ${reason}` });
        await this.cleanUp(active, false);
      }
      return false;
    }
  }

  private async relayProgress(active: ActiveServer, spawner: Spawner): Promise<void> {
    if (!spawner.progress) return;
    try {
      for await (const ev of spawner.progress()) {
        if (active.phase !== 'spawning') break;
        // Spawner events may not claim readiness; the hub decides that after the route exists.
        this.emit(active, { progress: ev.progress, message: ev.message, html_message: ev.html_message, ...(ev.raw_event !== undefined ? { raw_event: ev.raw_event } : {}) });
      }
    } catch (err) {
      this.deps.log.debug(`progress of ${active.prefix} ended: ${String(err)}`);
    }
  }

  private emit(active: ActiveServer, ev: HubEvent): void {
    active.events.push(ev);
    active.emitter.emit('event', ev);
  }

  /** Stops a server; resolves when it is stopped. Stopping a stopped server is a no-op. */
  stop(userName: string, serverName: string): Promise<void> {
    this.queue.remove(userName, serverName);
    const active = this.active.get(key(userName, serverName));
    if (!active) return Promise.resolve();
    if (active.stopped) return active.stopped;
    const wasSpawning = active.phase === 'spawning';
    active.phase = 'stopping';
    if (wasSpawning) this.emit(active, { progress: 100, failed: true, message: 'Spawn cancelled: the server was stopped' });
    active.stopped = this.cleanUp(active, true);
    return active.stopped;
  }

  /** A server that died on its own: route off at once, then the same clean-up as a stop. */
  private crashed(active: ActiveServer, reason: string): void {
    if (this.active.get(key(active.user.name, active.name)) !== active || active.stopped) return;
    if (active.phase === 'spawning') return; // start() rejects and runSpawn cleans up
    this.deps.log.warn(`Server ${describe(active.user.name, active.name)} stopped unexpectedly: ${reason}`);
    active.phase = 'stopping';
    active.stopped = this.cleanUp(active, true);
  }

  private async cleanUp(active: ActiveServer, stopSpawner: boolean): Promise<void> {
    const { store, routes, log, config } = this.deps;
    const t0 = performance.now();
    routes.remove(active.prefix);
    let ok = true;
    if (stopSpawner && active.spawner) {
      try {
        await active.spawner.stop();
      } catch (err) {
        ok = false;
        log.error(`Stopping ${describe(active.user.name, active.name)} failed`, err);
      }
    } else if (active.spawner) {
      // A failed start: make sure nothing it began is left behind.
      await active.spawner.stop().catch(() => undefined);
    }
    if (active.spawner) await this.deps.authenticator?.postSpawnStop?.(active.user.name).catch(() => undefined);
    await active.recorded;
    try {
      await releaseServerCredentials(this.deps, active.user.name, active.name, active.recordId, active.spawner ? active.spawner.keptState?.() ?? {} : undefined);
    } catch (err) {
      // the database away: the record stays marked started, and the next hub's adoption finds the server gone
      ok = false;
      log.error(`Could not release the record of ${describe(active.user.name, active.name)}`, err);
    }
    this.active.delete(key(active.user.name, active.name));
    this.drainQueue();
    this.deps.observe?.stopFinished?.(ok ? 'success' : 'failure', (performance.now() - t0) / 1000);
    const hook = config.spawner.post_stop_hook;
    if (hook) {
      try {
        await hook({ user: active.user, serverName: active.name });
      } catch (err) {
        log.warn('post_stop_hook failed', err);
      }
    }
  }

  /** Resolves true when the server is ready within `ms`, false if still pending or failed. */
  async waitReady(active: ActiveServer, ms: number): Promise<boolean> {
    if (active.phase === 'ready') return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
    try {
      return await Promise.race([active.spawned, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Re-adopts servers a previous hub left running (adopt.ts); spawns it had begun go back in line first, in the order
   * they began, then the stored line; both start as slots allow, as any queued spawn does.
   */
  async adopt(records: (ServerRecord & { user_name: string })[], users: (id: number) => Promise<UserRef | undefined>,
    isAlive: (spawner: Spawner, url: string | null) => Promise<boolean>): Promise<{ adopted: number; cleaned: number }> {
    const { adopted, cleaned, interrupted } = await readopt(this.adoptionHost(), records, users, isAlive);
    interrupted.sort((a, b) => a.started - b.started);
    const waiting = await this.queue.restore(interrupted);
    if (waiting) this.deps.log.info(`Took up the spawn queue: ${waiting} waiting (${interrupted.length} interrupted spawns first)`);
    this.drainQueue();
    return { adopted, cleaned };
  }

  /** Takes in answering servers another hub on the database started (catch-up.ts); touches nothing else. */
  async adoptRunning(records: (ServerRecord & { user_name: string })[], user: UserRef,
    isAlive: (spawner: Spawner, url: string | null) => Promise<boolean>): Promise<number> {
    const unknown = (r: { name: string }) => !this.active.has(key(user.name, r.name));
    const { adopted } = await readopt(this.adoptionHost(), records.filter(unknown), async (id) => (id === user.id ? user : undefined),
      isAlive, { onlyAnswering: true, stillUnknown: unknown });
    return adopted;
  }

  private adoptionHost(): AdoptionHost {
    const admit = (active: ActiveServer) => this.active.set(key(active.user.name, active.name), active);
    return { deps: this.deps, admit, crashed: (active, reason) => this.crashed(active, reason) };
  }

  /**
   * Hub shutdown: stop every server (cleanup_servers), or leave the ready ones for the next hub to adopt. Servers
   * still starting (not recorded as ready) and ones being stopped are always seen to the end: nothing half-started
   * outlives the hub.
   */
  async shutdown(stopServers: boolean): Promise<void> {
    this.closing = true;
    await this.queue.flushed();
    this.queue.clear();
    const ending = [...this.active.values()].filter((a) => stopServers || a.phase !== 'ready');
    await Promise.all(ending.map((a) => this.stop(a.user.name, a.name)));
    this.active.clear();
  }
}
