// Failure shapes a fail-fast spawner must recognise (spec 1.14, 6.8; Appendix A 4-7): image pull errors, invalid
// images, unschedulable pods, missing or failing volumes, crash loops, config and start errors, eviction.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from './k8s-sim/index.ts';
import { podManifest, SLEEPER, TestClient } from './k8s-sim/testing.ts';

const PODS = '/api/v1/namespaces/default/pods';
let sim: Simulator;
let k: TestClient;

beforeEach(async () => {
  sim = await createSimulator({ timing: { imagePullBackoffMs: 100, crashBackoffMs: 100, mountRetryMs: 50 } });
  k = new TestClient(sim.url, sim.token);
});
afterEach(async () => {
  await sim.close();
});

const waiting = (name: string, reason: string, ms = 5000) =>
  sim.waitFor('pods', 'default', name, (p) => p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === reason, ms);

/** Polls `fn` until it returns something (for Event lists, which have no single object to wait on). */
async function eventually<T>(fn: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function events(pod: string): Promise<any[]> {
  return (await k.get(`/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=${pod}`)).body.items;
}

describe('image pulls', () => {
  it('shows ErrImagePull then ImagePullBackOff with Warning events, and recovers when the fault clears', async () => {
    sim.faults.imagePullError('sim/missing:1', 'manifest unknown');
    await k.post(PODS, podManifest('pull', SLEEPER, { image: 'sim/missing:1' }));
    const first = (await waiting('pull', 'ErrImagePull'))!;
    expect(first.status.containerStatuses[0].state.waiting.message).toBe('manifest unknown');
    expect(first.status.phase).toBe('Pending');
    const backoff = (await waiting('pull', 'ImagePullBackOff'))!;
    expect(backoff.status.containerStatuses[0].state.waiting.message).toBe('Back-off pulling image "sim/missing:1"');
    const items = await events('pull');
    const text = items.map((e) => `${e.type} ${e.reason} ${e.message}`);
    expect(text).toContain('Warning Failed Failed to pull image "sim/missing:1": manifest unknown');
    expect(text).toContain('Warning Failed Error: ErrImagePull');
    expect(text).toContain('Normal BackOff Back-off pulling image "sim/missing:1"');
    expect(text).toContain('Warning Failed Error: ImagePullBackOff');
    // retries bump the count of the same event instead of adding new ones
    await sim.waitFor('events', 'default', items.find((e) => e.reason === 'Pulling').metadata.name, (e) => (e as any)?.count >= 2);

    sim.faults.clearImagePullError('sim/missing:1');
    await sim.waitFor('pods', 'default', 'pull', (p) => p?.status?.phase === 'Running');
  });

  it('reports InvalidImageName for a malformed reference and ErrImageNeverPull for pull policy Never', async () => {
    await k.post(PODS, podManifest('bad-ref', SLEEPER, { image: 'Not A/Valid:Image' }));
    await waiting('bad-ref', 'InvalidImageName');
    const never = podManifest('never', SLEEPER, { image: 'sim/absent:2' });
    never.spec.containers[0].imagePullPolicy = 'Never';
    await k.post(PODS, never);
    const p = (await waiting('never', 'ErrImageNeverPull'))!;
    expect(p.status.containerStatuses[0].state.waiting.message).toBe('Container image "sim/absent:2" is not present with pull policy of Never');
  });

  it('takes the configured per-image pull time', async () => {
    sim.images.set('sim/big:1', { pullMs: 400 });
    const t = Date.now();
    await k.post(PODS, podManifest('big', SLEEPER, { image: 'sim/big:1' }));
    await sim.waitFor('pods', 'default', 'big', (p) => p?.status?.phase === 'Running');
    expect(Date.now() - t).toBeGreaterThanOrEqual(400);
  });
});

describe('scheduling', () => {
  it('leaves a pod with an unmatched nodeSelector Unschedulable with a scheduler-style FailedScheduling event', async () => {
    await k.post(PODS, podManifest('gpu', SLEEPER, { spec: { nodeSelector: { 'nvidia.com/gpu.present': 'true' } } }));
    const p = (await sim.waitFor('pods', 'default', 'gpu', (o) => o?.status?.conditions?.some((c: any) => c.reason === 'Unschedulable')))!;
    const message = "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
    expect(p.status.conditions).toEqual([expect.objectContaining({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message })]);
    const [event] = await events('gpu');
    expect(event).toMatchObject({ type: 'Warning', reason: 'FailedScheduling', message, firstTimestamp: null, lastTimestamp: null, reportingComponent: 'default-scheduler' });
    expect(event.eventTime).toBeTruthy();

    // a matching node arriving lets the scheduler retry and bind
    sim.nodes.add({ name: 'gpu-1', labels: { 'nvidia.com/gpu.present': 'true' } });
    const bound = (await sim.waitFor('pods', 'default', 'gpu', (o) => o?.status?.phase === 'Running'))!;
    expect(bound.spec.nodeName).toBe('gpu-1');
  });

  it('words resource shortages, taints and missing nodes like the scheduler', async () => {
    const big = podManifest('huge', SLEEPER);
    big.spec.containers[0].resources = { requests: { memory: '64Gi', cpu: '1' } };
    await k.post(PODS, big);
    let p = (await sim.waitFor('pods', 'default', 'huge', (o) => o?.status?.conditions?.[0]?.reason === 'Unschedulable'))!;
    expect(p.status.conditions[0].message).toMatch(/^0\/1 nodes are available: 1 Insufficient memory\./);

    const undo = sim.faults.unschedulable('taint');
    await k.post(PODS, podManifest('tainted', SLEEPER));
    p = (await sim.waitFor('pods', 'default', 'tainted', (o) => o?.status?.conditions?.[0]?.reason === 'Unschedulable'))!;
    expect(p.status.conditions[0].message).toMatch(/^0\/1 nodes are available: 1 node\(s\) had untolerated taint \{k8s-sim\/fault: unschedulable\}/);
    undo();
    await sim.waitFor('pods', 'default', 'tainted', (o) => o?.status?.phase === 'Running');

    sim.faults.unschedulable('no-nodes');
    await k.post(PODS, podManifest('lonely', SLEEPER));
    p = (await sim.waitFor('pods', 'default', 'lonely', (o) => o?.status?.conditions?.[0]?.reason === 'Unschedulable'))!;
    expect(p.status.conditions[0].message).toBe('no nodes available to schedule pods');
    sim.faults.clear();
    await sim.waitFor('pods', 'default', 'lonely', (o) => o?.status?.phase === 'Running');
  });

  it('schedules onto a tainted node when the pod tolerates the taint', async () => {
    sim.nodes.taint('node-1', { key: 'hub.jupyter.org/dedicated', value: 'user', effect: 'NoSchedule' });
    await k.post(PODS, podManifest('tol', SLEEPER, { spec: { tolerations: [{ key: 'hub.jupyter.org/dedicated', operator: 'Equal', value: 'user', effect: 'NoSchedule' }] } }));
    await sim.waitFor('pods', 'default', 'tol', (o) => o?.status?.phase === 'Running');
  });
});

describe('volumes', () => {
  const withClaim = (name: string, claim: string) =>
    podManifest(name, SLEEPER, { spec: { volumes: [{ name: 'home', persistentVolumeClaim: { claimName: claim, readOnly: true } }] } });

  it('cannot schedule a pod whose claim is missing or unbound', async () => {
    await k.post(PODS, withClaim('noclaim', 'home-nfs'));
    let p = (await sim.waitFor('pods', 'default', 'noclaim', (o) => o?.status?.conditions?.[0]?.reason === 'Unschedulable'))!;
    expect(p.status.conditions[0].message).toMatch(/^0\/1 nodes are available: persistentvolumeclaim "home-nfs" not found\./);
    await k.post('/api/v1/namespaces/default/persistentvolumeclaims', { metadata: { name: 'slow-nfs', annotations: { 'k8s-sim/phase': 'Pending' } }, spec: { accessModes: ['ReadOnlyMany'] } });
    await k.post(PODS, withClaim('unbound', 'slow-nfs'));
    p = (await sim.waitFor('pods', 'default', 'unbound', (o) => o?.status?.conditions?.[0]?.reason === 'Unschedulable'))!;
    expect(p.status.conditions[0].message).toMatch(/pod has unbound immediate PersistentVolumeClaims/);
    // creating the claim is a cluster change: the scheduler retries
    const pvc = await k.post('/api/v1/namespaces/default/persistentvolumeclaims', { metadata: { name: 'home-nfs' }, spec: { accessModes: ['ReadOnlyMany'] } });
    expect(pvc.body.status.phase).toBe('Bound');
    await sim.waitFor('pods', 'default', 'noclaim', (o) => o?.status?.phase === 'Running');
  });

  it('repeats FailedMount while a mount fails and keeps the container in ContainerCreating', async () => {
    await k.post('/api/v1/namespaces/default/persistentvolumeclaims', { metadata: { name: 'home-nfs' }, spec: {} });
    sim.faults.mountError('home-nfs', 'mount.nfs: Connection timed out');
    await k.post(PODS, withClaim('mnt', 'home-nfs'));
    const name = await eventually(async () => (await events('mnt')).find((x) => x.reason === 'FailedMount' && x.count >= 2));
    expect(name).toMatchObject({ type: 'Warning', message: 'MountVolume.SetUp failed for volume "home" : mount.nfs: Connection timed out' });
    const p = sim.get('pods', 'default', 'mnt')!;
    expect(p.status.containerStatuses[0].state.waiting.reason).toBe('ContainerCreating');
    expect(p.status.podIP).toBeUndefined();
    sim.faults.clearMountError('home-nfs');
    await sim.waitFor('pods', 'default', 'mnt', (o) => o?.status?.phase === 'Running');
  });

  it('fails the mount of a missing secret volume', async () => {
    await k.post(PODS, podManifest('sec', SLEEPER, { spec: { volumes: [{ name: 'creds', secret: { secretName: 'nope' } }] } }));
    const e = await eventually(async () => (await events('sec')).find((x) => x.reason === 'FailedMount'));
    expect(e.message).toBe('MountVolume.SetUp failed for volume "creds" : secret "nope" not found');
  });
});

describe('containers that fail', () => {
  it('enters CrashLoopBackOff with lastState and a BackOff event, phase staying Running', async () => {
    sim.faults.crashImage('sim/crashy:1', 7);
    await k.post(PODS, podManifest('crash', SLEEPER, { image: 'sim/crashy:1' }));
    const p = (await waiting('crash', 'CrashLoopBackOff'))!;
    const cs = p.status.containerStatuses[0];
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 7, reason: 'Error' });
    expect(cs.restartCount).toBeGreaterThanOrEqual(1);
    expect(cs.state.waiting.message).toMatch(/^back-off \d+s restarting failed container=notebook pod=crash_default\(/);
    expect(p.status.phase).toBe('Running');
    const backoff = (await events('crash')).find((e) => e.reason === 'BackOff');
    expect(backoff).toMatchObject({ type: 'Warning' });
    expect(backoff.message).toMatch(/^Back-off restarting failed container notebook in pod crash_default\(/);
  });

  it('crash() kills a running container once; it restarts with restartCount 1', async () => {
    await k.post(PODS, podManifest('once', SLEEPER));
    await sim.waitFor('pods', 'default', 'once', (o) => o?.status?.containerStatuses?.[0]?.ready);
    expect(sim.faults.crash('default', 'once', { exitCode: 137, reason: 'OOMKilled' })).toBe(true);
    const p = (await sim.waitFor('pods', 'default', 'once', (o) => o?.status?.containerStatuses?.[0]?.restartCount === 1 && !!o.status.containerStatuses[0].state.running))!;
    expect(p.status.containerStatuses[0].lastState.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
  });

  it('reports CreateContainerConfigError for a missing secret key and StartError for a missing executable', async () => {
    await k.post(PODS, podManifest('cfg', SLEEPER, { env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'hub-secret', key: 'token' } } }] }));
    const p = (await waiting('cfg', 'CreateContainerConfigError'))!;
    expect(p.status.containerStatuses[0].state.waiting.message).toBe('secret "hub-secret" not found');
    await k.post('/api/v1/namespaces/default/secrets', { metadata: { name: 'hub-secret' }, data: { token: Buffer.from('s3cret').toString('base64') } });
    await sim.waitFor('pods', 'default', 'cfg', (o) => o?.status?.phase === 'Running');

    await k.post(PODS, podManifest('noexec', ['/no/such/binary']));
    const q = (await sim.waitFor('pods', 'default', 'noexec', (o) => !!o?.status?.containerStatuses?.[0]?.lastState?.terminated || !!o?.status?.containerStatuses?.[0]?.state?.terminated))!;
    const term = q.status.containerStatuses[0].lastState.terminated ?? q.status.containerStatuses[0].state.terminated;
    expect(term).toMatchObject({ reason: 'StartError', exitCode: 128 });
    expect(term.message).toMatch(/executable file not found/);
    expect(q.status.phase).toBe('Pending');
  });

  it('evicts: phase Failed, reason Evicted, DisruptionTarget, containers killed', async () => {
    await k.post(PODS, podManifest('ev', SLEEPER));
    await sim.waitFor('pods', 'default', 'ev', (o) => o?.status?.phase === 'Running');
    expect(await sim.faults.evict('default', 'ev')).toBe(true);
    const p = sim.get('pods', 'default', 'ev')!;
    expect(p.status).toMatchObject({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory. ' });
    expect(p.status.conditions.find((c: any) => c.type === 'DisruptionTarget')).toMatchObject({ status: 'True', reason: 'TerminationByKubelet' });
    expect(p.status.containerStatuses[0].state.terminated.exitCode).toBe(137);
    expect(sim.processes()).toEqual([]);
    // a terminal pod is removed at once on delete
    await k.delete(`${PODS}/ev`);
    expect(sim.get('pods', 'default', 'ev')).toBeUndefined();
  });
});
