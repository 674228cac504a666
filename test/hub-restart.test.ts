// A hub restarted on the same database: servers that outlived it are routed again, the ones that died meanwhile are
// cleaned up (record, route, token, directory), and a clean shutdown stops servers unless cleanup_servers is false.
// The hub runs as a real child process (`node src/cli.ts -f …`) with the mock single-user server.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { testConfig, eventually } from './support/hub.ts';
import { freePort, killHard, pidAlive, startHubProcess, type HubProcess } from './support/hub-process.ts';

const serverPids = new Set<number>();
const hubs: HubProcess[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const h of hubs) if (h.child.exitCode === null && h.child.signalCode === null) h.child.kill('SIGKILL');
  await Promise.all(hubs.map((h) => h.exited));
  for (const pid of serverPids) killHard(pid);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Site {
  dir: string;
  origin: string;
  start(): Promise<HubProcess>;
  api(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
  /** Starts the user's default server through the API and returns what the server process says about itself. */
  spawn(user: string): Promise<{ pid: number; token: string; port: string }>;
}

async function site(extra: Record<string, Record<string, unknown>> = {}): Promise<Site> {
  const dir = mkdtempSync(join(tmpdir(), 'nodehub-restart-'));
  dirs.push(dir);
  const adminToken = randomBytes(16).toString('hex');
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const configFile = join(dir, 'nodehub.json');
  const config = testConfig(dir, adminToken, { ...extra, JupyterHub: { port, ...extra.JupyterHub } });
  writeFileSync(configFile, JSON.stringify(config));
  const s: Site = {
    dir,
    origin,
    async start() {
      const h = await startHubProcess(configFile, origin);
      hubs.push(h);
      return h;
    },
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      headers.set('authorization', `token ${init.token ?? adminToken}`);
      return fetch(`${origin}/hub/api${path}`, { ...init, headers, redirect: 'manual' });
    },
    async spawn(user) {
      expect((await s.api(`/users/${user}`, { method: 'POST' })).status).toBe(201);
      expect((await s.api(`/users/${user}/server`, { method: 'POST' })).status).toBe(201);
      const proc = await (await fetch(`${origin}/user/${user}/proc`)).json();
      const env = await (await fetch(`${origin}/user/${user}/env`)).json();
      serverPids.add(proc.pid);
      return { pid: proc.pid, token: env.JUPYTERHUB_API_TOKEN, port: new URL(env.JUPYTERHUB_SERVICE_URL).port };
    },
  };
  return s;
}

async function serverModel(s: Site, user: string): Promise<Record<string, { ready: boolean; pending: string | null }>> {
  const r = await s.api(`/users/${user}`);
  expect(r.status).toBe(200);
  return (await r.json()).servers;
}

async function routes(s: Site): Promise<string[]> {
  return Object.keys(await (await s.api('/proxy')).json()).sort();
}

async function sigterm(h: HubProcess): Promise<number | string> {
  h.child.kill('SIGTERM');
  return h.exited;
}

