// The Kubernetes variant: the API simulator (test/k8s-sim, in its own process: kube-sim.ts) with no node at all when
// the storm starts, and an autoscaler stand-in that does what cluster-autoscaler does for a pod no node fits: a
// TriggeredScaleUp event on the pod at once, and the new nodes Ready only later (`joinAfter`). Until then every pod is
// Pending and unschedulable, so visitors wait on the queue and pending pages; nodehub's KubeSpawner keeps waiting
// because a scale-up was announced. The pods run the storm's mock relay, bound to their own pod IPs, with their working
// directory in the bench's temp dir (so the clean-up sweep finds them whatever happens).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NAMESPACE, IMAGE } from '../../test/support/k8s-hub.ts';
import { makeTempDir, startProcess, type ManagedProcess } from '../lib/procs.ts';

export interface KubeVariant {
  /** KubeSpawner settings for the hub. */
  settings: Record<string, unknown>;
  /** Adds the nodes `ms` after now; resolves when they are in. */
  joinAfter(ms: number): Promise<number>;
  joinedAt: number | null;
  close(): Promise<void>;
}

export async function startKube(node: string, mockCmd: string[], nodes: number, podsPerNode: number): Promise<KubeVariant> {
  const dir = makeTempDir('storm-kube');
  const pods = join(dir, 'pods');
  mkdirSync(pods);
  const proc: ManagedProcess = startProcess({
    name: 'kube-sim', command: node, args: [new URL('./kube-sim.ts', import.meta.url).pathname, dir, String(nodes), String(podsPerNode)],
    cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(process.env.BENCH_SIM_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SIM_NODE_OPTIONS } : {}) },
  });
  for (let i = 0; !existsSync(join(dir, 'ready')); i++) {
    if (proc.hasExited() || i > 600) throw new Error(`the simulator did not start: ${proc.logTail()}`);
    await sleep(100);
  }
  const v: KubeVariant = {
    settings: {
      kubeconfig: join(dir, 'kubeconfig'), namespace: NAMESPACE, image: IMAGE, cmd: mockCmd, ip: '$(POD_IP)',
      environment: { POD_IP: { valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } } },
      working_dir: pods, prepuller_enabled: false, cpu_guarantee: 0.01, mem_guarantee: '10M',
      // waiting for the nodes is the hub's job here, not a timeout's
      start_timeout: 600, http_timeout: 120,
    },
    joinedAt: null,
    joinAfter: async (ms) => {
      await sleep(ms);
      process.kill(proc.pid, 'SIGUSR1');
      v.joinedAt = Date.now();
      return v.joinedAt;
    },
    close: () => proc.stop(30_000),
  };
  return v;
}
