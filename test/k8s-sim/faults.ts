// Fault injection for tests: image pulls, scheduling, crashes, eviction, mounts, watch streams, and API outages.
import { byCode, tooOldResourceVersion, type ApiError } from './errors.ts';
import type { FaultState } from './kubelet-context.ts';
import type { Kubelet } from './kubelet.ts';
import type { Nodes } from './nodes.ts';
import type { Store } from './store.ts';
import type { KObject, Taint } from './types.ts';
import type { Watches } from './watch.ts';

/** What a request looks like to a failure filter. */
export interface RequestInfo {
  method: string;
  path: string;
  verb: string;
  resource: string;
  namespace?: string;
  watch: boolean;
}

interface Failure {
  status: number;
  remaining: number;
  until: number;
  message?: string;
  match: (r: RequestInfo) => boolean;
}

export interface FailOptions {
  /** HTTP status to answer with (Status body with the matching reason) */
  status: number;
  /** how many matching requests fail (default: unlimited while `ms` lasts, or 1 if no `ms`) */
  count?: number;
  /** for how long (default: until `count` is used up or clear()) */
  ms?: number;
  message?: string;
  /** only watch requests (true), only non-watch requests (false), or both (undefined) */
  watch?: boolean;
  verb?: string;
  resource?: string;
  match?: (r: RequestInfo) => boolean;
}

const FAULT_TAINT = 'k8s-sim/fault';

export class Faults {
  private readonly state: FaultState;
  private readonly kubelet: Kubelet;
  private readonly nodes: Nodes;
  private readonly watches: Watches;
  private readonly store: Store;
  private failures: Failure[] = [];
  private delays: Array<{ remaining: number; ms: number; match: (r: RequestInfo) => boolean }> = [];
  private removedNodes: KObject[] = [];

  constructor(state: FaultState, kubelet: Kubelet, nodes: Nodes, watches: Watches, store: Store) {
    this.state = state;
    this.kubelet = kubelet;
    this.nodes = nodes;
    this.watches = watches;
    this.store = store;
  }

  /** Every pull of `image` fails (ErrImagePull, then ImagePullBackOff) until cleared. */
  imagePullError(image: string, message?: string): void {
    this.state.pullErrors.set(image, message ?? `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`);
  }

  clearImagePullError(image: string): void {
    this.state.pullErrors.delete(image);
  }

  /** Containers of `image` exit with `exitCode` as soon as they start (CrashLoopBackOff under restartPolicy Always). */
  crashImage(image: string, exitCode = 1): void {
    this.state.crashImages.set(image, exitCode);
  }

  clearCrashImage(image: string): void {
    this.state.crashImages.delete(image);
  }

  /** Kills one running container of the pod now, reporting `exitCode` (default 1, reason Error; OOMKilled uses 137). */
  crash(namespace: string, pod: string, opts: { container?: string; exitCode?: number; reason?: string } = {}): boolean {
    return this.kubelet.worker(namespace, pod)?.crash(opts.container, opts.exitCode ?? 1, opts.reason ?? 'Error') ?? false;
  }

  /** Node-pressure eviction: phase Failed, reason Evicted, DisruptionTarget condition; the pod object stays. */
  async evict(namespace: string, pod: string, message = 'The node was low on resource: memory. '): Promise<boolean> {
    const worker = this.kubelet.worker(namespace, pod);
    if (!worker) return false;
    await worker.evict(message);
    return true;
  }

  /** Mounting a volume whose claim name, NFS server, secret or configMap name is `target` fails (FailedMount). */
  mountError(target: string, message = 'mount failed: exit status 32'): void {
    this.state.mountErrors.set(target, message);
  }

  clearMountError(target: string): void {
    this.state.mountErrors.delete(target);
  }

  /**
   * No pod can be scheduled: 'taint' puts a NoSchedule taint on every node, 'no-nodes' removes all nodes. Returns the
   * undo function (also done by clear()). Pods already running keep running.
   */
  unschedulable(mode: 'taint' | 'no-nodes' = 'taint'): () => void {
    if (mode === 'taint') {
      const taint: Taint = { key: FAULT_TAINT, value: 'unschedulable', effect: 'NoSchedule' };
      for (const n of this.nodes.list()) this.nodes.taint(n.metadata.name as string, taint);
    } else {
      for (const n of this.nodes.list()) {
        this.removedNodes.push(n);
        this.nodes.remove(n.metadata.name as string);
      }
    }
    return () => this.schedulable();
  }

  private schedulable(): void {
    for (const n of this.nodes.list()) {
      if ((n.spec.taints ?? []).some((t: Taint) => t.key === FAULT_TAINT)) this.nodes.untaint(n.metadata.name as string, FAULT_TAINT);
    }
    for (const n of this.removedNodes.splice(0)) {
      if (this.nodes.get(n.metadata.name as string)) continue;
      this.nodes.add({
        name: n.metadata.name as string,
        labels: n.metadata.labels,
        taints: n.spec.taints,
        unschedulable: n.spec.unschedulable,
        allocatable: n.status.allocatable,
        images: (n.status.images ?? []).flatMap((i: any) => i.names),
      });
    }
  }

