// The kernel's TCP socket tables (/proc/net/tcp and tcp6), read for two questions: which sockets listen on a port (is
// it our server that answers?) and which socket is the client end of a connection (is the caller the server we
// launched?). Each line: "sl: local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...".
//
// A storm showed the cost is not the kernel's but the round trips: a table read in 16 KB pieces through the thread pool
// took p50 56 ms and p95 3.4 s per check on a machine at load 15 (ten pool round trips, each waiting for a core, and
// four pool threads shared by every check in flight), while the same read takes ~2 ms of CPU. So the listening part,
// which the kernel prints first and which is small (one line per listener), is read synchronously, with no round trip
// to wait for; the connections, which can run to megabytes, in large pieces off the event loop. Lines are matched in
// place, not split into fields, since a busy hub's table has tens of thousands.
import fs from 'node:fs';
import fsp from 'node:fs/promises';

const LISTEN = '0A';
const ESTABLISHED = '01';

/** A port as the tables print it: four upper-case hex digits. */
export const hexPort = (port: number): string => port.toString(16).toUpperCase().padStart(4, '0');

/** The fields of one line that the checks need; null for the header or a line it cannot read. */
function fields(line: string): { local: string; remote: string; state: string; uid: number; inode: string } | null {
  const f = line.trim().split(/\s+/);
  if (!/^\d+:$/.test(f[0] ?? '') || f.length < 10) return null;
  return { local: f[1]!, remote: f[2]!, state: f[3]!, uid: Number(f[7]), inode: f[9]! };
}

/** The start of a line: its local address and state, matched in place (sticky) without copying the line. */
const LINE_START = /[ \t]*\d+: ([0-9A-F]+:[0-9A-F]{4}) [0-9A-F]+:[0-9A-F]{4} ([0-9A-F]{2}) /y;

// Small pieces: the kernel generates lines until a read's buffer is full, so a large one would make it print
// (~4 µs each) connections past the listeners that are never looked at.
const listenBuf = Buffer.alloc(32 * 1024);

/**
 * Inodes of the sockets listening on `port` in `tables`; null when no table could be read (no /proc). The kernel lists
 * every listening socket before any other, so reading stops at the first line in another state.
 */
export function listeningInodes(port: number, tables: readonly string[]): Set<string> | null {
  const inodes = new Set<string>();
  const port4 = `:${hexPort(port)}`;
  let read = false;
  for (const table of tables) {
    let fd: number;
    try {
      fd = fs.openSync(table, 'r');
    } catch {
      continue; // no IPv6, or no /proc
    }
    read = true;
    try {
      let rest = '';
      for (let done = false; !done; ) {
        const n = fs.readSync(fd, listenBuf, 0, listenBuf.length, null);
        if (n === 0) break;
        const text = rest + listenBuf.toString('latin1', 0, n);
        let start = 0;
        for (let end = text.indexOf('\n'); end >= 0; start = end + 1, end = text.indexOf('\n', start)) {
          LINE_START.lastIndex = start;
          const m = LINE_START.exec(text);
          if (!m) continue; // the header
          if (m[2] !== LISTEN) {
            done = true;
            break;
          }
          if (m[1]!.endsWith(port4)) {
            const f = fields(text.slice(start, end));
            if (f) inodes.add(f.inode);
          }
        }
        rest = text.slice(start);
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return read ? inodes : null;
}

export interface ClientSocket { inode: string; uid: number }

/** The established connection whose "local remote" addresses are `pair` (as the table prints them); null if none. */
export async function establishedSocket(table: string, pair: string): Promise<ClientSocket | null> {
  let file: fsp.FileHandle;
  try {
    file = await fsp.open(table, 'r');
  } catch {
    return null; // no IPv6, or no /proc
  }
  try {
    const buf = Buffer.alloc(1024 * 1024);
    let rest = '';
    for (;;) {
      const { bytesRead } = await file.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return null;
      const text = rest + buf.toString('latin1', 0, bytesRead);
      for (let at = text.indexOf(` ${pair} `); at >= 0; at = text.indexOf(` ${pair} `, at + 1)) {
        const lineEnd = text.indexOf('\n', at);
        if (lineEnd < 0) break; // cut by the end of this piece: searched again with the next
        const f = fields(text.slice(text.lastIndexOf('\n', at) + 1, lineEnd));
        if (f && f.state === ESTABLISHED && `${f.local} ${f.remote}` === pair) return { inode: f.inode, uid: f.uid };
      }
      rest = text.slice(text.lastIndexOf('\n') + 1);
    }
  } finally {
    await file.close();
  }
}
