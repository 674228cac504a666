// The simulator through the real @kubernetes/client-node (config, typed calls, ApiException, Watch, informer).
// Skipped while the package is not installed in this project.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from './k8s-sim/index.ts';
import { podManifest, SLEEPER } from './k8s-sim/testing.ts';

const k8s: any = await import('@kubernetes/client-node' as string).catch(() => null);
let sim: Simulator;
let kc: any;

beforeEach(async () => {
  if (!k8s) return;
  sim = await createSimulator({ namespaces: ['jhub'] });
  kc = new k8s.KubeConfig();
  kc.loadFromString(sim.kubeconfig);
});
afterEach(async () => {
  await sim?.close();
});

describe.skipIf(!k8s)('@kubernetes/client-node against the simulator', () => {
  it('creates, reads, lists and deletes pods; errors arrive as ApiException with a Status body', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const body = podManifest('jupyter-alice', SLEEPER, { labels: { component: 'singleuser-server' } });
    const created = await core.createNamespacedPod({ namespace: 'jhub', body });
    expect(created.metadata.uid).toBeTruthy();
    const err = await core.createNamespacedPod({ namespace: 'jhub', body }).catch((e: any) => e);
    expect(err.code).toBe(409);
    expect(JSON.parse(err.body).reason).toBe('AlreadyExists');
    await sim.waitFor('pods', 'jhub', 'jupyter-alice', (p) => p?.status?.phase === 'Running');
    const read = await core.readNamespacedPod({ name: 'jupyter-alice', namespace: 'jhub' });
    expect(read.status.podIP).toMatch(/^127\./);
    expect(read.status.startTime).toBeInstanceOf(Date);
    const list = await core.listNamespacedPod({ namespace: 'jhub', labelSelector: 'component=singleuser-server' });
    expect(list.items.map((p: any) => p.metadata.name)).toEqual(['jupyter-alice']);
    const events = await core.listNamespacedEvent({ namespace: 'jhub', fieldSelector: 'involvedObject.kind=Pod,involvedObject.name=jupyter-alice' });
    expect(events.items.map((e: any) => e.reason)).toEqual(['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']);
    await core.deleteNamespacedPod({ name: 'jupyter-alice', namespace: 'jhub', gracePeriodSeconds: 1 });
    await sim.waitFor('pods', 'jhub', 'jupyter-alice', (p) => !p);
    const missing = await core.readNamespacedPod({ name: 'jupyter-alice', namespace: 'jhub' }).catch((e: any) => e);
    expect(missing.code).toBe(404);
  });

  it('keeps an informer in sync through stream ends and 410s without a reconnect storm', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/jhub/pods', () => core.listNamespacedPod({ namespace: 'jhub' }));
    const added: string[] = [];
    const deleted: string[] = [];
    informer.on('add', (p: any) => added.push(p.metadata.name));
    informer.on('delete', (p: any) => deleted.push(p.metadata.name));
    await informer.start();
    const until = async (pred: () => boolean): Promise<void> => {
      for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(pred()).toBe(true);
    };
    await until(() => sim.stats().openWatches === 1);
    sim.create('pods', 'jhub', podManifest('a', SLEEPER));
    await until(() => added.includes('a'));

    sim.faults.dropWatches();
    await until(() => sim.stats().openWatches === 1);
    sim.create('pods', 'jhub', podManifest('b', SLEEPER));
    await until(() => added.includes('b'));

    // a 410 makes the informer relist; a pod deleted meanwhile is reported as deleted
    sim.faults.expireNextWatch(1, 'event');
    sim.faults.expireWatches();
    sim.delete('pods', 'jhub', 'a', { gracePeriodSeconds: 0 });
    await until(() => deleted.includes('a'));
    await until(() => informer.list('jhub').length === 1);
    sim.create('pods', 'jhub', podManifest('c', SLEEPER));
    await until(() => added.includes('c'));
    expect(sim.stats().maxWatchRequestsPerSecond).toBeLessThan(10);
    await informer.stop();
  });

  it('drives DaemonSets through AppsV1Api', async () => {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    await apps.createNamespacedDaemonSet({
      namespace: 'jhub',
      body: {
        metadata: { name: 'puller' },
        spec: {
          selector: { matchLabels: { app: 'puller' } },
          template: { metadata: { labels: { app: 'puller' } }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }] } },
        },
      },
    });
    await sim.waitFor('daemonsets', 'jhub', 'puller', (d) => d?.status?.numberReady === 1);
    const ds = await apps.readNamespacedDaemonSet({ name: 'puller', namespace: 'jhub' });
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 1, numberReady: 1 });
  });
});
