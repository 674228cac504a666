// Forwards one HTTP request to a plain http:// target over a pooled raw socket: the request head is written as one
// string built from req.rawHeaders, the answer is framed by our strict parser (response-parser.ts) and relayed with
// res.writeHead/write/end. Node's http client costs about as much CPU per request as all of this does (README.md,
// Decisions); https:// targets still go through it (web-tls.ts). Every way an exchange can end is handled here,
// because each unhandled one is a leak: the client leaving closes the upstream socket, the upstream dying mid-response
// destroys the client's response (a truncated body must not look complete), a malformed answer is a 502 and its
// socket is never reused.
import { STATUS_CODES } from '../util/builtins.ts';
import type https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientResponseHeaders, isSecure, upstreamRequestRaw } from './headers.ts';
import { statusForUpstreamError, upstreamTimeout } from './errors.ts';
import type { ResponseHandler } from './response-parser.ts';
import type { Route } from './types.ts';
import { COPY_BLOCK_BYTES } from './upstream-pool.ts';
import type { Connection, ConnectionUser, UpstreamPool } from './upstream-pool.ts';
import { forwardWebTls } from './web-tls.ts';

export interface Upstream {
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number;
  /** The Host header for this target (port only when not the scheme's default). */
  host: string;
}

export interface WebContext {
  /** Keep-alive raw sockets to http:// targets. */
  pool: UpstreamPool;
  /** node's keep-alive agent for https:// targets. */
  httpsAgent: https.Agent;
  xForward: boolean;
  secure: boolean | undefined;
  customHeaders: Record<string, string> | undefined;
  timeout: number;
  proxyTimeout: number;
  /** In-flight requests on node's client and open websockets, so that close() can abort them. */
  inflight: Set<{ destroy(): void }>;
  /** Answers with an error page, or destroys the response when headers are already out. */
  fail(status: number, req: IncomingMessage, res: ServerResponse, route: Route): void;
}

function noop(): void {}

const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const LAST_CHUNK = '0\r\n\r\n';

/** One forwarded request: the holder of an upstream connection while its response is read. */
class WebExchange implements ConnectionUser, ResponseHandler {
  conn: Connection | null = null;
  retried = false;
  /** The response's Content-Length until its first body chunk is seen, then -1. */
  whole = -1;
  responded = false;
  clientGone = false;
  /** The whole request, body included, has been written to the upstream. */
  sent: boolean;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: Route;
  readonly upstream: Upstream;
  readonly ctx: WebContext;
  readonly head: string;
  readonly chunked: boolean;
  readonly retryable: boolean;

  constructor(req: IncomingMessage, res: ServerResponse, route: Route, upstream: Upstream, ctx: WebContext,
    head: string, bodiless: boolean, chunked: boolean) {
    this.req = req;
    this.res = res;
    this.route = route;
    this.upstream = upstream;
    this.ctx = ctx;
    this.head = head;
    this.chunked = chunked;
    this.sent = bodiless;
    // A keep-alive connection the upstream closed while idle fails on reuse; that says nothing about the server, so
    // a request that can be repeated is sent once more on a new connection.
    this.retryable = bodiless && RETRYABLE_METHODS.has(req.method ?? '');
  }

  touch(): void {
    this.route.lastActivity = Date.now();
  }

  send(fresh: boolean): void {
    const conn = this.ctx.pool.acquire(this.upstream.hostname, this.upstream.port, this, this.ctx.proxyTimeout, fresh);
    this.conn = conn;
    conn.parser.start(this, this.req.method === 'HEAD');
    conn.socket.write(this.head, 'latin1');
  }

  /** Lets go of the connection: back to the pool when it can carry another request, else closed. */
  letGo(reusable: boolean): void {
    const conn = this.conn;
    if (conn === null) return;
    this.conn = null;
    if (!this.sent) this.req.resume(); // the rest of the body has nowhere to go; read and drop it
    // A socket paused for the client's backpressure holds a complete response now; it goes back reading.
    if (conn.socket.isPaused()) conn.socket.resume();
    if (reusable && this.sent) this.ctx.pool.release(conn, this.ctx.proxyTimeout);
    else {
      conn.user = null;
      conn.socket.destroy();
    }
  }

  failed(status: number): void {
    this.letGo(false);
    if (!this.clientGone) this.ctx.fail(status, this.req, this.res, this.route);
  }

  // Upstream socket events (ConnectionUser).
  data(chunk: Buffer): void {
    try {
      this.conn!.parser.execute(chunk);
    } catch {
      // A malformed response (UpstreamProtocolError), or a status or header our own server refuses to send.
      this.failed(502);
    }
  }

  drain(): void {
    if (!this.sent) this.req.resume();
  }

  timeout(): void {
    // Without an upstream timeout the socket's timer is the pool's idle timer, which means nothing while held.
    if (this.ctx.proxyTimeout > 0) this.conn?.socket.destroy(upstreamTimeout(this.ctx.proxyTimeout));
  }

