// Whose socket answers on a port. The spawner picks a free port and then starts the server; in between, another
// process (another user's server, anything on the machine) may take the port. The readiness check would then be answered
// by that process and the user routed to it. So once a port answers, the spawner asks the kernel (Linux /proc) whether
// the listening socket belongs to the server it started or to one of that server's own processes.
//
// The socket table is read off the event loop (the kernel's walk of its hash takes ~1 ms); the few small files about
// the server's processes are read synchronously, as a thread-pool round trip per file made the check ~7 ms.
import fs from 'node:fs';
import fsp from 'node:fs/promises';

/** Listening sockets' inodes on `port`, from /proc/net/tcp or tcp6; null when /proc cannot say. The kernel lists
 *  listening sockets first and generates the rest (every connection on the machine, tens of thousands on a busy hub,
 *  ~4 µs each) only as it is read, so reading stops at the first line that is not LISTEN. Even so, a table costs ~1–2
 *  ms (the kernel walks its hash buckets), so only the tables the server's address can be in are read. */
async function listeningInodes(port: number, tables: readonly string[]): Promise<Set<string> | null> {
  const inodes = new Set<string>();
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const buf = Buffer.alloc(16 * 1024);
  let read = false;
  for (const table of tables) {
    let file: fsp.FileHandle;
    try {
      file = await fsp.open(table, 'r');
    } catch {
      continue; // no IPv6, or no /proc
    }
    read = true;
    try {
      let rest = '';
      let header = true;
      for (let done = false; !done; ) {
        const { bytesRead: n } = await file.read(buf, 0, buf.length, null);
        if (n === 0) break;
        const lines = (rest + buf.toString('latin1', 0, n)).split('\n');
        rest = lines.pop()!;
        for (const line of lines) {
          if (header) {
            header = false;
            continue;
          }
          // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
          const f = line.trim().split(/\s+/);
          if (f[3] !== '0A') {
            done = true;
            break;
          }
          if (f[1]!.endsWith(suffix)) inodes.add(f[9]!);
        }
      }
    } finally {
      await file.close();
    }
  }
  return read ? inodes : null;
}

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
  const inodes = await listeningInodes(port, tablesFor(ip));
  if (!inodes || inodes.size === 0) return null;
  return socketHeldBy(pid, inodes);
}

/** The kernel's socket tables for a bind address ('' is every interface). */
const tablesFor = (ip: string): string[] =>
  ip.includes(':') ? ['/proc/net/tcp6'] : ip ? ['/proc/net/tcp'] : ['/proc/net/tcp', '/proc/net/tcp6'];

/** Whether `pid` (or a process it started) is what listens on `port`: 'no' also when nothing listens there; 'unknown'
 *  without /proc, or when some descriptors belong to another uid this process may not read. */
export async function listenerIs(pid: number, port: number, ip: string): Promise<'yes' | 'no' | 'unknown'> {
  const inodes = await listeningInodes(port, tablesFor(ip));
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
