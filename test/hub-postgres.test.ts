// A hub on PostgreSQL (the throw-away server test/support/postgres-global.ts starts), as real hub processes with the
// mock single-user server: login, spawn, stop, spawn again, a restart that adopts the running server; and two hubs on
// one database overlapping as in a Kubernetes rolling update: the new one adopts what the old one started and serves
// it, a server started through the old one meanwhile is found by the new one on its first request, and the old one
// leaving (SIGTERM, cleanup_servers false) stops nothing.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { eventually, testConfig } from './support/hub.ts';
import { freePort, killHard, pidAlive, startHubProcess, type HubProcess } from './support/hub-process.ts';
import { formSession } from './support/raw-http.ts';
import { createDatabase } from './support/postgres.ts';

const hubs: HubProcess[] = [];
const dirs: string[] = [];
const serverPids = new Set<number>();

afterAll(async () => {
  for (const h of hubs) if (h.child.exitCode === null && h.child.signalCode === null) h.child.kill('SIGKILL');
  await Promise.all(hubs.map((h) => h.exited));
  for (const pid of serverPids) killHard(pid);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Hubs sharing one database, one directory (servers' homes, cookie secret) and one admin token, each on its port. */
async function cluster() {
  const dbUrl = await createDatabase('hub');
  const dir = mkdtempSync(join(tmpdir(), 'nodehub-pg-hub-'));
  dirs.push(dir);
  const adminToken = randomBytes(16).toString('hex');
  return {
    dbUrl,
    async hub() {
      const port = await freePort();
      const origin = `http://127.0.0.1:${port}`;
      const file = join(dir, `nodehub-${port}.json`);
      writeFileSync(file, JSON.stringify(testConfig(dir, adminToken, {
        JupyterHub: { port, db_url: dbUrl, cleanup_servers: false, log_level: 'info' },
      })));
      const proc = await startHubProcess(file, origin);
      hubs.push(proc);
      const api = (path: string, init: RequestInit = {}) =>
        fetch(`${origin}/hub/api${path}`, { ...init, headers: { authorization: `token ${adminToken}` }, redirect: 'manual' });
      return { origin, proc, api };
    },
  };
}

async function serverOf(origin: string, user: string): Promise<{ pid: number }> {
  const r = await fetch(`${origin}/user/${user}/proc`);
  expect(r.status).toBe(200);
  const proc = (await r.json()) as { pid: number };
  serverPids.add(proc.pid);
  return proc;
}

describe('a hub on PostgreSQL', () => {
  it('logs in, spawns, stops, spawns again, and after a restart adopts the running server', async () => {
    const c = await cluster();
    const first = await c.hub();
    // The password of the URL never reaches the log, nor does the URL name anything but the scheme's parts.
    expect(first.proc.output()).not.toContain('not-a-secret');

    // login through the form (the dummy authenticator takes any password): the user is made in PostgreSQL
    const { cookie, xsrf } = await formSession(first.origin, '/hub/login');
    const login = await fetch(`${first.origin}/hub/login`, {
      method: 'POST', redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice', password: 'pw', _xsrf: xsrf }),
    });
    expect(login.status).toBe(302);
    expect((await first.api('/users/alice')).status).toBe(200);

    expect((await first.api('/users/alice/server', { method: 'POST' })).status).toBe(201);
    const one = await serverOf(first.origin, 'alice');
    expect((await first.api('/users/alice/server', { method: 'DELETE' })).status).toBe(204);
    expect(pidAlive(one.pid)).toBe(false);
    expect((await first.api('/users/alice/server', { method: 'POST' })).status).toBe(201);
    const two = await serverOf(first.origin, 'alice');

    // SIGKILL: nothing is cleaned up; the next hub finds the record in PostgreSQL and adopts the live server
    first.proc.child.kill('SIGKILL');
    await first.proc.exited;
    const second = await c.hub();
    expect((await serverOf(second.origin, 'alice')).pid).toBe(two.pid);
    const model = await (await second.api('/users/alice')).json();
    expect(model.servers['']).toMatchObject({ ready: true });
    second.proc.child.kill('SIGTERM');
    await second.proc.exited;
    expect(pidAlive(two.pid)).toBe(true);
  });

  it('two hubs overlap on one database: the new one serves what the old one started; the old one leaving stops nothing', async () => {
    const c = await cluster();
    const old = await c.hub();
    expect((await old.api('/users/bob', { method: 'POST' })).status).toBe(201);
    expect((await old.api('/users/bob/server', { method: 'POST' })).status).toBe(201);
    const bob = await serverOf(old.origin, 'bob');

    // both up: the new hub adopted bob's server and routes to it, the old one still serves it too
    const next = await c.hub();
    // the readiness probe: ready once start-up has adopted the servers (startHubProcess waits for start-up)
    await eventually(async () => (await fetch(`${next.origin}/hub/health?ready`)).status === 200);
    expect((await serverOf(next.origin, 'bob')).pid).toBe(bob.pid);
    expect((await serverOf(old.origin, 'bob')).pid).toBe(bob.pid);
    const seen = await (await next.api('/users/bob')).json();
    expect(seen.servers['']).toMatchObject({ ready: true });

    // a server started through the old hub during the overlap: the new one finds it in the database on the first
    // request that misses its route, and serves it without a restart
    expect((await old.api('/users/carol', { method: 'POST' })).status).toBe(201);
    expect((await old.api('/users/carol/server', { method: 'POST' })).status).toBe(201);
    const carol = await serverOf(old.origin, 'carol');
    expect((await serverOf(next.origin, 'carol')).pid).toBe(carol.pid);
    expect(next.proc.output()).toContain('Adopted 1 server(s) of carol that another hub on this database started');
    // and a server action through the new hub on one it has not been asked for yet: dan's, stopped through it
    expect((await old.api('/users/dan', { method: 'POST' })).status).toBe(201);
    expect((await old.api('/users/dan/server', { method: 'POST' })).status).toBe(201);
    const dan = await serverOf(old.origin, 'dan');
    expect((await next.api('/users/dan/server', { method: 'DELETE' })).status).toBe(204);
    expect(pidAlive(dan.pid)).toBe(false);

    // the old pod terminates (SIGTERM): bob's server keeps running and the new hub keeps serving it
    old.proc.child.kill('SIGTERM');
    await old.proc.exited;
    expect(old.proc.output()).toContain('letting go of the servers and draining open connections');
    expect(pidAlive(bob.pid)).toBe(true);
    expect((await serverOf(next.origin, 'bob')).pid).toBe(bob.pid);
    // and the new hub still controls it
    expect((await next.api('/users/bob/server', { method: 'DELETE' })).status).toBe(204);
    expect(pidAlive(bob.pid)).toBe(false);
  });
});
