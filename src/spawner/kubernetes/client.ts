// The connection to the Kubernetes API: a kubeconfig file (KubeSpawner.kubeconfig, else $KUBECONFIG), else the pod's
// own service account (in-cluster), else the client's usual search; plus the namespace and a readable form of API
// errors (client-node 1.x throws ApiException with the Status as a JSON string).
import fs from 'node:fs';
import { AppsV1Api, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export interface KubeClient {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  watch: Watch;
  namespace: string;
  /** The API server URL, for messages. */
  server: string;
}

export interface ConnectOptions {
  /** Path of a kubeconfig file; '' for $KUBECONFIG or in-cluster. */
  kubeconfig: string;
  /** '' for the hub's own namespace. */
  namespace: string;
  env?: Record<string, string | undefined>;
}

export function connect(opts: ConnectOptions): KubeClient {
  const env = opts.env ?? process.env;
  const kc = new KubeConfig();
  const file = opts.kubeconfig || env.KUBECONFIG?.split(':')[0] || '';
  try {
    if (file) kc.loadFromFile(file);
    else if (env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (err) {
    throw new Error(`Could not load the Kubernetes configuration${file ? ` from ${file}` : ''}: ${(err as Error).message}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('No Kubernetes cluster configured: set KubeSpawner.kubeconfig or KUBECONFIG, or run the hub in a pod');
  const namespace = opts.namespace || env.POD_NAMESPACE || contextNamespace(kc) || serviceAccountNamespace() || 'default';
  return { kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), watch: new Watch(kc), namespace, server: cluster.server };
}

function contextNamespace(kc: KubeConfig): string | undefined {
  return kc.getContextObject(kc.getCurrentContext())?.namespace || undefined;
}

function serviceAccountNamespace(): string | undefined {
  try {
    return fs.readFileSync(SA_NAMESPACE_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface ApiProblem {
  /** HTTP status, 0 for a network error or timeout. */
  code: number;
  reason: string;
  message: string;
}

/** What went wrong with an API call, from an ApiException (Status body), a watch error (statusCode) or anything else. */
export function apiProblem(err: unknown): ApiProblem {
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; message?: string };
  const code = typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : 0;
  let status: { reason?: string; message?: string } = {};
  if (typeof e?.body === 'string') {
    try {
      status = JSON.parse(e.body);
    } catch {
      status = {};
    }
  } else if (e?.body && typeof e.body === 'object') status = e.body as typeof status;
  const message = status.message || (code ? `HTTP ${code}` : e?.message || String(err));
  return { code, reason: status.reason ?? '', message };
}

export class TimeoutError extends Error {}

/** Bounds one API call; the call itself may still finish in the background (its result is then ignored). */
export function withTimeout<T>(call: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} took more than ${ms / 1000} s`)), ms);
  });
  call.catch(() => undefined);
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}
