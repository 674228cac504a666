// A stand-in for a ClusterIP Service in front of a port on the host (the hub's, for its pods). In a cluster, a pod's
// connection to a Service reaches the backend from the pod's own IP (kube-proxy keeps the client address), which a hub
// can tell its pods apart by. Here the pods' processes share the host's network, where a connection to a loopback
// address comes from 127.0.0.1, so this relay finds the container whose process group holds the client end of each
// connection (/proc) and connects onward from that pod's IP; anyone else's connection goes on from 127.0.0.1.
import fs from 'node:fs';
import net from 'node:net';
import type { Kubelet } from './kubelet.ts';
import type { Store } from './store.ts';

export interface Service {
  host: string;
  port: number;
  /** Where connections go; may be set after the service exists (the backend's port is often known only later). */
  target: { host: string; port: number } | null;
  close(): Promise<void>;
}

export async function createService(kubelet: Kubelet, store: Store, target: Service['target'] = null): Promise<Service> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.pause();
    client.on('error', () => {});
    client.once('close', () => sockets.delete(client));
    const podIP = clientPodIP(kubelet, store, client);
    const to = service.target;
    if (!to) return client.destroy();
    const upstream = net.connect({ host: to.host, port: to.port, ...(podIP ? { localAddress: podIP } : {}) });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    upstream.once('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.once('close', () => upstream.destroy());
    upstream.once('connect', () => {
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as net.AddressInfo;
  const service: Service = {
    host: '127.0.0.1',
    port,
    target,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  return service;
}

/** The pod IP of the container process holding the other end of `socket`, if a container's process does. */
function clientPodIP(kubelet: Kubelet, store: Store, socket: net.Socket): string | null {
  const { remoteAddress, remotePort, localAddress, localPort } = socket;
  if (!remoteAddress || !remotePort || !localAddress || !localPort) return null;
  const inode = clientInode(remoteAddress, remotePort, localAddress, localPort);
  if (!inode) return null;
  const groups = new Map(kubelet.processes().map((p) => [p.pid, p]));
  if (groups.size === 0) return null;
  const want = `socket:[${inode}]`;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const owner = groups.get(processGroup(entry));
    if (!owner) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link = '';
      try {
        link = fs.readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      if (link === want) return store.get('pods', owner.namespace, owner.pod)?.status?.podIP ?? null;
    }
  }
  return null;
}

function processGroup(pid: string): number {
  try {
    // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses, so read after the last ')'
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return -1;
  }
}

/** The inode of the client's end (its local address is the relay's remote one) from /proc/net/tcp{,6}. */
function clientInode(remote: string, remotePort: number, local: string, localPort: number): string | null {
  const hex4 = (ip: string) => ip.replace(/^::ffff:/i, '').split('.').map((b) => Number(b).toString(16).toUpperCase().padStart(2, '0')).reverse().join('');
  const port = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');
  const v4 = (ip: string) => /^(::ffff:)?\d+\.\d+\.\d+\.\d+$/i.test(ip);
  if (!v4(remote) || !v4(local)) return null;
  const pair = `${hex4(remote)}:${port(remotePort)} ${hex4(local)}:${port(localPort)}`;
  const pair6 = `0000000000000000FFFF0000${hex4(remote)}:${port(remotePort)} 0000000000000000FFFF0000${hex4(local)}:${port(localPort)}`;
  for (const [table, want] of [['/proc/net/tcp', pair], ['/proc/net/tcp6', pair6]] as const) {
    let text = '';
    try {
      text = fs.readFileSync(table, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (`${f[1]} ${f[2]}` === want && f[9]) return f[9];
    }
  }
  return null;
}
