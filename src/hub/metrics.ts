// Prometheus metrics with JupyterHub 3.0's family names, types, labels and buckets (spec 8), so existing dashboards and
// alerts keep working. Each hub has its own Registry (several hubs may share a test process); the process metrics are
// one per process and live in a shared registry merged in at scrape time. Counts (users, running servers, active
// users) are read from callbacks at scrape time, never kept in step by hand.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Hub } from './context.ts';
import type { LifecycleObserver, PoolObserver } from '../servers/index.ts';
import { HubError } from '../util/errors.ts';
import { apiPrincipal, cookieUser, hasAccess, principalForUser, type Principal } from './identity.ts';

/** prometheus_client's default buckets (the Python hub's histograms without explicit buckets use these). */
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** Spawns take seconds to minutes, hence wider buckets (the same as JupyterHub's). */
const SPAWN_BUCKETS = [0.5, 1, 2.5, 5, 10, 15, 30, 60, 120];

export const SPAWN_STATUSES = ['success', 'failure', 'already-pending', 'throttled', 'too-many-users'] as const;
export type SpawnStatus = (typeof SPAWN_STATUSES)[number];

export const ACTIVE_USER_PERIODS: Readonly<Record<string, number>> = {
  '24h': 24 * 3600_000,
  '7d': 7 * 24 * 3600_000,
  '30d': 30 * 24 * 3600_000,
};

/** Timings the hub reports besides requests, spawns and stops; the value lists the allowed `status` labels. */
const TIMINGS = {
  check_routes: { name: 'jupyterhub_check_routes_duration_seconds', help: 'Seconds to check and repair all routes', statuses: [] },
  hub_startup: { name: 'jupyterhub_hub_startup_duration_seconds', help: 'Seconds the hub took to start', statuses: [] },
  init_spawners: { name: 'jupyterhub_init_spawners_duration_seconds', help: 'Seconds to re-adopt servers at start', statuses: [] },
  proxy_poll: { name: 'jupyterhub_proxy_poll_duration_seconds', help: 'Seconds to read the whole route table', statuses: [] },
  proxy_add: { name: 'jupyterhub_proxy_add_duration_seconds', help: 'Seconds to add a user route', statuses: ['success', 'failure'] },
  server_poll: { name: 'jupyterhub_server_poll_duration_seconds', help: 'Seconds to poll whether a server runs', statuses: ['running', 'stopped'] },
  proxy_delete: { name: 'jupyterhub_proxy_delete_duration_seconds', help: 'Seconds to delete a user route', statuses: ['success', 'failure'] },
} as const;

export type TimingName = keyof typeof TIMINGS;

export interface MetricSources {
  totalUsers(): number | Promise<number>;
  runningServers(): number;
  /** Users active within the last `periodMs` milliseconds. */
  activeUsers(periodMs: number): number | Promise<number>;
  /** nodehub: ready pooled servers per profile slug ('' without a profile list). */
  poolSizes?(): Record<string, number>;
  /** nodehub: spawns waiting in the queue. */
  queueLength?(): number;
}

export interface HubMetrics extends Required<LifecycleObserver>, PoolObserver {
  /** Where the scrape-time gauges read their counts; until set they report 0. */
  setSources(sources: MetricSources): void;
  /** One finished HTTP request; `handler` names the route's handler (JupyterHub puts its class path there). */
  observeRequest(method: string, handler: string, code: number | string, seconds: number): void;
  /** A timing from the families without a lifecycle hook; `status` is required exactly where the family has one. */
  observeTiming(name: TimingName, seconds: number, status?: string): void;
  /** Shorthand for observeTiming('hub_startup', seconds). */
  hubStarted(seconds: number): void;
  render(): Promise<{ contentType: string; body: string }>;
}

let processRegistry: Registry | undefined;

/** Process metrics are per process, so they are collected once however many hubs run here. */
function sharedProcessRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

function histogram(registry: Registry, name: string, help: string, labelNames: string[], buckets = DEFAULT_BUCKETS): Histogram<string> {
  return new Histogram({ name, help, labelNames, buckets, registers: [registry] });
}

export function createMetrics(): HubMetrics {
  const registry = new Registry();
  let sources: MetricSources | undefined;
  // A failing count must not break the whole scrape: report 0 and let the next scrape try again.
  const count = async (read: (s: MetricSources) => number | Promise<number>): Promise<number> => {
    if (!sources) return 0;
    try {
      const n = await read(sources);
      return Number.isFinite(n) ? n : 0;
    } catch {
      return 0;
    }
  };

  const requests = histogram(registry, 'jupyterhub_request_duration_seconds', 'Seconds to answer an HTTP request', ['method', 'handler', 'code']);
  const spawns = histogram(registry, 'jupyterhub_server_spawn_duration_seconds', 'Seconds to spawn a server', ['status'], SPAWN_BUCKETS);
  for (const status of SPAWN_STATUSES) spawns.zero({ status });
  const stops = histogram(registry, 'jupyterhub_server_stop_seconds', 'Seconds to stop a server', ['status']);
  for (const status of ['success', 'failure']) stops.zero({ status });

  const timings = new Map<TimingName, Histogram<string>>();
  for (const [key, t] of Object.entries(TIMINGS) as [TimingName, (typeof TIMINGS)[TimingName]][]) {
    const h = histogram(registry, t.name, t.help, t.statuses.length ? ['status'] : []);
    for (const status of t.statuses) h.zero({ status });
    timings.set(key, h);
  }

  new Gauge({
    name: 'jupyterhub_running_servers', help: 'Servers currently running', registers: [registry],
    async collect() {
      this.set(await count((s) => s.runningServers()));
    },
  });
  new Gauge({
    name: 'jupyterhub_total_users', help: 'Users in the database', registers: [registry],
    async collect() {
      this.set(await count((s) => s.totalUsers()));
    },
  });
  new Gauge({
    name: 'jupyterhub_active_users', help: 'Users active within the period', labelNames: ['period'], registers: [registry],
    async collect() {
      for (const [period, ms] of Object.entries(ACTIVE_USER_PERIODS)) this.set({ period }, await count((s) => s.activeUsers(ms)));
    },
  });

  // nodehub's own families: the warm pool and the spawn queue.
  new Gauge({
    name: 'nodehub_pool_size', help: 'Ready servers waiting in the warm pool', labelNames: ['profile'], registers: [registry],
    collect() {
      this.reset();
      let sizes: Record<string, number> = {};
      try {
        sizes = sources?.poolSizes?.() ?? {};
      } catch {
        sizes = {};
      }
      for (const [profile, n] of Object.entries(sizes)) this.set({ profile }, n);
    },
  });
  const poolHits = new Counter({ name: 'nodehub_pool_hits_total', help: 'New visitors handed a pooled server', labelNames: ['profile'], registers: [registry] });
  const poolMisses = new Counter({ name: 'nodehub_pool_misses_total', help: 'New visitors who found the pool empty', labelNames: ['profile'], registers: [registry] });
  new Gauge({
    name: 'nodehub_spawn_queue_length', help: 'Spawns waiting for a free slot', registers: [registry],
    async collect() {
      this.set(await count((s) => s.queueLength?.() ?? 0));
    },
  });

  const seconds = (s: number) => (Number.isFinite(s) && s >= 0 ? s : 0);

  return {
    setSources(s) {
      sources = s;
    },
    observeRequest(method, handler, code, s) {
      requests.observe({ method, handler, code: String(code) }, seconds(s));
    },
    observeTiming(name, s, status) {
      const h = timings.get(name);
      const allowed: readonly string[] = TIMINGS[name].statuses;
      if (!h) throw new Error(`unknown timing ${name}`);
      if (allowed.length === 0) {
        if (status !== undefined) throw new Error(`${TIMINGS[name].name} has no status label`);
        h.observe(seconds(s));
      } else {
        if (status === undefined || !allowed.includes(status)) {
          throw new Error(`${TIMINGS[name].name} status must be one of ${allowed.join(', ')}`);
        }
        h.observe({ status }, seconds(s));
      }
    },
    hubStarted(s) {
      timings.get('hub_startup')!.observe(seconds(s));
    },
    spawnFinished(status, s) {
      spawns.observe({ status }, seconds(s));
    },
    stopFinished(status, s) {
      stops.observe({ status }, seconds(s));
    },
    poolHit(profile) {
      poolHits.inc({ profile });
    },
    poolMiss(profile) {
      poolMisses.inc({ profile });
    },
    async render() {
      const merged = Registry.merge([sharedProcessRegistry(), registry]);
      return { contentType: registry.contentType, body: await merged.metrics() };
    },
  };
}

/** As JupyterHub's metrics page: token header first, then the login cookie (a page, so no Referer rule). */
async function metricsPrincipal(hub: Hub, req: FastifyRequest): Promise<Principal | null> {
  const p = req.headers.authorization ? await apiPrincipal(hub, req) : null;
  if (p) return p;
  const user = await cookieUser(hub, req);
  return user ? (await principalForUser(hub, user)) : null;
}

export function registerMetricsRoutes(app: FastifyInstance, hub: Hub): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    if (hub.config.hub.authenticate_prometheus && !hasAccess(await metricsPrincipal(hub, req), ['read:metrics'])) {
      throw new HubError(403, "Access to metrics requires scope 'read:metrics'");
    }
    const { contentType, body } = await hub.metrics.render();
    reply.header('content-type', contentType);
    return body;
  };
  app.get(`${hub.hubPrefix}metrics`, handler);
  app.get(`${hub.hubPrefix}api/metrics`, handler);
}
