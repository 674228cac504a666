// The storm's Kubernetes API simulator as a process of its own (so the visitors' process cannot starve the API server
// of CPU, nor the other way round): no node at first, an autoscaler stand-in (see kube.ts), nodes added on SIGUSR1.
//
//   node bench/storm/kube-sim.ts <dir> <nodes> <pods per node>    → writes <dir>/kubeconfig, then <dir>/ready
import { randomInt } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KObject } from '../../test/k8s-sim/index.ts';
import { NAMESPACE, startSim } from '../../test/support/k8s-hub.ts';

const [dir, nodesArg, podsArg] = process.argv.slice(2);
const nodes = Number(nodesArg);
// a /16 of its own: a /24 runs out with a few hundred pods plus what other simulators on this machine hold
const { sim, kubeconfig } = await startSim({ nodes: [], separateLauncher: true, podSubnet: `127.${randomInt(100, 250)}`, historyLimit: 50_000 });
copyFileSync(kubeconfig, join(dir!, 'kubeconfig'));
const announced = new Set<string>();
// cluster-autoscaler's answer to a pod that does not fit: one TriggeredScaleUp event per pod, at once
sim.store.subscribe((change) => {
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
process.on('SIGUSR1', () => {
  for (let i = 1; i <= nodes; i++) sim.nodes.add({ name: `storm-${i}`, allocatable: { cpu: '64', memory: '256Gi', pods: podsArg! } });
  process.stderr.write(`kube-sim: ${nodes} nodes joined\n`);
});
// no pod process outlives the simulator
const end = () => {
  for (const p of sim.processes()) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  void sim.close().finally(() => process.exit(0));
};
process.on('SIGTERM', end);
process.on('SIGINT', end);
process.on('exit', () => { for (const p of sim.processes()) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } });
writeFileSync(join(dir!, 'ready'), String(process.pid));