describe('hub restart', () => {
  it('after a SIGKILL re-adopts the server that still runs and cleans up the one that died', async () => {
    const s = await site();
    const first = await s.start();
    const alice = await s.spawn('alice');
    const bob = await s.spawn('bob');
    expect(await routes(s)).toEqual(['/', '/user/alice/', '/user/bob/']);

    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    // The servers live in their own sessions: the hub's death did not take them along.
    expect(pidAlive(alice.pid)).toBe(true);
    expect(pidAlive(bob.pid)).toBe(true);
    killHard(bob.pid);
    await eventually(() => !pidAlive(bob.pid));
    expect(existsSync(join(s.dir, 'home', 'bob'))).toBe(true);

    const second = await s.start();
    // alice: routed again, usable through the proxy, ready in the API, her server's token still good.
    const env = await fetch(`${s.origin}/user/alice/env`);
    expect(env.status).toBe(200);
    expect((await env.json()).JUPYTERHUB_API_TOKEN).toBe(alice.token);
    expect((await serverModel(s, 'alice'))['']).toMatchObject({ ready: true, pending: null });
    expect((await s.api('/user', { token: alice.token })).status).toBe(200);
    expect(pidAlive(alice.pid)).toBe(true);

    // bob: no server, no route, token revoked, directory removed.
    expect(await serverModel(s, 'bob')).toEqual({});
    expect(await routes(s)).toEqual(['/', '/user/alice/']);
    expect((await s.api('/user', { token: bob.token })).status).toBe(403);
    expect(existsSync(join(s.dir, 'home', 'bob'))).toBe(false);
    expect(existsSync(join(s.dir, 'home', 'alice'))).toBe(true);
    const stray = await fetch(`${s.origin}/user/bob/env`, { redirect: 'manual' });
    expect(stray.status).toBe(302);
    expect(stray.headers.get('location')).toBe('/hub/user/bob/env');

    // The re-adopted server is still under the hub's control: a stop ends its process and releases its directory.
    expect((await s.api('/users/alice/server', { method: 'DELETE' })).status).toBe(204);
    expect(pidAlive(alice.pid)).toBe(false);
    expect(existsSync(join(s.dir, 'home', 'alice'))).toBe(false);
    expect(await sigterm(second)).toBe(0);
  });

  it('re-adopts a server whose profile was removed from the config while the hub was down', async () => {
    const profiles = [{ display_name: 'Small', slug: 'small' },
      { display_name: 'Big', slug: 'big', kubespawner_override: { environment: { SIZE: 'big' } } }];
    const s = await site({ Spawner: { profile_list: profiles } });
    const first = await s.start();
    expect((await s.api('/users/gus', { method: 'POST' })).status).toBe(201);
    expect((await s.api('/users/gus/server', { method: 'POST', body: JSON.stringify({ profile: 'big' }) })).status).toBe(201);
    const env = await (await fetch(`${s.origin}/user/gus/env`)).json();
    expect(env.SIZE).toBe('big');
    const pid = (await (await fetch(`${s.origin}/user/gus/proc`)).json()).pid as number;
    serverPids.add(pid);
    first.child.kill('SIGKILL');
    await first.exited;

    const configFile = join(s.dir, 'nodehub.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    config.Spawner.profile_list = profiles.slice(0, 1);
    writeFileSync(configFile, JSON.stringify(config));
    const second = await s.start();
    expect(second.output()).toContain("options the config no longer has (Unknown profile 'big'");
    expect((await serverModel(s, 'gus'))['']).toMatchObject({ ready: true, pending: null });
    expect((await fetch(`${s.origin}/user/gus/env`)).status).toBe(200);
    expect((await s.api('/users/gus/server', { method: 'DELETE' })).status).toBe(204);
    expect(pidAlive(pid)).toBe(false);
    expect(await sigterm(second)).toBe(0);
  });

  it('a re-adopted server that dies later is noticed and cleaned up', async () => {
    const s = await site();
    const first = await s.start();
    const carol = await s.spawn('carol');
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await s.start();
    expect((await serverModel(s, 'carol'))['']?.ready).toBe(true);
    killHard(carol.pid);
    await eventually(async () => Object.keys(await serverModel(s, 'carol')).length === 0);
    expect(await routes(s)).toEqual(['/']);
    expect((await s.api('/user', { token: carol.token })).status).toBe(403);
    expect(existsSync(join(s.dir, 'home', 'carol'))).toBe(false);
    expect(await sigterm(second)).toBe(0);
  });

  it('a clean SIGTERM shutdown stops every server by default (cleanup_servers)', async () => {
    const s = await site();
    const first = await s.start();
    const dan = await s.spawn('dan');
    const eve = await s.spawn('eve');
    expect(await sigterm(first)).toBe(0);
    expect(pidAlive(dan.pid)).toBe(false);
    expect(pidAlive(eve.pid)).toBe(false);
    expect(existsSync(join(s.dir, 'home', 'dan'))).toBe(false);

    const second = await s.start();
    expect(await serverModel(s, 'dan')).toEqual({});
    expect(await serverModel(s, 'eve')).toEqual({});
    expect(await routes(s)).toEqual(['/']);
    expect((await s.api('/user', { token: dan.token })).status).toBe(403);
    expect(await sigterm(second)).toBe(0);
  });

  it('with cleanup_servers false the servers outlive a clean shutdown and are re-adopted', async () => {
    const s = await site({ JupyterHub: { cleanup_servers: false } });
    const first = await s.start();
    const fay = await s.spawn('fay');
    expect(await sigterm(first)).toBe(0);
    expect(pidAlive(fay.pid)).toBe(true);
    // Nothing answers the user's URL while the hub is down, but the server itself still does.
    expect((await fetch(`http://127.0.0.1:${fay.port}/user/fay/env`)).status).toBe(200);

    const second = await s.start();
    expect((await fetch(`${s.origin}/user/fay/env`)).status).toBe(200);
    expect((await serverModel(s, 'fay'))['']).toMatchObject({ ready: true, pending: null });
    expect(await routes(s)).toEqual(['/', '/user/fay/']);
    expect(await sigterm(second)).toBe(0);
    // Still not stopped by this second shutdown either; the third hub stops it through the API.
    expect(pidAlive(fay.pid)).toBe(true);
    const third = await s.start();
    expect((await s.api('/users/fay/server', { method: 'DELETE' })).status).toBe(204);
    expect(pidAlive(fay.pid)).toBe(false);
    expect(await sigterm(third)).toBe(0);
  });
});
