// /hub/api/proxy: the route table as JupyterHub's proxy API shows it, a re-sync, and the proxy-moved notice (spec 2.2).
// The table lives in this process, so "the proxy" is hub.routes and a re-sync is a walk over routes and active servers.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import type { Route } from '../../proxy/index.ts';
import { normalisePrefix } from '../../proxy/index.ts';
import { HubError } from '../../util/errors.ts';
import { parsedBody } from './body.ts';
import { apiPrincipal, requireScopes } from '../identity.ts';
import { pageReply, readPage } from './paging.ts';

/** Python's quote(s, safe='@/~') for one path segment: what JupyterHub shows for a route the proxy keeps decoded. */
function quoteSegment(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%40/g, '@');
}

/** The routespec JupyterHub uses as the key: escaped again, always ending in '/'. */
export function routespec(prefix: string): string {
  const path = prefix.split('/').map(quoteSegment).join('/');
  return path.endsWith('/') ? path : `${path}/`;
}

interface RouteModel {
  routespec: string;
  target: string;
  data: Record<string, unknown>;
}

function routeModel(route: Route): RouteModel {
  const spec = routespec(route.prefix);
  // configurable-http-proxy reports last_activity with its JavaScript timestamp; keep that shape.
  return { routespec: spec, target: route.target, data: { ...route.data, last_activity: new Date(route.lastActivity).toISOString() } };
}

/**
 * Makes the route table agree with the servers that are ready, as JupyterHub's check_routes does: the hub route and a
 * route per ready server are (re)added, user routes without a ready server removed. Work is proportional to routes and
 * active servers; nothing reads the database. Service routes are the service manager's and are left alone.
 */
export function checkRoutes(hub: Hub): { added: number; removed: number } {
  const t0 = performance.now();
  let added = 0;
  let removed = 0;
  const hubRoute = hub.routes.get('/');
  if (!hubRoute || hubRoute.target !== hub.hubTarget) {
    hub.routes.add('/', hub.hubTarget, { hub: true });
    added++;
  }
  const wanted = new Map<string, { url: string; user: string; server: string }>();
  for (const a of hub.servers.all()) {
    if (a.phase === 'ready' && a.url) wanted.set(normalisePrefix(a.prefix), { url: a.url, user: a.user.name, server: a.name });
  }
  for (const route of hub.routes.all()) {
    if (typeof route.data.user === 'string' && !wanted.has(route.prefix)) {
      hub.routes.remove(route.prefix);
      removed++;
      hub.log.warn(`Removing stale route ${routespec(route.prefix)} (no ready server)`);
    }
  }
  for (const [prefix, w] of wanted) {
    const route = hub.routes.get(prefix);
    if (!route || route.target !== w.url) {
      hub.routes.add(prefix, w.url, { user: w.user, server_name: w.server });
      added++;
      hub.log.warn(`Adding missing route ${routespec(prefix)} -> ${w.url}`);
    }
  }
  hub.metrics.observeTiming('check_routes', (performance.now() - t0) / 1000);
  return { added, removed };
}

export function registerProxyApi(app: FastifyInstance, hub: Hub): void {
  const path = `${hub.hubPrefix}api/proxy`;

  app.get(path, async (req: FastifyRequest) => {
    requireScopes(await apiPrincipal(hub, req), ['proxy']);
    const page = readPage(hub, req);
    const t0 = performance.now();
    const all = hub.routes.all().map(routeModel);
    all.sort((a, b) => (a.routespec < b.routespec ? -1 : a.routespec > b.routespec ? 1 : 0));
    const routes: Record<string, RouteModel> = {};
    for (const r of all.slice(page.offset, page.offset + page.limit)) routes[r.routespec] = r;
    hub.metrics.observeTiming('proxy_poll', (performance.now() - t0) / 1000);
    return pageReply(req, page, routes, all.length);
  });

  app.post(path, async (req, reply) => {
    requireScopes(await apiPrincipal(hub, req), ['proxy']);
    checkRoutes(hub);
    reply.code(200).header('content-type', 'application/json');
    return '';
  });

  app.patch(path, async (req, reply) => {
    requireScopes(await apiPrincipal(hub, req), ['proxy']);
    const body = parsedBody(req.body);
    if (body === undefined || body === null || body === '') throw new HubError(400, 'need JSON body');
    if (typeof body !== 'object' || Array.isArray(body)) throw new HubError(400, 'Request body must be JSON dict');
    for (const k of ['api_url', 'auth_token']) {
      const v = (body as Record<string, unknown>)[k];
      if (v !== undefined && typeof v !== 'string') throw new HubError(400, `${k} must be a string`);
    }
    // JupyterHub would now talk to a proxy at api_url; here the proxy is this process, so there is nothing to move to.
    const keys = Object.keys(body).filter((k) => k === 'api_url' || k === 'auth_token');
    hub.log.info(`PATCH ${path}${keys.length ? ` (${keys.join(', ')})` : ''} has no effect: nodehub has no external proxy`);
    checkRoutes(hub);
    reply.code(200).header('content-type', 'application/json');
    return '';
  });
}
