// The image pre-puller (issue item 7; Appendix A 13): DaemonSets in the hub's namespace pull every configured image,
// grouped by the scheduling constraint of the profiles using them, so the CUDA image lands only on the GPU node. Their
// readiness shows in /hub/api/info; a changed config is followed at the next hub start; a pod then starts with its
// image already present; a full node leaves its puller Pending (not ready); a hub not allowed to manage DaemonSets
// reports the refusal and still spawns.
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import type { NodeConfig, Simulator } from './k8s-sim/index.ts';
import { eventually, type TestHub } from './support/hub.ts';
import { IMAGE, NAMESPACE, readProgress, startK8sHub, startSim, type Sections } from './support/k8s-hub.ts';

const DS_IMAGE = 'quay.io/jupyter/datascience-notebook:2025-01-01';
const CUDA_IMAGE = 'quay.io/jupyter/pytorch-notebook:cuda12-2025-01-01';
const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' as const };

const profiles = (withCuda: boolean) => [
  { display_name: 'Minimal', slug: 'minimal', kubespawner_override: {} },
  { display_name: 'Data science', slug: 'datascience', kubespawner_override: { image: DS_IMAGE } },
  ...(withCuda ? [{
    display_name: 'GPU', slug: 'cuda',
    kubespawner_override: { image: CUDA_IMAGE, node_selector: { gpu: 'true' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] },
  }] : []),
];

let sim: Simulator | null = null;
let hub: TestHub | null = null;
let dir = '';

afterEach(async () => {
  await hub?.close();
  await sim?.close();
  hub = null;
  sim = null;
  rmSync(dir, { recursive: true, force: true });
});

async function setUp(opts: { nodes?: NodeConfig[] } = {}) {
  const s = await startSim({
    nodes: opts.nodes ?? [{ name: 'cpu-1' }, { name: 'cpu-2' }, { name: 'gpu-1', labels: { gpu: 'true' }, taints: [GPU_TAINT] }],
    images: { [IMAGE]: { pullMs: 200 }, [DS_IMAGE]: { pullMs: 300 }, [CUDA_IMAGE]: { pullMs: 400 } },
  });
  sim = s.sim;
  dir = s.dir;
  return s;
}

async function info(h: TestHub) {
  return (await (await h.api('/info')).json()).prepuller;
}

const pullers = () => sim!.list('daemonsets', NAMESPACE).sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));

