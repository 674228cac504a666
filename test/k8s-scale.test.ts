// Memory does not grow with the namespace (issue #12 item 6): the pod informer lists and watches only user server
// pods (label selector), and a starting pod's events are listed and watched by its name (field selector), so 50,000
// unrelated Events and a namespace full of other pods stay out of the hub's caches. The timings are in
// bench/k8s-scale.ts; this asserts what is cached and what the API was asked for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Simulator } from './k8s-sim/index.ts';
import { SLEEPER } from './k8s-sim/testing.ts';
import { NAMESPACE, startSim } from './support/k8s-hub.ts';
import { loadConfig } from '../src/config/index.ts';
import { clusterFor, closeCluster } from '../src/spawner/kubernetes/cluster.ts';
import { StartEvents } from '../src/spawner/kubernetes/events.ts';
import { createLogger } from '../src/util/log.ts';
import type { HubConfig } from '../src/config/types.ts';

const EVENTS = 50_000;
let sim: Simulator;
let dir: string;
let kubeconfig: string;
let config: HubConfig;

beforeAll(async () => {
  ({ sim, dir, kubeconfig } = await startSim({ historyLimit: 1000 }));
  // 200 pods of other apps, 20 user pods on a node that does not exist (they stay Pending, no process)
  const pod = (name: string, labels: Record<string, string>) => sim.create('pods', NAMESPACE, {
    metadata: { name, labels }, spec: { nodeName: 'elsewhere', containers: [{ name: 'notebook', image: 'sim/x:1', command: SLEEPER }] },
  });
  for (let i = 0; i < 200; i++) pod(`other-${i}`, { app: 'other' });
  for (let i = 0; i < 20; i++) pod(`jupyter-user-${i}`, { component: 'singleuser-server', app: 'jupyterhub' });
  for (let i = 0; i < EVENTS; i++) {
    sim.create('events', NAMESPACE, {
      metadata: { name: `other-${i % 200}.${i.toString(16)}` },
      involvedObject: { kind: 'Pod', namespace: NAMESPACE, name: `other-${i % 200}`, apiVersion: 'v1' },
      reason: 'Pulled', message: `event ${i}`, type: 'Normal', count: 1, source: { component: 'kubelet' },
    });
  }
  config = await loadConfig({ file: null, env: {}, overrides: {
    'JupyterHub.spawner_class': 'kubernetes', 'KubeSpawner.kubeconfig': kubeconfig, 'KubeSpawner.namespace': NAMESPACE, 'KubeSpawner.prepuller_enabled': 'false',
  } });
}, 120_000);

afterAll(async () => {
  await closeCluster(config);
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a namespace with 50,000 unrelated events', () => {
  it('the informer caches the user pods only, and a starting pod\'s event watch holds its own events only', async () => {
    const cluster = clusterFor(config, createLogger('test'));
    await cluster.ready(20_000);
    expect(cluster.pods.stats().objects).toBe(20);
    for (const p of cluster.pods.list()) expect(p.metadata?.labels?.component).toBe('singleuser-server');

    sim.create('events', NAMESPACE, {
      metadata: { name: 'jupyter-user-3.1' },
      involvedObject: { kind: 'Pod', namespace: NAMESPACE, name: 'jupyter-user-3', apiVersion: 'v1' },
      reason: 'Scheduled', message: 'Successfully assigned', type: 'Normal', count: 1, source: { component: 'default-scheduler' },
    });
    const events = new StartEvents(cluster, 'jupyter-user-3', () => {});
    try {
      await events.synced(20_000);
      expect(events.cached).toBe(1);
    } finally {
      await events.close(); // at once, even right after the list (no watch left to run out its timeout)
    }
    // every list and watch of events carried the pod's name; no pod list without the selector
    const asked = sim.stats().byAccess;
    expect(asked['core/events:list']).toBeGreaterThanOrEqual(1);
    expect(sim.stats().requests).toBeLessThan(20); // nothing paged through the namespace's events
  });
});
