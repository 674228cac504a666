// The REST API driving real server processes (the fast mock single-user server) through the in-process proxy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startTestHub, eventually, type TestHub } from './support/hub.ts';
import { login } from './hub-protocol-support.ts';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({ JupyterHub: { allow_named_servers: true, named_server_limit_per_user: 2 } });
});
afterAll(async () => hub?.close());

describe('hub API with real server processes', () => {
  it('answers GET /hub/api without credentials, with the version header', async () => {
    const r = await hub.api('', { token: null });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-jupyterhub-version')).toBe('5.4.6');
    expect(await r.json()).toEqual({ version: '5.4.6' });
  });

  it('starts, routes, reports and stops a server', async () => {
    expect((await hub.api('/users/alice', { method: 'POST' })).status).toBe(201);
    const start = await hub.api('/users/alice/server', { method: 'POST' });
    expect(start.status).toBe(201);
    const model = await (await hub.api('/users/alice')).json();
    expect(model.server).toBe('/user/alice/');
    expect(model.servers[''].ready).toBe(true);
    expect(model.servers[''].progress_url).toBe('/hub/api/users/alice/server/progress');
    // Through the proxy: the mock answers 302 to tree/ on its prefix, and shows the environment the hub gave it.
    const viaProxy = await fetch(`${hub.origin}/user/alice/`, { redirect: 'manual' });
    expect(viaProxy.status).toBe(302);
    expect(viaProxy.headers.get('location')).toMatch(/^\/user\/alice\/tree\//);
    const env = await (await fetch(`${hub.origin}/user/alice/env`)).json();
    expect(env.JUPYTERHUB_API_URL).toBe(`${hub.origin}/hub/api`);
    expect(env.JUPYTERHUB_CLIENT_ID).toBe('jupyterhub-user-alice');
    expect(env.JUPYTERHUB_SERVICE_PREFIX).toBe('/user/alice/');
    const port = new URL(env.JUPYTERHUB_SERVICE_URL).port;
    const home = join(hub.dir, 'home', 'alice');
    expect(existsSync(home)).toBe(true);

    // The server's own token may report activity for its user, and nothing more.
    const act = await hub.api('/users/alice/activity', {
      method: 'POST', token: env.JUPYTERHUB_API_TOKEN, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ servers: { '': { last_activity: new Date().toISOString() } }, last_activity: new Date().toISOString() }),
    });
    expect(act.status).toBe(200);
    expect((await hub.api('/users', { token: env.JUPYTERHUB_API_TOKEN })).status).toBe(403);

    const stop = await hub.api('/users/alice/server', { method: 'DELETE' });
    expect(stop.status).toBe(204);
    expect(existsSync(home)).toBe(false);
    // Port released and route gone: the proxy now sends /user/alice/ to the hub, which redirects to /hub/user/alice/.
    const after = await fetch(`${hub.origin}/user/alice/`, { redirect: 'manual' });
    expect(after.status).toBe(302);
    expect(after.headers.get('location')).toBe('/hub/user/alice/');
    await expect(fetch(`http://127.0.0.1:${port}/user/alice/`)).rejects.toThrow();
    // The server's token died with it.
    expect((await hub.api('/users/alice/activity', { method: 'POST', token: env.JUPYTERHUB_API_TOKEN, body: '{}' })).status).toBe(403);
  });

  it('streams progress to a late subscriber and ends with the ready event', async () => {
    await hub.api('/users/bob', { method: 'POST' });
    const start = await hub.api('/users/bob/server', { method: 'POST' });
    expect([201, 202]).toContain(start.status);
    const r = await hub.api('/users/bob/server/progress');
    expect(r.headers.get('content-type')).toContain('text/event-stream');
    const text = await r.text();
    const events = text.split('\n\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
    expect(events.at(-1)).toMatchObject({ progress: 100, ready: true, url: '/user/bob/' });
    await hub.api('/users/bob/server', { method: 'DELETE' });
  });

  it('runs named servers up to the limit', async () => {
    await hub.api('/users/carol', { method: 'POST' });
    expect((await hub.api('/users/carol/servers/one', { method: 'POST' })).status).toBe(201);
    expect((await hub.api('/users/carol/servers/two', { method: 'POST' })).status).toBe(201);
    const third = await hub.api('/users/carol/servers/three', { method: 'POST' });
    expect(third.status).toBe(400);
    expect((await third.json()).message).toContain('maximum of 2 named servers');
    const r = await fetch(`${hub.origin}/user/carol/one/env`);
    expect((await r.json()).JUPYTERHUB_SERVER_NAME).toBe('one');
    expect((await hub.api('/users/carol/servers/one', { method: 'DELETE', body: JSON.stringify({ remove: true }), headers: { 'content-type': 'application/json' } })).status).toBe(204);
    expect((await hub.api('/users/carol/servers/two', { method: 'DELETE' })).status).toBe(204);
    const model = await (await hub.api('/users/carol?include_stopped_servers=1')).json();
    await eventually(async () => !(await (await hub.api('/users/carol?include_stopped_servers=1')).json()).servers.one);
    expect(model.servers.two.stopped).toBe(true);
  });

  it('notices a crashed server at once and routes to the hub again', async () => {
    await hub.api('/users/dave', { method: 'POST' });
    await hub.api('/users/dave/server', { method: 'POST' });
    const proc = await (await fetch(`${hub.origin}/user/dave/proc`)).json();
    process.kill(proc.pid, 'SIGKILL');
    await eventually(async () => (await (await hub.api('/users/dave')).json()).server === null, 5000);
    expect(hub.running.hub.routes.get('/user/dave')).toBeUndefined();
  });
});

