// GET /hub/api/users reads the groups, servers and roles of a whole page at once (store batch look-ups) and skips the
// count unless the paginated envelope asks for it. The page must still show exactly what GET /users/<name> shows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };
const PAGED = { accept: 'application/jupyterhub-pagination+json' };
// bert comes first: load_roles creates him at start-up, before the others are added.
const NAMES = ['bert', 'ann', 'cleo', 'dora', 'emil'];
let hub: TestHub;

async function ok(res: Promise<Response>, status: number): Promise<Response> {
  const r = await res;
  expect(r.status, await r.clone().text()).toBe(status);
  return r;
}

beforeAll(async () => {
  hub = await startTestHub({ JupyterHub: { load_roles: [{ name: 'reader', scopes: ['read:users'], users: ['bert'] }] } });
  await ok(hub.api('/users', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ usernames: NAMES }) }), 201);
  await ok(hub.api('/users/dora', { method: 'PATCH', headers: JSON_HEADERS, body: '{"admin": true}' }), 200);
  await ok(hub.api('/groups/lab', { method: 'POST' }), 201);
  await ok(hub.api('/groups/zoo', { method: 'POST' }), 201);
  await ok(hub.api('/groups/lab/users', { method: 'POST', headers: JSON_HEADERS, body: '{"users": ["ann", "cleo"]}' }), 200);
  await ok(hub.api('/groups/zoo/users', { method: 'POST', headers: JSON_HEADERS, body: '{"users": ["ann"]}' }), 200);
  await ok(hub.api('/users/cleo/server', { method: 'POST' }), 201);
}, 30_000);
afterAll(async () => hub?.close());

describe('GET /hub/api/users', () => {
  it('gives every user the same model as GET /users/<name>: groups, roles, admin and servers', async () => {
    const list = (await (await ok(hub.api('/users'), 200)).json()) as { name: string }[];
    expect(list.map((u) => u.name)).toEqual(NAMES);
    for (const name of NAMES) {
      const single = await (await ok(hub.api(`/users/${name}`), 200)).json();
      expect(list.find((u) => u.name === name), name).toEqual(single);
    }
    const byName = Object.fromEntries(list.map((u) => [u.name, u as Record<string, unknown>]));
    expect(byName.ann!.groups).toEqual(['lab', 'zoo']);
    expect(byName.bert!.roles).toEqual(['reader', 'user']);
    expect(byName.dora!.roles).toEqual(['admin', 'user']);
    expect(Object.keys(byName.cleo!.servers as object)).toEqual(['']);
    expect((byName.cleo!.servers as Record<string, { ready: boolean }>)[''].ready).toBe(true);
    expect(byName.emil!.servers).toEqual({});
  });

  it('still counts the users for the paginated envelope, and pages the same models', async () => {
    const body = await (await ok(hub.api('/users?limit=2&offset=1', { headers: PAGED }), 200)).json();
    expect(body._pagination).toMatchObject({ offset: 1, limit: 2, total: NAMES.length });
    expect(body.items.map((u: { name: string }) => u.name)).toEqual(['ann', 'cleo']);
    expect(body.items[1].servers[''].ready).toBe(true);
  });

  it('shows stopped servers with include_stopped_servers, as the single-user model does', async () => {
    await ok(hub.api('/users/emil/server', { method: 'POST' }), 201);
    await ok(hub.api('/users/emil/server', { method: 'DELETE' }), 204);
    const list = await (await ok(hub.api('/users?include_stopped_servers=1'), 200)).json();
    const single = await (await ok(hub.api('/users/emil?include_stopped_servers=1'), 200)).json();
    const emil = list.find((u: { name: string }) => u.name === 'emil');
    expect(emil.servers[''].stopped).toBe(true);
    expect(emil).toEqual(single);
  });
});

describe('store batch look-ups', () => {
  it('match the per-user look-ups, leaving out users with nothing to show', async () => {
    const store = hub.running.hub.store;
    const users = await Promise.all(NAMES.map(async (n) => (await store.users.get(n))!));
    const ids = users.map((u) => u.id);
    const groups = await store.groups.groupsOfUsers(ids);
    const roles = await store.roles.ofUsers(ids);
    const servers = await store.servers.listForUsers(ids);
    for (const u of users) {
      expect(groups.get(u.id) ?? []).toEqual(await store.groups.groupsOfUser(u.id));
      expect(roles.get(u.id) ?? []).toEqual(await store.roles.ofUser(u.id));
      expect(servers.get(u.id) ?? []).toEqual(await store.servers.listForUser(u.id));
    }
    expect(groups.has(users[0]!.id)).toBe(false);
    expect(await store.groups.groupsOfUsers([])).toEqual(new Map());
  });

  it('page({withTotal: false}) leaves the total out and returns the same items', async () => {
    const store = hub.running.hub.store;
    const counted = await store.users.page({ offset: 0, limit: 3 });
    const plain = await store.users.page({ offset: 0, limit: 3, withTotal: false });
    expect(counted.total).toBe(NAMES.length);
    expect(plain.total).toBeUndefined();
    expect(plain.items).toEqual(counted.items);
  });
});
