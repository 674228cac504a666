// KubeSpawner's per-user storage against the simulator's claim binding (issue #14 item 5): the claim is made before the
// first pod and shows its provisioning in the progress bar; it outlives stops and hub restarts (the same claim, even
// with a changed pvc_name_template: remember_pvc_name); a claim that cannot bind fails the start with the reason
// within unschedulable_timeout and is kept; deleting the user deletes the claim (delete_pvc). Manifests are checked
// against the Kubernetes schema (kubernetes-models).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PersistentVolumeClaim, Pod } from 'kubernetes-models/v1';
import type { Simulator } from './k8s-sim/index.ts';
import { eventually, type TestHub } from './support/hub.ts';
import { IMAGE, NAMESPACE, readProgress, startK8sHub, startSim } from './support/k8s-hub.ts';

let sim: Simulator;
let hub: TestHub;
let simDir: string;
let kubeconfig: string;
const adminToken = 'storage-admin-token-0123456789abcdef';
let hubDir: string;

const storage = (extra: Record<string, unknown> = {}) => ({
  JupyterHub: { allow_named_servers: true },
  KubeSpawner: {
    storage_pvc_ensure: true,
    storage_capacity: '2Gi',
    storage_extra_labels: { 'example.org/owner': '{username}' },
    volumes: { home: { name: 'home', persistentVolumeClaim: { claimName: '{pvc_name}' } } },
    volume_mounts: { home: { name: 'home', mountPath: '/home/jovyan' } },
    ...extra,
  },
  Spawner: {
    profile_list: [
      { display_name: 'Default', slug: 'default', default: true, kubespawner_override: {} },
      { display_name: 'Local disk', slug: 'local', kubespawner_override: { storage_class: 'local', pvc_name_template: 'local-{username}' } },
      { display_name: 'Broken', slug: 'broken', kubespawner_override: { storage_class: 'broken', pvc_name_template: 'broken-{username}' } },
      { display_name: 'Own disk per server', slug: 'own', kubespawner_override: { pvc_name_template: 'srv-{user_server}' } },
    ],
  },
});

async function spawn(user: string, profile?: string): Promise<Array<Record<string, any>>> {
  if ((await hub.api(`/users/${user}`)).status === 404) expect((await hub.api(`/users/${user}`, { method: 'POST' })).status).toBe(201);
  const res = await hub.api(`/users/${user}/server`, { method: 'POST', body: JSON.stringify(profile ? { profile } : {}), headers: { 'content-type': 'application/json' } });
  expect([201, 202, 500]).toContain(res.status);
  return readProgress(hub, user);
}

async function stop(user: string): Promise<void> {
  await hub.api(`/users/${user}/server`, { method: 'DELETE' });
  await eventually(() => !sim.get('pods', NAMESPACE, `jupyter-${user}`), 10_000);
}

beforeAll(async () => {
  const s = await startSim({
    images: { [IMAGE]: { pullMs: 50 } },
    storageClasses: {
      standard: { default: true, provisionMs: 300 },
      local: { bindingMode: 'WaitForFirstConsumer', provisioner: 'rancher.io/local-path' },
      broken: { error: 'rpc error: code = ResourceExhausted desc = quota exceeded' },
    },
  });
  ({ sim, kubeconfig } = s);
  simDir = s.dir;
  hubDir = mkdtempSync(join(tmpdir(), 'nodehub-storage-'));
  hub = await startK8sHub(kubeconfig, storage(), { dir: hubDir, adminToken });
});

afterAll(async () => {
  await hub?.close();
  await sim?.close();
  for (const d of [simDir, hubDir]) if (d) rmSync(d, { recursive: true, force: true });
});

