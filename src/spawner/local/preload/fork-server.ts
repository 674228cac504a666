// One fork server (forkserver.py): a Python process that has imported jupyterhub-singleuser's modules and forks a
// ready-made server per request (preloading), or, plain, imported nothing and forks a child that executes the command
// (the launcher of every other server, so the hub never forks itself). Spoken to over a socket on its fd 3, one JSON object per line. Its children
// are not the hub's: their exit comes from the server's report, or, once the server is gone, from watching the pid
// (status unknown then, as for a server re-adopted after a hub restart). A forked child waits for the hub's go-ahead
// (`<id> go`, sent once the hub recorded its pid) before it runs the server; it exits if its fork server goes first.
import type { ChildProcess } from 'node:child_process';
import { childProcess } from '../../../util/builtins.ts';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { isAlive, processStartTime } from '../os.ts';
import type { ProcessExit, ServerProcess } from '../process.ts';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'forkserver.py');
const WATCH_MS = 500;
/** A fork and the child's set-up take milliseconds; a server that does not answer in this long is broken. */
const FORK_TIMEOUT_MS = 15_000;
const STDERR_KEEP = 4096;
const ARGV_ROOM = 2048;

export interface ForkServerOptions {
  python: string;
  /** The jupyterhub-singleuser script each child runs; null for the plain launcher (children exec their command). */
  script: string | null;
  /** JUPYTERHUB_SINGLEUSER_APP, '' for jupyterhub's own choice. */
  app: string;
  /** The fork server's environment; children get their own. */
  env: Record<string, string>;
  /** How long importing may take before the server counts as broken. */
  readyTimeoutMs: number;
  /** Where the server waits for this hub's successor if this hub is killed (forkserver.py); null: it just ends. */
  adoptPath?: string | null;
  /** How long it waits there before it ends. */
  lingerS?: number;
}

/** A restart by systemd or by hand comes within seconds; a hub that does not come back leaves nothing for long. */
export const LINGER_S = 120;

/** The server process, whether this hub started it (a child) or adopted it from the hub before (not a child). */
interface ServerHandle {
  pid: number;
  kill(signal: NodeJS.Signals): void;
  /** Once, when it is gone: its exit (a child), or its end of the control socket closing (adopted). */
  onGone(listener: (why: string) => void): void;
  unref(): void;
}

function childHandle(proc: ChildProcess): ServerHandle {
  return {
    pid: proc.pid!,
    kill: (sig) => proc.kill(sig),
    onGone: (l) => proc.once('exit', (code, sig) => l(`it exited (${code ?? sig})`)),
    unref: () => {
      proc.unref();
      (proc.stderr as Socket | null)?.unref();
    },
  };
}

function adoptedHandle(pid: number, control: Socket): ServerHandle {
  return {
    pid,
    kill: (sig) => {
      try {
        process.kill(pid, sig);
      } catch {
        // gone already
      }
    },
    onGone: (l) => control.once('close', () => l('its control socket closed')),
    unref: () => {},
  };
}

export interface ForkRequest {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  log: string;
  uid: number | null;
  gid: number | null;
  /** Supplementary groups (a system user's); null or empty for none. */
  groups: number[] | null;
  umask: number;
  /** cgroup.procs files the child writes its pid into while still root (Spawner.mem_limit / cpu_limit). */
  cgroup: string[];
  /** RLIMIT_AS the child sets on itself; null for none. */
  rlimit_as: number | null;
}

interface Pending {
  resolve: (v: ForkedProcess) => void;
  reject: (e: Error) => void;
}

/** What the server said once its modules were imported. */
export interface ForkServerHello {
  pid: number;
  modules: number;
  ms: number;
}

/** The child could not be set up for this request (its command, directory, log or cgroup): the spawn's own error. */
export class ChildSetupError extends Error {}

