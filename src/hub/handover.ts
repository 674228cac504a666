// Upgrade by handover on one host: a new nodehub started with the same configuration while the old one runs takes
// over without a dropped connection. Both processes bind the public port with SO_REUSEPORT (Node's `reusePort`), so
// the new one listens before the old one lets go; the old one is asked over a control unix socket beside the database
// to stop accepting and to stop writing to it (sqlite takes one writer's view of the servers at a time), answers
// "released", keeps relaying what it already holds until that ends or JupyterHub.handover_drain_timeout passes, and
// exits without stopping user servers. The new one then adopts the servers from the database, as after a restart.
// Why not pass the listening socket itself: Node sends socket handles only to its own children (child_process IPC),
// not over a unix socket to an unrelated process, and a new process started by systemd is no child of the old one.
import net, { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import type { HubConfig } from '../config/types.ts';
import { parseDbUrl } from '../store/index.ts';
import type { Logger } from '../util/log.ts';
import type { ServerManager } from '../servers/index.ts';

/** Where a running hub listens for its successor: beside the sqlite file, which is what the two share. */
export function controlSocketPath(config: HubConfig): string | null {
  return runtimeFilePath(config, 'handover');
}

/** A file of the running hub that its successor looks for (a socket): `<sqlite file>.<name>`; null where there is
 * nothing the two share (an in-memory database, PostgreSQL on port 0). */
export function runtimeFilePath(config: HubConfig, name: string): string | null {
  const db = parseDbUrl(config.hub.db_url);
  if (process.platform !== 'linux') return null;
  // PostgreSQL: hubs on one host that share a database still hand over, through a socket named after the port
  if (db.kind === 'postgres') return config.hub.port ? `/tmp/nodehub-${config.hub.port}.${name}` : null;
  if (db.memory) return null;
  return `${db.filename}.${name}`;
}

/** SO_REUSEPORT, which lets the two processes hold the port at once, is Linux's (and Node's `reusePort` with it). */
export const canShareListener = process.platform === 'linux';

/**
 * A running predecessor's control connection, or null when there is none (no socket file, or one left by a hub that
 * died, which is removed).
 */
export async function findPredecessor(path: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const sock = connect(path);
    sock.once('connect', () => resolve(sock));
    sock.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') rmSync(path, { force: true });
      resolve(null);
    });
  });
}

/** Asks the predecessor to let go; resolves once it no longer accepts connections nor writes to the database. */
export async function requestHandover(sock: Socket, timeoutMs: number): Promise<void> {
  sock.write(`${JSON.stringify({ op: 'handover', pid: process.pid })}\n`);
  let text = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(`the running hub did not hand over within ${timeoutMs / 1000} s`), timeoutMs);
    const fail = (message: string) => {
      clearTimeout(timer);
      sock.destroy();
      reject(new Error(message));
    };
    sock.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      const line = text.split('\n')[0];
      if (!text.includes('\n')) return;
      let reply: { op?: string; message?: string };
      try {
        reply = JSON.parse(line) as typeof reply;
      } catch {
        return fail('the running hub answered the handover request with something unreadable');
      }
      if (reply.op !== 'released') return fail(`the running hub refused to hand over: ${reply.message ?? 'no reason given'}`);
      clearTimeout(timer);
      sock.end();
      resolve();
    });
    sock.once('close', () => fail('the running hub closed the handover connection without releasing'));
  });
}

export interface ControlHandlers {
  /** Stops accepting and stops the writers; once it settles the successor is told. */
  release(): Promise<void>;
  /** `nodehub reload`: the result goes back to the command. */
  reload(): Promise<unknown>;
}

/**
 * Listens for a successor's handover request and for `nodehub reload`. Only one handover is served; the socket file is
 * then left for the successor to replace.
 */
export async function listenForControl(path: string, handlers: ControlHandlers, log: Logger): Promise<{ close(): void }> {
  let handing = false;
  const server: Server = createServer((sock) => {
    let text = '';
    sock.on('error', () => sock.destroy());
    sock.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      if (!text.includes('\n') || handing) return;
      let req: { op?: string; pid?: number };
      try {
        req = JSON.parse(text.split('\n')[0]) as typeof req;
      } catch {
        return void sock.end(`${JSON.stringify({ op: 'refused', message: 'unreadable request' })}\n`);
      }
      if (req.op === 'reload') {
        void handlers.reload().then((result) => sock.end(`${JSON.stringify({ op: 'reloaded', result })}\n`));
        return;
      }
      if (req.op !== 'handover') return void sock.end(`${JSON.stringify({ op: 'refused', message: `unknown op ${req.op}` })}\n`);
      handing = true;
      log.info(`nodehub process ${req.pid ?? '?'} takes over from this one (pid ${process.pid})`);
      // The successor binds this path for its own successor: stop listening before saying released.
      server.close();
      handlers.release().then(
        () => sock.end(`${JSON.stringify({ op: 'released' })}\n`),
        (err: Error) => {
          log.error(`Handing over failed: ${err.message}`);
          sock.end(`${JSON.stringify({ op: 'refused', message: err.message })}\n`);
        },
      );
    });
  });
  rmSync(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  server.on('error', (err) => log.warn(`Handover control socket: ${err.message}`));
  // Only this user may ask the hub to hand over.
  chmodSync(path, 0o600);
  return {
    close() {
      server.close();
      // Removed only while it is still ours (a successor may already have replaced it).
      if (!handing) rmSync(path, { force: true });
    },
  };
}