describe("a server's token is found by its link to the server, not by its note", () => {
  it('keeps a user token noted like a server token through the stop, and on the token page; the server token neither', async () => {
    expect((await hub.api('/users/dora', { method: 'POST' })).status).toBe(201);
    const made = await hub.api('/users/dora/tokens', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ note: 'Server at /user/dora/' }),
    });
    expect(made.status).toBe(201);
    const own = await made.json();
    const cookie = await login(hub, 'dora');
    const tokenPage = async () => (await fetch(`${hub.origin}/hub/token`, { headers: { cookie } })).text();

    expect((await hub.api('/users/dora/server', { method: 'POST' })).status).toBe(201);
    const env = await (await fetch(`${hub.origin}/user/dora/env`)).json();
    const listed = (await (await hub.api('/users/dora/tokens')).json()).api_tokens as { id: string; note: string }[];
    const serverToken = listed.find((t) => t.id !== own.id)!;
    expect(serverToken.note).toBe('Server at /user/dora/');
    let page = await tokenPage();
    expect(page).toContain(`/hub/api/users/dora/tokens/${own.id}`);
    expect(page).not.toContain(`/hub/api/users/dora/tokens/${serverToken.id}`);
    expect((await hub.api('/users/dora/server', { method: 'DELETE' })).status).toBe(204);
    expect((await hub.api('/users/dora', { token: own.token })).status).toBe(200);
    expect((await hub.api('/users/dora/activity', { method: 'POST', token: env.JUPYTERHUB_API_TOKEN, body: '{}' })).status).toBe(403);
    const after = (await (await hub.api('/users/dora/tokens')).json()).api_tokens as { id: string }[];
    expect(after.map((t) => t.id)).toEqual([own.id]);
    page = await tokenPage();
    expect(page).toContain(`/hub/api/users/dora/tokens/${own.id}`);
  });
});

describe('names in URLs, as JupyterHub quotes them (quote(name, safe="@~"))', () => {
  const cases: [user: string, server: string, prefix: string][] = [
    ["o'neil", '', '/user/o%27neil/'],
    ['ann lee', '', '/user/ann%20lee/'],
    ['zoë', '', '/user/zo%C3%AB/'],
    ['eve@lab', '', '/user/eve@lab/'],
    ['p+q~r', '', '/user/p%2Bq~r/'],
    ["o'neil", 'lab (1)!*', '/user/o%27neil/lab%20%281%29%21%2A/'],
  ];
  it.each(cases)('%s/%s: the route, the server env and the REST model agree on %s', async (user, server, prefix) => {
    const userPath = prefix.split('/')[2]!;
    if ((await hub.api(`/users/${userPath}`)).status === 404) expect((await hub.api(`/users/${userPath}`, { method: 'POST' })).status).toBe(201);
    const serverPath = server ? `servers/${prefix.split('/')[3]}` : 'server';
    expect((await hub.api(`/users/${userPath}/${serverPath}`, { method: 'POST' })).status).toBe(201);
    try {
      const model = await (await hub.api(`/users/${userPath}`)).json();
      expect(model.name).toBe(user);
      expect(model.servers[server].url).toBe(prefix);
      if (!server) expect(model.server).toBe(prefix);
      expect(hub.running.hub.routes.get(prefix)?.data).toMatchObject({ user, server_name: server });
      const env = await (await fetch(`${hub.origin}${prefix}env`)).json();
      expect(env.JUPYTERHUB_SERVICE_PREFIX).toBe(prefix);
      expect(env.JUPYTERHUB_OAUTH_CALLBACK_URL).toBe(`${prefix}oauth_callback`);
      expect(env.JUPYTERHUB_ACTIVITY_URL).toBe(`${hub.origin}/hub/api/users/${userPath}/activity`);
    } finally {
      expect((await hub.api(`/users/${userPath}/${serverPath}`, { method: 'DELETE' })).status).toBe(204);
    }
  });
});

describe('the home page while a named server stops', () => {
  it("shows it stopping, as the REST model's pending 'stop' says", async () => {
    // A server that ignores SIGTERM takes the interrupt and terminate timeouts to stop: long enough to look at.
    const slow = await startTestHub({
      JupyterHub: { allow_named_servers: true },
      Spawner: { environment: { MOCK_IGNORE_SIGTERM: '1' } },
      LocalProcessSpawner: { interrupt_timeout: 1, term_timeout: 1, kill_timeout: 2 },
    });
    try {
      expect((await slow.api('/users/sam', { method: 'POST' })).status).toBe(201);
      expect((await slow.api('/users/sam/servers/lab', { method: 'POST' })).status).toBe(201);
      const cookie = await login(slow, 'sam');
      const stopping = slow.api('/users/sam/servers/lab', { method: 'DELETE' });
      await eventually(async () => (await (await slow.api('/users/sam')).json()).servers.lab?.pending === 'stop');
      const home = await (await fetch(`${slow.origin}/hub/home`, { headers: { cookie } })).text();
      expect(home).toContain('This page refreshes by itself while a server is starting or stopping.');
      expect([202, 204]).toContain((await stopping).status);
    } finally {
      await slow.close();
    }
  });
});
