// Who may log in and who exists at start, end to end on real hubs: jupyterhub_config.py files written for JupyterHub
// 5.4 started with `nodehub -f`, the users their allow lists name existing at once, and SharedPasswordAuthenticator's
// login form with the rate limiter it shares with the event's password gate.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, NODE24, ROOT, startHubProcess, type HubProcess } from './support/hub-process.ts';
import { eventually, MOCK_SINGLEUSER, startTestHub, type TestHub } from './support/hub.ts';
import { ask, formPost, formSession } from './support/raw-http.ts';

const py = (v: unknown) => JSON.stringify(v);

/** The lines a test hub needs besides the config under test: its own port, database, secret and servers. */
function testLines(dir: string, port: number): string {
  return [
    `c.JupyterHub.ip = "127.0.0.1"`,
    `c.JupyterHub.port = ${port}`,
    `c.JupyterHub.db_url = ${py(`sqlite:///${join(dir, 'hub.sqlite')}`)}`,
    `c.JupyterHub.cookie_secret_file = ${py(join(dir, 'cookie_secret'))}`,
    `c.Spawner.cmd = [${py(process.execPath)}, ${py(MOCK_SINGLEUSER)}]`,
    `c.LocalProcessSpawner.home_dir_template = ${py(join(dir, 'home', '{username}'))}`,
    `c.LocalProcessSpawner.uid_range = None`,
    `c.LocalProcessSpawner.allow_unisolated = True`,
  ].join('\n');
}

describe('a jupyterhub_config.py for JupyterHub 5.4 (null authenticator, services with load_roles)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodehub-authz-'));
  const launcher = randomBytes(16).toString('hex');
  const watcher = randomBytes(16).toString('hex');
  let proc: HubProcess;
  let origin: string;
  const api = (token: string, path: string, init: RequestInit = {}) =>
    fetch(`${origin}/hub/api${path}`, { ...init, headers: { authorization: `token ${token}` } });

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    const file = join(dir, 'jupyterhub_config.py');
    writeFileSync(file, `c = get_config()  # noqa
c.JupyterHub.spawner_class = "simple"
c.JupyterHub.authenticator_class = "null"
c.Authenticator.allowed_users = {"alice", "bob"}
c.JupyterHub.services = [
    {"name": "launcher", "api_token": ${py(launcher)}},
    {"name": "watcher", "api_token": ${py(watcher)}},
]
c.JupyterHub.load_roles = [
    {"name": "launcher", "scopes": ["servers", "read:users"], "services": ["launcher"]},
    {"name": "watcher", "scopes": ["read:users"], "services": ["watcher"]},
]
${testLines(dir, port)}
`);
    proc = await startHubProcess(file, origin);
  }, 60_000);
  afterAll(async () => {
    proc?.child.kill('SIGTERM');
    await proc?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('has the allowed users at once', async () => {
    for (const name of ['alice', 'bob']) {
      const r = await api(watcher, `/users/${name}`);
      expect(r.status, name).toBe(200);
      expect((await r.json()).admin).toBe(false);
    }
    expect((await api(watcher, '/users/carol')).status).toBe(404);
  });

  it('lets the service with the servers scope start and stop a server, and not the other', async () => {
    expect((await api(watcher, '/users/alice/server', { method: 'POST' })).status).toBe(403);
    expect([201, 202]).toContain((await api(launcher, '/users/alice/server', { method: 'POST' })).status);
    // read:users alone does not show servers (JupyterHub needs read:servers for the field); the launcher's servers does.
    await eventually(async () => (await (await api(launcher, '/users/alice')).json()).servers?.['']?.ready === true);
    expect([202, 204]).toContain((await api(launcher, '/users/alice/server', { method: 'DELETE' })).status);
    await eventually(async () => (await (await api(launcher, '/users/alice')).json()).servers?.[''] === undefined);
  }, 60_000);
});

describe("jupyterhub-idle-culler's test hub (simple spawner, allowed_users, an admin service)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodehub-culler-shape-'));
  const token = randomBytes(16).toString('hex');
  let proc: HubProcess;
  let origin: string;

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    const file = join(dir, 'jupyterhub_config.py');
    writeFileSync(file, `c.JupyterHub.spawner_class = "simple"
c.Authenticator.allowed_users = {"test-0", "test-1", "test-2"}
c.JupyterHub.services = [{"name": "admin-service", "api_token": ${py(token)}, "admin": True}]
${testLines(dir, port)}
`);
    proc = await startHubProcess(file, origin);
  }, 60_000);
  afterAll(async () => {
    proc?.child.kill('SIGTERM');
    await proc?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('POST /hub/api/users/test-0/server works right after start', async () => {
    const headers = { authorization: `token ${token}` };
    const r = await fetch(`${origin}/hub/api/users/test-0/server`, { method: 'POST', headers });
    expect([201, 202]).toContain(r.status);
    await eventually(async () => (await (await fetch(`${origin}/hub/api/users/test-0`, { headers })).json()).servers?.['']?.ready === true);
    const users = (await (await fetch(`${origin}/hub/api/users`, { headers })).json()) as { name: string }[];
    expect(users.map((u) => u.name).sort()).toEqual(['test-0', 'test-1', 'test-2']);
  }, 60_000);
});

