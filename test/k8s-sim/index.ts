// createSimulator: a Kubernetes API server with scheduler, kubelets (real local processes on per-pod loopback IPs)
// and a DaemonSet controller, on 127.0.0.1 — test support for the Kubernetes spawner. See README.md.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Api, type DeleteOptions } from './api.ts';
import { DaemonSetController } from './daemonset.ts';
import { EventRecorder } from './events.ts';
import { Faults } from './faults.ts';
import { PodAddresses } from './ips.ts';
import { Launcher } from './process.ts';
import { Kubelet } from './kubelet.ts';
import { FaultState } from './kubelet-context.ts';
import { kubeconfigOptions, kubeconfigYaml, type KubeconfigOptions } from './kubeconfig.ts';
import { Nodes } from './nodes.ts';
import { Rbac } from './rbac.ts';
import { RESOURCES, type ResourceDef } from './resources.ts';
import { Scheduler } from './scheduler.ts';
import { createService, type Service } from './service.ts';
import { VolumeBinder, type StorageClassConfig } from './volumes.ts';
import { HttpServer, type Stats } from './server.ts';
import { Store } from './store.ts';
import type { Identity, ImageConfig, KObject, NodeConfig, Timing } from './types.ts';
import { Watches } from './watch.ts';

export { HUB_RULES } from './rbac.ts';
export { ApiError } from './errors.ts';
export type { Identity, ImageConfig, KObject, NodeConfig, Rule, Taint, Timing } from './types.ts';
export type { KubeconfigOptions } from './kubeconfig.ts';
export type { Faults, FailOptions, RequestInfo } from './faults.ts';
export type { Nodes } from './nodes.ts';
export type { Stats } from './server.ts';
export type { StorageClassConfig } from './volumes.ts';
export type { Service } from './service.ts';

export interface SimulatorOptions {
  /** namespaces that exist from the start (default ["default"]) */
  namespaces?: string[];
  /** namespace of the kubeconfig context (default: the first of `namespaces`) */
  namespace?: string;
  /** default: one node "node-1" with 4 CPUs, 16Gi, 110 pods */
  nodes?: NodeConfig[];
  images?: Record<string, ImageConfig>;
  timing?: Partial<Timing>;
  /** require a bearer token (default true) */
  auth?: boolean;
  /** the all-powerful token of `kubeconfig` (default random) */
  token?: string;
  /** more tokens, e.g. { hub: { user: 'system:serviceaccount:jhub:hub', rules: HUB_RULES } } */
  tokens?: Record<string, Identity>;
  /** without a readinessProbe, a container with ports is Ready only once its first port accepts connections */
  readinessFromPorts?: boolean;
  /** loopback prefix for pod IPs, "127.0.0" or "127.42" (default: a random 127.X.Y.0/24) */
  podSubnet?: string;
  /**
   * StorageClasses with a (simulated) provisioner: claims of these classes go Pending → Bound (see volumes.ts). A
   * claim without class binds at once; one naming an unknown class never binds.
   */
  storageClasses?: Record<string, StorageClassConfig>;
  /** how many writes the history keeps for watch replay (older resourceVersions get 410) */
  historyLimit?: number;
  port?: number;
  /** start container processes from helper processes (one per node), so that spawning many pods never stalls the API
   *  and nodes start their pods side by side (benches) */
  separateLauncher?: boolean;
}

export interface Simulator {
  url: string;
  host: string;
  port: number;
  token: string;
  namespace: string;
  kubeconfig: string;
  kubeconfigOptions: KubeconfigOptions;
  kubeconfigFor(token: string, namespace?: string): { yaml: string; options: KubeconfigOptions };
  addToken(token: string, identity: Identity): void;
  nodes: Nodes;
  faults: Faults;
  /** per-image pull time, failures, entrypoint; may be changed while running */
  images: Map<string, ImageConfig>;
  store: Store;
  /** direct access without HTTP (same rules as the API); `plural` as in URLs ("pods", "daemonsets") */
  get(plural: string, namespace: string | undefined, name: string): KObject | undefined;
  list(plural: string, namespace?: string): KObject[];
  create(plural: string, namespace: string | undefined, body: unknown): KObject;
  delete(plural: string, namespace: string | undefined, name: string, opts?: DeleteOptions): KObject | undefined;
  /** resolves with the object once `until(obj)` holds (obj undefined = absent); rejects after `timeoutMs` */
  waitFor(plural: string, namespace: string | undefined, name: string, until: (obj: KObject | undefined) => boolean, timeoutMs?: number): Promise<KObject | undefined>;
  logs(namespace: string, pod: string, container?: string): string | null;
  processes(): Array<{ namespace: string; pod: string; container: string; pid: number }>;
  /** A ClusterIP-like address in front of a host port: pods' connections reach `target` from their pod IP. */
  service(target?: { host: string; port: number }): Promise<Service>;
  stats(): Stats;
  close(): Promise<void>;
}

export const DEFAULT_TIMING: Timing = {
  scheduleMs: 5,
  scheduleSliceMs: 50,
  pullMs: 30,
  imagePullBackoffMs: 200,
  crashBackoffMs: 200,
  maxBackoffMs: 2000,
  mountRetryMs: 200,
  probeMs: 50,
  bookmarkMs: 60_000,
  watchTimeoutMs: 30 * 60_000,
  eventTtlMs: 60 * 60_000,
  provisionMs: 20,
  provisionRetryMs: 200,
};

