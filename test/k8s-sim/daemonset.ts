// The DaemonSet controller: one pod per eligible node (nodeSelector, affinity, taints vs tolerations), rolling
// replacement after template changes (maxUnavailable), and status counters computed from nodes and daemon pods.
import { createHash } from 'node:crypto';
import { ApiError } from './errors.ts';
import type { Api } from './api.ts';
import type { EventRecorder } from './events.ts';
import { matchesNodeSelection, untoleratedTaint } from './fit.ts';
import { resourceById } from './resources.ts';
import type { Store } from './store.ts';
import type { Change, KObject } from './types.ts';

const PODS = resourceById('pods');
const DAEMONSETS = resourceById('daemonsets.apps');

/** Tolerations the controller adds to every daemon pod. */
const DAEMON_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

const isReady = (p: KObject): boolean =>
  (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
const isLive = (p: KObject): boolean =>
  !p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status?.phase);

function targetNode(pod: KObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) for (const f of t.matchFields ?? []) if (f.key === 'metadata.name') return f.values?.[0];
  return undefined;
}

function scaled(value: unknown, total: number): number {
  if (typeof value === 'string' && value.endsWith('%')) return Math.ceil((Number(value.slice(0, -1)) / 100) * total);
  return typeof value === 'number' ? value : Number(value ?? 1) || 1;
}

export class DaemonSetController {
  private readonly store: Store;
  private readonly api: Api;
  private readonly events: EventRecorder;
  private readonly delayMs: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly unsubscribe: () => void;

  constructor(store: Store, api: Api, events: EventRecorder, delayMs: number) {
    this.store = store;
    this.api = api;
    this.events = events;
    this.delayMs = delayMs;
    this.unsubscribe = store.subscribe((c) => this.onChange(c));
  }

  private onChange(c: Change): void {
    const relevant =
      c.resource === 'daemonsets.apps' ||
      (c.resource === 'nodes' && !(c.type === 'MODIFIED' && c.old && JSON.stringify([c.old.spec, c.old.metadata.labels]) === JSON.stringify([c.object.spec, c.object.metadata.labels]))) ||
      (c.resource === 'pods' && (c.old ?? c.object).metadata.ownerReferences?.some((r) => r.kind === 'DaemonSet'));
    if (relevant) this.timer ??= setTimeout(() => this.reconcileAll(), this.delayMs);
  }

  private reconcileAll(): void {
    this.timer = null;
    for (const ds of this.store.list('daemonsets.apps')) {
      try {
        this.reconcile(ds);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
      }
    }
  }

  private eligible(ds: KObject, node: KObject): boolean {
    const spec = ds.spec.template.spec;
    const tolerations = [...(spec.tolerations ?? []), ...DAEMON_TOLERATIONS];
    return matchesNodeSelection(node, spec) && !untoleratedTaint({ ...node, spec: { ...node.spec, unschedulable: false } }, tolerations);
  }

  private reconcile(ds: KObject): void {
    const ns = ds.metadata.namespace as string;
    const generation = ds.metadata.generation ?? 1;
    const nodes = this.store.list('nodes').filter((n) => this.eligible(ds, n));
    const eligible = new Set(nodes.map((n) => n.metadata.name as string));
    const owned = this.store.list('pods', (p) => p.metadata.namespace === ns && !!p.metadata.ownerReferences?.some((r) => r.uid === ds.metadata.uid));
    const byNode = new Map<string, KObject[]>();
    for (const p of owned) {
      const node = targetNode(p) ?? '';
      byNode.set(node, [...(byNode.get(node) ?? []), p]);
    }
    const updated = (p: KObject): boolean => p.metadata.labels?.['pod-template-generation'] === String(generation);
    if (!ds.metadata.deletionTimestamp) {
      for (const [node, pods] of byNode) {
        for (const p of pods) {
          const misplaced = !eligible.has(node);
          if ((misplaced || !isLive(p)) && !p.metadata.deletionTimestamp) this.deletePod(ds, p);
        }
      }
      // a node gets its pod once the previous one (deleted above, or terminating) is gone: no surge
      for (const node of eligible) if ((byNode.get(node) ?? []).length === 0) this.createPod(ds, node);
      const desired = eligible.size;
      let unavailable = [...eligible].filter((n) => !(byNode.get(n) ?? []).some((p) => isLive(p) && isReady(p))).length;
      const maxUnavailable = scaled(ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, desired);
      if (ds.spec.updateStrategy?.type !== 'OnDelete') {
        for (const p of owned.filter((p) => isLive(p) && !updated(p) && eligible.has(targetNode(p) ?? ''))) {
          if (!isReady(p)) this.deletePod(ds, p);
          else if (unavailable < maxUnavailable) {
            unavailable++;
            this.deletePod(ds, p);
          }
        }
      }
    }
    this.writeStatus(ds, eligible, owned, updated);
  }