/** When the kernel does not move connections waiting in a closed listener's queue to the other one, say what to set. */
export function migrateWarning(): string | null {
  try {
    if (readFileSync('/proc/sys/net/ipv4/tcp_migrate_req', 'utf8').trim() === '1') return null;
  } catch {
    return null;
  }
  return 'net.ipv4.tcp_migrate_req is 0: connections that reach the old process in the instant it stops accepting are '
    + 'reset instead of handed to the new one; set it to 1 (sysctl) for handovers without a lost connection';
}

/** `nodehub reload` through the control socket: the running hub's answer, or null when no hub listens there. */
export async function askToReload(path: string): Promise<Record<string, unknown> | null> {
  const sock = await findPredecessor(path);
  if (!sock) return null;
  sock.write(`${JSON.stringify({ op: 'reload' })}\n`);
  let text = '';
  for await (const chunk of sock) text += String(chunk);
  const reply = JSON.parse(text.split('\n')[0] || '{}') as { result?: Record<string, unknown> };
  return reply.result ?? null;
}

/**
 * Tracks the public listener's connections so a handed-over hub can let them go without failing a request: a
 * connection that is used gets `Connection: close` on its next response (the client reconnects, to the successor), and
 * one left idle for `idleMs` is closed. Closing idle keep-alive connections at once (what http.Server.close() does)
 * races a client that is just sending its next request on one, which then fails. Websockets are never closed here.
 */
export class ConnectionDrain {
  private readonly sockets = new Map<Socket, { busy: number; idleSince: number; upgraded: boolean }>();
  draining = false;

  constructor(server: Server) {
    server.on('connection', (socket: Socket) => {
      this.sockets.set(socket, { busy: 0, idleSince: Date.now(), upgraded: false });
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Call for each request before it is answered. */
  request(req: { socket: Socket }, res: { shouldKeepAlive: boolean; once(event: 'close', cb: () => void): unknown }): void {
    const s = this.sockets.get(req.socket);
    if (this.draining) res.shouldKeepAlive = false;
    if (!s) return;
    s.busy++;
    res.once('close', () => {
      s.busy--;
      s.idleSince = Date.now();
    });
  }

  upgrade(socket: Socket): void {
    const s = this.sockets.get(socket);
    if (s) s.upgraded = true;
  }

  /** Closes connections idle for `idleMs` (no request in progress, no websocket). */
  closeIdle(idleMs: number, now = Date.now()): void {
    for (const [socket, s] of this.sockets) {
      if (!s.upgraded && s.busy === 0 && now - s.idleSince >= idleMs) socket.destroy();
    }
  }
}

export interface HandoverParts {
  /** The public listener. */
  server: Server;
  connections: ConnectionDrain;
  servers: ServerManager;
  log: Logger;
  /** Stops everything that writes to the database on its own (activity, maintenance, pool, culler, services). */
  stopWriters(): Promise<void>;
  drainTimeoutMs(): number;
  /** Closes what is left (proxy, app, store) once drained; servers are not touched. */
  finish(): Promise<void>;
  /** Once the servers are forgotten: let go of what is held on their behalf (the spawner's uid locks). */
  letGo?(): void;
}

/** The old side of a handover: release (stop accepting, stop writing, forget the servers), then drain and finish. */
export class Handover {
  released = false;
  /** Settles once drained and closed: the process may exit. */
  readonly done: Promise<void>;
  private markDone!: () => void;
  private readonly parts: HandoverParts;

  constructor(parts: HandoverParts) {
    this.parts = parts;
    this.done = new Promise((r) => (this.markDone = r));
  }

  async release(): Promise<void> {
    const { server, connections, servers, log } = this.parts;
    const t = performance.now();
    this.released = true;
    connections.draining = true;
    // net.Server's close, not http.Server's: that one also closes idle keep-alive connections at once, failing a
    // request a client is sending on one just then; ConnectionDrain lets them go gently instead. The callback comes
    // once every connection, websockets included, has ended.
    const allClosed = new Promise<void>((r) => net.Server.prototype.close.call(server, () => r()));
    const migrate = migrateWarning();
    if (migrate) log.warn(migrate);
    await this.parts.stopWriters();
    // Spawns under way finish first (bounded), so the successor adopts them ready instead of this process stopping them.
    const spawning = [...servers.all()].filter((a) => a.phase === 'spawning').map((a) => a.spawned);
    await Promise.race([Promise.all(spawning), new Promise((r) => setTimeout(r, 30_000).unref())]);
    await servers.shutdown(false);
    this.parts.letGo?.();
    log.info(`Released the hub to the successor in ${Math.round(performance.now() - t)} ms; draining open connections`);
    void this.drain(allClosed);
  }

  private async drain(allClosed: Promise<void>): Promise<void> {
    const { connections, log } = this.parts;
    const t = performance.now();
    const limitMs = this.parts.drainTimeoutMs();
    // Keep-alive connections go idle between requests; each is closed once it has been idle a second.
    const idle = setInterval(() => connections.closeIdle(1000), 250);
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), limitMs)));
    const clean = await Promise.race([allClosed.then(() => true), limit]);
    clearTimeout(timer);
    clearInterval(idle);
    log.info(clean ? `Drained in ${Math.round(performance.now() - t)} ms; exiting`
      : `Drain timeout (${limitMs / 1000} s) passed; closing what is left and exiting`);
    await this.parts.finish();
    this.markDone();
  }
}
