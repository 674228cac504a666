// What the simulated kubelet needs from the rest of the simulator, and the fault switches it consults.
import type { Api } from './api.ts';
import type { EventRecorder } from './events.ts';
import type { PodAddresses } from './ips.ts';
import type { Nodes } from './nodes.ts';
import type { Launcher } from './process.ts';
import type { Store } from './store.ts';
import type { ImageConfig, Timing } from './types.ts';

/** Fault switches read at the moment the kubelet acts (set through the Faults API). */
export class FaultState {
  /** image -> runtime error message of every pull */
  readonly pullErrors = new Map<string, string>();
  /** image -> exit code its containers exit with at once */
  readonly crashImages = new Map<string, number>();
  /** claim name, NFS server, secret or configMap name -> mount error message */
  readonly mountErrors = new Map<string, string>();
}

export interface KubeletContext {
  store: Store;
  api: Api;
  nodes: Nodes;
  events: EventRecorder;
  timing: Timing;
  images: Map<string, ImageConfig>;
  faults: FaultState;
  addresses: PodAddresses;
  readinessFromPorts: boolean;
  /** starts a node's container processes from a helper process of that node's own (each node's kubelet and runtime
   *  start containers beside the others'); null: from the simulator's own (process.ts) */
  launcher: ((node: string) => Launcher) | null;
  /** host:port of the simulated API server, for KUBERNETES_SERVICE_HOST/PORT */
  apiHost: () => { host: string; port: number };
  /** parent of the per-pod working directories */
  baseDir: string;
}

/** Sleeps `ms`; resolves false at once if `signal` aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
