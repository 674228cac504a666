// Whose socket answers on a port. The spawner picks a free port and then starts the server; in between, another
// process (another user's server, anything on the machine) may take the port. The readiness check would then be answered
// by that process and the user routed to it. So once a port answers, the spawner asks the kernel (Linux /proc) whether
// the listening socket belongs to the server it started or to one of that server's own processes.
//
// The listening part of the socket table and the few small files about the server's processes are read synchronously
// (socket-table.ts says why).
import fs from 'node:fs';
import { listeningInodes } from './socket-table.ts';

/** `pid` and its descendants (children of every thread), at most `limit` of them. */
export function processTree(pid: number, limit = 256): number[] {
  const seen = [pid];
  for (let i = 0; i < seen.length && seen.length < limit; i++) {
    let tasks: string[];
    try {
      tasks = fs.readdirSync(`/proc/${seen[i]}/task`);
    } catch {
      continue; // gone meanwhile
    }
    for (const task of tasks) {
      let children = '';
      try {
        children = fs.readFileSync(`/proc/${seen[i]}/task/${task}/children`, 'utf8');
      } catch {
        // the thread ended meanwhile
      }
      for (const c of children.split(' ')) if (c.trim()) seen.push(Number(c));
    }
  }
  return seen;
}

/**
 * Whether the socket listening on `port` of `ip` (the server's bind address; '' for every interface) is held by `pid`
 * or a process it started: true, false, or null when this machine cannot tell (no /proc, or another uid's descriptors
 * that this process may not read).
 */
export async function listenerOwnedBy(pid: number, port: number, ip: string): Promise<boolean | null> {
  const inodes = listeningInodes(port, tablesFor(ip));
  if (!inodes || inodes.size === 0) return null;
  return socketHeldBy(pid, inodes);
}

/** The kernel's socket tables for a bind address ('' is every interface). */
const tablesFor = (ip: string): string[] =>
  ip.includes(':') ? ['/proc/net/tcp6'] : ip ? ['/proc/net/tcp'] : ['/proc/net/tcp', '/proc/net/tcp6'];

/** Whether `pid` (or a process it started) is what listens on `port`: 'no' also when nothing listens there; 'unknown'
 *  without /proc, or when some descriptors belong to another uid this process may not read. */
export async function listenerIs(pid: number, port: number, ip: string): Promise<'yes' | 'no' | 'unknown'> {
  const inodes = listeningInodes(port, tablesFor(ip));
  if (!inodes) return 'unknown';
  if (inodes.size === 0) return 'no';
  const held = socketHeldBy(pid, inodes);
  return held === null ? 'unknown' : held ? 'yes' : 'no';
}

/** Whether `pid` or one of its descendants holds a socket with one of `inodes`: true, false, or null when some of their
 *  descriptors could not be read (another uid's, for a hub that is not root). */
export function socketHeldBy(pid: number, inodes: ReadonlySet<string>): boolean | null {
  let unreadable = false;
  for (const p of processTree(pid)) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${p}/fd`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') unreadable = true;
      continue;
    }
    for (const fd of fds) {
      let target = '';
      try {
        target = fs.readlinkSync(`/proc/${p}/fd/${fd}`);
      } catch {
        continue; // closed meanwhile
      }
      if (target.startsWith('socket:[') && inodes.has(target.slice(8, -1))) return true;
    }
  }
  return unreadable ? null : false;
}
