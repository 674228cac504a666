// LocalProcessSpawner: runs each server as a child process of the hub's machine, in its own session, in a per-user
// working directory (JupyterHub's SimpleLocalProcessSpawner behaviour). With `uid_range` and a hub running as root,
// each user's servers run under a uid of their own and the directory is handed to it (uids.ts).
//
// Output: the server's stdout and stderr go to a hidden log file in its working directory
// (`.nodehub-server.log`, or `.nodehub-server-<name>.log` for a named server), not through a pipe to the hub: a pipe
// would break when the hub restarts and re-adopts a running server. A server that dies while starting has the last
// lines of that file in the start() error.
import { buildServerEnv } from '../env.ts';
import { acquireHome, adoptHome, isAlive, killGroupQuietly, processStartTime, readTail, toConnectHost, urlHost,
  waitUntil } from './os.ts';
import { ProgressFeed } from '../progress-feed.ts';
import { waitForHttp } from '../readiness.ts';
import { listenerIs, listenerOwnedBy } from './listener.ts';
import { leaseServerPort } from './ports.ts';
import { localBoots, releaseWhenIdle } from './boot-gate.ts';
import type { ProgressEvent, Spawner, SpawnerInit } from '../types.ts';
import { readTraits, traitsProblem, type LocalTraits } from './traits.ts';
import { acquireUid, claimUid, giveHomeTo } from './uids.ts';
import { describeExit, exitStatus, launchProcess, type ProcessExit, type ServerProcess } from './process.ts';
import { preloadServersFor } from './preload/servers.ts';
import { launcherFor } from './preload/launcher.ts';
import { uidLocksFor } from './uid-lock-registry.ts';
import { ServerCgroup } from './limits.ts';
import type { SystemUser } from '../../util/system-users.ts';
import { homeDirFor, serverCommand, serverLogFile, systemAccount } from './run-as.ts';
import { endProcessGroup, releaseResources } from './teardown.ts';
import { expectVersionProbe, type VersionProbe } from './singleuser-version.ts';

const PORT_ATTEMPTS = 3;
const ADOPTED_WATCH_MS = 1000;

/** The server process ended before answering its readiness check. */
class EarlyExitError extends Error {
  portInUse: boolean;
  constructor(message: string, portInUse: boolean) {
    super(message);
    this.portInUse = portInUse;
  }
}

export class LocalProcessSpawner implements Spawner {
  #init: SpawnerInit;
  #traits: LocalTraits;
  #configError: Error | null = null;
  #feed = new ProgressFeed();
  /** The process this spawner started (null for an adopted one, which is only watched by pid). */
  #child: ServerProcess | null = null;
  #pid: number | null = null;
  #port: number | null = null;
  #home: string | null = null;
  #homeCreated = false;
  #startTime: number | null = null;
  /** The uid the server runs under (uid_range), null when it runs as the hub's user. */
  #uid: number | null = null;
  /** With an authenticator of system users: the user's passwd entry and gids; the server runs as them, in their home,
   *  and neither the uid range nor home_dir_template apply (nothing of the account is made, reclaimed or removed). */
  #system: { user: SystemUser; groups: number[] } | null = null;
  /** The cgroup carrying Spawner.mem_limit / cpu_limit, null without limits or cgroups. */
  #cgroup: ServerCgroup | null = null;
  /** Exit status once the process is known to be gone (null while running or never started). */
  #exitStatus: number | null = null;
  #starting: AbortController | null = null;
  #startSettled: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | null = null;
  #watch: NodeJS.Timeout | null = null;
  /** Answers this start's version probe with the server's own version (singleuser-version.ts). */
  #versionProbe: VersionProbe | null = null;
  /** An adopted record without the process's start time: whether the pid is still the server (see #verifyUntimed). */
  #untimed: Promise<void> | null = null;
  #notOurs = false;

  constructor(init: SpawnerInit) {
    this.#init = init;
    this.#traits = readTraits(init.config);
    // reported by start(), so a bad setting fails a spawn instead of crashing whoever creates spawners
    this.#configError = traitsProblem(this.#traits);
    this.#adopt(init.state);
  }

