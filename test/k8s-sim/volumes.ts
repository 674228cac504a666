// Dynamic provisioning of PersistentVolumeClaims: the PV controller and an external provisioner per StorageClass.
// A claim of a known class goes Pending → Bound after the class's provisioning time, at once (Immediate) or once the
// scheduler has picked a node for its first pod (WaitForFirstConsumer, the `volume.kubernetes.io/selected-node`
// annotation). A class that is missing or whose provisioner fails leaves the claim Pending with repeated
// ProvisioningFailed Warnings, as the real controllers word them. Claims without a class (or with `volumeName`) bind
// at once, as if a matching volume existed.
import type { Api } from './api.ts';
import type { EventRecorder } from './events.ts';
import { resourceById } from './resources.ts';
import type { Store } from './store.ts';
import type { KObject } from './types.ts';

export interface StorageClassConfig {
  bindingMode?: 'Immediate' | 'WaitForFirstConsumer';
  /** default `sim.k8s.io/hostpath` */
  provisioner?: string;
  /** provisioning time in ms (default timing.provisionMs) */
  provisionMs?: number;
  /** every provisioning attempt fails with this message (ProvisioningFailed, retried with a doubling back-off) */
  error?: string;
  /** claims without storageClassName get this class (the DefaultStorageClass admission plugin) */
  default?: boolean;
}

export const SELECTED_NODE = 'volume.kubernetes.io/selected-node';
const PVCS = resourceById('persistentvolumeclaims');
const CONTROLLER = 'persistentvolume-controller';

export class VolumeBinder {
  readonly classes: Map<string, StorageClassConfig>;
  private readonly store: Store;
  private readonly api: Api;
  private readonly events: EventRecorder;
  private readonly timing: { provisionMs: number; provisionRetryMs: number; maxBackoffMs: number };
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly unsubscribe: () => void;

  constructor(store: Store, api: Api, events: EventRecorder, classes: Record<string, StorageClassConfig>,
    timing: { provisionMs: number; provisionRetryMs: number; maxBackoffMs: number }) {
    this.store = store;
    this.api = api;
    this.events = events;
    this.timing = timing;
    this.classes = new Map(Object.entries(classes));
    api.admitClaim = (pvc) => this.admit(pvc);
    this.unsubscribe = store.subscribe((c) => {
      if (c.resource !== 'persistentvolumeclaims') return;
      const key = `${c.object.metadata.namespace}/${c.object.metadata.name}`;
      if (c.type === 'DELETED') return this.cancel(key);
      const pvc = c.object;
      if (pvc.status?.phase !== 'Pending' || this.timers.has(key)) return;
      if (c.type === 'ADDED') this.begin(pvc);
      else if (pvc.metadata.annotations?.[SELECTED_NODE] && !c.old?.metadata.annotations?.[SELECTED_NODE]) this.provision(pvc, 0);
    });
  }

  /** At create: the default class, and Pending for a claim a provisioner must serve (Bound at once otherwise). */
  private admit(pvc: KObject): void {
    pvc.spec ??= {};
    if (pvc.spec.storageClassName === undefined) {
      const dflt = [...this.classes].find(([, c]) => c.default)?.[0];
      if (dflt) pvc.spec.storageClassName = dflt;
    }
    const wanted = pvc.metadata.annotations?.['k8s-sim/phase'];
    const provisioned = !!pvc.spec.storageClassName && !pvc.spec.volumeName;
    pvc.status = wanted || provisioned ? { phase: wanted ?? 'Pending' } : this.bound(pvc).status;
    if (!wanted && !provisioned) pvc.spec.volumeName ??= `pv-${pvc.metadata.name}`;
  }

  /** The class of a claim the simulator provisions, or undefined (no class, or one it does not know). */
  classOf(pvc: KObject): StorageClassConfig | undefined {
    return this.classes.get(pvc.spec?.storageClassName ?? '');
  }