  closed(err: NodeJS.ErrnoException | undefined): void {
    const conn = this.conn;
    this.conn = null;
    if (conn === null || this.clientGone) return;
    if (!this.sent) this.req.resume();
    if (conn.parser.finish()) return; // a close-delimited body ended; onEnd did the rest
    if (this.responded) {
      this.res.destroy();
      return;
    }
    if (this.res.writableEnded) return;
    if (this.retryable && !this.retried && conn.reused && !conn.parser.started &&
      (err === undefined || err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
      this.retried = true;
      this.send(true);
      return;
    }
    // A close without an error before any answer is what node's client calls "socket hang up" (ECONNRESET).
    this.ctx.fail(statusForUpstreamError(err ?? { code: 'ECONNRESET' }), this.req, this.res, this.route);
  }

  // The parsed response (ResponseHandler).
  onHead(status: number, reason: string, rawHeaders: string[], contentLength: number): void {
    this.responded = true;
    this.touch();
    this.whole = contentLength;
    this.res.writeHead(status, reason || STATUS_CODES[status] || '', clientResponseHeaders(rawHeaders));
  }

  onBody(view: Buffer): void {
    this.touch();
    const res = this.res;
    const pool = this.ctx.pool;
    // `view` is the pool's read buffer and the response may queue what it is given, so it gets copies (pieces of at
    // most one copy block), each handed back to the pool once written.
    // A body that arrives in one piece (up to a 64 KiB body with its head in one read) leaves with its head in a
    // single end(), one writev.
    if (view.length === this.whole && view.length <= COPY_BLOCK_BYTES) {
      this.whole = -1;
      const copy = pool.copy(view);
      res.end(copy, (err?: Error | null) => {
        if (err == null) pool.recycle(copy);
      });
      return;
    }
    this.whole = -1;
    let flowing = true;
    for (let at = 0; at < view.length; at += COPY_BLOCK_BYTES) {
      const copy = pool.copy(at === 0 && view.length <= COPY_BLOCK_BYTES ? view : view.subarray(at, at + COPY_BLOCK_BYTES));
      flowing = res.write(copy, (err?: Error | null) => {
        if (err == null) pool.recycle(copy);
      });
    }
    if (!flowing) {
      const conn = this.conn!;
      conn.socket.pause();
      // Only while this exchange still holds the connection: once back in the pool it may be paused for another.
      res.once('drain', () => {
        if (this.conn === conn) conn.socket.resume();
      });
    }
  }

  onEnd(reusable: boolean): void {
    this.letGo(reusable);
    if (!this.res.writableEnded) this.res.end();
  }

  // The client side.
  clientClosed(): void {
    if (this.res.writableFinished) return;
    this.clientGone = true;
    this.letGo(false);
  }

  requestData(chunk: Buffer): void {
    this.touch();
    const socket = this.conn?.socket;
    if (socket === undefined) return;
    if (this.chunked) {
      socket.cork();
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      socket.write('\r\n', 'latin1');
      socket.uncork();
    } else socket.write(chunk);
    if (socket.writableNeedDrain) this.req.pause();
  }

  requestEnd(): void {
    this.sent = true;
    if (this.chunked) this.conn?.socket.write(LAST_CHUNK, 'latin1');
  }
}

export function forwardWeb(
  req: IncomingMessage,
  res: ServerResponse,
  route: Route,
  upstream: Upstream,
  path: string,
  ctx: WebContext,
): void {
  if (upstream.protocol === 'https:') return forwardWebTls(req, res, route, upstream, path, ctx);
  // Names and values come from node's parser (or were validated at createForwarder), so none can hold a CR or LF.
  const { headers, bodiless } = upstreamRequestRaw(req, ctx.customHeaders, ctx.xForward,
    ctx.xForward && isSecure(req, ctx.secure), upstream.host);
  let head = `${req.method} ${path} HTTP/1.1\r\n`;
  // A chunked request body reaches us de-chunked; it is chunked again on the way out, under the same header.
  let chunked = false;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i];
    if (!bodiless && name.length === 17 && name.toLowerCase() === 'transfer-encoding') chunked = true;
    head += `${name}: ${headers[i + 1]}\r\n`;
  }
  head += ctx.pool.keepAlive > 0 ? '\r\n' : 'Connection: close\r\n\r\n';
  const ex = new WebExchange(req, res, route, upstream, ctx, head, bodiless, chunked);

  if (ctx.timeout > 0) req.socket.setTimeout(ctx.timeout);
  req.on('error', noop); // the client vanished mid-upload; res 'close' below does the cleanup
  res.on('error', noop);
  res.on('close', () => ex.clientClosed());
  res.on('finish', () => {
    if (res.statusCode < 300) ex.touch();
  });
  ex.send(false);
  if (bodiless) req.resume();
  else {
    req.on('data', (chunk: Buffer) => ex.requestData(chunk));
    req.on('end', () => ex.requestEnd());
  }
}
