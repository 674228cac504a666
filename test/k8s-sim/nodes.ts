// Simulated nodes: Node objects in the store (so `GET /api/v1/nodes` and watches work) plus each node's image cache.
// Tests shape the cluster through this API: add/remove nodes, taint, cordon, label.
import { randomUUID } from 'node:crypto';
import { nowIso } from './api.ts';
import type { Store } from './store.ts';
import type { KObject, NodeConfig, Taint } from './types.ts';

const DEFAULT_ALLOCATABLE = { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' };

export class Nodes {
  private readonly store: Store;
  private readonly images = new Map<string, Set<string>>();
  private addressCounter = 0;

  constructor(store: Store) {
    this.store = store;
  }

  add(cfg: NodeConfig): KObject {
    if (this.store.get('nodes', undefined, cfg.name)) throw new Error(`k8s-sim: node ${cfg.name} exists`);
    this.images.set(cfg.name, new Set(cfg.images ?? []));
    const allocatable = { ...DEFAULT_ALLOCATABLE, ...(cfg.allocatable ?? {}) };
    const node: KObject = {
      kind: 'Node',
      apiVersion: 'v1',
      metadata: {
        name: cfg.name,
        uid: randomUUID(),
        creationTimestamp: nowIso(),
        labels: {
          'kubernetes.io/hostname': cfg.name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          ...(cfg.labels ?? {}),
        },
      },
      spec: { taints: cfg.taints ?? [], unschedulable: cfg.unschedulable ?? false },
      status: {
        capacity: allocatable,
        allocatable,
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: nowIso(), lastTransitionTime: nowIso() }],
        // TEST-NET-1 addresses: nothing ever connects to a node, only to pods
        addresses: [{ type: 'InternalIP', address: `192.0.2.${++this.addressCounter}` }, { type: 'Hostname', address: cfg.name }],
        images: [...(cfg.images ?? [])].map((name) => ({ names: [name], sizeBytes: 1 })),
        nodeInfo: { kubeletVersion: 'v1.32.0', containerRuntimeVersion: 'k8s-sim://1', operatingSystem: 'linux', architecture: 'amd64' },
      },
    };
    if (!node.spec.taints.length) delete node.spec.taints;
    if (!node.spec.unschedulable) delete node.spec.unschedulable;
    return this.store.create('nodes', node);
  }

  remove(name: string): boolean {
    this.images.delete(name);
    return this.store.remove('nodes', undefined, name) !== undefined;
  }

  get(name: string): KObject | undefined {
    return this.store.get('nodes', undefined, name);
  }

  list(): KObject[] {
    return this.store.list('nodes');
  }

  private mutate(name: string, fn: (node: KObject) => void): KObject {
    const node = this.get(name);
    if (!node) throw new Error(`k8s-sim: no node ${name}`);
    fn(node);
    if (node.spec.taints?.length === 0) delete node.spec.taints;
    if (!node.spec.unschedulable) delete node.spec.unschedulable;
    return this.store.update('nodes', node);
  }

  taint(name: string, taint: Taint): KObject {
    return this.mutate(name, (n) => {
      const rest = (n.spec.taints ?? []).filter((t: Taint) => !(t.key === taint.key && t.effect === taint.effect));
      n.spec.taints = [...rest, taint];
    });
  }

  /** Removes the taints with this key (all effects). */
  untaint(name: string, key: string): KObject {
    return this.mutate(name, (n) => {
      n.spec.taints = (n.spec.taints ?? []).filter((t: Taint) => t.key !== key);
    });
  }

  cordon(name: string, unschedulable = true): KObject {
    return this.mutate(name, (n) => {
      n.spec.unschedulable = unschedulable;
    });
  }

  label(name: string, labels: Record<string, string | null>): KObject {
    return this.mutate(name, (n) => {
      for (const [k, v] of Object.entries(labels)) {
        if (v === null) delete n.metadata.labels?.[k];
        else (n.metadata.labels ??= {})[k] = v;
      }
    });
  }

  hasImage(node: string, image: string): boolean {
    return this.images.get(node)?.has(image) ?? false;
  }

  /** The node's image cache, as `status.images` also reports it. */
  cachedImages(node: string): string[] {
    return [...(this.images.get(node) ?? [])];
  }

  addImage(node: string, image: string, sizeBytes = 1): void {
    const cache = this.images.get(node);
    if (!cache || cache.has(image)) return;
    cache.add(image);
    if (this.get(node)) {
      this.mutate(node, (n) => {
        n.status.images = [...(n.status.images ?? []), { names: [image], sizeBytes }];
      });
    }
  }

  removeImage(node: string, image: string): void {
    const cache = this.images.get(node);
    if (!cache?.delete(image)) return;
    this.mutate(node, (n) => {
      n.status.images = (n.status.images ?? []).filter((i: any) => !i.names.includes(image));
    });
  }
}
