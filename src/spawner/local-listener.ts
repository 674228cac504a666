// Whose socket answers on a port. The spawner picks a free port and then starts the server; in between, another
// process (another user's server, anything on the machine) may take the port. The readiness check would then be answered
// by that process and the user routed to it. So once a port answers, the spawner asks the kernel (Linux /proc) whether
// the listening socket belongs to the server it started or to one of that server's own processes.
import fsp from 'node:fs/promises';

/** Listening sockets' inodes on `port`, from /proc/net/tcp and tcp6; null when /proc cannot say. A hub holding many
 *  websockets has tens of thousands of lines there, so only lines with the port in them are split. */
async function listeningInodes(port: number): Promise<Set<string> | null> {
  const inodes = new Set<string>();
  const needle = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  let read = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await fsp.readFile(table, 'utf8');
    } catch {
      continue; // no IPv6, or no /proc
    }
    read = true;
    for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) {
      const end = text.indexOf('\n', at);
      const line = text.slice(text.lastIndexOf('\n', at) + 1, end === -1 ? undefined : end);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode; the port must be the local one
      const f = line.trim().split(/\s+/);
      if (f.length >= 10 && f[3] === '0A' && f[1]!.endsWith(needle.trim())) inodes.add(f[9]!);
    }
  }
  return read ? inodes : null;
}

/** `pid` and its descendants (children of every thread), at most `limit` of them. */
async function processTree(pid: number, limit = 256): Promise<number[]> {
  const seen = [pid];
  for (let i = 0; i < seen.length && seen.length < limit; i++) {
    let tasks: string[];
    try {
      tasks = await fsp.readdir(`/proc/${seen[i]}/task`);
    } catch {
      continue; // gone meanwhile
    }
    for (const task of tasks) {
      const children = await fsp.readFile(`/proc/${seen[i]}/task/${task}/children`, 'utf8').catch(() => '');
      for (const c of children.split(' ')) if (c.trim()) seen.push(Number(c));
    }
  }
  return seen;
}

/**
 * Whether the socket listening on `port` is held by `pid` or a process it started: true, false, or null when this
 * machine cannot tell (no /proc, or another uid's descriptors that this process may not read).
 */
export async function listenerOwnedBy(pid: number, port: number): Promise<boolean | null> {
  const inodes = await listeningInodes(port);
  if (!inodes || inodes.size === 0) return null;
  let unreadable = false;
  for (const p of await processTree(pid)) {
    let fds: string[];
    try {
      fds = await fsp.readdir(`/proc/${p}/fd`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') unreadable = true;
      continue;
    }
    for (const fd of fds) {
      const target = await fsp.readlink(`/proc/${p}/fd/${fd}`).catch(() => '');
      if (target.startsWith('socket:[') && inodes.has(target.slice(8, -1))) return true;
    }
  }
  return unreadable ? null : false;
}
