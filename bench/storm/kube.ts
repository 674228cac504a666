// The Kubernetes variant: the API simulator (test/k8s-sim) with no node at all when the storm starts, and an
// autoscaler stand-in that does what cluster-autoscaler does for a pod no node fits: a TriggeredScaleUp event on the
// pod at once, and the new nodes Ready only later (`joinAtMs` after the storm's start). Until then every pod is Pending
// and unschedulable, so visitors wait on the queue and pending pages; nodehub's KubeSpawner keeps waiting because a
// scale-up was announced. The pods run the storm's mock command (the mux), bound to their own pod IPs.
import { randomInt } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { KObject, Simulator } from '../../test/k8s-sim/index.ts';
import { NAMESPACE, kubeSection, startSim } from '../../test/support/k8s-hub.ts';

export interface KubeVariant {
  sim: Simulator;
  /** KubeSpawner settings for the hub. */
  settings: Record<string, unknown>;
  /** Adds the nodes `ms` after now; resolves when they are in. */
  joinAfter(ms: number): Promise<number>;
  joinedAt: number | null;
  close(): Promise<void>;
}

export async function startKube(mockCmd: string[], nodes: number, podsPerNode: number): Promise<KubeVariant> {
  // a /16 of its own: a /24 runs out with a few hundred pods plus what other simulators on this machine hold
  const { sim, kubeconfig, dir } = await startSim({ nodes: [], podSubnet: `127.${randomInt(100, 250)}`, historyLimit: 50_000 });
  const announced = new Set<string>();
  // cluster-autoscaler's answer to a pod that does not fit: one TriggeredScaleUp event per pod
  const unsubscribe = sim.store.subscribe((change) => {
    if (change.resource !== 'events' || change.type !== 'ADDED' || (change.object as KObject).reason !== 'FailedScheduling') return;
    const pod = (change.object as KObject).involvedObject as { name: string; uid: string };
    if (announced.has(pod.uid)) return;
    announced.add(pod.uid);
    setImmediate(() => {
      try {
        sim.create('events', NAMESPACE, {
          metadata: { name: `${pod.name}.scaleup${announced.size}` },
          involvedObject: { kind: 'Pod', namespace: NAMESPACE, name: pod.name, uid: pod.uid, apiVersion: 'v1' },
          reason: 'TriggeredScaleUp', type: 'Normal', count: 1, source: { component: 'cluster-autoscaler' },
          message: `pod triggered scale-up: [{storm-pool 0->${nodes} (max: ${nodes})}]`,
        });
      } catch { /* the pod went meanwhile */ }
    });
  });
  // a bench that dies leaves no pod process behind (they sleep for a day otherwise)
  const killPods = () => { for (const p of sim.processes()) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } };
  process.on('exit', killPods);
  const v: KubeVariant = {
    sim,
    settings: kubeSection(kubeconfig, {
      cmd: mockCmd, start_timeout: 600, http_timeout: 120,
      // the hub's own waiting is what is measured, not a guess of how long an autoscaler takes
      unschedulable_timeout: 5,
      cpu_guarantee: 0.01, mem_guarantee: '10M',
    }),
    joinedAt: null,
    joinAfter: (ms) => new Promise((resolve) => setTimeout(() => {
      for (let i = 1; i <= nodes; i++) sim.nodes.add({ name: `storm-${i}`, allocatable: { cpu: '64', memory: '256Gi', pods: String(podsPerNode) } });
      v.joinedAt = Date.now();
      resolve(v.joinedAt);
    }, ms)),
    close: async () => {
      unsubscribe();
      await sim.close();
      process.off('exit', killPods);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return v;
}