const USER_PW = 'correct horse';
const ADMIN_PW = 'battery staple '.repeat(3);

async function login(hub: TestHub, username: string, password: string, from = '127.0.0.1') {
  const f = await formSession(hub.origin, '/hub/login', '', from);
  return ask(hub.origin, '/hub/login', { ...formPost({ username, password, _xsrf: f.xsrf }, { cookie: f.cookie }), from });
}

describe('shared-password', () => {
  let hub: TestHub;
  afterEach(async () => hub?.close());

  it('lets allowed names in with the user password, admins only with the admin password', async () => {
    hub = await startTestHub({
      JupyterHub: { authenticator_class: 'shared-password' },
      Authenticator: { allowed_users: ['ann', 'bob'], admin_users: ['boss'] },
      SharedPasswordAuthenticator: { user_password: USER_PW, admin_password: ADMIN_PW },
    });
    const page = await ask(hub.origin, '/hub/login');
    expect(page.body).toMatch(/name="username"/);
    expect(page.body).toMatch(/type="password"/);

    const ann = await login(hub, 'Ann', USER_PW);
    expect(ann.status).toBe(302);
    expect(ann.cookies['jupyterhub-hub-login']).toBeTruthy();
    expect((await (await hub.api('/users/ann')).json()).admin).toBe(false);
    expect((await login(hub, 'carol', USER_PW)).status).toBe(200); // not allowed: the form again
    expect((await login(hub, 'ann', ADMIN_PW)).status).toBe(200);
    expect((await login(hub, 'boss', USER_PW)).status).toBe(200);
    const boss = await login(hub, 'boss', ADMIN_PW);
    expect(boss.status).toBe(302);
    expect((await (await hub.api('/users/boss')).json()).admin).toBe(true);

    // The user password never makes an admin, and takes admin from a name that had it (5.4's admin: False).
    await hub.api('/users/bob', { method: 'PATCH', body: JSON.stringify({ admin: true }), headers: { 'content-type': 'application/json' } });
    expect((await (await hub.api('/users/bob')).json()).admin).toBe(true);
    expect((await login(hub, 'bob', USER_PW)).status).toBe(302);
    expect((await (await hub.api('/users/bob')).json()).admin).toBe(false);
  }, 30_000);

  it('a token request with a password in its body counts as a login try: limited, and never for a name not allowed', async () => {
    hub = await startTestHub({
      JupyterHub: { authenticator_class: 'shared-password' },
      Authenticator: { allowed_users: ['ann'] },
      SharedPasswordAuthenticator: { user_password: USER_PW },
      SharedPassword: { max_wrong_tries: 3 },
    });
    await hub.api('/users/ann', { method: 'POST' });
    const tokenFor = (name: string, password: string) => fetch(`${hub.origin}/hub/api/users/${name}/tokens`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth: { username: name, password } }),
    });
    expect((await tokenFor('ann', USER_PW)).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await tokenFor('ann', 'wrong-password')).status).toBe(403);
    const locked = await tokenFor('ann', USER_PW);
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toMatch(/^\d+$/);
  }, 30_000);

  it('counts wrong passwords per address in the event gate\'s buckets', async () => {
    hub = await startTestHub({
      JupyterHub: { authenticator_class: 'shared-password' },
      Authenticator: { allow_all: true },
      SharedPasswordAuthenticator: { user_password: USER_PW },
      SharedPassword: { max_wrong_tries: 3 },
    }, { env: { NODEHUB_SHARED_PASSWORD: 'event-pass' } });
    const from = '127.0.0.7';
    // Through the event gate first (a right password does not count).
    const gateForm = await formSession(hub.origin, '/hub/password', '', from);
    const pass = await ask(hub.origin, '/hub/password', { ...formPost({ password: 'event-pass', _xsrf: gateForm.xsrf }, { cookie: gateForm.cookie }), from });
    expect(pass.status).toBe(302);
    const cookie = `${gateForm.cookie}; nodehub-shared-password=${pass.cookies['nodehub-shared-password']}`;
    const formLogin = async (password: string) => {
      const f = await formSession(hub.origin, '/hub/login', cookie, from);
      return ask(hub.origin, '/hub/login', { ...formPost({ username: 'ann', password, _xsrf: f.xsrf }, { cookie: f.cookie }), from });
    };
    expect((await formLogin('wrong-one')).status).toBe(200);
    expect((await formLogin('wrong-two')).status).toBe(200);
    // The third wrong try, at the gate, fills the same bucket.
    const g = await formSession(hub.origin, '/hub/password', '', from);
    expect((await ask(hub.origin, '/hub/password', { ...formPost({ password: 'nope', _xsrf: g.xsrf }, { cookie: g.cookie }), from })).status).toBe(403);
    const limited = await formLogin(USER_PW);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(await hub.running.hub.store.users.get('ann')).toBeUndefined();
    // Another address is not affected.
    const other = '127.0.0.8';
    const g2 = await formSession(hub.origin, '/hub/password', '', other);
    const pass2 = await ask(hub.origin, '/hub/password', { ...formPost({ password: 'event-pass', _xsrf: g2.xsrf }, { cookie: g2.cookie }), from: other });
    const c2 = `${g2.cookie}; nodehub-shared-password=${pass2.cookies['nodehub-shared-password']}`;
    const f2 = await formSession(hub.origin, '/hub/login', c2, other);
    const ok = await ask(hub.origin, '/hub/login', { ...formPost({ username: 'ann', password: USER_PW, _xsrf: f2.xsrf }, { cookie: f2.cookie }), from: other });
    expect(ok.status).toBe(302);
  }, 30_000);
});

