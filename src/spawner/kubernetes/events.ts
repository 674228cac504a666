// The Kubernetes Events of one starting pod, watched only while it starts (field selector on the pod's name, not a
// cache of the whole namespace's events: kubespawner#913). They feed the progress bar (Scheduled, Pulling, Pulled,
// Created, Started …) and the fail-fast rules that only events can tell: repeated FailedMount, a pull error's text,
// and whether a cluster autoscaler is adding a node for an unschedulable pod.
import type { KubeCluster } from './cluster.ts';
import { Reflector, type ChangeType, type KObject } from './reflector.ts';

export interface PodEvent {
  type: string;
  reason: string;
  message: string;
  count: number;
}

/** One line for the progress bar: the event's reason and message, warnings marked as such. */
export function formatEvent(e: PodEvent): string {
  const repeat = e.count > 1 ? ` (x${e.count})` : '';
  return `${e.type === 'Warning' ? 'Warning: ' : ''}${e.reason}: ${e.message}${repeat}`;
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

  constructor(cluster: KubeCluster, podName: string, onEvent: (e: PodEvent) => void) {
    this.#onEvent = onEvent;
    const { core } = cluster.client;
    const namespace = cluster.namespace;
    this.#reflector = new Reflector({
      name: `events of pod ${podName}`,
      client: cluster.client,
      path: `/api/v1/namespaces/${namespace}/events`,
      list: (p) => core.listNamespacedEvent({ namespace, ...p }),
      fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${podName}`,
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
    const e: PodEvent = { type: ev.type ?? 'Normal', reason: ev.reason ?? '', message: String(ev.message ?? '').trim(), count };
    if (e.reason === 'Failed' && /^Failed to pull image/.test(e.message)) this.pullDetail = e.message;
    if (e.reason === 'FailedMount') {
      this.failedMounts += count - before;
      this.lastFailedMount = e.message;
    }
    if (e.reason === 'TriggeredScaleUp') this.scaleUp = true;
    this.#onEvent(e);
  }

  close(): Promise<void> {
    return this.#reflector.stop();
  }
}
