// Ports for local servers, picked below the kernel's ephemeral range.
//
// A port picked by binding port 0 comes from the ephemeral range (ip_local_port_range), which is also where
// jupyter_client picks each kernel's five ZeroMQ ports (bind 0, note the number, close; the kernel binds them a moment
// later) and where every outgoing connection gets its local port. In a storm a server could be handed a port a kernel of
// another user had just noted: the server bound it first, the kernel could not, and that user's notebook waited for a
// kernel that never answered. Ports below the range are handed out by nobody else; a port is also reserved by this hub
// from the pick until its server's start has settled, so two servers starting at once never get the same one.
import fs from 'node:fs';
import net from 'node:net';

/** The lowest port handed to a server: clear of the well-known and most registered service ports. */
export const SERVER_PORT_FLOOR = 10000;
/** Fewer candidates than this below the ephemeral range (a machine with a widened range): bind 0 as before. */
const MIN_CANDIDATES = 1000;
const ATTEMPTS = 20;

export interface PortRange { low: number; high: number }

/** The kernel's ephemeral range; Linux's default when it cannot be read (not Linux, or no /proc). */
export function ephemeralRange(file = '/proc/sys/net/ipv4/ip_local_port_range'): PortRange {
  try {
    const [low, high] = fs.readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! > 0 && high! >= low!) return { low: low!, high: high! };
  } catch { /* not Linux */ }
  return { low: 32768, high: 60999 };
}

const reserved = new Set<number>();

export interface PortLease {
  port: number;
  /** Hands the port back to the pool of candidates (the server now holds it, or never will). */
  release(): void;
}

/**
 * A free port on `host` for a server to bind, held for this hub until `release()`. Candidates lie between
 * SERVER_PORT_FLOOR and the ephemeral range; each is checked free by binding it. Falls back to a port of the kernel's
 * choice when the space below the range is too small or every try was taken.
 */
export async function leaseServerPort(host: string, range: PortRange = ephemeralRange()): Promise<PortLease> {
  const top = range.low - 1;
  if (top - SERVER_PORT_FLOOR + 1 >= MIN_CANDIDATES) {
    for (let i = 0; i < ATTEMPTS; i++) {
      const port = SERVER_PORT_FLOOR + Math.floor(Math.random() * (top - SERVER_PORT_FLOOR + 1));
      if (reserved.has(port)) continue;
      reserved.add(port);
      if (await bindOnce(host, port).then(() => true, () => false)) return lease(port);
      reserved.delete(port);
    }
  }
  const port = await bindOnce(host, 0);
  reserved.add(port);
  return lease(port);
}

function lease(port: number): PortLease {
  let held = true;
  return { port, release: () => { if (held) reserved.delete(port); held = false; } };
}

/** Binds `port` on `host` (0: a port of the kernel's choice), closes it again, and gives the port that was bound. */
function bindOnce(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen({ port, host: host || undefined, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (bound ? resolve(bound) : reject(new Error(`could not pick a free port on ${host}`))));
    });
  });
}
