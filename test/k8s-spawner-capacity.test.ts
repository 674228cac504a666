// A spawn whose pod only waits for a node that a cluster autoscaler announced (TriggeredScaleUp) does not hold a
// concurrent_spawn_limit place (docs/differences.md): the spawns behind it create their pods at once, so the
// autoscaler sees the whole demand, and when the nodes come every pod is placed in the same round.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { KObject, Simulator } from './k8s-sim/index.ts';
import { eventually, type TestHub } from './support/hub.ts';
import { NAMESPACE, readProgress, startK8sHub, startSim } from './support/k8s-hub.ts';

let sim: Simulator;
let hub: TestHub;
let dir: string;

beforeAll(async () => {
  const s = await startSim({ nodes: [] });
  sim = s.sim;
  dir = s.dir;
  // cluster-autoscaler's answer to a pod no node fits: a TriggeredScaleUp event on it
  sim.store.subscribe((change) => {
    const ev = change.object as KObject;
    if (change.resource !== 'events' || change.type !== 'ADDED' || ev.reason !== 'FailedScheduling') return;
    const pod = ev.involvedObject as { name: string; uid: string };
    setImmediate(() => {
      try {
        sim.create('events', NAMESPACE, {
          metadata: { name: `${pod.name}.scaleup` },
          involvedObject: { kind: 'Pod', namespace: NAMESPACE, name: pod.name, uid: pod.uid, apiVersion: 'v1' },
          reason: 'TriggeredScaleUp', type: 'Normal', count: 1, source: { component: 'cluster-autoscaler' },
          message: 'pod triggered scale-up: [{pool 0->1 (max: 1)}]',
        });
      } catch { /* already announced, or the pod went */ }
    });
  });
  hub = await startK8sHub(s.kubeconfig, {
    JupyterHub: { concurrent_spawn_limit: 1 },
    // waiting for the node is the autoscaler's business, not a timeout's
    KubeSpawner: { start_timeout: 600, unschedulable_timeout: 600 },
  });
});

afterAll(async () => {
  await hub?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

const start = (user: string) => hub.api(`/users/${user}/server`, { method: 'POST' });

describe('concurrent_spawn_limit and spawns waiting for an autoscaler', () => {
  it('a pod waiting for an announced node frees its place; the next spawn creates its pod at once', async () => {
    for (const user of ['first', 'second']) expect((await hub.api(`/users/${user}`, { method: 'POST' })).status).toBe(201);
    expect((await start('first')).status).toBe(202);
    // the first pod is unschedulable and a scale-up is announced for it
    await sim.waitFor('events', NAMESPACE, 'jupyter-first.scaleup', (e) => !!e);
    // the limit is 1, yet the second spawn begins (JupyterHub would answer 429 until the first is ready)
    const second = await eventually(async () => {
      const res = await start('second');
      return res.status === 202 ? res : (await res.arrayBuffer(), null);
    }, 10_000, 100);
    expect(second?.status).toBe(202);
    await sim.waitFor('pods', NAMESPACE, 'jupyter-second', (p) => !!p);
    // the node arrives: both pods are placed together and both servers start
    sim.nodes.add({ name: 'late-1', allocatable: { cpu: '16', memory: '64Gi', pods: '110' } });
    for (const user of ['first', 'second']) expect((await readProgress(hub, user)).at(-1)).toMatchObject({ ready: true });
  });
});
