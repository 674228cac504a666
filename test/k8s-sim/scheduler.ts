// The default scheduler: binds pending pods to a fitting node (fewest pods first), or marks them Unschedulable with a
// FailedScheduling event worded like the real one, and retries when nodes, claims or other pods change.
import { nowIso, type Api } from './api.ts';
import type { EventRecorder } from './events.ts';
import { nodeRejections } from './fit.ts';
import { resourceById } from './resources.ts';
import type { Store } from './store.ts';
import type { Change, KObject } from './types.ts';
import type { VolumeBinder } from './volumes.ts';

const PODS = resourceById('pods');

function schedulingRelevant(c: Change): boolean {
  if (c.resource === 'nodes') {
    if (c.type !== 'MODIFIED' || !c.old) return true;
    const view = (n: KObject): string => JSON.stringify([n.spec, n.metadata.labels, n.status?.allocatable]);
    return view(c.old) !== view(c.object);
  }
  if (c.resource === 'persistentvolumeclaims') return true;
  if (c.resource === 'pods') {
    // a pod leaving a node (gone or finished) frees room
    const freed = c.type === 'DELETED' || ['Succeeded', 'Failed'].includes(c.object.status?.phase);
    return freed && !!(c.old ?? c.object).spec?.nodeName;
  }
  return false;
}

export class Scheduler {
  private readonly store: Store;
  private readonly api: Api;
  private readonly events: EventRecorder;
  private readonly delayMs: number;
  private readonly volumes: VolumeBinder;
  private readonly queue = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly unsubscribe: () => void;

  private readonly sliceMs: number;

  constructor(store: Store, api: Api, events: EventRecorder, delayMs: number, volumes: VolumeBinder, sliceMs = 50) {
    this.sliceMs = sliceMs;
    this.store = store;
    this.volumes = volumes;
    this.api = api;
    this.events = events;
    this.delayMs = delayMs;
    this.unsubscribe = store.subscribe((c) => this.onChange(c));
  }

  private onChange(c: Change): void {
    if (c.resource === 'pods' && c.type === 'ADDED' && this.wants(c.object)) {
      this.enqueue(c.object);
    } else if (schedulingRelevant(c)) {
      for (const p of this.store.list('pods', (p) => this.wants(p))) this.enqueue(p);
    }
  }

  private wants(pod: KObject): boolean {
    return !pod.spec?.nodeName && !pod.metadata.deletionTimestamp && pod.spec?.schedulerName === 'default-scheduler' &&
      pod.status?.phase === 'Pending';
  }

  private enqueue(pod: KObject): void {
    this.queue.add(`${pod.metadata.namespace}/${pod.metadata.name}`);
    this.timer ??= setTimeout(() => this.drain(), this.delayMs);
  }

  private drain(): void {
    this.timer = null;
    const keys = [...this.queue];
    this.queue.clear();
    if (keys.length) this.scheduleSome(keys);
  }

  /**
   * Part of the line (sliceMs of it), then the rest after other work had its turn: a node joining 500 pending pods would otherwise
   * bind them all (and start them, with every status write and event that follows) in one turn of the event loop,
   * seconds in which no watch event reaches a client, where a real scheduler binds one pod after another and its
   * watchers see each at once.
   */
  private scheduleSome(keys: string[]): void {
    if (this.closed) return;
    const end = performance.now() + this.sliceMs;
    do {
      const [ns, name] = keys.shift()!.split('/');
      const pod = this.store.peek('pods', ns, name);
      if (pod && this.wants(pod)) this.schedule(pod);
    } while (keys.length && performance.now() < end);
    if (keys.length) setImmediate(() => this.scheduleSome(keys));
  }

