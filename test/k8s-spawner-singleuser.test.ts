// The real Debian jupyterhub-singleuser 3.0 in a simulated pod (issue acceptance): the start streams the pod's
// Kubernetes events, the proxy reaches the server on the pod's own IP, a kernel runs code over the proxied websocket,
// and a stop deletes the pod and leaves no process behind.
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from './k8s-sim/index.ts';
import { eventually, type TestHub } from './support/hub.ts';
import { executeOverWebsocket } from './support/kernel.ts';
import { IMAGE, NAMESPACE, readProgress, startK8sHub, startSim } from './support/k8s-hub.ts';

const hasSingleuser = existsSync('/usr/bin/jupyterhub-singleuser');

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe.skipIf(!hasSingleuser)('real jupyterhub-singleuser in a pod', () => {
  let sim: Simulator;
  let hub: TestHub;
  let dir: string;
  beforeAll(async () => {
    const s = await startSim({ images: { [IMAGE]: { pullMs: 100 } } });
    sim = s.sim;
    dir = s.dir;
    hub = await startK8sHub(s.kubeconfig, {
      // the simulated pod's process runs as this test's user, which may be root (a real image runs as jovyan)
      KubeSpawner: { cmd: ['jupyterhub-singleuser'], args: process.getuid?.() === 0 ? ['--allow-root'] : [], http_timeout: 60, start_timeout: 60, delete_grace_period: 15 },
    });
  }, 30_000);
  afterAll(async () => {
    await hub?.close();
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('starts with Kubernetes events as progress, runs a kernel through the proxy, and is gone after DELETE', { timeout: 120_000 }, async () => {
    expect((await hub.api('/users/alice', { method: 'POST' })).status).toBe(201);
    expect([201, 202]).toContain((await hub.api('/users/alice/server', { method: 'POST' })).status);
    const events = await readProgress(hub, 'alice');
    expect(events.at(-1)).toMatchObject({ ready: true });
    const reasons = events.map((e) => e.raw_event?.reason);
    for (const r of ['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']) expect(reasons).toContain(r);

    const pod = sim.get('pods', NAMESPACE, 'jupyter-alice')!;
    const api = await fetch(`${hub.origin}/user/alice/api`);
    expect(api.status).toBe(200);
    expect((await api.json()).version).toMatch(/^1\.23\./);
    // the server listens on the pod's own address, as it would in its own network namespace
    const direct = await fetch(`http://${pod.status.podIP}:8888/user/alice/api`);
    expect(direct.status).toBe(200);

    const auth = { authorization: `token ${hub.adminToken}` };
    const created = await fetch(`${hub.origin}/user/alice/api/kernels`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'python3' }),
    });
    expect(created.status).toBe(201);
    const kernel = (await created.json()) as { id: string };
    const wsUrl = `ws://127.0.0.1:${new URL(hub.origin).port}/user/alice/api/kernels/${kernel.id}/channels?token=${hub.adminToken}`;
    expect(await executeOverWebsocket(wsUrl, 'print(6*7)')).toBe('42\n');
    const kernelPid = Number((await executeOverWebsocket(wsUrl, 'import os; print(os.getpid())')).trim());

    expect((await hub.api('/users/alice/server', { method: 'DELETE' })).status).toBe(204);
    expect(sim.get('pods', NAMESPACE, 'jupyter-alice')).toBeUndefined();
    expect(sim.processes().filter((p) => p.pod === 'jupyter-alice')).toEqual([]);
    await eventually(() => processGone(kernelPid), 15_000, 100);
    expect((await (await hub.api('/users/alice')).json()).servers).toEqual({});
  });
});