function resourceFor(plural: string): ResourceDef {
  const r = RESOURCES.find((x) => x.plural === plural || x.id === plural);
  if (!r) throw new Error(`k8s-sim: unknown resource ${plural}`);
  return r;
}

export async function createSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const timing: Timing = { ...DEFAULT_TIMING, ...(opts.timing ?? {}) };
  const store = new Store(opts.historyLimit);
  const api = new Api(store);
  const namespaces = opts.namespaces ?? ['default'];
  for (const ns of namespaces) api.create(resourceFor('namespaces'), undefined, { metadata: { name: ns } });
  const nodes = new Nodes(store);
  for (const n of opts.nodes ?? [{ name: 'node-1' }]) nodes.add(n);
  const events = new EventRecorder(store, timing.eventTtlMs);
  const images = new Map(Object.entries(opts.images ?? {}));
  const state = new FaultState();
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-sim-'));
  let endpoint = { host: '127.0.0.1', port: 0 };
  // one launcher per node: on a real cluster each node's kubelet starts its containers beside the other nodes'
  const launchers = new Map<string, Launcher>();
  const launcher = opts.separateLauncher ? (node: string) => {
    let l = launchers.get(node);
    if (!l) launchers.set(node, (l = new Launcher()));
    return l;
  } : null;
  // a node's runtime is up before the node is Ready: its launcher starts with it, not with its first pod
  if (launcher) {
    for (const n of store.list('nodes')) launcher(n.metadata.name as string);
    store.subscribe((c) => { if (c.resource === 'nodes' && c.type === 'ADDED') launcher(c.object.metadata.name as string); });
  }
  const kubelet = new Kubelet({
    store, api, nodes, events, timing, images, faults: state, baseDir,
    addresses: new PodAddresses(opts.podSubnet),
    readinessFromPorts: opts.readinessFromPorts ?? false,
    launcher,
    apiHost: () => endpoint,
  });
  const volumes = new VolumeBinder(store, api, events, opts.storageClasses ?? {}, timing);
  const scheduler = new Scheduler(store, api, events, timing.scheduleMs, volumes, timing.scheduleSliceMs);
  const daemonsets = new DaemonSetController(store, api, events, timing.scheduleMs);
  const watches = new Watches(store, timing.bookmarkMs);
  const faults = new Faults(state, kubelet, nodes, watches, store);
  const token = opts.token ?? randomBytes(16).toString('hex');
  const rbac = new Rbac(opts.auth ?? true);
  rbac.addToken(token, { user: 'kubernetes-admin' });
  for (const [t, identity] of Object.entries(opts.tokens ?? {})) rbac.addToken(t, identity);
  const server = new HttpServer({ api, store, watches, rbac, faults: () => faults, kubelet, watchTimeoutMs: timing.watchTimeoutMs });
  endpoint = await server.listen('127.0.0.1', opts.port ?? 0);
  const url = `http://${endpoint.host}:${endpoint.port}`;
  const namespace = opts.namespace ?? namespaces[0] ?? 'default';
  let closed = false;
  const services: Service[] = [];

  return {
    url,
    host: endpoint.host,
    port: endpoint.port,
    token,
    namespace,
    kubeconfig: kubeconfigYaml(url, token, namespace),
    kubeconfigOptions: kubeconfigOptions(url, token, namespace),
    kubeconfigFor: (t, ns = namespace) => ({ yaml: kubeconfigYaml(url, t, ns), options: kubeconfigOptions(url, t, ns) }),
    addToken: (t, identity) => rbac.addToken(t, identity),
    nodes,
    faults,
    images,
    store,
    get: (plural, ns, name) => store.get(resourceFor(plural).id, ns, name),
    list: (plural, ns) => store.list(resourceFor(plural).id, (o) => ns === undefined || o.metadata.namespace === ns),
    create: (plural, ns, body) => api.create(resourceFor(plural), ns, body),
    delete: (plural, ns, name, o = {}) => api.delete(resourceFor(plural), ns, name, o),
    waitFor(plural, ns, name, until, timeoutMs = 10_000) {
      const id = resourceFor(plural).id;
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const obj = store.get(id, ns, name);
          if (!until(obj)) return false;
          cleanup();
          resolve(obj);
          return true;
        };
        const unsubscribe = store.subscribe((c) => {
          if (c.resource === id && c.object.metadata.name === name && c.object.metadata.namespace === ns) check();
        });
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`k8s-sim: ${plural} ${ns}/${name} did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(store.get(id, ns, name)?.status ?? null)}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          unsubscribe();
        };
        check();
      });
    },
    logs: (ns, pod, container) => kubelet.logs(ns, pod, container),
    processes: () => kubelet.processes(),
    async service(target) {
      const svc = await createService(kubelet, store, target ?? null);
      services.push(svc);
      return svc;
    },
    stats: () => ({ ...server.stats, openWatches: watches.open }),
    async close() {
      if (closed) return;
      closed = true;
      scheduler.close();
      volumes.close();
      daemonsets.close();
      events.close();
      await Promise.all(services.map((svc) => svc.close()));
      await kubelet.close();
      for (const l of launchers.values()) l.close();
      await server.close();
      fs.rmSync(baseDir, { recursive: true, force: true });
    },
  };
}
