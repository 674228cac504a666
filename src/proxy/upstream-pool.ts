// Keep-alive connections to plain-HTTP targets, one LIFO stack of idle sockets per host:port. Each socket gets its
// listeners once, when it is made, and hands events to whichever exchange (one forwarded request) holds it, so a
// request adds no listener to its upstream socket.
//
// Sockets read into one buffer per pool (net's `onread`), READ_BUFFER_BYTES long, instead of a new 64 KiB buffer per
// read: a 64 KiB body and its head (~65.6 KB) then come in one read rather than two, and leave in one res.end().
// Reads are handled one at a time on this thread, so one buffer serves every connection; what a reader keeps past the
// call must be copied out (ConnectionUser.data): UpstreamPool.copy takes the copies of large pieces from 64 KiB blocks
// that come back when written, because a fresh 64 KiB allocation per response made glibc give heap back to the kernel
// and fault it in again (~20 % more CPU per 64 KiB response at 50 connections, README.md).
import net from 'node:net';
import { ResponseParser } from './response-parser.ts';

/** Upstream read size: a 64 KiB body with any head fits in one read (README.md, Decisions: read buffer). */
export const READ_BUFFER_BYTES = 256 * 1024;
/** Size of the recycled blocks body copies are taken from; smaller pieces come from node's own buffer pool. */
export const COPY_BLOCK_BYTES = 64 * 1024;
const SMALL_COPY = 4096;
/** Blocks kept for reuse: enough for 64 responses in flight, 4 MiB at most. */
const MAX_SPARE_BLOCKS = 64;

/** What a connection tells the request that currently holds it. */
export interface ConnectionUser {
  /** Bytes read. `chunk` is a view on the pool's read buffer, overwritten by the next read: copy what is kept. */
  data(chunk: Buffer): void;
  drain(): void;
  /** The socket closed while held; `err` is its error, if it had one. */
  closed(err: NodeJS.ErrnoException | undefined): void;
  timeout(): void;
}

export class Connection {
  readonly socket: net.Socket;
  readonly parser = new ResponseParser();
  user: ConnectionUser | null = null;
  /** Whether it carried a request before the current one (a stale keep-alive socket fails only on reuse). */
  reused = false;
  error: NodeJS.ErrnoException | undefined;
  readonly key: string;
  readonly pool: UpstreamPool;

  constructor(pool: UpstreamPool, key: string, host: string, port: number) {
    this.pool = pool;
    this.key = key;
    const buffer = pool.readBuffer;
    this.socket = net.connect({ host, port, noDelay: true, onread: { buffer, callback: (n: number): boolean => {
      if (this.user !== null) this.user.data(buffer.subarray(0, n));
      else this.socket.destroy(); // nothing is asked of an idle connection: whatever it says is out of turn
      return true; // backpressure is the holder's socket.pause(), which with onread stops reading at once
    } } });
    this.socket.on('drain', () => this.user?.drain());
    this.socket.on('error', (err: NodeJS.ErrnoException) => {
      this.error = err;
    });
    this.socket.on('timeout', () => {
      if (this.user === null) this.socket.destroy();
      else this.user.timeout();
    });
    this.socket.on('close', () => {
      this.pool.forget(this);
      const user = this.user;
      this.user = null;
      user?.closed(this.error);
    });
  }
}

export class UpstreamPool {
  private readonly idle = new Map<string, Connection[]>();
  private readonly all = new Set<Connection>();
  private closed = false;
  /** Where every connection of this pool reads (Connection). */
  readonly readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  private readonly spareBlocks: ArrayBuffer[] = [];
  /** ms an idle connection is kept (0: one request per connection). */
  readonly keepAlive: number;
  private readonly maxIdle: number;

  constructor(keepAlive: number, maxIdle = 256) {
    this.keepAlive = keepAlive;
    this.maxIdle = maxIdle;
  }

  /** An idle connection to host:port (the most recently used), or a new one; `fresh` forces a new one. */
  acquire(host: string, port: number, user: ConnectionUser, timeout: number, fresh = false): Connection {
    const key = `${host}:${port}`;
    let conn: Connection | undefined;
    if (!fresh) {
      const stack = this.idle.get(key);
      while (stack !== undefined && stack.length > 0) {
        const c = stack.pop()!;
        if (!c.socket.destroyed) {
          conn = c;
          break;
        }
      }
    }
    // One socket timer serves both the idle timeout and, while the connection is held, the upstream timeout; with no
    // upstream timeout the idle one keeps running and the holder ignores it, so most requests never reset the timer.
    const held = this.heldTimeout(timeout);
    if (conn === undefined) {
      conn = new Connection(this, key, host, port);
      this.all.add(conn);
      if (this.closed) conn.socket.destroy();
      else if (held > 0) conn.socket.setTimeout(held);
    } else {
      conn.reused = true;
      if (held !== this.keepAlive) conn.socket.setTimeout(held);
    }
    conn.user = user;
    return conn;
  }

  /** Gives a connection whose response is complete back to the pool, or closes it when it cannot be kept. */
  release(conn: Connection, timeout: number): void {
    conn.user = null;
    if (this.closed || this.keepAlive <= 0 || conn.socket.destroyed) {
      conn.socket.destroy();
      return;
    }
    let stack = this.idle.get(conn.key);
    if (stack === undefined) {
      stack = [];
      this.idle.set(conn.key, stack);
    }
    if (stack.length >= this.maxIdle) {
      conn.socket.destroy();
      return;
    }
    if (this.heldTimeout(timeout) !== this.keepAlive) conn.socket.setTimeout(this.keepAlive);
    stack.push(conn);
  }

  /**
   * A copy of `view` (at most COPY_BLOCK_BYTES) that outlives the read buffer. Hand it back with `recycle` once it has
   * been written (a write callback without error), or drop it.
   */
  copy(view: Buffer): Buffer {
    if (view.length <= SMALL_COPY) return Buffer.from(view);
    const block = this.spareBlocks.pop() ?? new ArrayBuffer(COPY_BLOCK_BYTES);
    const out = Buffer.from(block, 0, view.length);
    view.copy(out);
    return out;
  }

  recycle(copy: Buffer): void {
    if (copy.length <= SMALL_COPY || this.spareBlocks.length >= MAX_SPARE_BLOCKS) return; // small ones are node's
    const block = copy.buffer;
    if (block instanceof ArrayBuffer && block.byteLength === COPY_BLOCK_BYTES) this.spareBlocks.push(block);
  }

  private heldTimeout(timeout: number): number {
    return timeout > 0 ? timeout : this.keepAlive;
  }

  forget(conn: Connection): void {
    this.all.delete(conn);
    const stack = this.idle.get(conn.key);
    if (stack === undefined) return;
    const i = stack.lastIndexOf(conn);
    if (i !== -1) stack.splice(i, 1);
    if (stack.length === 0) this.idle.delete(conn.key);
  }

  /** Closes every connection, idle or in use; later acquisitions fail at once. */
  close(): void {
    this.closed = true;
    for (const c of this.all) c.socket.destroy();
    this.all.clear();
    this.idle.clear();
  }
}
