// The launcher: a plain fork server (forkserver.py --plain) that starts every local server the preloading fork servers
// do not (another Spawner.cmd, preload off, a system user, a preload server that cannot start). The hub's own process
// then never forks: child_process.spawn forks the whole hub (100-170 MiB of page tables to copy) and blocks its event
// loop until the child has exec'd, ~5 ms of CPU and more of wall time per server on a loaded 2-core machine, which
// every visitor's request waits behind during an event. The launcher is a small Python process (the standard library
// only) that forks in well under a millisecond, off the hub's event loop.
//
// The guarantees of a direct spawn hold: the child is set up (session, uid, gid and groups, umask, cwd, log file, cgroup,
// RLIMIT_AS) and its command found before the hub learns its pid; it executes the command only after the hub's go,
// sent once the pid is recorded; it exits if the hub (or the launcher) dies first. Its exit comes from the launcher's
// report, or, once the launcher is gone, from watching the pid (status unknown). Whenever the launcher is not there,
// the spawn goes directly from the hub (spawnChild) and the launcher is started again.
import type { Logger } from '../../../util/log.ts';
import type { LaunchRequest, ServerProcess } from '../process.ts';
import { onPath } from '../executables.ts';
import { ChildSetupError, ForkServer } from './fork-server.ts';
import { currentUmask } from './servers.ts';

const READY_TIMEOUT_MS = 10_000;
/** After the launcher failed to start, spawns go directly from the hub for this long before it is tried again. */
const RETRY_MS = 60_000;
/** A launcher that dies sooner than this after its start is not restarted at once, only by the next spawn. */
const RESTART_MIN_MS = 5_000;

export interface LauncherOptions {
  /** The interpreter; by default python3 on the hub's PATH. */
  python?: string;
}

export class PlainLauncher {
  #python: string | null;
  #server: ForkServer | null = null;
  #starting: Promise<ForkServer | null> | null = null;
  #failedAt: number | null = null;
  #noted = false;
  #closed = false;

  constructor(opts: LauncherOptions = {}) {
    this.#python = opts.python ?? onPath('python3', process.env.PATH || '/usr/bin:/bin');
  }

  /** The launcher's pid while it runs. */
  get pid(): number | null {
    return this.#server?.alive ? this.#server.pid : null;
  }

  /** Hub start: brings the launcher up so the first spawn finds it; true once it runs. */
  async warm(log: Logger): Promise<boolean> {
    return (await this.#ready(log)) !== null;
  }

  /**
   * Starts the server through the launcher. Null when the launcher cannot take it (not running, failed, died during
   * the request): the caller spawns it directly. A set-up error of the child (no such command, a directory or cgroup it
   * cannot enter) is the spawn's error and is thrown.
   */
  async launch(req: LaunchRequest, log: Logger): Promise<ServerProcess | null> {
    if (this.#closed) return null;
    const server = await this.#ready(log);
    if (!server) return null;
    const groups = req.uid !== null && req.groups?.length ? req.groups : null;
    try {
      return await server.fork({
        argv: [req.file, ...req.args], env: req.env, cwd: req.cwd, log: req.logFile, uid: req.uid,
        gid: req.uid === null ? null : groups ? groups[0]! : req.uid, groups, umask: currentUmask(),
        cgroup: req.cgroupProcs, rlimit_as: req.rlimitAs,
      });
    } catch (err) {
      if (err instanceof ChildSetupError) throw err;
      this.#note(log, `${(err as Error).message}; this server starts directly from the hub`);
      return null;
    }
  }

  /** Ends the launcher (its servers keep running) and takes no more spawns. */
  async close(): Promise<void> {
    this.#closed = true;
    const server = this.#server ?? (await this.#starting);
    this.#server = null;
    await server?.close();
  }

  #ready(log: Logger): Promise<ForkServer | null> {
    if (this.#server?.alive) return Promise.resolve(this.#server);
    if (this.#starting) return this.#starting;
    if (this.#closed || (this.#failedAt !== null && Date.now() - this.#failedAt < RETRY_MS)) return Promise.resolve(null);
    const python = this.#python;
    if (!python) {
      this.#failedAt = Date.now();
      this.#note(log, 'No python3 on the hub\'s PATH for the launcher; servers start directly from the hub');
      return Promise.resolve(null);
    }
    this.#starting = ForkServer.start({ python, script: null, app: '', env: {}, readyTimeoutMs: READY_TIMEOUT_MS }).then(
      (server) => {
        this.#starting = null;
        this.#failedAt = null;
        if (this.#closed) {
          void server.close();
          return null;
        }
        this.#server = server;
        log.debug(`The launcher runs (pid ${server.pid})`);
        const since = Date.now();
        server.onDeath((why) => {
          this.#note(log, `The launcher ${server.pid} died (${why}); it is started again`);
          // at once, so the next spawn finds it (the servers it started keep running, watched by pid); one that died
          // soon after its start is started again only by the next spawn, so a launcher that keeps dying cannot loop
          if (Date.now() - since >= RESTART_MIN_MS && !this.#closed) void this.#ready(log);
        });
        return server;
      },
      (err: Error) => {
        this.#starting = null;
        this.#failedAt = Date.now();
        this.#note(log, `${err.message}\nServers start directly from the hub until it can be started`);
        return null;
      },
    );
    return this.#starting;
  }

  /** Warns once per hub; after that, debug: a launcher that keeps failing must not flood the log. */
  #note(log: Logger, message: string): void {
    if (this.#noted) return log.debug(message);
    this.#noted = true;
    log.warn(message);
  }
}

const byHub = new WeakMap<object, PlainLauncher>();
const noHub = {};

/** The launcher of the hub whose config is `hub` (several hubs may share a process, e.g. in tests). */
export function launcherFor(hub: object | undefined): PlainLauncher {
  const key = hub ?? noHub;
  let launcher = byHub.get(key);
  if (!launcher) byHub.set(key, (launcher = new PlainLauncher()));
  return launcher;
}

/** Hub shut-down: ends the hub's launcher; its servers keep running. */
export async function closeLauncher(hub: object | undefined): Promise<void> {
  const key = hub ?? noHub;
  const launcher = byHub.get(key);
  byHub.delete(key);
  await launcher?.close();
}