  /**
   * Claims the pod's volumes need before it can be placed: a message when one is missing or unbound (Immediate), and
   * the claims that wait for this pod's node (WaitForFirstConsumer), as the VolumeBinding plugin sorts them.
   */
  private volumeProblem(pod: KObject): { problem: string | null; waiting: KObject[] } {
    const waiting: KObject[] = [];
    for (const v of pod.spec?.volumes ?? []) {
      const claim = v.persistentVolumeClaim?.claimName;
      if (!claim) continue;
      const pvc = this.store.get('persistentvolumeclaims', pod.metadata.namespace, claim);
      if (!pvc) return { problem: `persistentvolumeclaim "${claim}" not found`, waiting };
      if (this.volumes.waitsForConsumer(pvc)) waiting.push(pvc);
      else if (pvc.status?.phase !== 'Bound') return { problem: 'pod has unbound immediate PersistentVolumeClaims', waiting };
    }
    return { problem: null, waiting };
  }

  private schedule(pod: KObject): void {
    const nodes = this.store.view('nodes');
    const bound = this.store.view('pods', (p) => !!p.spec?.nodeName);
    const { problem: volumeProblem, waiting } = this.volumeProblem(pod);
    if (nodes.length === 0) return this.unschedulable(pod, 'no nodes available to schedule pods');
    if (volumeProblem) {
      return this.unschedulable(pod, `0/${nodes.length} nodes are available: ${volumeProblem}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.`);
    }
    const counts = new Map<string, number>();
    let best: { node: KObject; load: number } | null = null;
    for (const node of nodes) {
      const onNode = bound.filter((p) => p.spec.nodeName === node.metadata.name);
      const reasons = nodeRejections(node, pod, onNode);
      for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
      if (reasons.length === 0 && (!best || onNode.length < best.load)) best = { node, load: onNode.length };
    }
    if (best && waiting.length) {
      // The pod stays Pending (no event) while its claims are provisioned on the chosen node; their binding is a
      // cluster change that brings it back here.
      for (const pvc of waiting) this.volumes.selectNode(pvc, best.node.metadata.name as string);
      return;
    }
    if (best) return this.bind(pod, best.node.metadata.name as string);
    const parts = [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([r, n]) => `${n} ${r}`);
    const n = nodes.length;
    this.unschedulable(pod, `0/${n} nodes are available: ${parts.join(', ')}. preemption: 0/${n} nodes are available: ${n} Preemption is not helpful for scheduling.`);
  }

  private bind(pod: KObject, node: string): void {
    const ns = pod.metadata.namespace as string;
    const bound = this.api.writeStatus(PODS, ns, pod.metadata.name as string, (p) => {
      p.spec.nodeName = node;
      setCondition(p, { type: 'PodScheduled', status: 'True' });
    });
    if (!bound) return;
    this.events.record(bound, {
      type: 'Normal',
      reason: 'Scheduled',
      message: `Successfully assigned ${ns}/${pod.metadata.name} to ${node}`,
      style: 'scheduler',
      action: 'Binding',
      host: node,
    });
  }

  private unschedulable(pod: KObject, message: string): void {
    const updated = this.api.writeStatus(PODS, pod.metadata.namespace, pod.metadata.name as string, (p) =>
      setCondition(p, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }),
    );
    if (!updated) return;
    this.events.record(updated, { type: 'Warning', reason: 'FailedScheduling', message, style: 'scheduler', action: 'Scheduling' });
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
  }
}

/** Sets a pod condition, keeping lastTransitionTime when the status did not change. */
export function setCondition(pod: KObject, cond: { type: string; status: string; reason?: string; message?: string }): void {
  const list: any[] = (pod.status.conditions ??= []);
  const existing = list.find((c) => c.type === cond.type);
  const next: Record<string, unknown> = { type: cond.type, status: cond.status, lastProbeTime: null };
  next.lastTransitionTime = existing && existing.status === cond.status ? existing.lastTransitionTime : nowIso();
  if (cond.reason) next.reason = cond.reason;
  if (cond.message) next.message = cond.message;
  if (existing) Object.keys(existing).forEach((k) => delete existing[k]);
  if (existing) Object.assign(existing, next);
  else list.push(next);
}