describe('image pre-puller', () => {
  it('pulls each image only on the nodes its profile may use, reports readiness, and makes starts pull-free', async () => {
    const s = await setUp();
    const config: Sections = { KubeSpawner: { prepuller_enabled: true }, Spawner: { profile_list: profiles(true) } };
    hub = await startK8sHub(s.kubeconfig, config);
    expect((await info(hub)).ready).toBe(false);
    await eventually(async () => (await info(hub!)).ready === true, 15_000);

    const ds = pullers();
    expect(ds.map((d) => d.metadata.name)).toEqual(['nodehub-image-puller', expect.stringMatching(/^nodehub-image-puller-[0-9a-f]{8}$/)]);
    for (const d of ds) new DaemonSet(d as never).validate();
    const status = (await info(hub)).daemonsets;
    expect(status).toEqual([
      { name: 'nodehub-image-puller', images: [IMAGE, DS_IMAGE], profiles: ['', 'minimal', 'datascience'], desired: 2, current: 2, ready: 2, updated: 2 },
      { name: ds[1]!.metadata.name, images: [CUDA_IMAGE], profiles: ['cuda'], desired: 1, current: 1, ready: 1, updated: 1 },
    ]);
    // z2jh would pull every image everywhere; here the CUDA image is only on the GPU node
    for (const node of ['cpu-1', 'cpu-2']) {
      expect(s.sim.nodes.cachedImages(node)).toEqual(expect.arrayContaining([IMAGE, DS_IMAGE]));
      expect(s.sim.nodes.cachedImages(node)).not.toContain(CUDA_IMAGE);
    }
    expect(s.sim.nodes.cachedImages('gpu-1')).toContain(CUDA_IMAGE);
    expect(s.sim.nodes.cachedImages('gpu-1')).not.toContain(DS_IMAGE);

    // a visitor's pod now finds its image on the node
    expect((await hub.api('/users/ann', { method: 'POST' })).status).toBe(201);
    await hub.api('/users/ann/server', { method: 'POST', body: JSON.stringify({ profile: 'datascience' }), headers: { 'content-type': 'application/json' } });
    const messages = (await readProgress(hub, 'ann')).map((e) => e.message as string);
    expect(messages.some((m) => m.endsWith(` [Normal] Container image "${DS_IMAGE}" already present on machine`))).toBe(true);
    expect(messages.some((m) => m.startsWith('Pulling:'))).toBe(false);
  });

  it('follows the config at the next start: changed images replace the DaemonSet, a dropped profile removes its own', async () => {
    const s = await setUp();
    hub = await startK8sHub(s.kubeconfig, { KubeSpawner: { prepuller_enabled: true }, Spawner: { profile_list: profiles(true) } });
    await eventually(async () => (await info(hub!)).ready === true, 15_000);
    const before = pullers();
    await hub.close();

    hub = await startK8sHub(s.kubeconfig, {
      KubeSpawner: { prepuller_enabled: true, prepuller_extra_images: ['busybox:1.36'] },
      Spawner: { profile_list: profiles(false) },
    });
    await eventually(() => pullers().length === 1, 10_000);
    const after = pullers()[0]!;
    expect(after.metadata.uid).toBe(before[0]!.metadata.uid); // updated in place, not recreated
    expect(after.metadata.generation).toBeGreaterThan(before[0]!.metadata.generation ?? 1);
    expect(after.spec.template.spec.initContainers.map((c: { image: string }) => c.image)).toEqual([IMAGE, 'busybox:1.36', DS_IMAGE]);
    await eventually(async () => (await info(hub!)).ready === true, 15_000);
    expect(s.sim.nodes.cachedImages('cpu-1')).toContain('busybox:1.36');
  });

  it('a node with no room leaves its puller Pending: numberReady stays below desiredNumberScheduled', async () => {
    const s = await setUp({ nodes: [{ name: 'cpu-1' }, { name: 'full-1', allocatable: { cpu: '4', memory: '16Gi', pods: '0' } }] });
    hub = await startK8sHub(s.kubeconfig, { KubeSpawner: { prepuller_enabled: true } });
    await eventually(async () => (await info(hub!)).daemonsets[0].ready === 1, 10_000);
    const p = await info(hub);
    expect(p.ready).toBe(false);
    expect(p.daemonsets[0]).toMatchObject({ desired: 2, ready: 1 });
    const pending = s.sim.list('pods', NAMESPACE).filter((x) => x.metadata.name!.startsWith('nodehub-image-puller-') && x.status?.phase === 'Pending');
    expect(pending).toHaveLength(1);
  });

  it("after prepuller_scheduling_wait a full node no longer holds readiness back (z2jh's awaiter: ready >= current)", async () => {
    const s = await setUp({ nodes: [{ name: 'cpu-1' }, { name: 'full-1', allocatable: { cpu: '4', memory: '16Gi', pods: '0' } }] });
    hub = await startK8sHub(s.kubeconfig, { KubeSpawner: { prepuller_enabled: true, prepuller_scheduling_wait: 1 } });
    await eventually(async () => (await info(hub!)).ready === true, 15_000);
    // still not every eligible node: the relaxed rule is what made it ready
    expect((await info(hub)).daemonsets[0]).toMatchObject({ desired: 2, current: 1, ready: 1 });
  });

  it('a hub whose Role does not cover DaemonSets reports the refusal, and still spawns', async () => {
    const s = await setUp();
    const { writeFileSync } = await import('node:fs');
    s.sim.addToken('pods-only', {
      user: 'system:serviceaccount:jhub:hub',
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
        { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
      ],
    });
    writeFileSync(`${dir}/pods-only`, s.sim.kubeconfigFor('pods-only', NAMESPACE).yaml);
    hub = await startK8sHub(`${dir}/pods-only`, { KubeSpawner: { prepuller_enabled: true } });
    await eventually(async () => /daemonsets.apps is forbidden/.test((await info(hub!)).error ?? ''), 10_000);
    expect((await info(hub)).ready).toBe(false);
    expect((await hub.api('/users/bea', { method: 'POST' })).status).toBe(201);
    await hub.api('/users/bea/server', { method: 'POST' });
    expect((await readProgress(hub, 'bea')).at(-1)).toMatchObject({ ready: true });
  });
});