const signalNames = new Map(Object.entries(os.constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

export class ForkedProcess implements ServerProcess {
  readonly pid: number;
  /** false for the launcher's children, which always execute their command. */
  readonly preloaded: boolean;
  /** true, or why the child ran the command itself instead (it is then a fresh interpreter, only no faster). */
  readonly exact: true | string;
  #exit: ProcessExit | null = null;
  #listeners: ((exit: ProcessExit) => void)[] = [];
  #watch: NodeJS.Timeout | null = null;

  #release: () => void;

  constructor(pid: number, exact: true | string, release: () => void = () => {}, preloaded = true) {
    this.pid = pid;
    this.preloaded = preloaded;
    this.exact = exact;
    this.#release = release;
  }

  /** The go-ahead: the child waits for it after setting up (and exits if its fork server goes first). */
  release(): void {
    const go = this.#release;
    this.#release = () => {};
    go();
  }

  get exit(): ProcessExit | null {
    return this.#exit;
  }

  onExit(listener: (exit: ProcessExit) => void): void {
    const exit = this.#exit;
    if (exit) queueMicrotask(() => listener(exit));
    else this.#listeners.push(listener);
  }

  ended(exit: ProcessExit): void {
    if (this.#exit) return;
    if (this.#watch) clearInterval(this.#watch);
    this.#exit = exit;
    for (const l of this.#listeners.splice(0)) l(exit);
  }

  /** The fork server is gone, so nobody will report the exit: watch the pid (and its start time, against reuse). */
  orphaned(): void {
    if (this.#exit || this.#watch) return;
    const started = processStartTime(this.pid);
    const gone = () => !isAlive(this.pid) || (started !== null && processStartTime(this.pid) !== started);
    if (gone()) return this.ended({ code: null, signal: null });
    this.#watch = setInterval(() => gone() && this.ended({ code: null, signal: null }), WATCH_MS);
    this.#watch.unref();
  }
}

/** A directory of this process's uid that no other user can write to. */
export function privateDir(dir: string): boolean {
  try {
    const st = fs.lstatSync(dir);
    return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

export class ForkServer {
  readonly hello: ForkServerHello;
  /** Taken over from the hub before this one (which was killed), not started here. */
  readonly adopted: boolean;
  #proc: ServerHandle;
  #control: Socket;
  #pending = new Map<number, Pending>();
  #children = new Map<number, ForkedProcess>();
  #nextId = 1;
  #dead = false;
  #stderr = '';
  #onDeath: ((why: string) => void)[] = [];

  readonly #plain: boolean;
  readonly #label: string;

  private constructor(proc: ServerHandle, control: Socket, hello: ForkServerHello, plain: boolean, adopted = false) {
    this.#plain = plain;
    this.#label = plain ? 'the launcher' : 'the preload server';
    this.#proc = proc;
    this.#control = control;
    this.hello = hello;
    this.adopted = adopted;
  }

  /**
   * The preloading server a killed predecessor left waiting at `adoptPath`, or null when there is none (no socket, one
   * that is not this user's, or no server answering it). Only a socket file owned by this hub's uid is tried: its
   * requests carry users' tokens.
   */
  static async adopt(adoptPath: string, timeoutMs = 2000): Promise<ForkServer | null> {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(adoptPath);
    } catch {
      return null;
    }
    // in a directory nobody else can write (no socket swapped in between this check and the connect) and ours
    if (!st.isSocket() || st.uid !== process.getuid?.() || !privateDir(path.dirname(adoptPath))) return null;
    return new Promise((resolve) => {
      const control = net.connect(adoptPath);
      let buffered = '';
      const give = (server: ForkServer | null) => {
        clearTimeout(timer);
        if (!server) control.destroy();
        resolve(server);
      };
      const timer = setTimeout(() => give(null), timeoutMs);
      control.once('error', () => give(null));
      control.setEncoding('utf8').on('data', function first(d: string) {
        buffered += d;
        const nl = buffered.indexOf('\n');
        if (nl < 0) return;
        control.off('data', first);
        let msg: { ready?: boolean; adopted?: boolean } & ForkServerHello;
        try {
          msg = JSON.parse(buffered.slice(0, nl));
        } catch {
          return give(null);
        }
        if (!msg.ready || !msg.adopted || !Number.isInteger(msg.pid)) return give(null);
        control.removeAllListeners('error');
        const server = new ForkServer(adoptedHandle(msg.pid, control), control, { pid: msg.pid, modules: msg.modules, ms: 0 }, false, true);
        server.#listen(buffered.slice(nl + 1));
        give(server);
      });
    });
  }

  /** Starts a server and waits until it has imported everything (or failed to). */
  static start(opts: ForkServerOptions): Promise<ForkServer> {
    // padded: each child writes its own command line over this one, in the same memory
    const names = Object.keys(opts.env).join(',').padEnd(ARGV_ROOM, ' ');
    // -s: the user site directory depends on HOME, which is each server's own; children decide it for themselves.
    // Plain: -I -S, nothing from the environment or site-packages, the standard library only.
    const args = opts.script === null ? ['-I', '-S', SCRIPT, '--plain'] : ['-s', SCRIPT, opts.script, opts.app, names];
    const label = opts.script === null ? 'the launcher' : 'the preload server';
    const proc = childProcess.spawn(opts.python, args, {
      env: opts.adoptPath ? { ...opts.env, NODEHUB_PRELOAD_SOCKET: opts.adoptPath, NODEHUB_PRELOAD_LINGER: String(opts.lingerS ?? LINGER_S) } : opts.env,
      cwd: '/',
      detached: true, // no terminal signals; it ends when the hub's end of fd 3 closes
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    const control = proc.stdio[3] as Socket;
    let stderr = '';
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-STDERR_KEEP)));
    return new Promise((resolve, reject) => {
      let buffered = '';
      const fail = (why: string) => {
        clearTimeout(timer);
        proc.kill('SIGKILL');
        const tail = stderr.trim().split('\n').slice(-5).join('\n');
        reject(new Error(`${label} did not start: ${why}${tail ? `\n${tail}` : ''}`));
      };
      const timer = setTimeout(() => fail(`no answer within ${opts.readyTimeoutMs} ms`), opts.readyTimeoutMs);
      proc.once('error', (err) => fail(`could not run ${opts.python}: ${err.message}`));
      proc.once('exit', (code, sig) => fail(`it exited (${code ?? sig})`));
      control.setEncoding('utf8').on('data', function first(d: string) {
        buffered += d;
        const nl = buffered.indexOf('\n');
        if (nl < 0) return;
        control.off('data', first);
        proc.removeAllListeners('exit').removeAllListeners('error');
        clearTimeout(timer);
        let msg: { ready?: boolean; error?: string } & ForkServerHello;
        try {
          msg = JSON.parse(buffered.slice(0, nl));
        } catch {
          return fail(`it said ${JSON.stringify(buffered.slice(0, 200))}`);
        }
        if (!msg.ready) return fail(msg.error ?? 'it gave no reason');
        const server = new ForkServer(childHandle(proc), control, { pid: msg.pid, modules: msg.modules, ms: msg.ms }, opts.script === null);
        server.#stderr = stderr;
        proc.stderr!.removeAllListeners('data').on('data', (d: string) => (server.#stderr = (server.#stderr + d).slice(-STDERR_KEEP)));
        server.#listen(buffered.slice(nl + 1));
        resolve(server);
      });
    });
  }

  get alive(): boolean {
    return !this.#dead;
  }

  /** The server's own pid (not a child's). */
  get pid(): number {
    return this.#proc.pid;
  }

  /** Called once when the server ends for whatever reason (not after close()). */
  onDeath(listener: (why: string) => void): void {
    this.#onDeath.push(listener);
  }

  /** Forks a child for `req`; resolves once it runs (its pid known) or rejects with the child's set-up error. */
  fork(req: ForkRequest): Promise<ForkedProcess> {
    if (this.#dead) return Promise.reject(new Error(`${this.#label} is gone`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#proc.kill('SIGKILL'), FORK_TIMEOUT_MS);
      const settle = () => clearTimeout(timer);
      this.#pending.set(id, {
        resolve: (v) => (settle(), resolve(v)),
        reject: (e) => (settle(), reject(e)),
      });
      this.#control.write(`${id} ${JSON.stringify(req)}\n`);
    });
  }

  /** Ends the server (its children keep running) and waits for it to go. The goodbye tells it not to wait for a
   * successor, as it does when the hub is killed. */
  async close(): Promise<void> {
    if (this.#dead) return;
    this.#onDeath = [];
    const gone = new Promise<void>((r) => this.#proc.onGone(() => r()));
    this.#control.end('0 bye\n');
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(timer);
  }

  #listen(rest: string): void {
    const proc = this.#proc;
    let buffered = rest;
    const consume = () => {
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          continue; // not ours to crash on; the request it answered times out in the caller
        }
        this.#message(msg);
      }
    };
    this.#control.on('data', (d: string) => {
      buffered += d;
      consume();
    });
    this.#control.on('error', () => {}); // the exit below says what happened
    proc.onGone((why) => this.#died(why));
    // nothing here may keep the hub's event loop alive on its own
    proc.unref();
    this.#control.unref();
    consume();
  }

  #message(msg: { id?: number; pid?: number; exact?: true | string; error?: string; exit?: number; code?: number | null; signal?: number | null }): void {
    if (msg.exit !== undefined) {
      const child = this.#children.get(msg.exit);
      this.#children.delete(msg.exit);
      child?.ended({ code: msg.code ?? null, signal: msg.signal ? signalNames.get(msg.signal) ?? null : null });
      return;
    }
    const pending = this.#pending.get(msg.id!);
    if (!pending) return;
    this.#pending.delete(msg.id!);
    if (msg.error !== undefined) return pending.reject(new ChildSetupError(msg.error));
    if (msg.pid === undefined) return pending.reject(new Error('no pid in the answer'));
    const id = msg.id!;
    const child = new ForkedProcess(msg.pid, msg.exact ?? true, () => {
      if (!this.#dead) this.#control.write(`${id} go\n`);
    }, !this.#plain);
    this.#children.set(child.pid, child);
    pending.resolve(child);
  }

  #died(why: string): void {
    this.#dead = true;
    const tail = this.#stderr.trim().split('\n').slice(-5).join('\n');
    const reason = `${why}${tail ? `: ${tail}` : ''}`;
    // a request in flight: its child (if forked) waits for a go-ahead that will never come, and exits
    for (const p of this.#pending.values()) p.reject(new Error(`${this.#label} died: ${reason}`));
    this.#pending.clear();
    for (const child of this.#children.values()) child.orphaned();
    this.#children.clear();
    for (const l of this.#onDeath.splice(0)) l(reason);
  }
}