  private writeStatus(ds: KObject, eligible: Set<string>, owned: KObject[], updated: (p: KObject) => boolean): void {
    const live = owned.filter((p) => !p.metadata.deletionTimestamp);
    const onEligible = live.filter((p) => eligible.has(targetNode(p) ?? ''));
    const nodesWith = (pred: (p: KObject) => boolean): number =>
      new Set(onEligible.filter(pred).map((p) => targetNode(p))).size;
    const desired = eligible.size;
    const ready = nodesWith((p) => isReady(p));
    const status: Record<string, unknown> = {
      // "eligible nodes running a daemon pod": a pod the scheduler could not bind (a full node) does not count
      currentNumberScheduled: nodesWith((p) => !!p.spec?.nodeName),
      numberMisscheduled: new Set(live.filter((p) => !eligible.has(targetNode(p) ?? '')).map(targetNode)).size,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: ds.metadata.generation ?? 1,
    };
    // optional counters are omitted when zero, as the real API does
    const updatedCount = nodesWith(updated);
    if (updatedCount) status.updatedNumberScheduled = updatedCount;
    if (ready) status.numberAvailable = ready;
    if (desired - ready > 0) status.numberUnavailable = desired - ready;
    this.api.writeStatus(DAEMONSETS, ds.metadata.namespace, ds.metadata.name as string, (o) => {
      if (o.metadata.uid === ds.metadata.uid) o.status = status;
    });
  }

  private createPod(ds: KObject, node: string): void {
    const t = ds.spec.template;
    const spec = structuredClone(t.spec);
    spec.tolerations = [...(spec.tolerations ?? []), ...DAEMON_TOLERATIONS.filter((d) => !(spec.tolerations ?? []).some((x: any) => x.key === d.key))];
    spec.affinity = {
      ...(spec.affinity ?? {}),
      nodeAffinity: {
        ...(spec.affinity?.nodeAffinity ?? {}),
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }],
        },
      },
    };
    const hash = createHash('sha256').update(JSON.stringify(t)).digest('hex').slice(0, 10);
    const pod = this.api.create(PODS, ds.metadata.namespace, {
      metadata: {
        generateName: `${ds.metadata.name}-`,
        labels: { ...(t.metadata?.labels ?? {}), 'controller-revision-hash': hash, 'pod-template-generation': String(ds.metadata.generation ?? 1) },
        annotations: t.metadata?.annotations,
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata.name as string, uid: ds.metadata.uid as string, controller: true, blockOwnerDeletion: true } as any],
      },
      spec,
    });
    this.events.record(ds, { type: 'Normal', reason: 'SuccessfulCreate', message: `Created pod: ${pod.metadata.name}`, style: 'controller', component: 'daemonset-controller' });
  }

  private deletePod(ds: KObject, pod: KObject): void {
    this.api.delete(PODS, pod.metadata.namespace, pod.metadata.name as string, {});
    this.events.record(ds, { type: 'Normal', reason: 'SuccessfulDelete', message: `Deleted pod: ${pod.metadata.name}`, style: 'controller', component: 'daemonset-controller' });
  }

  close(): void {
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
  }
}
