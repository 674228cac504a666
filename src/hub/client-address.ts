// Who the client really is when the hub sits behind proxies (an ingress, a load balancer): JupyterHub's
// trusted_downstream_ips. X-Forwarded-For is believed only as far as it was written by proxies in that list: walking
// it from the right, each trusted hop vouches for the address before it, and the first address that is not a trusted
// proxy is the client. Without the list, or from an untrusted socket, the header is ignored (anyone can write it).
import { BlockList, isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';

export type TrustedProxies = BlockList | null;

/** The trusted networks as a BlockList, or null when none are configured (the config has checked every entry). */
export function trustedProxies(entries: readonly string[]): TrustedProxies {
  if (entries.length === 0) return null;
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, prefix] = entry.trim().split('/');
    const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(prefix), type);
  }
  return list;
}

/** `::ffff:1.2.3.4` (how a dual-stack socket shows IPv4 clients) as `1.2.3.4`; zone ids dropped. */
function plain(address: string): string {
  const a = address.trim().replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return mapped ? mapped[1] : a;
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** The client's address: the socket peer, or what trusted proxies say it is. */
export function realClientAddress(req: FastifyRequest, trusted: TrustedProxies): string {
  let client = plain(req.raw.socket.remoteAddress ?? 'unknown');
  if (!trusted || !isTrusted(trusted, client)) return client;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : header ?? '').split(',').map(plain).filter((h) => h !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    // Garbage where an address should be: the last address vouched for is as far as the chain goes.
    if (isIP(hops[i]) === 0) break;
    client = hops[i];
    if (!isTrusted(trusted, client)) break;
  }
  return client;
}

/** Eight 16-bit groups of an IPv6 address, or null when it is not one. */
function ipv6Groups(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address.toLowerCase();
  // A trailing dotted IPv4 part is two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16));
}

/**
 * The key wrong tries are counted under: the address itself for IPv4, the /64 network for IPv6, since one IPv6
 * client (one home, one cloud VM) holds a whole /64 and could otherwise try from a fresh address every time.
 */
export function limiterKey(address: string): string {
  const a = plain(address);
  const groups = ipv6Groups(a);
  if (!groups) return a;
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}
