// configurable-http-proxy's REST API (spec 6.1) over the shared RouteTable: GET/POST/DELETE /api/routes[/<path>].
// Status codes and texts follow CHP, since JupyterHub and other clients branch on them (a 404 on DELETE is tolerated,
// 201 on POST expected). Unlike CHP, the token is checked before a POST body is read, and bad path encodings get a 400
// instead of a request left hanging.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from '../../util/builtins.ts';
import type { Logger } from '../../util/log.ts';
import { normalisePrefix } from '../route-table.ts';
import type { RouteTable } from '../route-table.ts';
import { routeJson, routesJson } from './route-json.ts';

export interface ApiOptions {
  /** CONFIGPROXY_AUTH_TOKEN; undefined or '' leaves the API open. */
  authToken: string | undefined;
  hostRouting: boolean;
  log: Logger;
  /** Largest POST body accepted, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
}

const ROUTES = /^\/api\/routes(\/.*)?$/;
const METHODS = new Set(['GET', 'POST', 'DELETE']);

function text(res: ServerResponse, status: number, body: string = STATUS_CODES[status] ?? ''): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function empty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': 0 });
  res.end();
}

function json(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** CHP's rule: the first `token <value>` anywhere in Authorization must equal the token (compared in constant time). */
function authorized(req: IncomingMessage, expected: Buffer | undefined): boolean {
  if (expected === undefined) return true;
  const m = /token\s+(\S+)/.exec(req.headers.authorization ?? '');
  return m !== null && timingSafeEqual(digest(m[1]), expected);
}

function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        resolve(null);
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The routes listing's idle filter: inactiveSince wins over the older inactive_since, as in CHP. */
function inactiveBefore(query: string): number | undefined | string {
  if (query === '') return undefined;
  const params = new URLSearchParams(query);
  const raw = params.get('inactiveSince') || params.get('inactive_since');
  if (!raw) return undefined;
  const when = Date.parse(raw);
  return Number.isFinite(when) ? when : `Invalid datestamp '${raw}' must be ISO8601.`;
}

export function createApiHandler(table: RouteTable, opts: ApiOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const expected = opts.authToken ? digest(opts.authToken) : undefined;
  const limit = opts.maxBodyBytes ?? 1024 * 1024;
  const log = opts.log;

  const getRoutes = (res: ServerResponse, sub: string | undefined, query: string): void => {
    // CHP answers /api/routes/ (and any path that cleans to '/') with the whole table, not the root route alone.
    if (sub !== undefined && keyOf(sub) !== '/') {
      const route = table.get(sub);
      if (route === undefined) return empty(res, 404);
      return json(res, routeJson(route));
    }
    const since = inactiveBefore(query);
    if (typeof since === 'string') return text(res, 400, since);
    json(res, routesJson(table.all(), since));
  };

  const postRoute = async (req: IncomingMessage, res: ServerResponse, sub: string | undefined): Promise<void> => {
    const body = await readBody(req, limit);
    if (body === null) return text(res, 413, `Body larger than ${limit} bytes`);
    let data: unknown;
    try {
      data = JSON.parse(body) || {};
    } catch (err) {
      return text(res, 400, `Body not valid JSON: ${(err as Error).message}`);
    }
    const target = (data as { target?: unknown }).target;
    if (typeof data !== 'object' || Array.isArray(data) || typeof target !== 'string') {
      return text(res, 400, "Must specify 'target' as string");
    }
    const { target: _t, last_activity: _l, ...rest } = data as Record<string, unknown>;
    const key = keyOf(sub ?? '/');
    // CHP records the host of a host-routed route in its data; JupyterHub reads routes back, so keep the same shape.
    if (opts.hostRouting && key !== '/') rest.host = key.split('/')[1];
    try {
      table.add(sub ?? '/', target, rest); // the table decodes the key itself, once
    } catch (err) {
      throw new RouteError((err as Error).message);
    }
    log.info(`Route added ${key} -> ${target}`);
    empty(res, 201);
  };

  const deleteRoute = (res: ServerResponse, sub: string | undefined): void => {
    const key = keyOf(sub ?? '/');
    if (!table.remove(sub ?? '/')) return empty(res, 404);
    log.info(`Route removed ${key}`);
    empty(res, 204);
  };

  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const method = req.method ?? 'GET';
    res.on('finish', () => {
      const line = `${res.statusCode} ${method} ${path}`;
      if (res.statusCode >= 500) log.error(line);
      else if (res.statusCode >= 400) log.warn(line);
      else log.debug(line);
    });
    const m = ROUTES.exec(path);
    if (m === null) return text(res, 404);
    if (!METHODS.has(method)) return text(res, 405, 'Method not supported');
    if (!authorized(req, expected)) {
      log.debug(`Rejecting API request with ${req.headers.authorization ? 'a wrong token' : 'no token'}`);
      return empty(res, 403);
    }
    const sub = m[1];
    const fail = (err: unknown): void => {
      if (res.headersSent) res.destroy();
      else if (err instanceof RouteError) text(res, 400, err.message);
      else {
        log.error(`Error in ${method} ${path}:`, err);
        text(res, 500);
      }
    };
    try {
      if (method === 'GET') getRoutes(res, sub, query);
      else if (method === 'POST') postRoute(req, res, sub).catch(fail);
      else deleteRoute(res, sub);
    } catch (err) {
      fail(err);
    }
  };

  /** A route key from the path after /api/routes, or a RouteError for a malformed one. */
  function keyOf(sub: string): string {
    try {
      return normalisePrefix(sub);
    } catch (err) {
      throw new RouteError((err as Error).message);
    }
  }
}

class RouteError extends Error {}
