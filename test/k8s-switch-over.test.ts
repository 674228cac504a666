// Switching over from a KubeSpawner hub (issue #12, build 3): user pods a KubeSpawner 7 hub started, shaped as it makes
// them (labels, annotations, args, the JupyterHub environment with the server's token as a plain value), are taken over
// by the nodehub that replaces it, with no database of the old hub: user and server record written, routed, the
// server's own token accepted, stoppable. A pod whose token cannot be read is left running, untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Simulator } from './k8s-sim/index.ts';
import { eventually, MOCK_SINGLEUSER, type TestHub } from './support/hub.ts';
import { IMAGE, NAMESPACE, startK8sHub, startSim } from './support/k8s-hub.ts';

let sim: Simulator;
let dir: string;
let hub: TestHub;
const token = randomBytes(16).toString('hex');

/** A user pod as KubeSpawner 7 writes it for the default server of `user` (z2jh's labels, jupyterhub 5.3). */
function kubeSpawnerPod(user: string, apiToken: Record<string, unknown>) {
  const prefix = `/user/${user}/`;
  const env: Array<Record<string, unknown>> = [
    { name: 'JPY_API_TOKEN', ...apiToken },
    { name: 'JUPYTERHUB_ACTIVITY_URL', value: `http://hub:8081/hub/api/users/${user}/activity` },
    { name: 'JUPYTERHUB_API_TOKEN', ...apiToken },
    { name: 'JUPYTERHUB_API_URL', value: 'http://hub:8081/hub/api' },
    { name: 'JUPYTERHUB_BASE_URL', value: '/' },
    { name: 'JUPYTERHUB_CLIENT_ID', value: `jupyterhub-user-${user}` },
    { name: 'JUPYTERHUB_HOST', value: '' },
    { name: 'JUPYTERHUB_OAUTH_ACCESS_SCOPES', value: JSON.stringify([`access:servers!server=${user}/`, `access:servers!user=${user}`]) },
    { name: 'JUPYTERHUB_OAUTH_CALLBACK_URL', value: `${prefix}oauth_callback` },
    { name: 'JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES', value: '[]' },
    { name: 'JUPYTERHUB_OAUTH_SCOPES', value: JSON.stringify([`access:servers!server=${user}/`, `access:servers!user=${user}`]) },
    { name: 'JUPYTERHUB_PUBLIC_HUB_URL', value: '' },
    { name: 'JUPYTERHUB_SERVER_NAME', value: '' },
    { name: 'JUPYTERHUB_SERVICE_PREFIX', value: prefix },
    // KubeSpawner binds 0.0.0.0:8888; the simulator's pods share one machine, so this one binds its own pod IP
    { name: 'JUPYTERHUB_SERVICE_URL', value: `http://$(POD_IP):8888${prefix}` },
    { name: 'JUPYTERHUB_USER', value: user },
    { name: 'JUPYTER_IMAGE', value: IMAGE },
    { name: 'JUPYTER_IMAGE_SPEC', value: IMAGE },
    { name: 'MEM_GUARANTEE', value: '1073741824' },
  ];
  return {
    metadata: {
      name: `jupyter-${user}`,
      labels: {
        app: 'jupyterhub', 'app.kubernetes.io/name': 'jupyterhub', release: 'nodehub', 'app.kubernetes.io/instance': 'nodehub', chart: 'jupyterhub-4.2.0',
        'helm.sh/chart': 'jupyterhub-4.2.0', 'app.kubernetes.io/managed-by': 'kubespawner', component: 'singleuser-server',
        'app.kubernetes.io/component': 'singleuser-server', 'hub.jupyter.org/network-access-hub': 'true',
        'hub.jupyter.org/username': user, 'hub.jupyter.org/servername': '',
      },
      annotations: { 'hub.jupyter.org/username': user, 'hub.jupyter.org/kubespawner-version': '7.0.0', 'hub.jupyter.org/jupyterhub-version': '5.3.0' },
    },
    spec: {
      automountServiceAccountToken: false,
      restartPolicy: 'OnFailure',
      containers: [{
        name: 'notebook', image: IMAGE, args: [process.execPath, MOCK_SINGLEUSER],
        env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }, ...env],
        ports: [{ name: 'notebook-port', containerPort: 8888 }],
        resources: { requests: { memory: '1073741824' } },
        securityContext: { allowPrivilegeEscalation: false, runAsUser: 1000 },
      }],
    },
  };
}

beforeAll(async () => {
  const s = await startSim();
  sim = s.sim;
  dir = s.dir;
  sim.create('secrets', NAMESPACE, { metadata: { name: 'tok' }, stringData: { token: randomBytes(16).toString('hex') } });
  sim.create('pods', NAMESPACE, kubeSpawnerPod('kim', { value: token }));
  sim.create('pods', NAMESPACE, kubeSpawnerPod('lee', { valueFrom: { secretKeyRef: { name: 'tok', key: 'token' } } }));
  for (const u of ['kim', 'lee']) await sim.waitFor('pods', NAMESPACE, `jupyter-${u}`, (p) => p?.status?.phase === 'Running');
  // the old hub is gone; the new one starts in its place with no record of these servers
  hub = await startK8sHub(s.kubeconfig);
});

afterAll(async () => {
  await hub?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('switching over from a KubeSpawner hub', () => {
  it("takes over a KubeSpawner pod: the user's server is routed and keeps its own token; a stop deletes the pod", async () => {
    const uid = sim.get('pods', NAMESPACE, 'jupyter-kim')!.metadata.uid;
    await eventually(async () => (await (await hub.api('/users/kim')).json()).servers?.['']?.ready === true);
    // routed: the visitor's traffic reaches the same pod
    const env = await fetch(`${hub.origin}/user/kim/env`);
    expect(env.status).toBe(200);
    expect((await env.json()).JUPYTERHUB_API_TOKEN).toBe(token);
    // the token in the pod's environment is the server's token here too
    const me = await hub.api('/user', { token });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ kind: 'user', name: 'kim' });
    expect(sim.get('pods', NAMESPACE, 'jupyter-kim')!.metadata.uid).toBe(uid);
    expect((await hub.api('/users/kim/server', { method: 'DELETE' })).status).toBeLessThan(300);
    await sim.waitFor('pods', NAMESPACE, 'jupyter-kim', (p) => !p, 10_000);
    expect((await hub.api('/user', { token })).status).toBe(403);
  });

  it('leaves a pod whose token it cannot read (from a Secret) running, without a record', async () => {
    await eventually(async () => (await hub.api('/users/kim')).status === 200);
    expect((await hub.api('/users/lee')).status).toBe(404);
    expect(sim.get('pods', NAMESPACE, 'jupyter-lee')?.status?.phase).toBe('Running');
  });
});
