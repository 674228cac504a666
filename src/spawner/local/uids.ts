// Unix uids for LocalProcessSpawner.uid_range: when the hub runs as root, each user's servers run under a uid of their
// own from the range (no passwd entry needed), so one visitor cannot read another's files or signal their processes.
//
// One uid per user, shared by that user's servers (they share a working directory). Uids are handed out in rotation, so
// a uid freed now is reused as late as possible, and a uid that still owns a process (a server a previous hub left
// behind and nobody adopted) is skipped. The allocation lives in memory and in each server's saved state; a restarted
// hub claims the uids of the servers it re-adopts. Other hubs on the host are kept off a uid by a lock file
// (uid-locks.ts), taken before the uid is handed out and removed after its last process is gone.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { UidLocks } from './uid-locks.ts';

const byUser = new Map<string, { uid: number; servers: Set<string> }>();
const owners = new Map<number, string>();
let cursor: number | null = null;

/** The uid for `user`'s server `server`: the user's current one, else the next free one in `range`. */
export function acquireUid(range: [number, number], user: string, server: string, locks: UidLocks | null): number {
  const held = byUser.get(user);
  if (held) {
    held.servers.add(server);
    return held.uid;
  }
  const [first, last] = range;
  const size = last - first + 1;
  const busy = uidsWithProcesses();
  const start = cursor !== null && cursor >= first && cursor <= last ? cursor + 1 : first;
  for (let i = 0; i < size; i++) {
    const uid = first + ((start - first + i) % size);
    if (owners.has(uid) || busy.has(uid)) continue;
    // another hub on this host holds it
    if (locks && !locks.reserve(uid)) continue;
    cursor = uid;
    owners.set(uid, user);
    byUser.set(user, { uid, servers: new Set([server]) });
    return uid;
  }
  throw new Error(`No free uid left in LocalProcessSpawner.uid_range [${first}, ${last}]: every uid is in use by a server of this or another hub`);
}

/** A re-adopted server keeps the uid it runs under; false when another user already holds that uid. */
export function claimUid(uid: number, user: string, server: string, locks: UidLocks | null): boolean {
  const owner = owners.get(uid);
  if (owner !== undefined && owner !== user) return false;
  const held = byUser.get(user);
  if (held && held.uid !== uid) return false;
  if (!held && locks && !locks.claim(uid)) return false;
  owners.set(uid, user);
  if (held) held.servers.add(server);
  else byUser.set(user, { uid, servers: new Set([server]) });
  return true;
}

/** `user`'s server stops using its uid; returns the uid when that was the user's last server (the uid is free again). */
export function releaseUid(user: string, server: string): number | null {
  const held = byUser.get(user);
  if (!held || !held.servers.delete(server) || held.servers.size > 0) return null;
  byUser.delete(user);
  owners.delete(held.uid);
  return held.uid;
}

/** The real uid of a process (/proc/<pid>/status; a process cannot hide it as it can the owner of /proc/<pid>). */
function realUid(pid: string): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    const m = /^Uid:\s+(\d+)/m.exec(status);
    return m ? Number(m[1]) : null;
  } catch {
    return null; // the process ended while we looked
  }
}

function pids(): string[] {
  try {
    return fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
}

function uidsWithProcesses(): Set<number> {
  const uids = new Set<number>();
  for (const pid of pids()) {
    const uid = realUid(pid);
    if (uid !== null) uids.add(uid);
  }
  return uids;
}

/**
 * SIGKILLs every process running under `uid`, wherever it is: once a uid is free, nothing of the visitor who had it
 * may survive to meet the next one (a process that left the server's process group would otherwise).
 */
export function killUidProcesses(uid: number): number {
  let killed = 0;
  for (const pid of pids()) {
    if (realUid(pid) !== uid) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
      killed++;
    } catch {
      // gone already
    }
  }
  return killed;
}

/**
 * Hands a user's working directory to `uid`: a real directory (not a symlink planted by someone), mode 0700, owned by
 * uid:uid. Every directory above it must let other users through, or a server running under `uid` could not reach it.
 */
export async function giveHomeTo(home: string, uid: number): Promise<void> {
  const st = await fsp.lstat(home);
  if (!st.isDirectory()) throw new Error(`${home} is not a directory; refusing to hand it to uid ${uid}`);
  for (let dir = path.dirname(home); ; dir = path.dirname(dir)) {
    const mode = (await fsp.stat(dir)).mode;
    if (!(mode & 0o001)) {
      throw new Error(
        `${dir} (mode ${(mode & 0o777).toString(8)}) does not let other users through, so a server running under uid ${uid} ` +
          `cannot reach ${home}; put LocalProcessSpawner.home_dir_template under a directory such as /tmp`,
      );
    }
    if (dir === path.dirname(dir)) break;
  }
  await fsp.lchown(home, uid, uid);
  await fsp.chmod(home, 0o700);
}