  /** A Pending claim the scheduler must pick a node for before it can bind. */
  waitsForConsumer(pvc: KObject): boolean {
    return pvc.status?.phase === 'Pending' && this.classOf(pvc)?.bindingMode === 'WaitForFirstConsumer' && !pvc.metadata.annotations?.['k8s-sim/phase'];
  }

  /** The scheduler chose `node` for the first pod of a WaitForFirstConsumer claim. */
  selectNode(pvc: KObject, node: string): void {
    if (pvc.metadata.annotations?.[SELECTED_NODE]) return;
    this.api.writeStatus(PVCS, pvc.metadata.namespace, pvc.metadata.name as string, (p) => {
      p.metadata.annotations = { ...(p.metadata.annotations ?? {}), [SELECTED_NODE]: node };
    });
  }

  private begin(pvc: KObject): void {
    if (pvc.metadata.annotations?.['k8s-sim/phase']) return;
    const name = pvc.spec?.storageClassName as string;
    const cls = this.classes.get(name);
    if (!cls) return this.retry(pvc, 0, `storageclass.storage.k8s.io "${name}" not found`, CONTROLLER);
    if (cls.bindingMode === 'WaitForFirstConsumer') {
      this.event(pvc, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding', CONTROLLER);
      return;
    }
    this.provision(pvc, 0);
  }

  private provision(pvc: KObject, attempt: number): void {
    const cls = this.classOf(pvc)!;
    const provisioner = cls.provisioner ?? 'sim.k8s.io/hostpath';
    const key = `${pvc.metadata.namespace}/${pvc.metadata.name}`;
    if (attempt === 0) {
      this.event(pvc, 'Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`, CONTROLLER);
    }
    this.event(pvc, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${key}"`, provisioner);
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      const current = this.store.get(PVCS.id, pvc.metadata.namespace, pvc.metadata.name as string);
      if (!current || current.status?.phase !== 'Pending') return;
      if (cls.error) return this.retry(current, attempt, `failed to provision volume with StorageClass "${current.spec.storageClassName}": ${cls.error}`, provisioner);
      const bound = this.api.writeStatus(PVCS, current.metadata.namespace, current.metadata.name as string, (p) => {
        p.spec.volumeName = `pvc-${p.metadata.uid}`;
        p.metadata.annotations = { ...(p.metadata.annotations ?? {}), 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes', 'volume.kubernetes.io/storage-provisioner': provisioner };
        p.status = this.bound(p).status;
      });
      if (bound) this.event(bound, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume pvc-${bound.metadata.uid}`, provisioner);
    }, cls.provisionMs ?? this.timing.provisionMs));
  }

  /** A failed attempt: a Warning (count bumped on repeats) and another try after a doubling back-off. */
  private retry(pvc: KObject, attempt: number, message: string, component: string): void {
    this.event(pvc, 'Warning', 'ProvisioningFailed', message, component);
    const key = `${pvc.metadata.namespace}/${pvc.metadata.name}`;
    const delay = Math.min(this.timing.provisionRetryMs * 2 ** attempt, this.timing.maxBackoffMs);
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      const current = this.store.get(PVCS.id, pvc.metadata.namespace, pvc.metadata.name as string);
      if (!current || current.status?.phase !== 'Pending') return;
      if (!this.classOf(current)) return this.retry(current, attempt + 1, message, component);
      if (this.waitsForConsumer(current) && !current.metadata.annotations?.[SELECTED_NODE]) return;
      this.provision(current, attempt + 1);
    }, delay));
  }

  private bound(pvc: KObject): KObject {
    const storage = pvc.spec?.resources?.requests?.storage ?? '1Gi';
    return { ...pvc, status: { phase: 'Bound', accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'], capacity: { storage } } };
  }

  private event(pvc: KObject, type: 'Normal' | 'Warning', reason: string, message: string, component: string): void {
    this.events.record(pvc, { type, reason, message, style: 'controller', component });
  }

  private cancel(key: string): void {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
  }

  close(): void {
    this.unsubscribe();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
