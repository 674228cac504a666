// Pod IPs: every pod gets a fresh loopback address (all of 127.0.0.0/8 reaches this host on Linux), so each pod's
// process binds <podIP>:<containerPort> without port clashes between pods. The block is random per simulator so
// simulators in parallel test workers do not hand out the same address; a candidate whose ports are taken is skipped.
import { randomInt } from 'node:crypto';
import net from 'node:net';

function portFree(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: ip, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export class PodAddresses {
  private readonly prefix: number[];
  private next = 0;

  /** `subnet`: "127.0.0" (a /24) or "127.42" (a /16); default a random 127.X.Y.0/24 away from 127.0.0.x/127.0.1.x. */
  constructor(subnet?: string) {
    if (subnet) {
      const parts = subnet.split('.').map(Number);
      if (parts[0] !== 127 || parts.length < 2 || parts.length > 3 || parts.some((p) => !(p >= 0 && p <= 255))) {
        throw new Error(`k8s-sim: podSubnet must be a loopback prefix like "127.0.0" or "127.42", got ${subnet}`);
      }
      this.prefix = parts;
    } else this.prefix = [127, randomInt(2, 255), randomInt(0, 256)];
  }

  private candidate(): string | null {
    const hostBits = this.prefix.length === 3 ? 1 : 2;
    const size = hostBits === 1 ? 253 : 256 * 256 - 2;
    if (this.next >= size) return null;
    const n = this.next++ + 2; // skip .0 and .1 (127.0.0.1 is the host's own loopback)
    const tail = hostBits === 1 ? [n] : [Math.floor(n / 256), n % 256];
    if (tail[tail.length - 1] === 0 || tail[tail.length - 1] === 255) return this.candidate();
    return [...this.prefix, ...tail].join('.');
  }

  /** A fresh address on which all `ports` can be bound. */
  async allocate(ports: number[]): Promise<string> {
    for (;;) {
      const ip = this.candidate();
      if (!ip) throw new Error('k8s-sim: pod addresses exhausted');
      const free = await Promise.all(ports.map((p) => portFree(ip, p)));
      if (free.every(Boolean)) return ip;
    }
  }
}
