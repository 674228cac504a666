// Forwards one HTTP request to an https:// target through node's https client and keep-alive agent, and streams the
// answer back (plain http:// targets take the raw-socket path in web.ts). Every way a request can end is handled
// here, because each unhandled one is a leak: the client leaving aborts the upstream request, the upstream dying
// mid-response destroys the client's response (a truncated body must not look complete), and errors on either stream
// are caught so that none can crash the process.
import { https, STATUS_CODES } from '../util/builtins.ts';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { clientResponseHeaders, isSecure, upstreamRequestRaw } from './headers.ts';
import { statusForUpstreamError, upstreamTimeout } from './errors.ts';
import type { Route } from './types.ts';
import type { Upstream, WebContext } from './web.ts';

function noop(): void {}

/** The Content-Length of a raw header list as a number, or -1 when absent or not a plain number. */
function contentLength(rawHeaders: string[]): number {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i].length === 14 && rawHeaders[i].toLowerCase() === 'content-length') {
      const n = Number(rawHeaders[i + 1]);
      return Number.isSafeInteger(n) && n >= 0 ? n : -1;
    }
  }
  return -1;
}

const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function forwardWebTls(
  req: IncomingMessage,
  res: ServerResponse,
  route: Route,
  upstream: Upstream,
  path: string,
  ctx: WebContext,
): void {
  // Headers and body framing from req.rawHeaders in one pass; a list goes to node's client as it is.
  const { headers, bodiless } = upstreamRequestRaw(req, ctx.customHeaders, ctx.xForward,
    ctx.xForward && isSecure(req, ctx.secure), upstream.host);
  // A keep-alive connection the upstream closed while idle fails with ECONNRESET on reuse; that says nothing about
  // the server, so a request that can be repeated is sent once more on a fresh connection.
  const retryable = bodiless && RETRYABLE_METHODS.has(req.method ?? '');
  const touch = (): void => {
    route.lastActivity = Date.now();
  };

  if (ctx.timeout > 0) req.socket.setTimeout(ctx.timeout);
  req.on('error', noop); // the client vanished mid-upload; res 'close' below does the cleanup
  res.on('error', noop);
  if (bodiless) req.resume();
  else req.on('data', touch);

  let proxyReq: ClientRequest | undefined;
  let responded = false;
  /** The response's Content-Length until its first body chunk is seen, then -1. */
  let whole = -1;
  let clientGone = false;
  res.on('close', () => {
    if (res.writableFinished) return;
    clientGone = true;
    proxyReq?.destroy();
  });
  res.on('finish', () => {
    if (res.statusCode < 300) touch();
  });

  const send = (attempt: number): void => {
    const outgoing = https.request({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path,
      headers,
      agent: ctx.httpsAgent,
    });
    proxyReq = outgoing;
    ctx.inflight.add(outgoing);
    outgoing.on('close', () => ctx.inflight.delete(outgoing));
    if (ctx.proxyTimeout > 0) {
      outgoing.setTimeout(ctx.proxyTimeout, () => outgoing.destroy(upstreamTimeout(ctx.proxyTimeout)));
    }

    outgoing.on('error', (err: NodeJS.ErrnoException) => {
      // Either we aborted it because the client left, or the client already has its answer (an error page).
      if (clientGone || res.writableEnded) return;
      if (
        !responded &&
        retryable &&
        attempt === 0 &&
        outgoing.reusedSocket &&
        err.code === 'ECONNRESET' &&
        !res.headersSent
      ) {
        send(1);
        return;
      }
      ctx.fail(statusForUpstreamError(err), req, res, route);
    });

    outgoing.on('response', (proxyRes: IncomingMessage) => {
      responded = true;
      proxyRes.on('error', noop); // 'aborted' when the upstream dies; handled by 'close' below
      if (clientGone) {
        outgoing.destroy();
        return;
      }
      touch();
      const status = proxyRes.statusCode ?? 502;
      try {
        const out = clientResponseHeaders(proxyRes.rawHeaders);
        whole = contentLength(out);
        res.writeHead(status, proxyRes.statusMessage || STATUS_CODES[status] || '', out);
      } catch {
        // An upstream status or header our server refuses to send (e.g. status 99): not the client's fault.
        outgoing.destroy();
        ctx.fail(502, req, res, route);
        return;
      }
      // By hand rather than pipe(): pipe() adds nine listeners to each side per request, and the close paths it
      // would handle are handled above (client gone) and here (upstream gone).
      proxyRes.on('data', (chunk: Buffer) => {
        touch();
        // A body that arrives in one chunk (most small responses) leaves with its head in a single end(): no cork,
        // no deferred uncork, no second pass through the writable machinery.
        if (chunk.length === whole) {
          whole = -1;
          res.end(chunk);
          return;
        }
        whole = -1;
        if (!res.write(chunk)) proxyRes.pause();
      });
      res.on('drain', () => proxyRes.resume());
      proxyRes.on('end', () => {
        if (!res.writableEnded) res.end();
      });
      proxyRes.on('close', () => {
        if (!proxyRes.complete) res.destroy();
      });
    });

    if (bodiless) outgoing.end();
    else req.pipe(outgoing);
  };
  send(0);
}
