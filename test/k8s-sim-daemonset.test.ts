// The DaemonSet controller of the simulator as the image puller uses it (spec 6.9; Appendix A 13): eligible nodes from
// nodeSelector and taints, init containers pulling images into node caches, status counters, rollouts, full nodes.
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type NodeConfig, type Simulator } from './k8s-sim/index.ts';
import { TestClient } from './k8s-sim/testing.ts';

const DS = '/apis/apps/v1/namespaces/jhub/daemonsets';
let sim: Simulator;
let k: TestClient;

afterEach(async () => {
  await sim?.close();
});

function puller(images: string[], extra: { nodeSelector?: Record<string, string>; tolerations?: unknown[] } = {}): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'hook-image-puller', labels: { component: 'image-puller' } },
    spec: {
      selector: { matchLabels: { component: 'image-puller' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%' } },
      template: {
        metadata: { labels: { component: 'image-puller' } },
        spec: {
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 0,
          initContainers: images.map((image, i) => ({ name: `image-pull-${i}`, image, command: ['/bin/sh', '-c', 'echo Pulling complete'] })),
          containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }],
          ...extra,
        },
      },
    },
  };
}

async function start(nodes: NodeConfig[], pullMs = 60): Promise<void> {
  sim = await createSimulator({ namespaces: ['jhub'], nodes, timing: { pullMs } });
  k = new TestClient(sim.url, sim.token);
}

const status = () => sim.get('daemonsets', 'jhub', 'hook-image-puller')!.status;
const settled = (pred: (s: any) => boolean, ms = 10_000) => sim.waitFor('daemonsets', 'jhub', 'hook-image-puller', (d) => !!d && pred(d.status), ms);

