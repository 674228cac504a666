// How failures reach the client. A server that is down or unreachable is the common case (a user's server stopped or
// crashed) and gets 503, which the hub renders as "your server appears to be down"; anything else is a 500.
import { STATUS_CODES } from '../util/builtins.ts';
import type { Duplex } from 'node:stream';

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export function statusForUpstreamError(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNREACHABLE.has(code) ? 503 : 500;
}

export function upstreamTimeout(ms: number): Error {
  return Object.assign(new Error(`upstream did not answer within ${ms} ms`), { code: 'ETIMEDOUT' });
}

/**
 * Answers an upgrade request that cannot be proxied. There is no ServerResponse on an upgrade, so the reply is written
 * raw; browsers show nothing for a failed websocket handshake anyway, so no error page is rendered.
 */
export function writeRawError(socket: Duplex, status: number): void {
  if (socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = STATUS_CODES[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${body}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  closeAfterFlush(socket);
}

/**
 * Ends a socket and destroys it once its buffered data is written. An end() alone would leave a half-open socket for
 * as long as the peer keeps its side open, and destroy() alone could drop the last frames (a websocket close frame).
 * A peer that never reads is cut off after `graceMs`.
 */
export function closeAfterFlush(socket: Duplex, graceMs = 5000): void {
  if (socket.destroyed) return;
  if (socket.writable) socket.end();
  if (socket.writableFinished) {
    socket.destroy();
    return;
  }
  const timer = setTimeout(() => socket.destroy(), graceMs);
  timer.unref();
  socket.once('finish', () => {
    clearTimeout(timer);
    socket.destroy();
  });
  socket.once('close', () => clearTimeout(timer));
}
