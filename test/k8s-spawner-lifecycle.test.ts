// The Kubernetes spawner end to end against the simulator: a hub with `spawner_class: kubernetes` starts a pod whose
// events make the progress stream, proxies to the server inside it, stops it (pod deleted), and reads poll() from its
// one informer. Appendix A cases 1, 2, 3, 7, 12, 14.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { Pod } from 'kubernetes-models/v1';
import type { Simulator } from './k8s-sim/index.ts';
import { eventually, type TestHub } from './support/hub.ts';
import { IMAGE, NAMESPACE, readProgress, startK8sHub, startSim } from './support/k8s-hub.ts';

let sim: Simulator;
let hub: TestHub;
let dir: string;

beforeAll(async () => {
  const s = await startSim({ images: { [IMAGE]: { pullMs: 150 } } });
  sim = s.sim;
  dir = s.dir;
  hub = await startK8sHub(s.kubeconfig, {
    KubeSpawner: {
      volumes: [{ name: 'shared', persistentVolumeClaim: { claimName: 'home-nfs', readOnly: true } }],
      volume_mounts: [{ name: 'shared', mountPath: '/home/jovyan/shared', subPath: '_shared', readOnly: true }],
      extra_labels: { 'hub.jupyter.org/network-access-hub': 'true' },
    },
  });
  // the shared directory's claim exists and is bound, as on the seed's cluster
  sim.create('persistentvolumeclaims', NAMESPACE, {
    metadata: { name: 'home-nfs' },
    spec: { accessModes: ['ReadOnlyMany'], resources: { requests: { storage: '1Gi' } }, volumeName: 'nfs' },
    status: { phase: 'Bound' },
  });
});

afterAll(async () => {
  await hub?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function user(name: string): Promise<void> {
  expect((await hub.api(`/users/${name}`, { method: 'POST' })).status).toBe(201);
}

describe('kubernetes spawner', () => {
  it('starts a pod, streams its Kubernetes events as progress, proxies to it, and deletes it on stop', async () => {
    await user('alice');
    const res = await hub.api('/users/alice/server', { method: 'POST' });
    expect([201, 202]).toContain(res.status);
    const events = await readProgress(hub, 'alice');
    const last = events.at(-1)!;
    expect(last).toMatchObject({ ready: true, progress: 100, url: '/user/alice/' });
    const messages = events.map((e) => e.message as string);
    const order = ['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started'].map((r) => events.findIndex((e) => e.raw_event?.reason === r));
    // KubeSpawner's wire format: "<lastTimestamp or eventTime> [<type>] <message>", with the Event itself as raw_event
    const withRaw = events.filter((e) => e.raw_event);
    expect(withRaw.length).toBeGreaterThanOrEqual(5);
    for (const e of withRaw) {
      const raw = e.raw_event;
      expect(e.message).toBe(`${raw.lastTimestamp ?? raw.eventTime} [${raw.type}] ${raw.message}`);
      expect(raw).toMatchObject({ involvedObject: { kind: 'Pod', name: 'jupyter-alice' } });
      expect(raw.lastTimestamp ?? raw.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/);
    }
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(messages.find((m) => /^\S+ \[Normal\] Successfully assigned/.test(m))).toMatch(/Successfully assigned jhub\/jupyter-alice to node-1/);
    const progress = events.map((e) => e.progress);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);

    // the pod as created: schema-valid, labelled, shared dir read-only in both places, no API credentials
    const pod = sim.get('pods', NAMESPACE, 'jupyter-alice')!;
    new Pod(pod as never).validate();
    expect(pod.metadata.labels).toMatchObject({ component: 'singleuser-server', app: 'jupyterhub', release: 'nodehub', 'hub.jupyter.org/username': 'alice', 'hub.jupyter.org/servername': '' });
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.volumes.find((v: any) => v.name === 'shared')).toEqual({ name: 'shared', persistentVolumeClaim: { claimName: 'home-nfs', readOnly: true } });
    expect(pod.spec.containers[0].volumeMounts.find((m: any) => m.name === 'shared')).toEqual({ name: 'shared', mountPath: '/home/jovyan/shared', subPath: '_shared', readOnly: true });

    // the proxy reaches the server inside the pod, on the pod's own IP
    const env = await (await fetch(`${hub.origin}/user/alice/env`)).json();
    expect(env.JUPYTERHUB_SERVICE_URL).toBe(`http://${pod.status.podIP}:8888/user/alice/`);
    expect(env.JUPYTERHUB_USER).toBe('alice');
    expect(env.JUPYTER_IMAGE).toBe(IMAGE);
    const model = await (await hub.api('/users/alice')).json();
    expect(model.servers[''].ready).toBe(true);

    // stop: a graceful delete (delete_grace_period 1: MODIFIED with deletionTimestamp, then DELETED), and the API
    // answers only once the informer has seen the pod go
    const seen: string[] = [];
    const unsubscribe = sim.store.subscribe((c) => {
      if (c.resource === 'pods' && c.object.metadata.name === 'jupyter-alice') seen.push(c.type === 'MODIFIED' && c.object.metadata.deletionTimestamp ? 'TERMINATING' : c.type);
    });
    expect((await hub.api('/users/alice/server', { method: 'DELETE' })).status).toBe(204);
    unsubscribe();
    expect(seen[0]).toBe('TERMINATING');
    expect(seen.at(-1)).toBe('DELETED');
    expect((await (await hub.api('/users/alice')).json()).servers).toEqual({});
    expect(sim.get('pods', NAMESPACE, 'jupyter-alice')).toBeUndefined();
    expect(sim.processes().filter((p) => p.pod === 'jupyter-alice')).toEqual([]);
  });

  it('notices a pod deleted behind its back at once, through the informer', async () => {
    await user('bob');
    await hub.api('/users/bob/server', { method: 'POST' });
    expect((await readProgress(hub, 'bob')).at(-1)).toMatchObject({ ready: true });
    sim.delete('pods', NAMESPACE, 'jupyter-bob', { gracePeriodSeconds: 0 });
    // Within 20 s: only the informer can tell that soon; the spawner's poll (Spawner.poll_interval, 30 s) comes later.
    await eventually(async () => (await (await hub.api('/users/bob')).json()).servers[''] === undefined, 20_000);
    expect((await fetch(`${hub.origin}/user/bob/env`, { redirect: 'manual' })).status).not.toBe(200);
  });

  it('an evicted pod counts as stopped and is cleaned up', async () => {
    await user('carol');
    await hub.api('/users/carol/server', { method: 'POST' });
    expect((await readProgress(hub, 'carol')).at(-1)).toMatchObject({ ready: true });
    await sim.faults.evict(NAMESPACE, 'jupyter-carol');
    await eventually(async () => (await (await hub.api('/users/carol')).json()).servers[''] === undefined, 5000);
    // delete_stopped_pods: the failed pod object does not linger
    await sim.waitFor('pods', NAMESPACE, 'jupyter-carol', (p) => !p, 5000);
  });
});