  /** Ends every open watch stream cleanly now (clients see an ordinary end of stream). */
  dropWatches(): number {
    return this.watches.dropAll();
  }

  /** Sends an ERROR 410 Expired event to every open watch and ends it. */
  expireWatches(): number {
    return this.watches.expireAll();
  }

  /**
   * Watch events are held back until releaseWatches(), which writes each stream's held events as one chunk: the client
   * reads them in one go, so its informer applies them all before any code awaiting the first one runs (e.g. a pod's
   * "Running" and its container's exit in one read).
   */
  holdWatches(): void {
    this.watches.holding = true;
  }

  /** Writes the held events (one chunk per stream) and delivers later ones as they happen; returns how many. */
  releaseWatches(): number {
    return this.watches.release();
  }

  /** Open watches go silent (connection kept, no bytes, not even their timeout end); `alsoNew` for new ones too. */
  /** Watch streams open on the server now. */
  get openWatches(): number {
    return this.watches.open;
  }

  stallWatches(alsoNew = true): void {
    this.watches.stallAll();
    this.watches.stallNew = alsoNew;
  }

  /** New watches work again (streams already stalled stay dead until the client gives up on them). */
  unstallWatches(): void {
    this.watches.stallNew = false;
  }

  /** The next `count` watch requests get 410: as an ERROR event in a 200 stream ('event') or as HTTP 410 ('http'). */
  expireNextWatch(count = 1, via: 'event' | 'http' = 'event'): void {
    if (via === 'event') this.watches.expireNext += count;
    else {
      this.fail({ status: 410, count, watch: true, message: tooOldResourceVersion(0, this.store.currentRv).message });
    }
  }

  /** Compacts the history: every resourceVersion before now is too old for watches, Exact lists and continue tokens. */
  compact(): void {
    this.store.compact();
  }

  /** Every request answers `status` (default 503) for `ms` milliseconds, or until endOutage()/clear(). Open watches are cut. */
  outage(opts: { status?: number; ms?: number; message?: string } = {}): void {
    this.failures.push({ status: opts.status ?? 503, remaining: Infinity, until: opts.ms ? Date.now() + opts.ms : Infinity, message: opts.message, match: () => true });
    this.watches.destroyAll();
  }

  endOutage(): void {
    this.failures = [];
  }

  /** Matching requests fail with `status` (see FailOptions); e.g. { status: 500, watch: true } breaks the next watch. */
  fail(opts: FailOptions): void {
    const match = (r: RequestInfo): boolean =>
      (opts.watch === undefined || opts.watch === r.watch) &&
      (!opts.verb || opts.verb === r.verb) &&
      (!opts.resource || opts.resource === r.resource) &&
      (!opts.match || opts.match(r));
    const remaining = opts.count ?? (opts.ms ? Infinity : 1);
    this.failures.push({ status: opts.status, remaining, until: opts.ms ? Date.now() + opts.ms : Infinity, message: opts.message, match });
  }

  /**
   * The next `count` matching requests are carried out, but their answers are held for `ms`: what a client sees when
   * the API server is too slow for its timeout (the pod was created; the answer came too late).
   */
  delayAnswers(opts: { verb?: string; resource?: string; ms: number; count?: number }): void {
    const match = (r: RequestInfo): boolean => (!opts.verb || opts.verb === r.verb) && (!opts.resource || opts.resource === r.resource);
    this.delays.push({ remaining: opts.count ?? 1, ms: opts.ms, match });
  }

  /** How long to hold the answer to a request (consumes one use of a delayAnswers fault). */
  answerDelayFor(r: RequestInfo): number {
    this.delays = this.delays.filter((d) => d.remaining > 0);
    const d = this.delays.find((x) => x.match(r));
    if (!d) return 0;
    d.remaining--;
    return d.ms;
  }

  /** The injected failure for a request, if any (consumes one use). */
  failureFor(r: RequestInfo): ApiError | null {
    const now = Date.now();
    this.failures = this.failures.filter((f) => f.remaining > 0 && f.until > now);
    const f = this.failures.find((x) => x.match(r));
    if (!f) return null;
    f.remaining--;
    return byCode(f.status, f.message);
  }

  /** Removes every fault (nodes come back, taints go, watches and requests work again). */
  clear(): void {
    this.state.pullErrors.clear();
    this.state.crashImages.clear();
    this.state.mountErrors.clear();
    this.failures = [];
    this.delays = [];
    this.watches.stallNew = false;
    this.watches.expireNext = 0;
    this.watches.release();
    this.schedulable();
  }
}
