// Hub restarts with the Kubernetes spawner (issue acceptance; Appendix A 9): the hub runs as a real child process and
// is SIGKILLed. A pod that was running is re-adopted from the database (routed again, still watched); a pod whose start
// the kill interrupted is cleaned up; pods with this hub's labels and no server record are deleted, while another
// hub's pods and unlabelled pods are left alone. Nothing leaks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Simulator } from './k8s-sim/index.ts';
import { SLEEPER } from './k8s-sim/testing.ts';
import { eventually, testConfig } from './support/hub.ts';
import { loseHubDatabase } from './support/postgres.ts';
import { freePort, startHubProcess, type HubProcess } from './support/hub-process.ts';
import { IMAGE, kubeSection, NAMESPACE, startSim } from './support/k8s-hub.ts';

const SLOW_IMAGE = 'nodehub-test/slow:1';
let sim: Simulator;
let simDir: string;
let kubeconfig: string;
const hubs: HubProcess[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  const s = await startSim({ images: { [SLOW_IMAGE]: { pullMs: 4000 } } });
  sim = s.sim;
  simDir = s.dir;
  kubeconfig = s.kubeconfig;
});

afterAll(async () => {
  for (const h of hubs) if (h.child.exitCode === null && h.child.signalCode === null) h.child.kill('SIGKILL');
  await Promise.all(hubs.map((h) => h.exited));
  await sim?.close();
  for (const d of [simDir, ...dirs]) rmSync(d, { recursive: true, force: true });
});

interface Site {
  dir: string;
  origin: string;
  start(): Promise<HubProcess>;
  api(path: string, init?: RequestInit): Promise<Response>;
}

async function site(kube: Record<string, unknown> = {}): Promise<Site> {
  const dir = mkdtempSync(join(tmpdir(), 'nodehub-k8s-restart-'));
  dirs.push(dir);
  const adminToken = randomBytes(16).toString('hex');
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const configFile = join(dir, 'nodehub.json');
  writeFileSync(configFile, JSON.stringify(testConfig(dir, adminToken, {
    JupyterHub: { port, spawner_class: 'kubernetes', slow_spawn_timeout: 0, cleanup_servers: false },
    KubeSpawner: kubeSection(kubeconfig, kube),
    Spawner: { profile_list: [{ display_name: 'Default', slug: 'default', kubespawner_override: {} }, { display_name: 'Slow', slug: 'slow', kubespawner_override: { image: SLOW_IMAGE } }] },
  })));
  return {
    dir,
    origin,
    async start() {
      const h = await startHubProcess(configFile, origin);
      hubs.push(h);
      return h;
    },
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      headers.set('authorization', `token ${adminToken}`);
      return fetch(`${origin}/hub/api${path}`, { ...init, headers, redirect: 'manual' });
    },
  };
}

async function kill(h: HubProcess): Promise<void> {
  h.child.kill('SIGKILL');
  expect(await h.exited).toBe('SIGKILL');
}

async function servers(s: Site, user: string): Promise<Record<string, { ready: boolean }>> {
  return (await (await s.api(`/users/${user}`)).json()).servers;
}

async function spawn(s: Site, user: string, options: Record<string, unknown> = {}): Promise<void> {
  expect((await s.api(`/users/${user}`, { method: 'POST' })).status).toBe(201);
  const res = await s.api(`/users/${user}/server`, { method: 'POST', body: JSON.stringify(options), headers: { 'content-type': 'application/json' } });
  expect([201, 202]).toContain(res.status);
}

const podOf = (user: string) => sim.get('pods', NAMESPACE, `jupyter-${user}`);