  getState(): Record<string, unknown> {
    if (this.#pid === null) return {};
    const state: Record<string, unknown> = { pid: this.#pid, port: this.#port, home: this.#home, home_created: this.#homeCreated, start_time: this.#startTime };
    if (this.#uid !== null) state.uid = this.#uid;
    if (this.#system) state.system_user = this.#system.user.name;
    if (this.#cgroup) state.cgroup = this.#cgroup.name;
    return state;
  }

  async poll(): Promise<number | null> {
    if (this.#pid === null) return 0;
    if (this.#exitStatus !== null) return this.#exitStatus;
    if (this.#child) return null;
    await this.#untimed;
    if (this.#adoptedAlive()) return null;
    this.#exitStatus = 0;
    return 0;
  }

  progress(): AsyncIterable<ProgressEvent> {
    return this.#feed.events();
  }

  start(): Promise<string> {
    if (this.#configError) return Promise.reject(this.#configError);
    if (this.#starting) return Promise.reject(new Error('This server is already starting'));
    const abort = new AbortController();
    this.#starting = abort;
    const run = this.#run(abort);
    this.#startSettled = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  /** Aborts a start in progress and lets it unwind first, so only one teardown ever runs at a time. */
  async stop(): Promise<void> {
    if (this.#starting) {
      this.#starting.abort();
      await this.#startSettled;
    }
    return this.#shutdown();
  }

  async #run(abort: AbortController): Promise<string> {
    try {
      if (this.#stopping) await this.#stopping;
      if (this.#pid !== null && (await this.poll()) === null) {
        throw new Error(`This server is already running (pid ${this.#pid})`);
      }
      // a server that died on its own still holds its directory: release it before starting over
      if (this.#pid !== null || this.#home) await this.#shutdown();
    } catch (err) {
      this.#starting = null;
      this.#feed.end();
      throw err;
    }
    this.#feed.reset();
    this.#feed.push({ progress: 10, message: 'Starting server process…' });
    try {
      const { spec } = this.#init;
      if (this.#init.systemUsers) {
        const system = await systemAccount(spec.user.name);
        this.#system = system;
        this.#home = system.user.home;
      } else {
        const home = homeDirFor(this.#traits.homeDirTemplate, spec.user.name, spec.serverName);
        this.#homeCreated = await acquireHome(home, this.#owner());
        this.#home = home;
      }
      if (this.#traits.uidSwitch && !this.#system) {
        this.#uid = acquireUid(this.#traits.uidRange!, spec.user.name, spec.serverName, uidLocksFor(this.#traits.uidLockDir, this.#init.hubConfig));
        await giveHomeTo(this.#home!, this.#uid);
      }
      this.#cgroup = ServerCgroup.create(this.#traits.memLimit, this.#traits.cpuLimit);
      for (let attempt = 1; ; attempt++) {
        const lease = this.#traits.port ? null : await leaseServerPort(this.#traits.ip);
        const port = lease?.port ?? this.#traits.port;
        try {
          return await this.#launch(port, abort.signal);
        } catch (err) {
          const retry = err instanceof EarlyExitError && err.portInUse && !this.#traits.port && attempt < PORT_ATTEMPTS;
          if (!retry || abort.signal.aborted) throw err;
          this.#init.log.info(`Port ${port} was taken before the server bound it; trying another`);
          this.#resetProcess();
        } finally {
          lease?.release();
        }
      }
    } catch (err) {
      await this.#shutdown();
      if (abort.signal.aborted) throw new Error('Start was cancelled: the server was stopped while starting');
      throw err;
    } finally {
      this.#starting = null;
      this.#feed.end();
    }
  }

  /** Spawns the server on `port` and waits until it answers; rejects at once when it exits first. */
  async #launch(port: number, signal: AbortSignal): Promise<string> {
    const { spec, log } = this.#init;
    const home = this.#home!;
    const connectHost = toConnectHost(this.#traits.ip);
    const origin = `http://${urlHost(connectHost)}:${port}`;
    const bindOrigin = `http://${urlHost(this.#traits.ip || '0.0.0.0')}:${port}`;
    const sys = this.#system?.user;
    // JupyterHub's LocalProcessSpawner sets the login environment from the passwd entry.
    const env = buildServerEnv(spec, this.#init.config, bindOrigin, {
      user: sys?.name ?? spec.user.name,
      home,
      shell: sys?.shell ?? '/bin/bash',
      adminAccess: this.#init.hubConfig?.hub?.admin_access === true,
    });
    const [file, ...args] = serverCommand(this.#traits, this.#system?.user ?? null);
    if (signal.aborted) throw new Error('aborted before spawning');
    const logFile = serverLogFile(home, spec.serverName);
    // Preloading drops to a uid and gid only, not to a user's groups: system users' servers go through the launcher.
    const preload = this.#traits.preload && !this.#system ? preloadServersFor(this.#init.hubConfig) : null;
    const launchFrom = performance.now();
    const child = await launchProcess({
      file: file!, args, cwd: home, env, logFile, uid: this.#system ? this.#system.user.uid : this.#uid,
      groups: this.#system?.groups ?? null,
      cgroupProcs: this.#cgroup?.procs ?? [],
      rlimitAs: this.#cgroup ? null : this.#traits.memLimit,
    }, preload, launcherFor(this.#init.hubConfig), log);
    this.#child = child;
    this.#pid = child.pid;
    this.#port = port;
    this.#startTime = processStartTime(child.pid);
    child.onExit((exit) => this.#onChildExit(child, exit));
    const sysUser = this.#system?.user;
    const runAs = sysUser ? { uid: sysUser.uid, gid: sysUser.gid } : this.#uid !== null ? { uid: this.#uid, gid: this.#uid } : null;
    const versionProbe = expectVersionProbe(child.pid, file!, env, runAs, describe(spec), log);
    this.#versionProbe = versionProbe;
    child.onExit(() => versionProbe.forget());
    // Recorded before it may run: a hub killed from here on leaves a pid its successor stops or adopts.
    this.#init.recordState?.(this.getState());
    // The boot gate is passed here, between the child's set-up and its exec: the launch round trip (a fork by the
    // launcher, tens of milliseconds on a busy machine) is nobody's place, and what waits for one is a set-up process
    // holding nothing but its pid. Holding places across the launch capped a storm of light servers at ~7 starts a
    // second with the hub mostly idle (bench/RESULTS.md).
    if (localBoots.full) this.#feed.push({ progress: 20, message: 'Waiting for other servers to finish starting…' });
    const waitFrom = performance.now();
    const leave = await localBoots.enter(signal);
    log.debug(`Server ${describe(spec)}: launched in ${Math.round(waitFrom - launchFrom)} ms, then waited ${Math.round(performance.now() - waitFrom)} ms for a place to boot`);
    const booted = new AbortController();
    try {
      child.release();
      releaseWhenIdle(localBoots, child.pid, leave, booted.signal);
      return await this.#answering(child, port, origin, logFile, versionProbe, signal);
    } finally {
      booted.abort();
      leave();
    }
  }

  /** Waits until the released server answers on its own port; rejects at once when it exits first. */
  async #answering(child: ServerProcess, port: number, origin: string, logFile: string, versionProbe: ReturnType<typeof expectVersionProbe>, signal: AbortSignal): Promise<string> {
    const { spec, log } = this.#init;
    const how = child.preloaded ? ' (preloaded)' : '';
    log.info(`Started server process ${child.pid}${how} for ${describe(spec)} on port ${port} (log: ${logFile})`);

    this.#feed.push({ progress: 50, message: 'Waiting for the server to answer…' });
    const dead = () => child.exit !== null;
    // an exit also cuts short a request in flight (something else may hold the port and never answer)
    const exited = new AbortController();
    child.onExit(() => exited.abort());
    try {
      const { status, version } = await waitForHttp(`${origin}${spec.prefix}`, {
        timeoutMs: this.#traits.httpTimeoutMs,
        signal: AbortSignal.any([signal, exited.signal]),
        isDead: dead,
      });
      log.debug(`Server ${describe(spec)} answered ${status}`);
      versionProbe.reported(version);
      const checking = performance.now();
      const owned = await listenerOwnedBy(child.pid, port, this.#traits.ip);
      log.debug(`Port ${port} of ${describe(spec)}: ${owned === false ? 'another process' : 'its own'} (checked in ${Math.round(performance.now() - checking)} ms)`);
      if (owned === false) {
        // Someone else took the port between the pick and our bind, and answered in our server's place.
        killGroupQuietly(child.pid);
        await waitUntil(dead, this.#traits.killTimeoutMs);
        throw new EarlyExitError(`Port ${port} was answered by another process than ${describe(spec)}'s server`, true);
      }
    } catch (err) {
      if (err instanceof EarlyExitError) throw err;
      if (signal.aborted || !dead()) throw err;
      const tail = await readTail(logFile);
      const message = `Server process for ${describe(spec)} exited ${describeExit(child.exit!)} before it answered${tail ? `:\n${tail}` : ''}`;
      throw new EarlyExitError(message, /EADDRINUSE|already in use/i.test(tail));
    }
    return origin;
  }

  #onChildExit(child: ServerProcess, exit: ProcessExit): void {
    if (child !== this.#child) return;
    this.#exitStatus = exitStatus(exit);
    // an exit during start is reported by start(); one during stop was asked for
    if (this.#starting || this.#stopping) return;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited ${describeExit(exit)}`;
    this.#init.onExit(`Server process ${child.pid} ${how}`);
  }

  /** Picks up a process a previous hub started (state from the database). */
  #adopt(state: Record<string, unknown>): void {
    const pid = Number(state.pid);
    if (!Number.isInteger(pid) || pid <= 0) return;
    this.#pid = pid;
    this.#port = typeof state.port === 'number' ? state.port : null;
    this.#startTime = typeof state.start_time === 'number' ? state.start_time : null;
    if (typeof state.system_user === 'string') {
      // a system user's server: nothing of the uid range to claim, and the home is theirs, never ours to remove
      this.#system = { user: { name: state.system_user, uid: -1, gid: -1, home: String(state.home ?? ''), shell: '' }, groups: [] };
    } else if (Number.isInteger(state.uid)) {
      this.#uid = state.uid as number;
      if (!claimUid(this.#uid, this.#init.spec.user.name, this.#init.spec.serverName, uidLocksFor(this.#traits.uidLockDir, this.#init.hubConfig))) {
        this.#init.log.warn(`Server process ${pid} runs under uid ${this.#uid}, which another user's server (of this or another hub) holds`);
      }
    }
    if (typeof state.cgroup === 'string') this.#cgroup = ServerCgroup.open(state.cgroup);
    if (typeof state.home === 'string' && state.home && this.#system) {
      this.#home = state.home;
    } else if (typeof state.home === 'string' && state.home) {
      this.#home = state.home;
      this.#homeCreated = state.home_created === true;
      adoptHome(this.#home, this.#owner(), this.#homeCreated);
    }
    if (!this.#adoptedAlive()) {
      this.#exitStatus = 0;
      return;
    }
    if (this.#startTime === null && this.#port !== null) this.#untimed = this.#verifyUntimed(pid, this.#port);
    // no child handle, so no exit event: look cheaply once a second
    this.#watch = setInterval(() => {
      if (this.#adoptedAlive()) return;
      this.#stopWatch();
      this.#exitStatus = 0;
      if (!this.#stopping) this.#init.onExit(`Server process ${pid} is gone`);
    }, ADOPTED_WATCH_MS);
    this.#watch.unref();
  }

  /**
   * A record without the process's start time (JupyterHub's LocalProcessSpawner keeps only the pid, as did early
   * nodehub) names a pid that may since belong to anything: with thousands of processes a pid comes round again within
   * minutes (pid_max is 32768 on many machines), and stopping the server signals its process group. The pid is this
   * server only while it (or a process it started) holds the server's listening port; otherwise it is never signalled.
   */
  async #verifyUntimed(pid: number, port: number): Promise<void> {
    if ((await listenerIs(pid, port, this.#traits.ip).catch(() => 'unknown')) === 'no') {
      this.#notOurs = true;
      this.#init.log.warn(`Server process ${pid} of ${describe(this.#init.spec)} was recorded without its start time and does not hold port ${port}: another process has its pid; it is left alone and the server counted as stopped`);
    }
  }

  /** Alive, and still the same process (a different start time means the pid was reused). */
  #adoptedAlive(): boolean {
    const pid = this.#pid!;
    if (this.#notOurs || !isAlive(pid)) return false;
    const now = this.#startTime === null ? null : processStartTime(pid);
    return now === null || now === this.#startTime;
  }

  #gone(): boolean {
    if (this.#pid === null || this.#exitStatus !== null) return true;
    if (this.#child) return this.#child.exit !== null;
    return !this.#adoptedAlive();
  }

  /** The one teardown path (stop, failed start): signals the process group, then releases the directory. */
  #shutdown(): Promise<void> {
    this.#stopping ??= this.#doShutdown().finally(() => {
      this.#stopping = null;
    });
    return this.#stopping;
  }

  async #doShutdown(): Promise<void> {
    await this.#untimed;
    this.#stopWatch();
    const { log, spec } = this.#init;
    if (this.#pid !== null) await endProcessGroup(this.#pid, () => this.#gone(), this.#child !== null, this.#traits, log, describe(spec));
    await releaseResources({
      user: spec.user.name, serverName: spec.serverName, uid: this.#uid, cgroup: this.#cgroup,
      home: this.#system ? null : this.#home, owner: this.#owner(),
    }, this.#traits, log, this.#init.hubConfig);
    this.#uid = null;
    this.#cgroup = null;
    this.#resetProcess();
    this.#home = null;
    this.#homeCreated = false;
    this.#system = null;
  }

  #resetProcess(): void {
    this.#versionProbe?.forget();
    this.#versionProbe = null;
    this.#child = null;
    this.#pid = null;
    this.#port = null;
    this.#startTime = null;
    this.#exitStatus = null;
  }

  #stopWatch(): void {
    if (this.#watch) clearInterval(this.#watch);
    this.#watch = null;
  }

  #owner(): string {
    return `${this.#init.spec.user.name}/${this.#init.spec.serverName}`;
  }
}

function describe(spec: SpawnerInit['spec']): string {
  return spec.serverName ? `${spec.user.name}/${spec.serverName}` : spec.user.name;
}
