// The preloading fork servers of one hub (LocalProcessSpawner.preload): which spawns they take, one server per
// flavour started on the first spawn that needs it, started again after it dies, and a plain spawn whenever they
// cannot help. Only the default command qualifies: a `jupyterhub-singleuser` that is a Python script.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../../util/log.ts';
import type { LaunchRequest, ServerProcess } from '../process.ts';
import { ForkServer, privateDir } from './fork-server.ts';
import { firstLine, onPath } from '../executables.ts';

const READY_TIMEOUT_MS = 60_000;
/** After a server failed to start, spawns go without one for this long before another is tried. */
const RETRY_MS = 5 * 60_000;
const COMMAND = 'jupyterhub-singleuser';
/** Fork servers per hub at most (one per distinct interpreter environment); past that, spawns go the plain way. */
const MAX_SERVERS = 4;
// What the interpreter reads at start-up, and the application choice: servers differing here need a fork server of
// their own. A fork server's environment holds only these and PATH: every child carries a copy of that environment,
// so nothing of one spawn's (Spawner.environment may be per user) may be in it.
const INTERPRETER = /^(PYTHON.*|LANG|LANGUAGE|LC_.*|SSL_CERT_(FILE|DIR)|OPENSSL_.*|JUPYTERHUB_SINGLEUSER_APP)$/;

export interface PreloadTarget {
  python: string;
  script: string;
}

/** The interpreter and script when `file` is jupyterhub-singleuser as a Python script on the spawn's PATH, else null. */
export function preloadTarget(file: string, env: Record<string, string>): PreloadTarget | null {
  if (path.basename(file) !== COMMAND) return null;
  const script = onPath(file, env.PATH ?? '');
  if (!script) return null;
  const m = /^#!(\/\S+)[ \t]*\r?$/m.exec(firstLine(script));
  return m && /^python[0-9.]*$/.test(path.basename(m[1]!)) ? { python: m[1]!, script } : null;
}

/** The hub's umask, without setting it (process.umask() with no argument sets and restores it). */
export function currentUmask(): number {
  try {
    const m = /^Umask:\s+([0-7]+)/m.exec(fs.readFileSync('/proc/self/status', 'latin1'));
    if (m) return parseInt(m[1]!, 8);
  } catch {
    // no /proc: fall through
  }
  return 0o022;
}

/** Spawns with the same interpreter, script and interpreter environment share a fork server. */
function flavour(target: PreloadTarget, env: Record<string, string>): string {
  return JSON.stringify([target.python, target.script, Object.entries(env).filter(([k]) => INTERPRETER.test(k)).sort()]);
}

interface Entry {
  promise: Promise<ForkServer | null>;
  server: ForkServer | null;
  settledAt: number | null;
  inexactNoted: boolean;
}

/** A unix socket's path must fit sockaddr_un (108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;
// A fork server left by a killed hub is adopted only by a hub running this same fork server code.
const CODE = ['forkserver.py', '_nodehub_warm.py'].map((f) => fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), f))).join('\0');

/** Where a fork server of this flavour waits for the hub's successor: `<base>/<hash>`, or null when that is too long. */
export function adoptPath(base: string, key: string): string | null {
  const p = path.join(base, createHash('sha256').update(CODE).update(key).digest('hex').slice(0, 16));
  return Buffer.byteLength(p) <= MAX_SOCKET_PATH ? p : null;
}

