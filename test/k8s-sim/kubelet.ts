// The kubelets of all simulated nodes: a PodWorker per pod bound to an existing node, graceful termination when the
// pod gets a deletionTimestamp, cleanup when the object disappears, and the hooks faults and logs use.
import type { KubeletContext } from './kubelet-context.ts';
import { PodWorker } from './podworker.ts';
import { resourceById } from './resources.ts';
import type { Change, KObject } from './types.ts';

const PODS = resourceById('pods');

export class Kubelet {
  private readonly ctx: KubeletContext;
  private readonly workers = new Map<string, PodWorker>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(ctx: KubeletContext) {
    this.ctx = ctx;
    this.unsubscribe = ctx.store.subscribe((c) => this.onChange(c));
  }

  private key(pod: KObject): string {
    return `${pod.metadata.namespace}/${pod.metadata.name}`;
  }

  private onChange(c: Change): void {
    if (c.resource !== 'pods' || this.closed) return;
    const pod = c.object;
    const key = this.key(pod);
    let worker = this.workers.get(key);
    if (worker && worker.uid !== pod.metadata.uid) {
      // same name, new object: the old one is gone
      this.workers.delete(key);
      void worker.destroy();
      worker = undefined;
    }
    if (c.type === 'DELETED') {
      if (worker) {
        this.workers.delete(key);
        void worker.destroy();
      }
      return;
    }
    const node = pod.spec?.nodeName;
    const phase = pod.status?.phase;
    if (!worker && node && this.ctx.nodes.get(node) && phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp) {
      worker = new PodWorker(this.ctx, pod);
      this.workers.set(key, worker);
      setImmediate(() => worker?.start());
      return;
    }
    if (worker && pod.metadata.deletionTimestamp) {
      // deletionTimestamp has whole seconds; the grace period is the precise wait
      const grace = pod.metadata.deletionGracePeriodSeconds ?? 0;
      void worker.terminate(grace);
    } else if (!worker && node && pod.metadata.deletionTimestamp && (pod.metadata.deletionGracePeriodSeconds ?? 0) > 0) {
      // bound to a node this kubelet does not run (removed node): nothing to stop, end the deletion
      setImmediate(() => this.ctx.api.finishDeletion(PODS, pod.metadata.namespace, pod.metadata.name as string));
    }
  }

  worker(ns: string, name: string): PodWorker | undefined {
    return this.workers.get(`${ns}/${name}`);
  }

  logs(ns: string, name: string, container?: string): string | null {
    const w = this.worker(ns, name);
    if (!w) return null;
    const c = container ? w.containers().find((x) => x.name === container) : w.main[0];
    return c ? c.logText() : null;
  }

  /** Live processes the simulator started (for leak checks in tests). */
  processes(): Array<{ namespace: string; pod: string; container: string; pid: number }> {
    const out: Array<{ namespace: string; pod: string; container: string; pid: number }> = [];
    for (const w of this.workers.values()) {
      for (const c of w.containers()) {
        if (c.proc?.pid !== undefined) out.push({ namespace: w.ns, pod: w.name, container: c.name, pid: c.proc.pid });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    const all = [...this.workers.values()];
    this.workers.clear();
    await Promise.all(all.map((w) => w.destroy()));
  }
}
