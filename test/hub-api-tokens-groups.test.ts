// Tokens, groups, services, proxy and metrics endpoints of a real hub (sqlite file, real listener, real fetches).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { checkRoutes } from '../src/hub/api/proxy.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub({ DummyAuthenticator: { password: 'letmein' } });
  for (const name of ['bob', 'alice']) expect((await hub.api(`/users/${name}`, { method: 'POST' })).status).toBe(201);
});
afterAll(async () => hub?.close());

async function newToken(user: string, body: unknown, token?: string | null): Promise<Response> {
  return hub.api(`/users/${user}/tokens`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body), token });
}

async function bobToken(body: unknown = {}): Promise<string> {
  const r = await newToken('bob', body);
  expect(r.status).toBe(201);
  return (await r.json()).token;
}

describe('user tokens', () => {
  it('creates a token for another user with the requester in the note, and the token works', async () => {
    const r = await newToken('bob', { expires_in: 3600 });
    expect(r.status).toBe(201);
    const model = await r.json();
    expect(model).toMatchObject({ user: 'bob', kind: 'api_token', roles: [], note: 'Requested via api by service admin-svc', oauth_client: 'JupyterHub' });
    expect(model.id).toMatch(/^a\d+$/);
    expect(model.token).toMatch(/^[0-9a-f]{32}$/);
    expect(Date.parse(model.expires_at) - Date.now()).toBeGreaterThan(3500_000);
    const me = await (await hub.api('/user', { token: model.token })).json();
    expect(me.name).toBe('bob');
    // Shown once: reading the token back never includes it.
    const again = await (await hub.api(`/users/bob/tokens/${model.id}`)).json();
    expect(again.id).toBe(model.id);
    expect(again.token).toBeUndefined();
  });

  it('lets a user make their own tokens, within their own scopes', async () => {
    const own = await bobToken();
    const r = await newToken('bob', { note: 'mine', scopes: ['read:users!user=bob'] }, own);
    expect(r.status).toBe(201);
    const model = await r.json();
    expect(model.note).toBe('mine');
    const plain = await (await newToken('bob', {}, own)).json();
    expect(plain.note).toBe('Requested via api');
    const tooMuch = await newToken('bob', { scopes: ['admin:users'] }, own);
    expect(tooMuch.status).toBe(400);
    expect((await tooMuch.json()).message).toMatch(/^Not assigning requested scopes .*admin:users.* not held by User bob$/);
    const both = await newToken('bob', { scopes: [], roles: [] }, own);
    expect(both.status).toBe(400);
    expect((await hub.api('/users/alice/tokens', { method: 'POST', token: own })).status).toBe(403);
  });

  it('accepts a request without credentials that names the user through the Authenticator', async () => {
    const ok = await newToken('alice', { auth: { username: 'alice', password: 'letmein' } }, null);
    expect(ok.status).toBe(201);
    const model = await ok.json();
    expect(model.note).toBe('Requested via api');
    expect((await (await hub.api('/user', { token: model.token })).json()).name).toBe('alice');
    expect((await newToken('alice', { auth: { username: 'alice', password: 'wrong' } }, null)).status).toBe(403);
    expect((await newToken('alice', { auth: { username: 'bob', password: 'letmein' } }, null)).status).toBe(403);
    expect((await newToken('alice', {}, null)).status).toBe(403);
  });

  it('lists, reads and deletes tokens; malformed or foreign ids are 404', async () => {
    const own = await bobToken({ note: 'to delete' });
    const list = await (await hub.api('/users/bob/tokens')).json();
    const entry = list.api_tokens.find((t: { note: string }) => t.note === 'to delete');
    expect(entry).toBeDefined();
    for (const bad of ['1', 'ax', 'b1', 'a99999999']) expect((await hub.api(`/users/bob/tokens/${bad}`)).status).toBe(404);
    expect((await hub.api(`/users/alice/tokens/${entry.id}`)).status).toBe(404);
    const del = await hub.api(`/users/bob/tokens/${entry.id}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect(del.headers.get('content-type')).toContain('text/plain');
    expect((await hub.api('/user', { token: own })).status).toBe(403);
    expect((await hub.api(`/users/bob/tokens/${entry.id}`)).status).toBe(404);
    expect((await hub.api('/users/nobody/tokens')).status).toBe(404);
  });

  it('deletes every token of an OAuth client for the user when one is revoked', async () => {
    const { store } = hub.running.hub;
    const bob = (await store.users.get('bob'))!;
    await store.oauth.upsertClient({ identifier: 'service-x', description: 'Service X', redirect_uri: 'http://127.0.0.1:1/cb', allowed_scopes: [], secret: 'secret-x-0123' });
    const a = await store.tokens.create({ user_id: bob.id, kind: 'oauth', token: 'oauthtokenaaaaaaaaaaaaaaaaaaaa', client_id: 'service-x' });
    await store.tokens.create({ user_id: bob.id, kind: 'oauth', token: 'oauthtokenbbbbbbbbbbbbbbbbbbbb', client_id: 'service-x' });
    const listed = (await (await hub.api('/users/bob/tokens')).json()).api_tokens;
    expect(listed.filter((t: { oauth_client: string }) => t.oauth_client === 'Service X')).toHaveLength(2);
    expect((await hub.api(`/users/bob/tokens/a${a.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await store.tokens.listForUser(bob.id)).filter((t) => t.client_id === 'service-x')).toHaveLength(0);
  });
});

