// A local server's process as the LocalProcessSpawner sees it, whichever way it was started: a child of a preloading
// fork server or of the plain launcher (src/spawner/local/preload/), or, when neither can take it, a child of the hub
// (child_process.spawn). The spawner only needs the pid,
// whether and how it ended, and to hear about the end.
import type { ChildProcess } from 'node:child_process';
import { childProcess } from '../../util/builtins.ts';
import fs from 'node:fs';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../util/log.ts';
import type { PreloadServers } from './preload/servers.ts';
import type { PlainLauncher } from './preload/launcher.ts';

/** How a process ended; both null when it is gone but nobody could collect its status (see ForkedProcess). */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  readonly pid: number;
  /** Forked by a preloading fork server (running the preloaded modules, or exec'ing when it could not). */
  readonly preloaded: boolean;
  /** null while it runs. */
  readonly exit: ProcessExit | null;
  /** Called once, when it ends (at once if it already has). */
  onExit(listener: (exit: ProcessExit) => void): void;
  /**
   * Lets it go on to run the server. Until then it waits, before the server's first instruction, for the hub's word;
   * if the hub dies first, it exits. So the hub records the pid before the server can run (see SpawnerInit.recordState).
   */
  release(): void;
}

/** What a server is started with; the same for both ways of starting it. */
export interface LaunchRequest {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Where stdout and stderr go; created (or truncated) with mode 0600, never through a symlink. */
  logFile: string;
  /** Run under this uid (and gid = uid, no supplementary groups); null keeps the hub's. */
  uid: number | null;
  /** A system user's gid and supplementary gids (primary first); with them, uid is that user's and gid is not uid. */
  groups?: number[] | null;
  /** cgroup.procs files the process is put into before it runs user code (Spawner.mem_limit / cpu_limit). */
  cgroupProcs: string[];
  /** RLIMIT_AS in bytes where no cgroup can carry mem_limit; null for none. */
  rlimitAs: number | null;
}

/** JupyterHub's convention for a poll() result: the exit code, or minus the signal number; 0 when unknown. */
export function exitStatus(exit: ProcessExit): number {
  if (exit.code !== null) return exit.code;
  if (exit.signal) return -(os.constants.signals[exit.signal] ?? 1);
  return 0;
}

export function describeExit(exit: ProcessExit): string {
  if (exit.code !== null) return `with exit code ${exit.code}`;
  if (exit.signal) return `by signal ${exit.signal}`;
  return '(exit status unknown)';
}

/**
 * Starts the server through a preloading fork server when `preload` can, else through the launcher, and only when
 * neither can (the launcher is down) as a child of the hub, whose event loop stalls while it forks (launcher.ts).
 */
export async function launchProcess(req: LaunchRequest, preload: PreloadServers | null, launcher: PlainLauncher | null,
  log: Logger): Promise<ServerProcess> {
  const forked = preload ? await preload.launch(req, log) : null;
  if (forked) return forked;
  const launched = launcher ? await launcher.launch(req, log) : null;
  return launched ?? spawnChild(req);
}

// The gate a plain spawn goes through: a shell that waits for "go" on fd 3 and then becomes the server (same pid, same
// start time, fd 3 closed). EOF instead of "go" (the hub died before recording the pid) ends it before the server runs.
const GATE = 'IFS= read -r go <&3 && [ "$go" = go ] || exit 1; exec 3<&-; exec "$@"';
const SHELL = '/bin/sh';

/** child_process.spawn in a session of its own, stdout and stderr to the log file, held at the gate until release(). */
export async function spawnChild(req: LaunchRequest): Promise<ServerProcess> {
  // The shell's exec would report a missing command only in the log: say it here, as a direct spawn would.
  checkRunnable(req.file, req.env.PATH ?? '', req.cwd);
  // O_NOFOLLOW: under uid_range the directory belongs to the visitor, who must not aim the root hub's write elsewhere
  const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(req.logFile, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600);
  // spawn() can set uid and gid but clears supplementary groups; a system user keeps theirs through setpriv, which sets
  // all three and execs the gate (same pid).
  const groups = req.uid !== null && req.groups?.length ? req.groups : null;
  const ids = req.uid !== null && !groups ? { uid: req.uid, gid: req.uid } : {};
  // prlimit sets the limit on itself, then execs the server (same pid): spawn cannot set an rlimit before exec
  const [file, args] = req.rlimitAs !== null ? ['prlimit', [`--as=${req.rlimitAs}`, '--', req.file, ...req.args]] : [req.file, req.args];
  const gate = [SHELL, '-c', GATE, 'sh', file, ...args];
  const argv = groups
    ? ['setpriv', `--reuid=${req.uid}`, `--regid=${groups[0]}`, `--groups=${groups.join(',')}`, '--', ...gate]
    : gate;
  try {
    const child = childProcess.spawn(argv[0]!, argv.slice(1), {
      cwd: req.cwd, env: req.env, detached: true, stdio: ['ignore', fd, fd, 'pipe'], ...ids,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new Error(`Could not run ${JSON.stringify(req.file)}: ${err.message}`)));
    });
    // Right after exec, while the server is still importing: its kernels and terminals, where visitor code runs,
    // are forked later and inherit the cgroup.
    try {
      for (const procs of req.cgroupProcs) fs.writeFileSync(procs, String(child.pid));
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`Could not put the server into its cgroup: ${(err as Error).message}`);
    }
    return fromChild(child);
  } finally {
    fs.closeSync(fd);
  }
}

/** Throws what spawn() would for a command that is not there or not executable (ENOENT, EACCES). */
function checkRunnable(file: string, searchPath: string, cwd: string): void {
  const candidates = file.includes('/') ? [path.resolve(cwd, file)] : searchPath.split(':').map((d) => path.resolve(cwd, d || '.', file));
  let last: NodeJS.ErrnoException | null = null;
  for (const candidate of candidates) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return;
    } catch (err) {
      last = err as NodeJS.ErrnoException;
    }
  }
  const code = last?.code === 'EACCES' ? 'EACCES' : 'ENOENT';
  throw new Error(`Could not run ${JSON.stringify(file)}: spawn ${file} ${code}`);
}

function fromChild(child: ChildProcess): ServerProcess {
  const gate = child.stdio[3] as Socket;
  gate.on('error', () => {}); // a child that died at the gate; its exit says so
  const ended = () => (child.exitCode !== null || child.signalCode !== null ? { code: child.exitCode, signal: child.signalCode } : null);
  return {
    pid: child.pid!,
    preloaded: false,
    get exit() {
      return ended();
    },
    onExit(listener) {
      const now = ended();
      if (now) queueMicrotask(() => listener(now));
      else child.once('exit', (code, signal) => listener({ code, signal }));
    },
    release() {
      gate.end('go\n');
    },
  };
}

/**
 * Whether any live member of process group `pgid` is left. kill(-pgid, 0) answers at once when none is; where orphans
 * are not reaped (a container whose pid 1 is no init) zombies keep the group, so then /proc says who still runs.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return true;
  }
  for (const name of names) {
    if (name.charCodeAt(0) > 57) continue; // not a pid
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue;
    }
    const [state, , pg] = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 3);
    if (Number(pg) === pgid && state !== 'Z') return true;
  }
  return false;
}
