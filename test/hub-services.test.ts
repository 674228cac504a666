// Managed services (JupyterHub.services entries with a `command`): the hub runs them with JUPYTERHUB_API_TOKEN,
// JUPYTERHUB_API_URL and JUPYTERHUB_SERVICE_NAME, their token carries the service's permissions (admin or load_roles),
// a service that dies is started again, and closing the hub stops them. The services are real node processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestHub, eventually, type TestHub } from './support/hub.ts';
import { killHard, pidAlive } from './support/hub-process.ts';

const CULLER = new URL('./support/idle-culler-standin.py', import.meta.url).pathname;

// Asks the hub for the user list with the token it was given, writes what it got (atomically, one file per process),
// then stays up like a real service until the hub stops it.
const SERVICE = `
import { renameSync, writeFileSync } from 'node:fs';
const out = process.argv[2];
const { JUPYTERHUB_API_URL: api, JUPYTERHUB_API_TOKEN: token, JUPYTERHUB_SERVICE_NAME: name } = process.env;
const r = await fetch(api + '/users', { headers: { authorization: 'token ' + token } });
const file = out + '/' + name + '-' + process.pid + '.json';
writeFileSync(file + '.tmp', JSON.stringify({ status: r.status, body: await r.text(), pid: process.pid, name, api, token }));
renameSync(file + '.tmp', file);
setInterval(() => {}, 1 << 30);
`;

interface Report {
  status: number;
  body: string;
  pid: number;
  name: string;
  api: string;
  token: string;
}

let hub: TestHub;
let out: string;
let hubConfig: Parameters<typeof startTestHub>[0];
let adminToken: string;
const seenPids = new Set<number>();

function reports(name: string): Report[] {
  const files = readdirSync(out).filter((f) => f.startsWith(`${name}-`) && f.endsWith('.json'));
  const all = files.map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')) as Report);
  for (const r of all) seenPids.add(r.pid);
  return all;
}

/** The first report of `name` that passes `pick`, once one is there. */
async function reportOf(name: string, pick: (r: Report) => boolean = () => true, timeoutMs?: number): Promise<Report> {
  return (await eventually(() => reports(name).find(pick), timeoutMs))!;
}

const servicePid = (name: string) => hub.running.hub.managedServices!.pid(name);

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'nodehub-services-'));
  const script = join(out, 'service.mjs');
  writeFileSync(script, SERVICE);
  adminToken = randomBytes(16).toString('hex');
  const command = [process.execPath, script, out];
  hubConfig = {
    JupyterHub: {
      services: [
        { name: 'admin-svc', api_token: adminToken, admin: true },
        { name: 'lister', admin: true, command },
        { name: 'nobody', command },
        { name: 'roled', command },
        // Not there yet when the hub starts: it must be retried, not given up on.
        { name: 'late', admin: true, command: [join(out, 'late-service')] },
      ],
      load_roles: [{ name: 'user-lister', scopes: ['list:users'], services: ['roled'] }],
    },
    Authenticator: { admin_users: ['ada'] },
  };
  hub = await startTestHub(hubConfig, { adminToken, dir: out });
});

afterAll(async () => {
  await hub?.close();
  for (const pid of seenPids) killHard(pid);
  rmSync(out, { recursive: true, force: true });
});

