// Forwards an HTTP Upgrade (websocket) request: the handshake goes to the upstream as an ordinary request, its 101 is
// relayed, and from then on the two sockets are piped byte for byte. The two are tied together: when either closes or
// errors the other is closed too (after flushing, so a websocket close frame still gets through), which is what keeps
// a kernel that died or a browser tab that vanished from leaving the other half open forever.
import { http, https } from '../util/builtins.ts';
import { Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { addForwardedHeaders, clientResponseHeaders, isSecure, rawHead, upstreamRequestHeaders } from './headers.ts';
import { closeAfterFlush, statusForUpstreamError, upstreamTimeout, writeRawError } from './errors.ts';
import type { Route } from './types.ts';
import type { Upstream, WebContext } from './web.ts';

// TCP keepalive with the kernel's own timing (net.ipv4.tcp_keepalive_*: first probe after 2 h by default), as
// configurable-http-proxy does. Not a delay of our own: for any delay given, libuv also sets 1 s between probes and
// gives up after 10, so a connection dies after 10 s of lost probes. With thousands of idle websockets the probes of
// sockets opened together fire together (the kernel's timer wheel batches them), overflow the loopback backlog
// (net.core.netdev_max_backlog) and abort healthy connections: bench/proxy.ts lost up to 37 % of 9,900 idle
// websockets with a 30 s delay, and still 5-23 % with delays spread over 30-60 s on a machine busy with other work.
function tune(socket: Duplex): void {
  if (socket instanceof Socket) {
    socket.setTimeout(0);
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
  }
}

function destroySelf(this: Duplex): void {
  this.destroy();
}

/**
 * Copies one socket's bytes to the other with backpressure, and passes its end on: what pipe() does, with three
 * listeners instead of pipe()'s nine per direction (each open websocket keeps them; the error and close paths are
 * handled in relay()).
 */
function forward(from: Duplex, to: Duplex, touch: () => void): void {
  from.on('data', (chunk: Buffer) => {
    touch();
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => from.resume());
  from.on('end', () => to.end());
}

/**
 * Joins the two sockets of an upgraded connection. A function of its own, outside forwardUpgrade, on purpose: the
 * listeners made here live as long as the websocket, and closures created inside forwardUpgrade would keep its whole
 * scope alive with them (the upstream ClientRequest with its headers, the 101 response, a one-off Agent), several KiB
 * per idle websocket.
 */
function relay(socket: Duplex, proxySocket: Socket, handshake: string, proxyHead: Buffer, head: Buffer, route: Route,
  ctx: WebContext): void {
  proxySocket.on('error', destroySelf);
  if (socket.destroyed || !socket.writable) {
    proxySocket.destroy();
    return;
  }
  const pair = { destroy: () => (socket.destroy(), proxySocket.destroy()) };
  ctx.inflight.add(pair);
  tune(socket);
  tune(proxySocket);
  const touch = (): void => {
    route.lastActivity = Date.now();
  };
  touch();

  socket.write(handshake);
  if (proxyHead.length > 0) socket.write(proxyHead);
  if (head.length > 0) proxySocket.write(head);

  forward(socket, proxySocket, touch);
  forward(proxySocket, socket, touch);
  socket.on('close', () => {
    ctx.inflight.delete(pair);
    closeAfterFlush(proxySocket);
  });
  proxySocket.on('close', () => {
    ctx.inflight.delete(pair);
    closeAfterFlush(socket);
  });
}

export function forwardUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  route: Route,
  upstream: Upstream,
  path: string,
  ctx: WebContext,
): void {
  const headers = upstreamRequestHeaders(req, ctx.customHeaders);
  headers.connection = 'Upgrade';
  if (req.headers.upgrade !== undefined) headers.upgrade = req.headers.upgrade;
  if (ctx.xForward) addForwardedHeaders(headers, req, isSecure(req, ctx.secure), true);
  const mod = upstream.protocol === 'https:' ? https : http;
  // No pooling: an upgraded connection never returns to a pool, and a fresh one cannot be a stale keep-alive socket.
  const proxyReq = mod.request({
    protocol: upstream.protocol,
    hostname: upstream.hostname,
    port: upstream.port,
    method: req.method,
    path,
    headers,
    agent: false,
  });
  const handle = { destroy: () => proxyReq.destroy() };
  ctx.inflight.add(handle);
  proxyReq.on('close', () => ctx.inflight.delete(handle));
  let upgraded = false;
  const onClientGone = (): void => {
    if (!upgraded) proxyReq.destroy();
  };
  socket.on('close', onClientGone);
  if (ctx.proxyTimeout > 0) {
    proxyReq.setTimeout(ctx.proxyTimeout, () => proxyReq.destroy(upstreamTimeout(ctx.proxyTimeout)));
  }

  proxyReq.on('error', (err) => {
    if (!upgraded) writeRawError(socket, statusForUpstreamError(err));
  });

  // The upstream answered without upgrading (401, 404, …): relay that answer, then close.
  proxyReq.on('response', (proxyRes: IncomingMessage) => {
    proxyRes.on('error', () => socket.destroy());
    if (socket.destroyed || !socket.writable) {
      proxyRes.destroy();
      return;
    }
    const out = clientResponseHeaders(proxyRes.rawHeaders);
    out.push('Connection', 'close');
    const status = proxyRes.statusCode ?? 502;
    socket.write(rawHead(status, proxyRes.statusMessage || http.STATUS_CODES[status] || '', out));
    // Body is close-delimited (we dropped transfer-encoding and de-chunked it), so ending the socket frames it.
    proxyRes.pipe(socket, { end: false });
    proxyRes.on('end', () => closeAfterFlush(socket));
    proxyRes.on('close', () => {
      if (!proxyRes.complete) socket.destroy();
    });
  });

  proxyReq.on('upgrade', (proxyRes: IncomingMessage, proxySocket: Socket, proxyHead: Buffer) => {
    upgraded = true;
    ctx.inflight.delete(handle);
    socket.off('close', onClientGone);
    const handshake = rawHead(proxyRes.statusCode ?? 101, proxyRes.statusMessage || 'Switching Protocols', proxyRes.rawHeaders);
    relay(socket, proxySocket, handshake, proxyHead, head, route, ctx);
  });

  proxyReq.end();
}
