// Forwards one plain HTTP request to a remote target and streams the answer back. Every way a request can end is
// handled here, because each unhandled one is a leak: the client leaving aborts the upstream request, the upstream
// dying mid-response destroys the client's response (a truncated body must not look complete), and errors on either
// stream are caught so that none can crash the process.
import http from 'node:http';
import https from 'node:https';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { addForwardedHeaders, clientResponseHeaders, isSecure, upstreamRequestHeaders } from './headers.ts';
import { statusForUpstreamError, upstreamTimeout } from './errors.ts';
import type { Route } from './types.ts';

export interface Upstream {
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number;
}

export interface WebContext {
  agents: { http: http.Agent; https: https.Agent };
  xForward: boolean;
  secure: boolean | undefined;
  customHeaders: Record<string, string> | undefined;
  timeout: number;
  proxyTimeout: number;
  /** In-flight upstream requests, so that close() can abort them. */
  inflight: Set<{ destroy(): void }>;
  /** Answers with an error page, or destroys the response when headers are already out. */
  fail(status: number, req: IncomingMessage, res: ServerResponse, route: Route): void;
}

function noop(): void {}

/** A request without a body can be resent safely when a pooled connection turns out to be closed already. */
function hasNoBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length === undefined || length === '0') && req.headers['transfer-encoding'] === undefined;
}

const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function forwardWeb(
  req: IncomingMessage,
  res: ServerResponse,
  route: Route,
  upstream: Upstream,
  path: string,
  ctx: WebContext,
): void {
  const headers = upstreamRequestHeaders(req, ctx.customHeaders);
  if (ctx.xForward) addForwardedHeaders(headers, req, isSecure(req, ctx.secure), false);
  const bodiless = hasNoBody(req);
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
    const mod = upstream.protocol === 'https:' ? https : http;
    const agent = upstream.protocol === 'https:' ? ctx.agents.https : ctx.agents.http;
    const outgoing = mod.request({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path,
      headers,
      agent,
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
        res.writeHead(status, proxyRes.statusMessage || http.STATUS_CODES[status] || '', out);
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
        if (!res.write(chunk)) proxyRes.pause();
      });
      res.on('drain', () => proxyRes.resume());
      proxyRes.on('end', () => res.end());
      proxyRes.on('close', () => {
        if (!proxyRes.complete) res.destroy();
      });
    });

    if (bodiless) outgoing.end();
    else req.pipe(outgoing);
  };
  send(0);
}