describe('hub restart with pods', () => {
  it('a running pod is re-adopted: routed again, still watched, and stoppable', async () => {
    const s = await site();
    const first = await s.start();
    await spawn(s, 'alice');
    await eventually(async () => (await servers(s, 'alice'))['']?.ready === true);
    const uid = podOf('alice')!.metadata.uid;
    await kill(first);

    const second = await s.start();
    // the hub answers while it is still re-adopting (the informer lists first)
    await eventually(async () => (await servers(s, 'alice'))['']?.ready === true, 10_000);
    const env = await fetch(`${s.origin}/user/alice/env`);
    expect(env.status).toBe(200);
    expect((await env.json()).JUPYTERHUB_USER).toBe('alice');
    expect(podOf('alice')!.metadata.uid).toBe(uid); // the same pod, not a new one

    // still watched: a pod deleted behind the new hub's back is noticed
    sim.delete('pods', NAMESPACE, 'jupyter-alice', { gracePeriodSeconds: 0 });
    await eventually(async () => Object.keys(await servers(s, 'alice')).length === 0, 5000);
    await kill(second);
  });

  it('a start interrupted by the kill is taken up again at the next start, never leaked, and can be stopped', async () => {
    const s = await site();
    const first = await s.start();
    await spawn(s, 'bob', { profile: 'slow' });
    // the pod exists and is pulling its image when the hub dies
    await sim.waitFor('pods', NAMESPACE, 'jupyter-bob', (p) => !!p?.spec?.nodeName, 5000);
    await kill(first);
    const interrupted = podOf('bob')!;
    expect(interrupted).toBeDefined();

    // The visitor still wants a server: the restarted hub replaces the half-started pod and starts it again.
    const second = await s.start();
    await eventually(async () => (await servers(s, 'bob'))['']?.ready === true, 30_000);
    expect(podOf('bob')!.metadata.uid).not.toBe(interrupted.metadata.uid);
    expect(sim.list('pods', NAMESPACE).filter((p) => p.metadata.name === 'jupyter-bob')).toHaveLength(1);
    await s.api('/users/bob/server', { method: 'DELETE' });
    await sim.waitFor('pods', NAMESPACE, 'jupyter-bob', (p) => !p, 5000);
    expect(sim.processes().filter((p) => p.pod === 'jupyter-bob')).toEqual([]);
    await kill(second);
  });

  it('the API server down at the restart: running pods are routed again on their records at once, checked once it is back', async () => {
    // retry time far past the test's timeout: a hub whose re-adoption waited for the API would fail the test
    const s = await site({ k8s_api_request_retry_timeout: 600 });
    const first = await s.start();
    await spawn(s, 'ivy');
    await spawn(s, 'jack');
    await eventually(async () => (await servers(s, 'ivy'))['']?.ready === true && (await servers(s, 'jack'))['']?.ready === true);
    await kill(first);
    sim.faults.outage({ status: 503 });
    try {
      // jack's pod goes while nobody can see it
      sim.delete('pods', NAMESPACE, 'jupyter-jack', { gracePeriodSeconds: 0 });
      const second = await s.start();
      // ivy's traffic flows through the restored route although the API has not answered once
      const env = await fetch(`${s.origin}/user/ivy/env`);
      expect(env.status).toBe(200);
      expect((await env.json()).JUPYTERHUB_USER).toBe('ivy');
      expect((await servers(s, 'jack'))['']?.ready).toBe(true); // as recorded, until the API can say otherwise
      sim.faults.endOutage();
      await eventually(async () => Object.keys(await servers(s, 'jack')).length === 0, 15_000);
      expect((await servers(s, 'ivy'))['']?.ready).toBe(true);
      await s.api('/users/ivy/server', { method: 'DELETE' });
      await kill(second);
    } finally {
      sim.faults.endOutage();
    }
  });

  it("deletes this hub's pods that no record names (lost database), and leaves other hubs' pods alone", async () => {
    const s = await site({ hub_instance: 'hub-b' });
    const first = await s.start();
    await spawn(s, 'carol');
    await eventually(async () => (await servers(s, 'carol'))['']?.ready === true);
    const carolPod = (await sim.waitFor('pods', NAMESPACE, 'jupyter-carol', (p) => !!p))!;
    expect(carolPod.metadata.labels?.['app.kubernetes.io/instance']).toBe('hub-b');
    await kill(first);
    // the database is gone (an ephemeral hub's pod was rescheduled)
    await loseHubDatabase(s.dir);
    const labelled = (name: string, instance: string | null) => sim.create('pods', NAMESPACE, {
      metadata: { name, labels: instance ? { component: 'singleuser-server', 'app.kubernetes.io/instance': instance } : { app: 'unrelated' } },
      spec: { containers: [{ name: 'notebook', image: IMAGE, command: SLEEPER }] },
    });
    labelled('jupyter-ghost', 'hub-b');
    labelled('jupyter-neighbour', 'hub-a');
    labelled('some-other-app', null);
    // a user pod a KubeSpawner hub started in this namespace (its labels and annotations, no nodehub instance label)
    sim.create('pods', NAMESPACE, {
      metadata: {
        name: 'jupyter-kube-user',
        labels: { component: 'singleuser-server', 'app.kubernetes.io/component': 'singleuser-server', app: 'jupyterhub', heritage: 'jupyterhub',
          'app.kubernetes.io/name': 'jupyterhub', 'app.kubernetes.io/managed-by': 'kubespawner', 'hub.jupyter.org/username': 'kube-user', 'hub.jupyter.org/servername': '' },
        annotations: { 'hub.jupyter.org/username': 'kube-user', 'hub.jupyter.org/kubespawner-version': '7.0.0', 'hub.jupyter.org/jupyterhub-version': '5.3.0' },
      },
      spec: { containers: [{ name: 'notebook', image: IMAGE, command: SLEEPER }] },
    });

    const second = await s.start();
    await sim.waitFor('pods', NAMESPACE, 'jupyter-carol', (p) => !p, 10_000);
    await sim.waitFor('pods', NAMESPACE, 'jupyter-ghost', (p) => !p, 10_000);
    expect(sim.get('pods', NAMESPACE, 'jupyter-neighbour')).toBeDefined();
    expect(sim.get('pods', NAMESPACE, 'some-other-app')).toBeDefined();
    expect(sim.get('pods', NAMESPACE, 'jupyter-kube-user')).toBeDefined(); // seen by the sweep, never deleted
    sim.delete('pods', NAMESPACE, 'jupyter-kube-user', { gracePeriodSeconds: 0 });
    sim.delete('pods', NAMESPACE, 'jupyter-neighbour', { gracePeriodSeconds: 0 });
    sim.delete('pods', NAMESPACE, 'some-other-app', { gracePeriodSeconds: 0 });
    await kill(second);
  });
});
