// The Kubernetes Events of one starting pod, watched only while it starts (field selector on the pod's name, not a
// cache of the whole namespace's events: kubespawner#913). They feed the progress bar (Scheduled, Pulling, Pulled,
// Created, Started …) and the fail-fast rules that only events can tell: repeated FailedMount, a pull error's text,
// and whether a cluster autoscaler is adding a node for an unschedulable pod. The user's claim, while it binds, is
// watched the same way: its provisioning events are progress too, and a claim that cannot bind says why.
import type { KubeCluster } from './cluster.ts';
import { Reflector, type ChangeType, type KObject } from './reflector.ts';

export interface PodEvent {
  type: string;
  reason: string;
  message: string;
  count: number;
  /** The Event as the API wrote it (timestamps as RFC 3339 strings), for the progress stream's raw_event. */
  raw: KObject;
}

/** One line for the progress bar, as KubeSpawner writes it: "<lastTimestamp or eventTime> [<type>] <message>". */
export function formatEvent(e: PodEvent): string {
  return `${e.raw.lastTimestamp ?? e.raw.eventTime ?? null} [${e.type}] ${e.raw.message ?? e.message}`;
}

/**
 * An object from a list comes through client-node's typed deserialiser (timestamps become Dates); one from a watch is
 * the API's JSON. Both leave here as the API's JSON: RFC 3339 seconds, and microseconds for MicroTime (eventTime).
 */
export function toWire(value: unknown, key = ''): unknown {
  if (value instanceof Date) {
    const iso = value.toISOString();
    return key === 'eventTime' ? iso.replace(/\.(\d{3})Z$/, '.$1000Z') : iso.replace(/\.\d{3}Z$/, 'Z');
  }
  if (Array.isArray(value)) return value.map((v) => toWire(v));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toWire(v, k);
    return out;
  }
  return value;
}

export class StartEvents {
  readonly #reflector: Reflector;
  #uid: string | null = null;
  #buffer: KObject[] = [];
  /** count seen per event uid, so a repeat (count bumped) is reported again but a relist is not */
  readonly #seen = new Map<string, number>();
  readonly #onEvent: (e: PodEvent) => void;
  /** Text of the last failed pull ("Failed to pull image …: <runtime error>"). */
  pullDetail: string | undefined;
  failedMounts = 0;
  lastFailedMount = '';
  /** A cluster autoscaler said it is adding a node for this pod. */
  scaleUp = false;
  /** A claim's last word on why it cannot bind (ProvisioningFailed, FailedBinding); null once provisioning succeeds. */
  claimProblem: string | null = null;

  constructor(cluster: KubeCluster, podName: string, onEvent: (e: PodEvent) => void, kind: 'Pod' | 'PersistentVolumeClaim' = 'Pod') {
    this.#onEvent = onEvent;
    const { core } = cluster.client;
    const namespace = cluster.namespace;
    this.#reflector = new Reflector({
      name: `events of ${kind === 'Pod' ? 'pod' : 'claim'} ${podName}`,
      client: cluster.client,
      path: `/api/v1/namespaces/${namespace}/events`,
      list: (p) => core.listNamespacedEvent({ namespace, ...p }),
      fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${podName}`,
      ...cluster.watch,
      requestTimeoutMs: cluster.traits.requestRetryTimeoutMs,
      log: cluster.log.child('events'),
    });
    this.#reflector.on('change', (type: ChangeType, ev: KObject) => {
      if (type !== 'DELETED') this.#take(ev);
    });
    this.#reflector.start();
  }

  /** Events of earlier pods with the same name are ignored: only this uid's count. */
  setUid(uid: string): void {
    this.#uid = uid;
    const buffered = this.#buffer;
    this.#buffer = [];
    for (const ev of buffered) this.#take(ev);
  }

  #take(ev: KObject): void {
    const uid = ev.involvedObject?.uid;
    if (this.#uid === null) {
      this.#buffer.push(ev);
      return;
    }
    if (uid !== this.#uid) return;
    const id = ev.metadata?.uid ?? ev.metadata?.name ?? '';
    const count = Math.max(1, ev.count ?? ev.series?.count ?? 1);
    const before = this.#seen.get(id) ?? 0;
    if (count <= before) return;
    this.#seen.set(id, count);
    const e: PodEvent = { type: ev.type ?? 'Normal', reason: ev.reason ?? '', message: String(ev.message ?? '').trim(), count, raw: toWire(ev) as KObject };
    if (e.reason === 'Failed' && /^Failed to pull image/.test(e.message)) this.pullDetail = e.message;
    if (e.reason === 'FailedMount') {
      this.failedMounts += count - before;
      this.lastFailedMount = e.message;
    }
    if (e.reason === 'TriggeredScaleUp') this.scaleUp = true;
    if (e.type === 'Warning' && (e.reason === 'ProvisioningFailed' || e.reason === 'FailedBinding')) this.claimProblem = e.message;
    if (e.reason === 'ProvisioningSucceeded') this.claimProblem = null;
    this.#onEvent(e);
  }

  /** How many Events the watch holds (only this pod's: the cache never sees the rest of the namespace). */
  get cached(): number {
    return this.#reflector.stats().objects;
  }

  /** Resolves once the first list of this pod's events is in. */
  synced(ms: number): Promise<void> {
    return this.#reflector.waitSynced(ms);
  }

  close(): Promise<void> {
    return this.#reflector.stop();
  }
}