describe('groups', () => {
  it('creates, lists, reads, changes members of and deletes groups', async () => {
    const create = await hub.api('/groups', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ groups: ['g1', 'g2'], users: ['bob'] }) });
    expect(create.status).toBe(201);
    expect(await create.json()).toEqual([
      { kind: 'group', name: 'g1', users: ['bob'], roles: [], properties: {} },
      { kind: 'group', name: 'g2', users: ['bob'], roles: [], properties: {} },
    ]);
    expect((await hub.api('/groups', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ groups: ['g1'] }) })).status).toBe(409);
    const unknown = await hub.api('/groups/g3', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ users: ['ghost'] }) });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).message).toBe('No such user: ghost');
    expect((await hub.api('/groups/g3')).status).toBe(404);
    expect((await hub.api('/groups/a%2Fb', { method: 'POST' })).status).toBe(400);

    const add = await hub.api('/groups/g1/users', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ users: ['alice'] }) });
    expect((await add.json()).users).toEqual(['alice', 'bob']);
    const remove = await hub.api('/groups/g1/users', { method: 'DELETE', headers: JSON_HEADERS, body: JSON.stringify({ users: ['bob'] }) });
    expect((await remove.json()).users).toEqual(['alice']);
    expect((await hub.api('/groups/g1/users', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({}) })).status).toBe(400);

    const page = await (await hub.api('/groups?limit=1', { headers: { accept: 'application/jupyterhub-pagination+json' } })).json();
    expect(page.items.map((g: { name: string }) => g.name)).toEqual(['g1']);
    expect(page._pagination).toMatchObject({ offset: 0, limit: 1, total: 2, next: { offset: 1, limit: 1 } });

    const del = await hub.api('/groups/g2', { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect((await hub.api('/groups/g2')).status).toBe(404);
    expect((await hub.api('/groups/g2', { method: 'DELETE' })).status).toBe(404);
  });

  it('shows a caller with filtered scopes only the groups and fields it may see', async () => {
    const { store } = hub.running.hub;
    await hub.api('/groups/seen', { method: 'POST' });
    await hub.api('/groups/hidden', { method: 'POST' });
    await store.roles.upsert({ name: 'group-lister', description: '', scopes: ['list:groups!group=seen'] });
    await store.roles.addToUser((await store.users.get('alice'))!.id, 'group-lister');
    const r = await newToken('alice', {});
    const token = (await r.json()).token;
    const list = await (await hub.api('/groups', { token })).json();
    expect(list).toEqual([{ kind: 'group', name: 'seen' }]);
    expect((await hub.api('/groups/hidden', { token })).status).toBe(404);
    expect((await hub.api('/groups/seen', { method: 'DELETE', token })).status).toBe(403);
  });
});