describe('managed services', () => {
  it('get the API URL, their name and a working token in their environment', async () => {
    const lister = await reportOf('lister');
    expect(lister.name).toBe('lister');
    expect(lister.api).toBe(`${hub.url}hub/api`);
    expect(lister.pid).toBe(servicePid('lister'));
    expect(lister.status).toBe(200);
    const users = JSON.parse(lister.body) as { name: string; admin: boolean }[];
    expect(users.map((u) => u.name)).toEqual(['ada']);
    expect(users[0].admin).toBe(true);
  });

  it('have only the permissions the configuration grants them', async () => {
    const nobody = await reportOf('nobody');
    expect(nobody.status).toBe(403);
    const roled = await reportOf('roled');
    expect(roled.status).toBe(200);
    expect((JSON.parse(roled.body) as { name: string }[]).map((u) => u.name)).toEqual(['ada']);
  });

  it('are shown by the services API with their pid', async () => {
    const r = await hub.api('/services/lister');
    expect(r.status).toBe(200);
    const model = await r.json();
    expect(model).toMatchObject({ name: 'lister', admin: true, command: expect.any(Array) });
    expect(model.pid).toBe(servicePid('lister'));
  });

  it('are started again when they die', async () => {
    const first = await reportOf('lister');
    killHard(first.pid);
    // The hub restarts it after a short pause; the new process reports with its own pid, as the hub knows it.
    const again = await reportOf('lister', (r) => r.pid !== first.pid, 15_000);
    expect(again.status).toBe(200);
    expect(servicePid('lister')).toBe(again.pid);
    expect(pidAlive(again.pid)).toBe(true);
    expect(pidAlive(first.pid)).toBe(false);
  });

  it('whose command cannot be run yet are retried while the hub keeps serving', async () => {
    expect(servicePid('late')).toBe(0);
    expect((await fetch(`${hub.url}hub/health`)).status).toBe(200);
    const file = join(out, 'late-service');
    writeFileSync(file, `#!/bin/sh\nexec '${process.execPath}' '${join(out, 'service.mjs')}' '${out}'\n`);
    chmodSync(file, 0o755);
    const late = await reportOf('late', () => true, 20_000);
    expect(late.status).toBe(200);
    expect(servicePid('late')).toBe(late.pid);
  });

  it('that cannot be run do not hold up closing a hub started a moment ago', async () => {
    const quick = await startTestHub({ JupyterHub: { services: [{ name: 'missing', command: [join(out, 'no-such-command')] }] } });
    // A command that cannot be run has no 'exit' event: waiting for one would hang here until the test times out.
    await quick.close();
  });

  it('are stopped with the hub', async () => {
    const pids = ['lister', 'nobody', 'roled', 'late'].map(servicePid);
    expect(pids.every((p) => p > 0 && pidAlive(p))).toBe(true);
    await hub.close();
    expect(pids.filter((p) => pidAlive(p))).toEqual([]);
  });
});

describe('managed services after a hub restart', () => {
  it("get a new token, and the previous process's token no longer works", async () => {
    await hub.close();
    const before = new Set(reports('lister').map((r) => r.pid));
    const old = reports('lister').at(-1)!;
    hub = await startTestHub(hubConfig, { adminToken, dir: out });
    const fresh = await reportOf('lister', (r) => !before.has(r.pid));
    expect(fresh.status).toBe(200);
    expect(fresh.token).not.toBe(old.token);
    expect((await hub.api('/user', { token: fresh.token })).status).toBe(200);
    expect((await hub.api('/user', { token: old.token })).status).toBe(403);
  });
});

// jupyterhub-idle-culler itself is not packaged for Debian, so a stand-in making its calls runs the way its README
// shows: a managed service with the role its README grants, on a hub whose servers never report activity themselves.
describe('an idle culler as a managed service', () => {
  it('stops the idle server and leaves the active one running', async () => {
    const log = join(out, 'culled.log');
    const culler = await startTestHub({
      JupyterHub: {
        services: [
          { name: 'admin-svc', api_token: adminToken, admin: true },
          {
            name: 'idle-culler', environment: { CULL_LOG: log },
            // One user per page, so the idle user is only found by following the pagination links.
            command: ['python3', CULLER, '--timeout=3', '--cull-every=1', '--api-page-size=1'],
          },
        ],
        load_roles: [{
          name: 'idle-culler', description: 'Culls idle servers',
          scopes: ['list:users', 'read:users:activity', 'read:servers', 'delete:servers'], services: ['idle-culler'],
        }],
      },
    }, { adminToken });
    let keepBusy: NodeJS.Timeout | undefined;
    try {
      for (const name of ['busy', 'idle']) {
        expect((await culler.api(`/users/${name}`, { method: 'POST' })).status).toBe(201);
        expect((await culler.api(`/users/${name}/server`, { method: 'POST' })).status).toBe(201);
      }
      // The busy server reports activity with its own token, as jupyterhub-singleuser does.
      const busyToken = (await (await fetch(`${culler.origin}/user/busy/env`)).json()).JUPYTERHUB_API_TOKEN as string;
      const report = () => culler.api('/users/busy/activity', {
        method: 'POST', token: busyToken, headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ servers: { '': { last_activity: new Date().toISOString() } } }),
      });
      expect((await report()).status).toBe(200);
      keepBusy = setInterval(() => void report(), 500);

      await eventually(async () => Object.keys((await (await culler.api('/users/idle')).json()).servers).length === 0, 20_000);
      expect((await (await culler.api('/users/busy')).json()).servers['']).toMatchObject({ ready: true });
      expect((await fetch(`${culler.origin}/user/busy/env`)).status).toBe(200);
      const lines = readFileSync(log, 'utf8').trim().split('\n');
      expect(lines.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['idle/ 204']);
      expect(Number(lines[0].split(' ')[2])).toBeGreaterThanOrEqual(3);
    } finally {
      clearInterval(keepBusy);
      await culler.close();
    }
  });
});