/** `base` as a directory only this uid can write to (made 0700 if missing), or null when it is not one. */
function privateBase(base: string): string | null {
  try {
    fs.mkdirSync(base, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return null;
  }
  return privateDir(base) ? base : null;
}

export class PreloadServers {
  #entries = new Map<string, Entry>();
  /** The hub's path for runtime files (beside its database), from which adoption paths are made; null: none. */
  #adoptBase: string | null = null;
  #warned = false;
  #closed = false;

  /**
   * Hub start: begins the fork server that spawns of `file` with this environment will use, so the first visitor after
   * a start or restart does not wait for its imports. Resolves true once it is up, false when it cannot help.
   */
  async warm(file: string, env: Record<string, string>, log: Logger): Promise<boolean> {
    const target = preloadTarget(file, env);
    if (!target || this.#closed) return false;
    return (await this.#server(flavour(target, env), target, env, log)) !== null;
  }

  /**
   * Hub start, before anything else: takes over the fork server for `file` that a killed predecessor left waiting
   * (a connect, no CPU to speak of), so that not even the first spawn after the restart waits. False when there is none.
   */
  async takeOver(file: string, env: Record<string, string>, log: Logger): Promise<boolean> {
    const target = preloadTarget(file, env);
    if (!target || this.#closed || !this.#adoptBase) return false;
    const key = flavour(target, env);
    const at = adoptPath(this.#adoptBase, key);
    if (!at || this.#entries.has(key)) return false;
    const server = await ForkServer.adopt(at);
    if (!server) return false;
    this.#entries.set(key, { promise: Promise.resolve(server), server, settledAt: Date.now(), inexactNoted: false });
    this.#adopted(server, target, log);
    return true;
  }

  #adopted(server: ForkServer, target: PreloadTarget, log: Logger): void {
    log.info(`Took over the fork server pid ${server.pid} the previous hub preloaded ${target.script} in (${server.hello.modules} modules)`);
  }

  /**
   * Lets fork servers outlive a killed hub for its successor (forkserver.py, LINGER_S): each waits at a socket named
   * from `base` and its flavour, and this hub first looks there for one its predecessor left.
   */
  adoptFrom(base: string | null): void {
    // a directory another user could write to would let them put a socket of their own where the hub looks
    this.#adoptBase = base ? privateBase(base) : null;
  }

  /** Fork servers up and running now (not starting, not dead). */
  get running(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.server?.alive) n++;
    return n;
  }

  /** Starts the server through a fork server; null when this spawn cannot go that way (the caller spawns it). */
  async launch(req: LaunchRequest, log: Logger): Promise<ServerProcess | null> {
    const target = preloadTarget(req.file, req.env);
    if (!target || this.#closed) return null;
    const key = flavour(target, req.env);
    const server = await this.#server(key, target, req.env, log);
    if (!server) return null;
    try {
      const child = await server.fork({
        argv: [req.file, ...req.args], env: req.env, cwd: req.cwd, log: req.logFile, uid: req.uid, gid: req.uid, groups: null, umask: currentUmask(),
        cgroup: req.cgroupProcs, rlimit_as: req.rlimitAs,
      });
      const entry = this.#entries.get(key);
      if (child.exact !== true && entry && !entry.inexactNoted) {
        entry.inexactNoted = true;
        log.info(`A preloaded server ran ${COMMAND} itself (no faster than a plain spawn): ${child.exact}`);
      }
      return child;
    } catch (err) {
      log.debug(`Preloaded start failed (${(err as Error).message}); spawning directly`);
      return null;
    }
  }

  /** Ends every fork server (their servers keep running) and takes no more spawns. */
  async close(): Promise<void> {
    this.#closed = true;
    const servers = [...this.#entries.values()].map((e) => e.promise);
    this.#entries.clear();
    await Promise.all(servers.map((p) => p.then((s) => s?.close())));
  }

  #server(key: string, target: PreloadTarget, env: Record<string, string>, log: Logger): Promise<ForkServer | null> {
    const entry = this.#entries.get(key);
    if (entry) {
      if (entry.settledAt === null || entry.server?.alive) return entry.promise;
      if (!entry.server && Date.now() - entry.settledAt < RETRY_MS) return Promise.resolve(null);
    }
    if (!entry && this.#entries.size >= MAX_SERVERS) return Promise.resolve(null);
    const launchEnv = Object.fromEntries(Object.entries(env).filter(([k]) => k === 'PATH' || INTERPRETER.test(k)));
    const app = env.JUPYTERHUB_SINGLEUSER_APP ?? '';
    const next: Entry = { promise: null!, server: null, settledAt: null, inexactNoted: entry?.inexactNoted ?? false };
    const adoptAt = this.#adoptBase ? adoptPath(this.#adoptBase, key) : null;
    const start = async () => (adoptAt ? await ForkServer.adopt(adoptAt) : null)
      ?? ForkServer.start({ ...target, app, env: launchEnv, readyTimeoutMs: READY_TIMEOUT_MS, adoptPath: adoptAt });
    next.promise = start().then(
      (server) => {
        next.server = server;
        next.settledAt = Date.now();
        if (server.adopted) this.#adopted(server, target, log);
        else log.info(`Preloaded ${target.script}${app ? ` (${app})` : ''} in ${server.hello.ms} ms: ${server.hello.modules} modules, fork server pid ${server.pid}`);
        server.onDeath((why) => log.warn(`The preload server ${server.pid} died (${why}); the next spawn starts another`));
        if (this.#closed) void server.close();
        return this.#closed ? null : server;
      },
      (err: Error) => {
        next.settledAt = Date.now();
        if (!this.#warned) log.warn(`${err.message}\nServers start without preloading (LocalProcessSpawner.preload)`);
        else log.debug(err.message);
        this.#warned = true;
        return null;
      },
    );
    this.#entries.set(key, next);
    return next.promise;
  }
}

const byHub = new WeakMap<object, PreloadServers>();
const noHub = {};

/** The fork servers of the hub whose config is `hub` (several hubs may share a process, e.g. in tests). */
export function preloadServersFor(hub: object | undefined): PreloadServers {
  const key = hub ?? noHub;
  let servers = byHub.get(key);
  if (!servers) byHub.set(key, (servers = new PreloadServers()));
  return servers;
}

/** Hub shut-down: ends the hub's fork servers; their servers keep running, as with a plain spawn. */
export async function closePreloadServers(hub: object | undefined): Promise<void> {
  const key = hub ?? noHub;
  const servers = byHub.get(key);
  byHub.delete(key);
  await servers?.close();
}
