// Preloaded jupyterhub-singleuser servers behind a real nodehub: kernels run with each server's own environment, the
// hub's shut-down ends the fork server but not the servers, and a restarted hub adopts them by pid. As root with
// uid_range, two users' preloaded servers run under different uids.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startTestHub, type TestHub } from './support/hub.ts';
import { executeOverWebsocket } from './support/kernel.ts';
import { alive, isForkServer, parentOf, uidsOf, waitFor } from './spawner-preload-procs.ts';

const hasSingleuser = fs.existsSync('/usr/bin/jupyterhub-singleuser');
const isRoot = process.getuid?.() === 0;
const hubs: TestHub[] = [];
afterEach(async () => {
  for (const hub of hubs.splice(0).reverse()) await hub.close();
}, 60_000);

async function hubWith(extra: Record<string, Record<string, unknown>> = {}, dir?: string): Promise<TestHub> {
  const hub = await startTestHub({
    ...extra,
    Spawner: { cmd: ['jupyterhub-singleuser'], http_timeout: 60, start_timeout: 60, ...extra.Spawner },
    LocalProcessSpawner: { interrupt_timeout: 10, ...extra.LocalProcessSpawner },
  }, { dir });
  hubs.push(hub);
  return hub;
}

function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      if (parentOf(pid) === parent && alive(pid)) out.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface ServerState {
  pid: number;
  home: string;
}

async function startServer(hub: TestHub, user: string): Promise<ServerState> {
  expect((await hub.api(`/users/${user}`, { method: 'POST' })).status).toBe(201);
  expect([201, 202]).toContain((await hub.api(`/users/${user}/server`, { method: 'POST' })).status);
  await eventually(async () => (await (await hub.api(`/users/${user}`)).json()).servers['']?.ready, 60_000, 100);
  return (await (await hub.api(`/users/${user}`)).json()).servers[''].state as ServerState;
}

/** Starts a kernel on `user`'s server through the hub's proxy and runs `code` in it. */
async function runInKernel(hub: TestHub, user: string, code: string): Promise<string> {
  const auth = { authorization: `token ${hub.adminToken}` };
  const created = await fetch(`${hub.origin}/user/${user}/api/kernels`, {
    method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'python3' }),
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const ws = `ws://127.0.0.1:${new URL(hub.origin).port}/user/${user}/api/kernels/${id}/channels?token=${hub.adminToken}`;
  return executeOverWebsocket(ws, code, 60_000);
}

describe.skipIf(!hasSingleuser)('preloaded servers behind a real hub', () => {
  it.each([['ServerApp', ''], ['NotebookApp', 'notebook.notebookapp.NotebookApp']])(
    "%s: serves kernels that inherit each server's own environment, and stops", { timeout: 120_000 }, async (_, app) => {
    const flavour = app ? { JUPYTERHUB_SINGLEUSER_APP: app } : {};
    const hub = await hubWith({ Spawner: { environment: { MARKER: '{username}-marked', ...flavour } } });
    const [a, b] = [await startServer(hub, 'alice'), await startServer(hub, 'bob')];
    expect(isForkServer(parentOf(a.pid))).toBe(true);
    expect(parentOf(b.pid)).toBe(parentOf(a.pid));
    const code = 'import os; e = os.environ; print(os.getppid(), e["JUPYTERHUB_USER"], e["MARKER"], e["HOME"], os.getcwd())';
    expect(await runInKernel(hub, 'alice', code)).toBe(`${a.pid} alice alice-marked ${a.home} ${a.home}\n`);
    expect(await runInKernel(hub, 'bob', code)).toBe(`${b.pid} bob bob-marked ${b.home} ${b.home}\n`);

    expect((await hub.api('/users/alice/server', { method: 'DELETE' })).status).toBe(204);
    expect(alive(a.pid)).toBe(false);
    expect(alive(b.pid)).toBe(true);
  });

  it('starts the fork server with the hub, before any spawn, and the first spawn uses it', { timeout: 120_000 }, async () => {
    const hub = await hubWith({ Spawner: { environment: { JUPYTERHUB_SINGLEUSER_APP: 'notebook.notebookapp.NotebookApp' } } });
    const forkServers = () => childrenOf(process.pid).filter(isForkServer);
    // nothing has been spawned: the fork server came up on its own
    expect(await waitFor(() => forkServers().length === 1, 60_000)).toBe(true);
    const [warm] = forkServers();
    expect((await (await hub.api('/users')).json()).filter((u: { servers: object }) => Object.keys(u.servers).length)).toEqual([]);
    const { pid } = await startServer(hub, 'dora');
    expect(parentOf(pid)).toBe(warm);
    expect(forkServers()).toEqual([warm]);
  });

  it('leaves servers running when the hub stops, and a restarted hub adopts them by pid', { timeout: 120_000 }, async () => {
    // the same port again: the server calls back the hub API at the address it was given
    const extra = { JupyterHub: { cleanup_servers: false, port: await freePort() } };
    const first = await hubWith(extra);
    const { pid } = await startServer(first, 'cleo');
    const forkServer = parentOf(pid);
    await first.running.close();
    expect(await waitFor(() => !alive(forkServer), 5000)).toBe(true);
    expect(alive(pid)).toBe(true);

    const second = await hubWith(extra, first.dir);
    const model = await (await second.api('/users/cleo')).json();
    expect(model.servers[''].ready).toBe(true);
    expect(model.servers[''].state.pid).toBe(pid);
    expect((await fetch(`${second.origin}/user/cleo/api`, { headers: { authorization: `token ${second.adminToken}` } })).status).toBe(200);
    expect((await second.api('/users/cleo/server', { method: 'DELETE' })).status).toBe(204);
    expect(alive(pid)).toBe(false);
    hubs.splice(hubs.indexOf(first), 1); // closed already; its directory goes with the second hub's
  });
});

describe.skipIf(!hasSingleuser || !isRoot)('preloaded servers under uid_range, as root', () => {
  it("runs two users' servers under different uids, the fork server staying root", { timeout: 120_000 }, async () => {
    const homes = fs.mkdtempSync('/tmp/nodehub-preload-uid-');
    fs.chmodSync(homes, 0o711);
    try {
      const hub = await hubWith({ LocalProcessSpawner: { uid_range: [64200, 64299], home_dir_template: path.join(homes, '{username}') } });
      const [a, b] = [await startServer(hub, 'uma'), await startServer(hub, 'vic')];
      const [ua, ub] = [uidsOf(a.pid), uidsOf(b.pid)];
      expect(new Set(ua).size).toBe(1);
      expect(new Set(ub).size).toBe(1);
      expect(ua[0]).not.toBe(ub[0]);
      expect(uidsOf(parentOf(a.pid))[0]).toBe(0);
      expect(await runInKernel(hub, 'vic', 'import os; print(os.getuid(), os.getgid(), os.getgroups())')).toBe(`${ub[0]} ${ub[0]} []\n`);
      // dumpable, as after an exec: the server's own uid may read its /proc files
      expect(fs.statSync(`/proc/${b.pid}/environ`).uid).toBe(ub[0]);
    } finally {
      for (const hub of hubs.splice(0)) await hub.close();
      fs.rmSync(homes, { recursive: true, force: true });
    }
  });
});
