// The HTTP front of the simulator: node:http on 127.0.0.1, JSON in and out, Status bodies for every failure,
// authentication and RBAC, injected faults, watch streaming, and request statistics.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Api, DeleteOptions } from './api.ts';
import { discovery } from './discovery.ts';
import { ApiError, badRequest, byCode, isApiError } from './errors.ts';
import type { Faults } from './faults.ts';
import type { Kubelet } from './kubelet.ts';
import { listObjects } from './list.ts';
import { applyPatch } from './patch.ts';
import type { Rbac } from './rbac.ts';
import { route, type Route } from './route.ts';
import { requestMatcher } from './selectors.ts';
import type { Store } from './store.ts';
import { nowIso } from './api.ts';
import { resourceById } from './resources.ts';
import type { Watches } from './watch.ts';

const BODY_LIMIT = 3 * 1024 * 1024;

export interface ServerDeps {
  api: Api;
  store: Store;
  watches: Watches;
  rbac: Rbac;
  faults: () => Faults;
  kubelet: Kubelet;
  watchTimeoutMs: number;
}

export interface Stats {
  requests: number;
  watchRequests: number;
  /** the highest number of watch requests seen within one wall-clock second (reconnect storms show here) */
  maxWatchRequestsPerSecond: number;
  openWatches: number;
  byVerb: Record<string, number>;
  /** Requests per "<group or core>/<resource>[/<subresource>]:<verb>", counted before RBAC decides (so refusals show). */
  byAccess: Record<string, number>;
}