describe('services', () => {
  it('lists the configured services and reads one', async () => {
    const all = await (await hub.api('/services')).json();
    expect(all['admin-svc']).toMatchObject({ kind: 'service', name: 'admin-svc', admin: true, roles: ['admin'], url: '', prefix: '', pid: 0, display: true });
    expect((await (await hub.api('/services/admin-svc')).json()).name).toBe('admin-svc');
    expect((await hub.api('/services/nope')).status).toBe(404);
    expect((await hub.api('/services', { token: await bobToken() })).status).toBe(403);
  });
});

describe('proxy', () => {
  it('shows the route table with JupyterHub routespecs and re-syncs it', async () => {
    const { routes, hubTarget } = hub.running.hub;
    expect((await hub.api('/users/bob/server', { method: 'POST' })).status).toBe(201);
    try {
      const table = await (await hub.api('/proxy')).json();
      expect(table['/']).toMatchObject({ routespec: '/', target: hubTarget, data: { hub: true } });
      const bob = table['/user/bob/'];
      expect(bob).toMatchObject({ routespec: '/user/bob/', data: { user: 'bob', server_name: '' } });
      expect(Date.now() - Date.parse(bob.data.last_activity)).toBeLessThan(60_000);

      routes.remove('/user/bob/');
      routes.add('/user/ghost/', 'http://127.0.0.1:9', { user: 'ghost', server_name: '' });
      const sync = await hub.api('/proxy', { method: 'POST' });
      expect(sync.status).toBe(200);
      expect(routes.get('/user/bob/')?.target).toBe(bob.target);
      expect(routes.get('/user/ghost/')).toBeUndefined();
      // Without the hub route no request reaches the hub, so that repair is checked in-process.
      routes.remove('/');
      checkRoutes(hub.running.hub);
      expect(routes.get('/')).toMatchObject({ target: hubTarget, data: { hub: true } });

      const page = await (await hub.api('/proxy?offset=1&limit=1', { headers: { accept: 'application/jupyterhub-pagination+json' } })).json();
      expect(Object.keys(page.items)).toEqual(['/user/bob/']);
      expect(page._pagination.total).toBe(2);
    } finally {
      await hub.api('/users/bob/server', { method: 'DELETE' });
    }
  });

  it('validates PATCH bodies and needs the proxy scope', async () => {
    expect((await hub.api('/proxy', { method: 'PATCH' })).status).toBe(400);
    expect((await hub.api('/proxy', { method: 'PATCH', headers: JSON_HEADERS, body: '[1]' })).status).toBe(400);
    const ok = await hub.api('/proxy', { method: 'PATCH', headers: JSON_HEADERS, body: JSON.stringify({ api_url: 'http://127.0.0.1:8001', auth_token: 'x' }) });
    expect(ok.status).toBe(200);
    expect((await hub.api('/proxy', { token: await bobToken() })).status).toBe(403);
  });
});

describe('metrics', () => {
  it('needs read:metrics', async () => {
    const ok = await fetch(`${hub.url}hub/metrics`, { headers: { authorization: `token ${hub.adminToken}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await ok.text();
    expect(text).toMatch(/^jupyterhub_total_users \d+$/m);
    expect(text).toMatch(/^jupyterhub_request_duration_seconds_count\{method="GET"/m);
    expect((await fetch(`${hub.url}hub/api/metrics`, { headers: { authorization: `token ${hub.adminToken}` } })).status).toBe(200);
    expect((await fetch(`${hub.url}hub/metrics`)).status).toBe(403);
    expect((await fetch(`${hub.url}hub/metrics`, { headers: { authorization: `token ${await bobToken()}` } })).status).toBe(403);
  });

  it('is public with authenticate_prometheus off', async () => {
    const open = await startTestHub({ JupyterHub: { authenticate_prometheus: false } });
    try {
      const r = await fetch(`${open.url}hub/metrics`);
      expect(r.status).toBe(200);
      expect(await r.text()).toMatch(/^jupyterhub_total_users 0$/m);
    } finally {
      await open.close();
    }
  });
});
