// Fail fast (spec 1.15; Appendix A 2, 4, 5, 6, 7): a pod that cannot start ends its spawn within seconds, with the
// reason in the progress stream and on the pending page, and the pod deleted; KubeSpawner would wait out its timeout.
// Also the 409 of a stale pod with the same name (spec 1.10), bad profile traits, and an API outage at create.
// No spawn here is timed: start_timeout is set past the test's own timeout, so waiting it out fails the test, and each
// failure must carry its own reason, not a timeout's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Simulator } from './k8s-sim/index.ts';
import { SLEEPER } from './k8s-sim/testing.ts';
import { eventually, type TestHub } from './support/hub.ts';
import { login } from './hub-protocol-support.ts';
import { IMAGE, NAMESPACE, readProgress, startK8sHub, startSim } from './support/k8s-hub.ts';

const profile = (slug: string, kubespawner_override: Record<string, unknown>) => ({ display_name: slug, slug, kubespawner_override });

let sim: Simulator;
let hub: TestHub;
let dir: string;

beforeAll(async () => {
  const s = await startSim({ timing: { imagePullBackoffMs: 300, crashBackoffMs: 200, mountRetryMs: 150 } });
  sim = s.sim;
  dir = s.dir;
  for (const name of ['home-nfs', 'broken-nfs']) {
    sim.create('persistentvolumeclaims', NAMESPACE, {
      metadata: { name }, spec: { accessModes: ['ReadOnlyMany'], resources: { requests: { storage: '1Gi' } }, volumeName: name }, status: { phase: 'Bound' },
    });
  }
  hub = await startK8sHub(s.kubeconfig, {
    KubeSpawner: { start_timeout: 600 },
    Spawner: {
      profile_list: [
        profile('default', {}),
        profile('missing-image', { image: 'nodehub-test/missing:1' }),
        profile('flaky-image', { image: 'nodehub-test/flaky:1' }),
        profile('bad-reference', { image: 'Not A/Valid:Image' }),
        profile('cuda', { node_selector: { gpu: 'true' }, extra_resource_limits: { 'nvidia.com/gpu': '1' }, extra_resource_guarantees: { 'nvidia.com/gpu': '1' } }),
        profile('huge', { mem_guarantee: '64G', mem_limit: '64G' }),
        profile('crashy', { image: 'nodehub-test/crash:1' }),
        profile('broken-mount', {
          volumes: [{ name: 'shared', persistentVolumeClaim: { claimName: 'broken-nfs', readOnly: true } }],
          volume_mounts: [{ name: 'shared', mountPath: '/home/jovyan/shared', subPath: '_shared', readOnly: true }],
        }),
        profile('missing-claim', { volumes: [{ name: 'shared', persistentVolumeClaim: { claimName: 'nope', readOnly: true } }] }),
        // Listed overrides are checked at start-up; free text can only be checked once a visitor types it.
        { ...profile('bad-trait', {}), profile_options: { cpu: { display_name: 'CPUs', unlisted_choice: { enabled: true, kubespawner_override: { cpu_limit: '{value}' } } } } },
      ],
    },
  });
  sim.faults.imagePullError('nodehub-test/missing:1', 'failed to resolve reference "nodehub-test/missing:1": not found');
  sim.faults.crashImage('nodehub-test/crash:1', 3);
  sim.faults.mountError('broken-nfs', 'mount.nfs: Connection timed out');
});