describe('per-user claims', () => {
  it('makes the claim before the first pod, shows it binding, and mounts it', async () => {
    const events = await spawn('alice');
    expect(events.at(-1)).toMatchObject({ ready: true });
    const claim = sim.get('persistentvolumeclaims', NAMESPACE, 'claim-alice')!;
    expect(claim.status.phase).toBe('Bound');
    expect(claim.spec).toMatchObject({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } }, storageClassName: 'standard' });
    expect(claim.metadata.labels).toMatchObject({ component: 'singleuser-storage', 'app.kubernetes.io/component': 'singleuser-server',
      'hub.jupyter.org/username': 'alice', 'example.org/owner': 'alice' });
    expect(claim.metadata.annotations).toMatchObject({ 'hub.jupyter.org/username': 'alice' });
    // the claim's provisioning is progress, in KubeSpawner's event format
    const reasons = events.filter((e) => e.raw_event?.involvedObject?.kind === 'PersistentVolumeClaim').map((e) => e.raw_event.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Provisioning', 'ProvisioningSucceeded']));
    const pod = sim.get('pods', NAMESPACE, 'jupyter-alice')!;
    expect(pod.spec.volumes).toContainEqual({ name: 'home', persistentVolumeClaim: { claimName: 'claim-alice' } });
    expect(pod.spec.containers[0].volumeMounts).toContainEqual({ name: 'home', mountPath: '/home/jovyan' });
    // what the hub sent, against the official schema
    const { metadata: { uid, resourceVersion, creationTimestamp, ...meta }, status, ...sent } = claim;
    expect(() => new PersistentVolumeClaim({ ...sent, metadata: meta } as any).validate()).not.toThrow();
    expect(() => new Pod({ apiVersion: 'v1', kind: 'Pod', metadata: { name: pod.metadata.name, labels: pod.metadata.labels }, spec: pod.spec } as any).validate()).not.toThrow();
  });

  it('keeps the claim across a stop and a hub restart, even when the template changed (remember_pvc_name)', async () => {
    const uid = sim.get('persistentvolumeclaims', NAMESPACE, 'claim-alice')!.metadata.uid;
    await stop('alice');
    expect(sim.get('persistentvolumeclaims', NAMESPACE, 'claim-alice')?.metadata.uid).toBe(uid);
    expect((await spawn('alice')).at(-1)).toMatchObject({ ready: true });
    expect(sim.get('persistentvolumeclaims', NAMESPACE, 'claim-alice')?.metadata.uid).toBe(uid);
    await hub.close();
    hub = await startK8sHub(kubeconfig, storage({ pvc_name_template: 'home-{username}' }), { dir: hubDir, adminToken });
    expect(sim.get('persistentvolumeclaims', NAMESPACE, 'claim-alice')?.metadata.uid).toBe(uid);
    expect((await spawn('alice')).at(-1)).toMatchObject({ ready: true });
    expect(sim.get('pods', NAMESPACE, 'jupyter-alice')!.spec.volumes).toContainEqual({ name: 'home', persistentVolumeClaim: { claimName: 'claim-alice' } });
    expect(sim.get('persistentvolumeclaims', NAMESPACE, 'home-alice')).toBeUndefined();
    // a user who never had a claim gets the new template's
    expect((await spawn('dora')).at(-1)).toMatchObject({ ready: true });
    expect(sim.get('persistentvolumeclaims', NAMESPACE, 'home-dora')?.status.phase).toBe('Bound');
  });

  it('binds a WaitForFirstConsumer claim once the pod has its node', async () => {
    const events = await spawn('bob', 'local');
    expect(events.at(-1)).toMatchObject({ ready: true });
    const claim = sim.get('persistentvolumeclaims', NAMESPACE, 'local-bob')!;
    expect(claim.metadata.annotations!['volume.kubernetes.io/selected-node']).toBe('node-1');
    expect(events.some((e) => e.raw_event?.reason === 'WaitForFirstConsumer')).toBe(true);
  });

  it('fails the start with the reason when the claim cannot bind, and keeps the claim', async () => {
    const events = await spawn('carol', 'broken');
    const last = events.at(-1)!;
    expect(last.failed).toBe(true);
    expect(last.message).toMatch(/Claim broken-carol cannot bind: failed to provision volume with StorageClass "broken": rpc error: code = ResourceExhausted desc = quota exceeded/);
    await eventually(() => !sim.get('pods', NAMESPACE, 'jupyter-carol'), 10_000);
    expect(sim.get('persistentvolumeclaims', NAMESPACE, 'broken-carol')).toBeDefined();
  });

  it('a removed named server takes its own claim with it, never the default server\'s it shares', async () => {
    expect((await hub.api('/users/dora/servers/lab', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBeLessThan(300);
    expect((await readProgress(hub, 'dora', 'lab')).at(-1)).toMatchObject({ ready: true });
    expect(sim.get('persistentvolumeclaims', NAMESPACE, 'home-dora')).toBeDefined();
    // pvc_name_template home-{username} has no {user_server}: the named server shares dora's claim and keeps it
    expect((await hub.api('/users/dora/servers/lab', { method: 'DELETE', body: JSON.stringify({ remove: true }), headers: { 'content-type': 'application/json' } })).status).toBe(204);
    await eventually(async () => (await (await hub.api('/users/dora')).json()).servers.lab === undefined, 10_000);
    expect(sim.get('persistentvolumeclaims', NAMESPACE, 'home-dora')).toBeDefined();
    // a named server with a claim of its own takes it with it
    expect((await hub.api('/users/dora/servers/big', { method: 'POST', body: JSON.stringify({ profile: 'own' }), headers: { 'content-type': 'application/json' } })).status).toBeLessThan(300);
    expect((await readProgress(hub, 'dora', 'big')).at(-1)).toMatchObject({ ready: true });
    expect(sim.get('persistentvolumeclaims', NAMESPACE, 'srv-dora--big')?.status.phase).toBe('Bound');
    expect((await hub.api('/users/dora/servers/big', { method: 'DELETE', body: JSON.stringify({ remove: true }), headers: { 'content-type': 'application/json' } })).status).toBe(204);
    await eventually(() => !sim.get('persistentvolumeclaims', NAMESPACE, 'srv-dora--big'), 10_000);
    expect(sim.get('persistentvolumeclaims', NAMESPACE, 'home-dora')).toBeDefined();
  });

  it('deletes the claim with the user (delete_pvc)', async () => {
    await stop('alice');
    expect((await hub.api('/users/alice', { method: 'DELETE' })).status).toBe(204);
    await eventually(() => !sim.get('persistentvolumeclaims', NAMESPACE, 'claim-alice'), 10_000);
    // carol's start failed after her claim was made: it is hers all the same
    expect((await hub.api('/users/carol', { method: 'DELETE' })).status).toBe(204);
    await eventually(() => !sim.get('persistentvolumeclaims', NAMESPACE, 'broken-carol'), 10_000);
  });

  it('stops start-up when claims are on without a size', async () => {
    await expect(startK8sHub(kubeconfig, { KubeSpawner: { storage_pvc_ensure: true } })).rejects.toThrow(/KubeSpawner\.storage_capacity must be set/);
  });
});