function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > BODY_LIMIT) {
        reject(new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`));
      }
    });
  });
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`${name}: Invalid value: "${v}": must be an integer`);
  return Number(v);
}

export class HttpServer {
  private readonly deps: ServerDeps;
  private readonly server: http.Server;
  private readonly perSecond = new Map<number, number>();
  readonly stats: Stats = { requests: 0, watchRequests: 0, maxWatchRequestsPerSecond: 0, openWatches: 0, byVerb: {}, byAccess: {} };
  address = '';

  constructor(deps: ServerDeps) {
    this.deps = deps;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        const e = isApiError(err) ? err : byCode(500, `k8s-sim internal error: ${(err as Error)?.message}`);
        if (!isApiError(err)) console.error('k8s-sim: request failed', err);
        if (!res.headersSent) send(res, e.status.code, e.status, e.headers);
        else res.destroy();
      });
    });
  }

  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    this.address = `${host}:${a.port}`;
    return { host, port: a.port };
  }

  async close(): Promise<void> {
    this.deps.watches.destroyAll();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private count(r: Route): void {
    this.stats.requests++;
    this.stats.byVerb[r.verb] = (this.stats.byVerb[r.verb] ?? 0) + 1;
    if (!r.watch) return;
    this.stats.watchRequests++;
    const second = Math.floor(Date.now() / 1000);
    const n = (this.perSecond.get(second) ?? 0) + 1;
    this.perSecond.set(second, n);
    for (const s of this.perSecond.keys()) if (s < second - 5) this.perSecond.delete(s);
    this.stats.maxWatchRequestsPerSecond = Math.max(this.stats.maxWatchRequestsPerSecond, n);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const plain = ['/healthz', '/livez', '/readyz'].includes(path);
    const doc = plain ? undefined : discovery(path, this.address);
    let r: Route | undefined;
    if (!plain && !doc) r = route(method, path, url.searchParams);
    if (r) this.count(r);
    else this.stats.requests++;
    const info = {
      method,
      path,
      verb: r?.verb ?? 'get',
      resource: r ? r.resource.plural + (r.subresource ? `/${r.subresource}` : '') : '',
      namespace: r?.namespace,
      watch: r?.watch ?? false,
    };
    const failure = this.deps.faults().failureFor(info);
    if (failure) throw failure;
    const delay = this.deps.faults().answerDelayFor(info);
    if (delay > 0) {
      const end = res.end.bind(res) as (...a: unknown[]) => void;
      res.end = ((...a: unknown[]) => {
        setTimeout(() => end(...a), delay);
        return res;
      }) as typeof res.end;
    }
    if (plain) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end('ok');
    }
    if (doc) return send(res, 200, doc);
    const route_ = r as Route;
    const identity = this.deps.rbac.authenticate(req.headers.authorization);
    const rbacResource = route_.resource.plural + (route_.subresource ? `/${route_.subresource}` : '');
    const access = `${route_.resource.group || 'core'}/${rbacResource}:${route_.verb}`;
    this.stats.byAccess[access] = (this.stats.byAccess[access] ?? 0) + 1;
    this.deps.rbac.authorize(identity, { verb: route_.verb, group: route_.resource.group, resource: rbacResource, namespace: route_.namespace, name: route_.name });
    const body = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) ? await readBody(req) : undefined;
    await this.dispatch(route_, url.searchParams, body, req.headers['content-type'] ?? 'application/json', res);
  }

  private async dispatch(r: Route, q: URLSearchParams, body: unknown, contentType: string, res: ServerResponse): Promise<void> {
    const { api } = this.deps;
    const def = r.resource;
    const name = r.name as string;
    switch (r.verb) {
      case 'list': {
        const matcher = requestMatcher(def, r.namespace, q.get('labelSelector'), q.get('fieldSelector'));
        return send(res, 200, listObjects(this.deps.store, def, matcher, Object.fromEntries(q) as never));
      }
      case 'watch': {
        const matcher = requestMatcher(def, r.namespace, q.get('labelSelector'), q.get('fieldSelector'));
        const timeout = intParam(q, 'timeoutSeconds');
        const rv = q.get('resourceVersion') ?? undefined;
        if (rv && !/^\d+$/.test(rv)) throw badRequest(`resourceVersion: Invalid value: "${rv}": must be a non-negative integer`);
        return this.deps.watches.serve({
          resource: def,
          matcher,
          resourceVersion: rv,
          allowBookmarks: q.get('allowWatchBookmarks') === 'true',
          sendInitialEvents: q.get('sendInitialEvents') === 'true',
          timeoutMs: timeout !== undefined ? timeout * 1000 : this.deps.watchTimeoutMs,
        }, res);
      }
      case 'get': {
        if (r.subresource === 'log') {
          api.get(def, r.namespace, name);
          const text = this.deps.kubelet.logs(r.namespace as string, name, q.get('container') ?? undefined) ?? '';
          res.writeHead(200, { 'content-type': 'text/plain' });
          return void res.end(text);
        }
        return send(res, 200, api.get(def, r.namespace, name, q.get('resourceVersion') ?? undefined));
      }
      case 'create': {
        if (r.subresource === 'eviction') return this.evict(r, body, res);
        return send(res, 201, api.create(def, r.namespace, body));
      }
      case 'update':
      case 'patch': {
        if (r.subresource === 'status') {
          const current = api.get(def, r.namespace, name);
          const next = r.verb === 'update' ? (body as any) : applyPatch(contentType, current, body);
          const updated = api.writeStatus(def, r.namespace, name, (o) => {
            o.status = (next as any)?.status ?? o.status;
          });
          return send(res, 200, updated);
        }
        const out = r.verb === 'update' ? api.replace(def, r.namespace, name, body) : api.patch(def, r.namespace, name, contentType, body);
        return send(res, 200, out);
      }
      case 'delete': {
        const opts = this.deleteOptions(q, body);
        const current = api.get(def, r.namespace, name);
        const result = api.delete(def, r.namespace, name, opts);
        if (def.returnsDeleted) return send(res, 200, result ?? current);
        if (result?.metadata.deletionTimestamp) return send(res, 200, result);
        return send(res, 200, {
          kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success',
          details: { name, ...(def.group ? { group: def.group } : {}), kind: def.plural, uid: current.metadata.uid },
        });
      }
      case 'deletecollection': {
        const matcher = requestMatcher(def, r.namespace, q.get('labelSelector'), q.get('fieldSelector'));
        const opts = this.deleteOptions(q, body);
        for (const o of this.deps.store.list(def.id, matcher)) {
          try {
            api.delete(def, o.metadata.namespace, o.metadata.name as string, opts);
          } catch (err) {
            if (!isApiError(err)) throw err;
          }
        }
        return send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' });
      }
    }
  }

  private deleteOptions(q: URLSearchParams, body: unknown): DeleteOptions {
    const b = (body && typeof body === 'object' ? body : {}) as DeleteOptions;
    return {
      gracePeriodSeconds: b.gracePeriodSeconds ?? intParam(q, 'gracePeriodSeconds'),
      propagationPolicy: b.propagationPolicy ?? q.get('propagationPolicy') ?? undefined,
      preconditions: b.preconditions,
    };
  }

  /** policy/v1 Eviction: a DisruptionTarget condition, then an ordinary graceful delete. */
  private evict(r: Route, body: unknown, res: ServerResponse): void {
    const { api } = this.deps;
    const pods = resourceById('pods');
    const name = r.name as string;
    api.get(pods, r.namespace, name);
    api.writeStatus(pods, r.namespace, name, (p) => {
      const conds: any[] = (p.status.conditions ??= []);
      if (!conds.some((c) => c.type === 'DisruptionTarget')) {
        conds.push({ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastProbeTime: null, lastTransitionTime: nowIso() });
      }
    });
    api.delete(pods, r.namespace, name, (body as any)?.deleteOptions ?? {});
    send(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }
}
