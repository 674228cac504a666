// Operating-system helpers for the local process spawner: process liveness, process-group signals,
// per-server log tails and shared working directories.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { sleep } from '../../util/time.ts';

/**
 * kill(pid, 0): true while the process exists (EPERM means it exists but belongs to someone else). A zombie counts as
 * dead: an adopted server's parent is init after a hub restart, and some inits (containers) never reap.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return processState(pid) !== 'Z' || threadCount(pid) > 1;
}

/** A multi-threaded process (node, python) shows its leader as a zombie while the other threads still hold its files
 * and sockets; it is gone only when one thread is left. */
function threadCount(pid: number): number {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
}

/** The state letter of /proc/<pid>/stat (R, S, Z …), or null where /proc is not there. */
function processState(pid: number): string | null {
  return statFields(pid)?.[0] ?? null;
}

/** /proc/<pid>/stat from field 3 on; the command name (field 2) may hold spaces and parentheses, so split after it. */
function statFields(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Sends `signal` to the process group led by `pid` (the server runs in its own session); false if it is gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    // not a group leader (should not happen) — fall back to the process itself
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/** SIGKILL to a whole process group, for leftovers once its leader is gone; ESRCH (nothing left) is the usual case. */
export function killGroupQuietly(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // nothing left, as expected
  }
}

/** Where the hub connects to a server bound on `ip` ('' and 0.0.0.0 mean every interface, so loopback works). */
export function toConnectHost(ip: string): string {
  if (!ip || ip === '0.0.0.0') return '127.0.0.1';
  if (ip === '::') return '::1';
  return ip;
}

/** A host as it goes into a URL (IPv6 in brackets). */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The kernel's start time of `pid` (clock ticks since boot, /proc/<pid>/stat field 22), or null where /proc is not
 * there. Saved with the pid so a restarted hub does not adopt an unrelated process that got the same pid.
 */
export function processStartTime(pid: number): number | null {
  const value = Number(statFields(pid)?.[19]);
  return Number.isFinite(value) ? value : null;
}

/** Polls `gone` until true or `ms` passed; returns whether it became true. */
export async function waitUntil(gone: () => boolean, ms: number, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!gone()) {
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(stepMs, Math.max(1, deadline - Date.now())));
  }
  return true;
}

/** The last `lines` non-empty lines of a log file ('' if it cannot be read). */
export async function readTail(file: string, lines = 20, maxBytes = 16384): Promise<string> {
  try {
    // no symlinks: the file may sit in a directory a visitor controls (uid_range), and its tail ends up in an error
    const handle = await fsp.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, maxBytes);
      const buf = Buffer.alloc(length);
      await handle.read(buf, 0, length, size - length);
      return buf.toString('utf8').split(/\r?\n/).filter((l) => l.trim()).slice(-lines).join('\n');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

/**
 * Working directories are shared by a user's servers (the template usually names only the user), so a directory is
 * removed when the last server using it stops, and only if one of them created it: we never delete what we did not make.
 * Users are counted per server (`owner` = "user/server"), not per spawner object, so two spawners for one server (an
 * adopted one next to the original) count once.
 */
const homes = new Map<string, { owners: Set<string>; created: boolean }>();

/** Creates `dir` (mode 0700) if needed and registers `owner` as a user; returns whether this call created it. */
export async function acquireHome(dir: string, owner: string): Promise<boolean> {
  let created = false;
  try {
    await fsp.mkdir(dir, { mode: 0o700 });
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      await fsp.mkdir(path.dirname(dir), { recursive: true });
      await fsp.mkdir(dir, { mode: 0o700 });
      created = true;
    } else if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw err;
    }
  }
  adoptHome(dir, owner, created);
  return created;
}

/** Registers a user of a directory made earlier (a server adopted after a hub restart). */
export function adoptHome(dir: string, owner: string, created: boolean): void {
  const entry = homes.get(dir) ?? { owners: new Set<string>(), created: false };
  entry.owners.add(owner);
  entry.created ||= created;
  homes.set(dir, entry);
}

/** `owner` stops using `dir`; removes it when it was the last and `remove` is set. Returns whether it was removed. */
export async function releaseHome(dir: string, owner: string, remove: boolean): Promise<boolean> {
  const entry = homes.get(dir);
  if (!entry || !entry.owners.delete(owner) || entry.owners.size > 0) return false;
  homes.delete(dir);
  if (!remove || !entry.created || path.resolve(dir) === path.parse(path.resolve(dir)).root) return false;
  await fsp.rm(dir, { recursive: true, force: true });
  return true;
}
