// The pre-puller and profile_options (z2jh 3.2): every listed choice's image is pulled, on the nodes that choice may
// run on; free-text ("Other...") images are not, their image is whatever a visitor types. Through the Kubernetes
// simulator: the DaemonSets' init containers, and a pod with a chosen image that starts without a pull.
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Simulator } from './k8s-sim/index.ts';
import { eventually, type TestHub } from './support/hub.ts';
import { IMAGE, NAMESPACE, readProgress, startK8sHub, startSim } from './support/k8s-hub.ts';

const DS = 'quay.io/jupyter/datascience-notebook:2025-01-01';
const R = 'quay.io/jupyter/r-notebook:2025-01-01';
const CUDA = 'quay.io/jupyter/pytorch-notebook:cuda12-2025-01-01';
const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' as const };

const profiles = [
  {
    display_name: 'Choose', slug: 'choose',
    profile_options: {
      image: {
        choices: {
          ds: { kubespawner_override: { image: DS } },
          r: { default: true, kubespawner_override: { image: R } },
          // a choice can move the pod to other nodes; its image goes there
          cuda: { kubespawner_override: { image: CUDA, node_selector: { gpu: 'true' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] } },
        },
        unlisted_choice: { enabled: true, kubespawner_override: { image: '{value}' } },
      },
    },
  },
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

describe('pre-puller and profile_options', () => {
  it('pulls every listed choice image where that choice runs, never the free-text one', async () => {
    const s = await startSim({
      nodes: [{ name: 'cpu-1' }, { name: 'gpu-1', labels: { gpu: 'true' }, taints: [GPU_TAINT] }],
      images: { [IMAGE]: { pullMs: 100 }, [DS]: { pullMs: 100 }, [R]: { pullMs: 100 }, [CUDA]: { pullMs: 100 } },
    });
    sim = s.sim;
    dir = s.dir;
    hub = await startK8sHub(s.kubeconfig, { KubeSpawner: { prepuller_enabled: true }, Spawner: { profile_list: profiles } });
    const info = async () => (await (await hub!.api('/info')).json()).prepuller;
    await eventually(async () => (await info()).ready === true, 15_000);

    const ds = sim.list('daemonsets', NAMESPACE).sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
    const images = (d: (typeof ds)[number]) => d.spec.template.spec.initContainers.map((c: { image: string }) => c.image);
    expect(ds.map((d) => d.metadata.name)).toEqual(['nodehub-image-puller', expect.stringMatching(/^nodehub-image-puller-[0-9a-f]{8}$/)]);
    // the default choice first (the profile as a visitor without options gets it), then the others in order
    expect(images(ds[0]!)).toEqual([IMAGE, R, DS]);
    expect(images(ds[1]!)).toEqual([CUDA]);
    expect(ds[1]!.spec.template.spec.nodeSelector).toEqual({ gpu: 'true' });
    expect(JSON.stringify(ds)).not.toContain('{value}');
    expect((await info()).daemonsets.map((d: { profiles: string[] }) => d.profiles)).toEqual([['', 'choose'], ['choose']]);
    expect(s.sim.nodes.cachedImages('cpu-1')).toEqual(expect.arrayContaining([R, DS]));
    expect(s.sim.nodes.cachedImages('cpu-1')).not.toContain(CUDA);
    expect(s.sim.nodes.cachedImages('gpu-1')).toContain(CUDA);

    // a visitor who picks a listed choice finds its image on the node
    expect((await hub.api('/users/ann', { method: 'POST' })).status).toBe(201);
    const r = await hub.api('/users/ann/server', { method: 'POST', body: JSON.stringify({ profile: 'choose', image: 'ds' }), headers: { 'content-type': 'application/json' } });
    expect([201, 202]).toContain(r.status);
    const messages = (await readProgress(hub, 'ann')).map((e) => e.message as string);
    // KubeSpawner 7's progress format: "<timestamp> [Normal] <message>".
    expect(messages.some((m) => m.endsWith(`[Normal] Container image "${DS}" already present on machine`))).toBe(true);
    const pod = sim.list('pods', NAMESPACE).find((p) => p.metadata.name === 'jupyter-ann')!;
    expect(pod.spec.containers[0].image).toBe(DS);
  });
});
