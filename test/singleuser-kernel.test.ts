// Acceptance with the real Debian jupyterhub-singleuser 3.0: the REST API starts it, the hub's port proxies its kernel
// API and the kernel websocket, and a DELETE leaves no process, port or directory behind. Run for both base apps the
// singleuser can wrap (spec 9): jupyter_server's ServerApp (default) and classic notebook's NotebookApp.
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, eventually, type TestHub } from './support/hub.ts';
import { executeOverWebsocket } from './support/kernel.ts';

const hasSingleuser = existsSync('/usr/bin/jupyterhub-singleuser');

function portRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.on('connect', () => (sock.destroy(), resolve(false)));
    sock.on('error', () => resolve(true));
  });
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

const apps = [
  // `GET <prefix>api` names the base app's version: jupyter_server 1.23 vs notebook 6.4
  { app: 'ServerApp (default)', environment: {}, version: /^1\.23\./ },
  { app: 'NotebookApp', environment: { JUPYTERHUB_SINGLEUSER_APP: 'notebook.notebookapp.NotebookApp' }, version: /^6\.4\./ },
];

describe.skipIf(!hasSingleuser).each(apps)('real jupyterhub-singleuser, $app', ({ environment, version }) => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({
      Spawner: { cmd: ['jupyterhub-singleuser'], environment, http_timeout: 60, start_timeout: 60 },
      // SIGINT lets the server shut its kernels down before it exits; give it the time it needs on a busy machine.
      LocalProcessSpawner: { interrupt_timeout: 15 },
    });
  }, 30_000);
  afterAll(async () => hub?.close(), 60_000);

  it('starts via the API, runs code in a kernel through the proxy, and is gone after DELETE', { timeout: 90_000 }, async () => {
    expect((await hub.api('/users/alice', { method: 'POST' })).status).toBe(201);
    const start = await hub.api('/users/alice/server', { method: 'POST' });
    expect([201, 202]).toContain(start.status);
    await eventually(async () => (await (await hub.api('/users/alice')).json()).servers['']?.ready, 60_000, 200);
    const model = await (await hub.api('/users/alice')).json();
    const { port } = model.servers[''].state as { port: number };
    expect(port).toBeGreaterThan(0);

    const api = await fetch(`${hub.origin}/user/alice/api`);
    expect(api.status).toBe(200);
    expect((await api.json()).version).toMatch(version);

    // The singleuser asks the hub who the admin token belongs to; the admin service holds access:servers.
    const auth = { authorization: `token ${hub.adminToken}` };
    const created = await fetch(`${hub.origin}/user/alice/api/kernels`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'python3' }),
    });
    expect(created.status).toBe(201);
    const kernel = (await created.json()) as { id: string; name: string };
    expect(kernel.name).toBe('python3');

    // Without a token the same API is forbidden, not redirected (spec 1.4).
    const anonymous = await fetch(`${hub.origin}/user/alice/api/kernels`, { redirect: 'manual' });
    expect(anonymous.status).toBe(403);

    const wsUrl = `ws://127.0.0.1:${new URL(hub.origin).port}/user/alice/api/kernels/${kernel.id}/channels?token=${hub.adminToken}`;
    expect(await executeOverWebsocket(wsUrl, 'print(6*7)')).toBe('42\n');
    const kernelPid = Number((await executeOverWebsocket(wsUrl, 'import os; print(os.getpid())')).trim());
    expect(kernelPid).toBeGreaterThan(0);

    const stop = await hub.api('/users/alice/server', { method: 'DELETE' });
    expect(stop.status).toBe(204);
    expect(await portRefused(port)).toBe(true);
    expect(existsSync(join(hub.dir, 'home', 'alice'))).toBe(false);
    // The kernel runs in a session of its own; the server shuts it down on the way out, so nothing is left running.
    await eventually(() => processGone(kernelPid), 10_000, 100);
    const after = await (await hub.api('/users/alice')).json();
    expect(after.servers).toEqual({});
    // The route is gone too: the hub answers for the stopped server.
    const stopped = await fetch(`${hub.origin}/user/alice/api/kernels`, { redirect: 'manual', headers: auth });
    expect(stopped.status).toBe(302);
    expect(stopped.headers.get('location')).toBe('/hub/user/alice/api/kernels');
  });
});