afterAll(async () => {
  await hub?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Spawns `user` with `options` and returns the progress events up to the end, and how long the spawn took (for the
 *  lower bounds of the product's own timers only). */
async function spawn(user: string, options: Record<string, unknown> = {}) {
  expect((await hub.api(`/users/${user}`, { method: 'POST' })).status).toBe(201);
  const t0 = Date.now();
  const res = await hub.api(`/users/${user}/server`, { method: 'POST', body: JSON.stringify(options), headers: { 'content-type': 'application/json' } });
  // 500 when the spawn has already failed within slow_spawn_timeout, as JupyterHub answers
  expect([201, 202, 500]).toContain(res.status);
  const events = await readProgress(hub, user);
  return { events, last: events.at(-1)!, ms: Date.now() - t0 };
}

/** The failed start's clean-up (pod deleted, record released) follows the failure event within moments. */
async function expectCleanedUp(user: string): Promise<void> {
  await eventually(async () => Object.keys((await (await hub.api(`/users/${user}`)).json()).servers).length === 0, 15_000);
  expect(sim.get('pods', NAMESPACE, `jupyter-${user}`)).toBeUndefined();
  expect(sim.processes().filter((p) => p.pod === `jupyter-${user}`)).toEqual([]);
}

describe('fail fast', () => {
  it('an image that cannot be pulled fails the start in seconds, with the reason on the pending page', async () => {
    const { events, last } = await spawn('pull', { profile: 'missing-image' });
    expect(last).toMatchObject({ failed: true, progress: 100 });
    expect(last.message).toMatch(/^Spawn failed: Could not pull image "nodehub-test\/missing:1" for the server container \(ErrImagePull\).*not found/);
    expect(events.some((e) => /^\S+ \[Warning\] Failed to pull image "nodehub-test\/missing:1"/.test(e.message))).toBe(true);
    await expectCleanedUp('pull');
    // the visitor's pending page says why
    const cookie = await login(hub, 'pull');
    const page = await fetch(`${hub.origin}/hub/spawn-pending/pull`, { headers: { cookie }, redirect: 'manual' });
    expect(page.status).toBe(500);
    const html = await page.text();
    expect(html).toContain('Spawn failed');
    expect(html).toContain('Could not pull image &quot;nodehub-test/missing:1&quot;');
  });

  it('ImagePullBackOff of a transient-looking error fails too (after the first back-off), InvalidImageName at once', async () => {
    sim.faults.imagePullError('nodehub-test/flaky:1', 'rpc error: code = Unavailable desc = connection reset by peer');
    const flaky = await spawn('flaky', { profile: 'flaky-image' });
    expect(flaky.last.message).toMatch(/^Spawn failed: Could not pull image "nodehub-test\/flaky:1" for the server container \(ImagePullBackOff\): Failed to pull image .*connection reset by peer/);
    const bad = await spawn('badref', { profile: 'bad-reference' });
    expect(bad.last.message).toMatch(/^Spawn failed: InvalidImageName for the server container: .*invalid reference format/);
    await expectCleanedUp('badref');
  });

  it('no GPU node for the cuda profile, or not enough memory: unschedulable fails after unschedulable_timeout', async () => {
    const gpu = await spawn('gpu', { profile: 'cuda' });
    expect(gpu.last.message).toMatch(/^Spawn failed: The pod cannot be scheduled: 0\/1 nodes are available: .*nvidia\.com\/gpu|node affinity|selector/);
    expect(gpu.events.some((e) => /^\S+ \[Warning\] 0\/1 nodes are available/.test(e.message))).toBe(true);
    expect(gpu.ms).toBeGreaterThanOrEqual(900); // it waited for a scale-up that never came
    await expectCleanedUp('gpu');
    const huge = await spawn('huge', { profile: 'huge' });
    expect(huge.last.message).toMatch(/Insufficient memory/);
    await expectCleanedUp('huge');
  });

  it('an unschedulable pod for which a cluster autoscaler announced a scale-up is waited for', async () => {
    expect((await hub.api('/users/scale', { method: 'POST' })).status).toBe(201);
    await hub.api('/users/scale/server', { method: 'POST', body: JSON.stringify({ profile: 'cuda' }), headers: { 'content-type': 'application/json' } });
    const pod = (await sim.waitFor('pods', NAMESPACE, 'jupyter-scale', (p) => !!p))!;
    sim.create('events', NAMESPACE, {
      metadata: { name: 'jupyter-scale.scaleup' },
      involvedObject: { kind: 'Pod', namespace: NAMESPACE, name: 'jupyter-scale', uid: pod.metadata.uid, apiVersion: 'v1' },
      reason: 'TriggeredScaleUp', type: 'Normal', count: 1, source: { component: 'cluster-autoscaler' },
      message: 'pod triggered scale-up: [{gpu-pool 0->1 (max: 3)}]',
    });
    // well past unschedulable_timeout (1 s), the node arrives
    await new Promise((r) => setTimeout(r, 2000));
    sim.nodes.add({ name: 'gpu-1', labels: { gpu: 'true' }, allocatable: { cpu: '4', memory: '16Gi', pods: '110', 'nvidia.com/gpu': '1' } });
    const events = await readProgress(hub, 'scale');
    expect(events.at(-1)).toMatchObject({ ready: true });
    expect(events.some((e) => /^\S+ \[Normal\] pod triggered scale-up/.test(e.message))).toBe(true);
    await hub.api('/users/scale/server', { method: 'DELETE' });
    sim.nodes.remove('gpu-1');
  });

  it('a server that crashes fails with its exit code at its first exit (or CrashLoopBackOff, if seen first)', async () => {
    const { last } = await spawn('crash', { profile: 'crashy' });
    expect(last.message).toMatch(/^Spawn failed: The server (exited with code 3 \(Error\)|container keeps crashing \(exit code 3, Error; restarted \d+ times, CrashLoopBackOff\))/);
    await expectCleanedUp('crash');
  });

  it('a volume that cannot be mounted (NFS down) fails on repeated FailedMount; a missing claim is unschedulable', async () => {
    const mount = await spawn('mount', { profile: 'broken-mount' });
    expect(mount.last.message).toMatch(/^Spawn failed: Could not mount the pod's volumes: .*mount\.nfs: Connection timed out/);
    await expectCleanedUp('mount');
    const claim = await spawn('claim', { profile: 'missing-claim' });
    expect(claim.last.message).toMatch(/persistentvolumeclaim "nope" not found/);
    await expectCleanedUp('claim');
  });

  it('free text that makes a bad setting is a 400 naming it, without touching the cluster', async () => {
    const before = sim.stats().byVerb.create ?? 0;
    expect((await hub.api('/users/traits', { method: 'POST' })).status).toBe(201);
    const res = await hub.api('/users/traits/server', {
      method: 'POST', body: JSON.stringify({ profile: 'bad-trait', 'cpu--unlisted-choice': 'lots' }), headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/cpu_limit must be a number of CPUs/);
    expect(sim.stats().byVerb.create ?? 0).toBe(before);
  });
});

describe('409 from a stale pod (spec 1.10)', () => {
  it('deletes a leftover pod of the same name and starts a fresh one', async () => {
    const stale = sim.create('pods', NAMESPACE, {
      metadata: { name: 'jupyter-dave', labels: { component: 'singleuser-server' } },
      spec: { containers: [{ name: 'notebook', image: IMAGE, command: SLEEPER }] },
    });
    const { events, last } = await spawn('dave');
    expect(last).toMatchObject({ ready: true });
    expect(events.some((e) => /already exists .* replacing it/.test(e.message))).toBe(true);
    const pod = sim.get('pods', NAMESPACE, 'jupyter-dave')!;
    expect(pod.metadata.uid).not.toBe(stale.metadata.uid);
    expect(pod.metadata.labels?.['app.kubernetes.io/instance']).toBe('nodehub');
    await hub.api('/users/dave/server', { method: 'DELETE' });
  });

  it('also while the leftover is still terminating (409 "object is being deleted")', async () => {
    sim.create('pods', NAMESPACE, {
      metadata: { name: 'jupyter-erin' },
      spec: { terminationGracePeriodSeconds: 60, containers: [{ name: 'notebook', image: IMAGE, command: ['sh', '-c', 'trap "" TERM; sleep 120'] }] },
    });
    await sim.waitFor('pods', NAMESPACE, 'jupyter-erin', (p) => p?.status?.phase === 'Running');
    sim.delete('pods', NAMESPACE, 'jupyter-erin', { gracePeriodSeconds: 60 });
    expect(sim.get('pods', NAMESPACE, 'jupyter-erin')?.metadata.deletionTimestamp).toBeTruthy();
    const { last } = await spawn('erin'); // not after the leftover's 60 s grace period: past the test's timeout
    expect(last).toMatchObject({ ready: true });
    await hub.api('/users/erin/server', { method: 'DELETE' });
  });
});

describe('a create whose answer comes after the hub gave up on it', () => {
  it('is the pod the retry finds (its own server token): taken as created, not deleted and made again', async () => {
    // past k8s_api_request_timeout (3 s): the hub retries, and the retry's 409 names the pod the first create made
    sim.faults.delayAnswers({ verb: 'create', resource: 'pods', ms: 3500 });
    const first = sim.waitFor('pods', NAMESPACE, 'jupyter-hank', (p) => !!p);
    const spawned = spawn('hank');
    const uid = (await first)!.metadata.uid;
    const { events, last } = await spawned;
    expect(last).toMatchObject({ ready: true });
    expect(events.some((e) => /already exists/.test(e.message))).toBe(false);
    expect(sim.get('pods', NAMESPACE, 'jupyter-hank')!.metadata.uid).toBe(uid);
    await hub.api('/users/hank/server', { method: 'DELETE' });
  });
});

describe('API trouble at create', () => {
  it('an API server down when the hub starts: the hub serves at once, a spawn says it waits for the API, then starts', async () => {
    const s = await startSim();
    s.sim.faults.outage({ status: 503 });
    // the retry time is far past the test's timeout: a hub that waited for the API before serving would fail the test
    const downHub = await startK8sHub(s.kubeconfig, { KubeSpawner: { k8s_api_request_retry_timeout: 600 } });
    try {
      const info = await (await downHub.api('/info')).json();
      expect(info.kubernetes.informer.synced).toBe(false);
      expect((await downHub.api('/users/gina', { method: 'POST' })).status).toBe(201);
      await downHub.api('/users/gina/server', { method: 'POST' });
      const progress = downHub.api('/users/gina/server/progress').then((r) => r.text());
      await eventually(async () => (await (await downHub.api('/users/gina')).json()).pending === 'spawn');
      s.sim.faults.endOutage();
      const text = await progress;
      expect(text).toContain('Waiting for the Kubernetes API at http://127.0.0.1:');
      expect(text).toContain('"ready":true');
    } finally {
      await downHub.close();
      await s.sim.close();
      rmSync(s.dir, { recursive: true, force: true });
    }
  });

  it('an API outage fails the start once the retry time is used up, with the status', async () => {
    const s = await startSim();
    const outageHub = await startK8sHub(s.kubeconfig, { KubeSpawner: { k8s_api_request_retry_timeout: 2 } });
    try {
      // the informer has listed; then the API goes away
      await eventually(() => (s.sim.stats().byVerb.list ?? 0) > 0);
      s.sim.faults.outage({ status: 503 });
      expect((await outageHub.api('/users/frank', { method: 'POST' })).status).toBe(201);
      await outageHub.api('/users/frank/server', { method: 'POST' });
      const last = (await readProgress(outageHub, 'frank')).at(-1)!;
      expect(last.message).toMatch(/^Spawn failed: Kubernetes did not create pod jupyter-frank: /);
      s.sim.faults.endOutage();
    } finally {
      await outageHub.close();
      await s.sim.close();
      rmSync(s.dir, { recursive: true, force: true });
    }
  });
});
