// The simulator's claim binding (k8s-sim/volumes.ts): a claim of a provisioned class goes Pending → Bound, at once
// (Immediate) or once its first pod has a node (WaitForFirstConsumer); a pod on an unbound claim waits Pending; a
// claim whose class is missing or whose provisioner fails stays Pending with repeated ProvisioningFailed Warnings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from './k8s-sim/index.ts';
import { podManifest, SLEEPER, TestClient } from './k8s-sim/testing.ts';

const NS = '/api/v1/namespaces/default';
let sim: Simulator;
let k: TestClient;

beforeAll(async () => {
  sim = await createSimulator({
    timing: { provisionRetryMs: 50 },
    storageClasses: {
      standard: { default: true, provisionMs: 1000 },
      local: { bindingMode: 'WaitForFirstConsumer', provisioner: 'rancher.io/local-path' },
      broken: { error: 'rpc error: code = ResourceExhausted desc = quota exceeded' },
    },
  });
  k = new TestClient(sim.url, sim.token);
});
afterAll(() => sim.close());

const claim = (name: string, storageClassName?: string) => ({
  metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...(storageClassName ? { storageClassName } : {}) },
});
const withClaim = (name: string, claimName: string) => podManifest(name, SLEEPER, { spec: { volumes: [{ name: 'home', persistentVolumeClaim: { claimName } }] } });
const eventsOf = async (name: string) => (await k.get(`${NS}/events?fieldSelector=involvedObject.kind=PersistentVolumeClaim,involvedObject.name=${name}`)).body.items;

describe('claims', () => {
  it('binds a claim of the default class after provisioning; its pod waits Pending meanwhile', async () => {
    const created = (await k.post(`${NS}/persistentvolumeclaims`, claim('home-a'))).body;
    expect(created.spec.storageClassName).toBe('standard');
    expect(created.status.phase).toBe('Pending');
    await k.post(`${NS}/pods`, withClaim('a', 'home-a'));
    const pending = await sim.waitFor('pods', 'default', 'a', (p) => p?.status?.conditions?.some((c: any) => c.reason === 'Unschedulable'));
    expect(pending!.status.phase).toBe('Pending');
    expect(pending!.status.conditions[0].message).toMatch(/pod has unbound immediate PersistentVolumeClaims/);
    const bound = await sim.waitFor('persistentvolumeclaims', 'default', 'home-a', (p) => p?.status?.phase === 'Bound');
    expect(bound!.spec.volumeName).toBe(`pvc-${bound!.metadata.uid}`);
    expect(bound!.status.capacity).toEqual({ storage: '1Gi' });
    await sim.waitFor('pods', 'default', 'a', (p) => p?.status?.phase === 'Running');
    expect((await eventsOf('home-a')).map((e: any) => e.reason)).toEqual(['ExternalProvisioning', 'Provisioning', 'ProvisioningSucceeded']);
  });

  it('binds a WaitForFirstConsumer claim only once a pod using it has a node', async () => {
    await k.post(`${NS}/persistentvolumeclaims`, claim('home-b', 'local'));
    await new Promise((r) => setTimeout(r, 100));
    expect(sim.get('persistentvolumeclaims', 'default', 'home-b')!.status.phase).toBe('Pending');
    expect((await eventsOf('home-b')).map((e: any) => [e.reason, e.message])).toEqual([['WaitForFirstConsumer', 'waiting for first consumer to be created before binding']]);
    await k.post(`${NS}/pods`, withClaim('b', 'home-b'));
    const bound = await sim.waitFor('persistentvolumeclaims', 'default', 'home-b', (p) => p?.status?.phase === 'Bound');
    expect(bound!.metadata.annotations!['volume.kubernetes.io/selected-node']).toBe('node-1');
    const pod = await sim.waitFor('pods', 'default', 'b', (p) => p?.status?.phase === 'Running');
    expect(pod!.status.conditions.some((c: any) => c.reason === 'Unschedulable')).toBe(false);
  });

  it('leaves a claim Pending with repeated ProvisioningFailed when provisioning fails or the class is missing', async () => {
    await k.post(`${NS}/persistentvolumeclaims`, claim('home-c', 'broken'));
    await k.post(`${NS}/persistentvolumeclaims`, claim('home-d', 'nope'));
    for (const [name, message] of [['home-c', 'failed to provision volume with StorageClass "broken": rpc error: code = ResourceExhausted desc = quota exceeded'],
      ['home-d', 'storageclass.storage.k8s.io "nope" not found']]) {
      await expect.poll(async () => (await eventsOf(name)).find((e: any) => e.reason === 'ProvisioningFailed')?.count ?? 0, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
      const failed = (await eventsOf(name)).find((e: any) => e.reason === 'ProvisioningFailed');
      expect(failed).toMatchObject({ type: 'Warning', message });
      expect(sim.get('persistentvolumeclaims', 'default', name)!.status.phase).toBe('Pending');
    }
  });

  it('binds a claim without class at once, as before', async () => {
    const pvc = (await k.post(`${NS}/persistentvolumeclaims`, { metadata: { name: 'nfs' }, spec: { storageClassName: '', accessModes: ['ReadOnlyMany'] } })).body;
    expect(pvc.status.phase).toBe('Bound');
  });
});
