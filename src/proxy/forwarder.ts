// The proxy's data path: normalise the request path, look the route up, then either hand the request to an in-process
// target (the hub) or forward it over a pooled connection. Our own engine rather than http-proxy-3: with
// http-proxy-3 a client whose upstream dies mid-response is left waiting forever (the truncated body is never
// signalled), and the fixes for that and for websocket half-closes live inside its passes; here every close and error
// path is ours and tested (see README.md). The engine sits behind request/upgrade/close, so it can be swapped.
import { http, https, STATUS_CODES } from '../util/builtins.ts';
import type { AgentOptions, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { addForwardedHeaders, isSecure } from './headers.ts';
import { writeRawError } from './errors.ts';
import { normalisePath, pathFrom } from './paths.ts';
import type { NormalisedPath } from './paths.ts';
import type { RouteTable } from './route-table.ts';
import type { Forwarder, ForwarderOptions, LocalTarget, Route } from './types.ts';
import { UpstreamPool } from './upstream-pool.ts';
import { forwardWeb } from './web.ts';
import type { Upstream, WebContext } from './web.ts';
import { forwardUpgrade } from './websocket.ts';

interface TargetInfo extends Upstream {
  href: string;
  /** The target URL's own path without trailing '/', prepended to forwarded paths ('' for most targets). */
  basePath: string;
}

function parseTarget(target: string): TargetInfo | null {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const basePath = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  return { protocol: url.protocol, hostname, port, host: url.host, href: url.href, basePath };
}

/** The host part of a Host header, without the port ('[::1]:8000' -> '[::1]'). */
function hostOf(host: string | undefined): string | undefined {
  if (host === undefined || host === '') return undefined;
  if (host[0] === '[') {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

function prefixDepth(prefix: string): number {
  if (prefix === '/') return 0;
  let n = 0;
  for (let i = 0; i < prefix.length; i++) if (prefix.charCodeAt(i) === 47) n++;
  return n;
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

export function defaultOnError(status: number, _req: IncomingMessage, res: ServerResponse): void {
  const body = STATUS_CODES[status] ?? 'Error';
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Custom headers are written onto upstream sockets as they are: one with a CR or LF could smuggle a second request. */
function checkCustomHeaders(custom: Record<string, string> | undefined): void {
  for (const name in custom) {
    try {
      http.validateHeaderName(name);
      http.validateHeaderValue(name, custom[name]);
    } catch (err) {
      throw new TypeError(`custom header ${JSON.stringify(name)}: ${(err as Error).message}`);
    }
  }
}

export function createForwarder(table: RouteTable, opts: ForwarderOptions = {}): Forwarder {
  checkCustomHeaders(opts.customHeaders);
  const keepAlive = opts.keepAliveTimeout ?? 5000;
  const agentOptions: AgentOptions = keepAlive > 0 ? { keepAlive: true, timeout: keepAlive } : { keepAlive: false };
  const hostRouting = opts.hostRouting === true;
  const includePrefix = opts.includePrefix !== false;
  const prependPath = opts.prependPath !== false;
  const xForward = opts.xForward !== false;
  const localTargets = opts.localTargets;
  const targets = new WeakMap<Route, TargetInfo | null>();
  let closed = false;

  const fail = (status: number, req: IncomingMessage, res: ServerResponse, route: Route | undefined): void => {
    if (res.headersSent || res.destroyed) {
      res.destroy(); // a truncated response must not look complete
      return;
    }
    const fallback = (): void => {
      if (res.headersSent) res.destroy();
      else if (!res.writableEnded) defaultOnError(status, req, res);
    };
    if (opts.onError === undefined) return defaultOnError(status, req, res);
    try {
      const result: unknown = opts.onError(status, req, res, route);
      if (result instanceof Promise) result.catch(fallback);
    } catch {
      fallback();
    }
  };

  const ctx: WebContext = {
    pool: new UpstreamPool(keepAlive),
    httpsAgent: new https.Agent(agentOptions),
    xForward,
    secure: opts.secure,
    customHeaders: opts.customHeaders,
    timeout: opts.timeout ?? 0,
    proxyTimeout: opts.proxyTimeout ?? 0,
    inflight: new Set(),
    fail,
  };

  const targetOf = (route: Route): TargetInfo | null => {
    let info = targets.get(route);
    if (info === undefined) {
      info = parseTarget(route.target);
      targets.set(route, info);
    }
    return info;
  };

  /** Route lookup; a number is the error status to answer with. */
  const resolve = (req: IncomingMessage): { route: Route; path: NormalisedPath } | number => {
    if (closed) return 503;
    const path = normalisePath(req.url ?? '');
    if (path === null) return 400;
    let segments = path.segments;
    if (hostRouting) {
      const host = hostOf(req.headers.host);
      if (host === undefined) return 400;
      segments = [host, ...segments];
    }
    const route = table.matchSegments(segments);
    if (route === undefined) return 404;
    route.lastActivity = Date.now();
    return { route, path };
  };

  const forwardedPath = (route: Route, path: NormalisedPath): string => {
    if (includePrefix) return path.path;
    return pathFrom(path, prefixDepth(route.prefix) - (hostRouting ? 1 : 0));
  };

  const localFor = (route: Route, info: TargetInfo | null): LocalTarget | undefined =>
    localTargets === undefined
      ? undefined
      : (localTargets.get(route.target) ?? (info !== null ? localTargets.get(info.href) : undefined));

  return {
    request(req, res) {
      let route: Route | undefined;
      try {
        const found = resolve(req);
        if (typeof found === 'number') return fail(found, req, res, undefined);
        route = found.route;
        const info = targetOf(route);
        const path = forwardedPath(route, found.path);
        const local = localFor(route, info);
        if (local !== undefined) {
          req.url = path + found.path.search;
          if (xForward) addForwardedHeaders(req.headers, req, isSecure(req, opts.secure), false);
          const r = route;
          res.on('finish', () => {
            if (res.statusCode < 300) r.lastActivity = Date.now();
          });
          local.request(req, res);
          return;
        }
        if (info === null) return fail(500, req, res, route);
        const url = (prependPath ? info.basePath : '') + path + found.path.search;
        forwardWeb(req, res, route, info, url, ctx);
      } catch {
        fail(500, req, res, route);
      }
    },

    upgrade(req, socket, head) {
      // After an upgrade node's server no longer watches the socket; an unhandled 'error' would crash the process.
      socket.on('error', destroyOnError);
      try {
        const found = resolve(req);
        if (typeof found === 'number') return writeRawError(socket, found);
        const { route } = found;
        const info = targetOf(route);
        const path = forwardedPath(route, found.path);
        const local = localFor(route, info);
        if (local !== undefined) {
          if (local.upgrade === undefined) return writeRawError(socket, 404);
          req.url = path + found.path.search;
          if (xForward) addForwardedHeaders(req.headers, req, isSecure(req, opts.secure), true);
          local.upgrade(req, socket, head);
          return;
        }
        if (info === null) return writeRawError(socket, 500);
        const url = (prependPath ? info.basePath : '') + path + found.path.search;
        forwardUpgrade(req, socket, head, route, info, url, ctx);
      } catch {
        writeRawError(socket, 500);
      }
    },

    close() {
      closed = true;
      for (const h of ctx.inflight) h.destroy();
      ctx.inflight.clear();
      ctx.pool.close();
      ctx.httpsAgent.destroy();
      return Promise.resolve();
    },
  };
}