/** Runs `nodehub -f <file>` to its end (start-up errors end it). */
function runCli(cwd: string, file: string): Promise<{ code: number | null; stderr: string }> {
  const env = { ...process.env };
  delete env.NODEHUB_CONFIG;
  delete env.JPY_COOKIE_SECRET;
  return new Promise((done) => {
    const child = spawn(NODE24, [join(ROOT, 'bin/nodehub.mjs'), '-f', file], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stderr });
    });
  });
}

describe('shared-password refuses short passwords at start-up', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodehub-shortpw-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [line, message] of [
    ['c.SharedPasswordAuthenticator.user_password = "short"', 'nodehub: SharedPasswordAuthenticator.user_password must be at least 8 characters long, got 5 characters\n'],
    ['c.SharedPasswordAuthenticator.user_password = "long enough"\nc.SharedPasswordAuthenticator.admin_password = "too short for an admin"',
      'nodehub: SharedPasswordAuthenticator.admin_password must be at least 32 characters, not 22.\n'],
  ]) {
    it(message.split(' must')[0].replace('nodehub: ', ''), async () => {
      const file = join(dir, 'jupyterhub_config.py');
      writeFileSync(file, `c.JupyterHub.authenticator_class = "shared-password"\nc.Authenticator.admin_users = {"boss"}\n${line}\n${testLines(dir, 0)}\n`);
      const r = await runCli(dir, file);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(message);
    }, 40_000);
  }
});

describe('load_groups and blocked_users at start-up', () => {
  it('creates groups with members (5.x dict and 3.x list form); a later blocked user loses admin, roles, groups and servers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nodehub-groups-'));
    const adminToken = randomBytes(16).toString('hex');
    try {
      let hub = await startTestHub({
        JupyterHub: {
          cleanup_servers: false,
          load_groups: { teachers: { users: ['Ann', 'mallory'], properties: { room: 1 } }, legacy: ['carl'] },
          load_roles: [{ name: 'reader', scopes: ['read:users'], users: ['mallory'] }],
        },
        Authenticator: { admin_users: ['mallory'] },
      }, { dir, adminToken });
      const group = async (name: string) => (await hub.api(`/groups/${name}`)).json();
      // (the group model of the API shows no properties yet: read them from the store)
      const properties = async (name: string) => (await hub.running.hub.store.groups.get(name))?.properties;
      expect(await group('teachers')).toMatchObject({ users: ['ann', 'mallory'] });
      expect(await properties('teachers')).toEqual({ room: 1 });
      expect(await group('legacy')).toMatchObject({ users: ['carl'] });
      expect([201, 202]).toContain((await hub.api('/users/mallory/server', { method: 'POST' })).status);
      await eventually(async () => (await (await hub.api('/users/mallory')).json()).servers?.['']?.ready === true);
      const store = hub.running.hub.store;
      expect(await store.roles.ofUser((await store.users.get('mallory'))!.id)).toContain('reader');
      await hub.close();

      hub = await startTestHub({
        JupyterHub: { load_groups: { teachers: { users: ['bob'], properties: { room: 2 } } } },
        Authenticator: { blocked_users: ['mallory'] },
      }, { dir, adminToken });
      // Groups and members are only added; properties given replace the stored ones.
      expect(await group('teachers')).toMatchObject({ users: ['ann', 'bob'] });
      expect(await properties('teachers')).toEqual({ room: 2 });
      const mallory = await (await hub.api('/users/mallory')).json();
      expect(mallory).toMatchObject({ admin: false, groups: [] });
      expect(mallory.roles ?? []).not.toContain('reader');
      expect(mallory.servers ?? {}).toEqual({});
      await hub.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