describe('image-puller DaemonSet', () => {
  it('counts eligible nodes by nodeSelector and taints, and becomes ready as init containers pull', async () => {
    await start([
      { name: 'cpu-1' },
      { name: 'cpu-2' },
      { name: 'gpu-1', labels: { gpu: 'true' }, taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] },
    ]);
    const created = await k.post(DS, puller(['jupyter/base:1', 'jupyter/extra:1']));
    expect(created.status).toBe(201);
    expect(created.body.metadata.generation).toBe(1);
    const seen: number[] = [];
    const unsubscribe = sim.store.subscribe((c) => {
      if (c.resource === 'daemonsets.apps') seen.push(c.object.status.numberReady);
    });
    const s = (await settled((x) => x.numberReady === 2))!.status;
    unsubscribe();
    expect(s).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2, numberAvailable: 2, numberMisscheduled: 0, observedGeneration: 1 });
    expect(s.numberUnavailable).toBeUndefined();
    expect(seen[0]).toBe(0); // the counters moved up from zero while images were pulled
    for (const n of ['cpu-1', 'cpu-2']) expect(sim.nodes.cachedImages(n)).toEqual(expect.arrayContaining(['jupyter/base:1', 'jupyter/extra:1']));
    expect(sim.nodes.cachedImages('gpu-1')).toEqual([]);

    const pods = sim.list('pods', 'jhub');
    expect(pods).toHaveLength(2);
    const pod = pods[0];
    expect(pod.metadata.name).toMatch(/^hook-image-puller-[a-z0-9]{5}$/);
    expect(pod.metadata.ownerReferences![0]).toMatchObject({ kind: 'DaemonSet', name: 'hook-image-puller', controller: true });
    expect(pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0]).toMatchObject({ key: 'metadata.name', operator: 'In' });
    expect(pod.status.initContainerStatuses.map((c: any) => c.state.terminated?.reason)).toEqual(['Completed', 'Completed']);
    const reasons = (await k.get(`/api/v1/namespaces/jhub/events?fieldSelector=involvedObject.name=${pod.metadata.name}`)).body.items.map((e: any) => e.reason);
    // both init images and the pause image
    expect(reasons.filter((r: string) => r === 'Pulling')).toHaveLength(3);
  });

  it('follows a template change: new generation, pods replaced, GPU node added by selector + toleration', async () => {
    await start([{ name: 'cpu-1' }, { name: 'gpu-1', labels: { gpu: 'true' }, taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] }], 20);
    await k.post(DS, puller(['jupyter/base:1']));
    await settled((x) => x.numberReady === 1);
    const oldPods = sim.list('pods', 'jhub').map((p) => p.metadata.uid);

    const current = (await k.get(`${DS}/hook-image-puller`)).body;
    const gpu = puller(['cuda/notebook:1'], { nodeSelector: { gpu: 'true' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] });
    const stale = await k.put(`${DS}/hook-image-puller`, { ...gpu, metadata: { ...gpu.metadata, resourceVersion: '1' } });
    expect(stale.body).toMatchObject({ code: 409, reason: 'Conflict' });
    const replaced = await k.put(`${DS}/hook-image-puller`, { ...gpu, metadata: { ...gpu.metadata, resourceVersion: current.metadata.resourceVersion } });
    expect(replaced.status).toBe(200);
    expect(replaced.body.metadata.generation).toBe(2);
    const s = (await settled((x) => x.observedGeneration === 2 && x.numberReady === 1 && x.updatedNumberScheduled === 1))!.status;
    expect(s.desiredNumberScheduled).toBe(1);
    const pods = sim.list('pods', 'jhub');
    expect(pods.map((p) => p.spec.nodeName)).toEqual(['gpu-1']);
    expect(pods.every((p) => !oldPods.includes(p.metadata.uid))).toBe(true);
    expect(sim.nodes.cachedImages('gpu-1')).toContain('cuda/notebook:1');
    expect(sim.nodes.cachedImages('gpu-1')).not.toContain('jupyter/base:1');
  });

  it('leaves the daemon pod of a full node Pending and counts it as not ready', async () => {
    await start([{ name: 'roomy' }, { name: 'full', allocatable: { pods: '1' } }], 10);
    await k.post('/api/v1/namespaces/jhub/pods', {
      metadata: { name: 'occupant' },
      spec: { nodeName: 'full', automountServiceAccountToken: false, containers: [{ name: 'c', image: 'x:1', command: ['sleep', '60'] }] },
    });
    await k.post(DS, puller(['jupyter/base:1']));
    // the unbound pod is not "running on" its node, so it counts in desired but not in current (what z2jh's awaiter uses)
    const s = (await settled((x) => x.numberReady === 1 && x.desiredNumberScheduled === 2))!.status;
    expect(s).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 1, numberReady: 1, numberUnavailable: 1 });
    await new Promise((r) => setTimeout(r, 100));
    expect(status().numberReady).toBe(1);
    const pending = sim.list('pods', 'jhub').find((p) => p.metadata.ownerReferences && p.status.phase === 'Pending')!;
    expect(pending.status.conditions[0]).toMatchObject({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' });
    expect(pending.status.conditions[0].message).toMatch(/Too many pods/);
  });

  it('adds a pod when a node joins and garbage-collects its pods when deleted', async () => {
    await start([{ name: 'n1' }], 10);
    await k.post(DS, puller(['jupyter/base:1']));
    await settled((x) => x.numberReady === 1);
    sim.nodes.add({ name: 'n2' });
    await settled((x) => x.desiredNumberScheduled === 2 && x.numberReady === 2);
    const del = await k.delete(`${DS}/hook-image-puller`);
    expect(del.body).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'hook-image-puller', group: 'apps', kind: 'daemonsets' } });
    for (let i = 0; i < 100 && sim.list('pods', 'jhub').length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sim.list('pods', 'jhub')).toEqual([]);
    expect(sim.processes()).toEqual([]);
  });

  it('gives init containers their termination message: the file written at terminationMessagePath (last 4 KiB), none when empty, the log tail for FallbackToLogsOnError', async () => {
    await start([{ name: 'n1' }], 10);
    const ds = puller(['a:1', 'b:1', 'c:1', 'd:1']);
    const init = ds.spec.template.spec.initContainers;
    init[0].command = ['/bin/sh', '-c', 'echo Pulling complete; printf 3.0.0 > /dev/termination-log'];
    init[1].command = ['/bin/sh', '-c', 'head -c 5000 /dev/zero | tr "\\0" x > /dev/termination-log; printf END >> /dev/termination-log'];
    // a failing init container is restarted (restartPolicy Always) and stays in its lastState
    init[3].command = ['/bin/sh', '-c', 'if [ -e "$HOME/again" ]; then exit 0; fi; touch "$HOME/again"; echo it broke; exit 3'];
    init[3].terminationMessagePolicy = 'FallbackToLogsOnError';
    await k.post(DS, ds);
    await settled((x) => x.numberReady === 1);
    const pod = sim.list('pods', 'jhub')[0]!;
    expect(pod.spec.initContainers[0]).toMatchObject({ terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' });
    const states = pod.status.initContainerStatuses;
    expect(states[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed', message: '3.0.0' });
    expect(states[1].state.terminated.message).toHaveLength(4096);
    expect(states[1].state.terminated.message.endsWith('xxEND')).toBe(true);
    expect(states[2].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect('message' in states[2].state.terminated).toBe(false);
    expect(states[3].lastState.terminated).toMatchObject({ exitCode: 3, reason: 'Error', message: 'it broke\n' });
    expect('message' in states[3].state.terminated).toBe(false);
  });

  it('rejects a selector that does not match the template labels (422)', async () => {
    await start([{ name: 'n1' }]);
    const bad = puller(['x:1']);
    bad.spec.selector.matchLabels = { component: 'other' };
    const r = await k.post(DS, bad);
    expect(r.body).toMatchObject({ code: 422, reason: 'Invalid', details: { kind: 'DaemonSet', group: 'apps' } });
  });
});
