// The REST contract of spec 2.1–2.3 as clients see it: pagination (envelope only on request, next URL followable
// verbatim), state and name filters, scope-cut user models, tokens, groups, the proxy listing, timestamps and errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { ISO_MICRO } from './hub-protocol-support.ts';

const PAGED = { accept: 'application/jupyterhub-pagination+json' };
const JSON_HEADERS = { 'content-type': 'application/json' };
const NAMES = ['ann', 'bert', 'cleo', 'dora', 'emil', 'Frida', 'runner'];
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub();
  const r = await hub.api('/users', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ usernames: NAMES }) });
  expect(r.status).toBe(201);
  expect((await hub.api('/users/runner/server', { method: 'POST' })).status).toBe(201);
});
afterAll(async () => hub?.close());

async function tokenFor(user: string, scopes?: string[]): Promise<string> {
  const r = await hub.api(`/users/${user}/tokens`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(scopes ? { scopes } : {}) });
  expect(r.status).toBe(201);
  return (await r.json()).token;
}

describe('pagination', () => {
  it('wraps the list only when the Accept header asks, and next.url is absolute and followable verbatim', async () => {
    const first = await hub.api('/users?limit=3', { headers: PAGED });
    expect(first.status).toBe(200);
    const body = await first.json();
    expect(body._pagination).toMatchObject({ offset: 0, limit: 3, total: NAMES.length });
    expect(body.items.map((u: { name: string }) => u.name)).toEqual(['ann', 'bert', 'cleo']);
    expect(body._pagination.next).toMatchObject({ offset: 3, limit: 3 });
    expect(body._pagination.next.url).toMatch(new RegExp(`^${hub.origin}/hub/api/users\\?`));
    const seen = [...body.items];
    let next = body._pagination.next;
    while (next) {
      const page = await (await fetch(next.url, { headers: { ...PAGED, authorization: `token ${hub.adminToken}` } })).json();
      seen.push(...page.items);
      next = page._pagination.next;
    }
    expect(seen.map((u) => u.name)).toEqual(NAMES.map((n) => n.toLowerCase()));
  });

  it('keeps the other query arguments in next.url', async () => {
    const body = await (await hub.api('/users?state=inactive&limit=2', { headers: PAGED })).json();
    const next = new URL(body._pagination.next.url);
    expect(next.searchParams.get('state')).toBe('inactive');
    expect(next.searchParams.get('offset')).toBe('2');
  });

  it('returns a bare list without the header, honouring limit and offset', async () => {
    const all = await (await hub.api('/users')).json();
    expect(Array.isArray(all)).toBe(true);
    expect(all).toHaveLength(NAMES.length);
    const some = await (await hub.api('/users?offset=2&limit=2')).json();
    expect(some.map((u: { name: string }) => u.name)).toEqual(['cleo', 'dora']);
    const last = await (await hub.api('/users?offset=6', { headers: PAGED })).json();
    expect(last._pagination.next).toBeNull();
    expect(last.items).toHaveLength(1);
  });
});

describe('filters', () => {
  it('filters by state, and rejects an unknown state with 400', async () => {
    const names = async (q: string) => (await (await hub.api(`/users?state=${q}`)).json()).map((u: { name: string }) => u.name);
    expect(await names('ready')).toEqual(['runner']);
    expect(await names('active')).toEqual(['runner']);
    expect(await names('inactive')).toEqual(['ann', 'bert', 'cleo', 'dora', 'emil', 'frida']);
    const ready = await (await hub.api('/users?state=ready')).json();
    expect(ready[0].servers[''].ready).toBe(true);
    const bad = await hub.api('/users?state=sleeping');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: 400 });
  });

  it('filters names by case-insensitive substring', async () => {
    const r = await (await hub.api('/users?name_filter=R')).json();
    expect(r.map((u: { name: string }) => u.name)).toEqual(['bert', 'dora', 'frida', 'runner']);
    expect(await (await hub.api('/users?name_filter=zzz')).json()).toEqual([]);
  });
});

describe('user models cut by scope', () => {
  it("lets a user's own token read itself, 404s another user and 403s the list", async () => {
    const own = await tokenFor('ann');
    const me = await hub.api('/users/ann', { token: own });
    expect(me.status).toBe(200);
    const model = await me.json();
    expect(Object.keys(model).sort()).toEqual(['admin', 'created', 'groups', 'kind', 'last_activity', 'name', 'pending', 'roles', 'server', 'servers']);
    expect(model.auth_state).toBeUndefined();
    const other = await hub.api('/users/bert', { token: own });
    expect(other.status).toBe(404);
    expect((await other.json()).message).toBe('No access to resources or resources not found');
    const list = await hub.api('/users', { token: own });
    expect(list.status).toBe(403);
    expect((await list.json()).message).toMatch(/^Action is not authorized with current scopes; requires any of \[list:users\]/);
  });

  it('shows only the fields each read scope grants', async () => {
    const cases: [string, string[]][] = [
      ['read:users:activity!user=ann', ['kind', 'last_activity', 'name']],
      ['read:users:groups!user=ann', ['groups', 'kind', 'name']],
      ['read:users:name!user=ann', ['admin', 'kind', 'name']],
      ['read:servers!user=ann', ['admin', 'kind', 'name', 'servers']],
    ];
    for (const [scope, keys] of cases) {
      const model = await (await hub.api('/users/ann', { token: await tokenFor('ann', [scope]) })).json();
      expect(Object.keys(model).sort(), scope).toEqual(keys);
    }
  });

  it('formats timestamps as ISO-8601 UTC with microseconds and Z', async () => {
    const model = await (await hub.api('/users/runner')).json();
    expect(model.created).toMatch(ISO_MICRO);
    expect(model.last_activity).toMatch(ISO_MICRO);
    expect(model.servers[''].started).toMatch(ISO_MICRO);
    expect(model.servers[''].last_activity).toMatch(ISO_MICRO);
    const never = await (await hub.api('/users/dora')).json();
    expect(never.last_activity).toBeNull();
    const token = await (await hub.api('/users/dora/tokens', { method: 'POST', headers: JSON_HEADERS, body: '{"expires_in": 60}' })).json();
    expect(token.created).toMatch(ISO_MICRO);
    expect(token.expires_at).toMatch(ISO_MICRO);
  });
});

describe('tokens', () => {
  it('creates within the owner scopes (201 with token), refuses beyond (400), lists and deletes', async () => {
    const own = await tokenFor('cleo');
    const ok = await hub.api('/users/cleo/tokens', { method: 'POST', token: own, headers: JSON_HEADERS, body: JSON.stringify({ scopes: ['read:users!user=cleo'], note: 'narrow' }) });
    expect(ok.status).toBe(201);
    const made = await ok.json();
    expect(made.token).toMatch(/^[0-9a-f]{32}$/);
    expect(made.scopes).toContain('read:users!user=cleo');
    const beyond = await hub.api('/users/cleo/tokens', { method: 'POST', token: own, headers: JSON_HEADERS, body: JSON.stringify({ scopes: ['list:users'] }) });
    expect(beyond.status).toBe(400);
    const list = await (await hub.api('/users/cleo/tokens', { token: own })).json();
    expect(list.api_tokens.map((t: { id: string }) => t.id)).toContain(made.id);
    expect(list.api_tokens.every((t: { token?: string }) => t.token === undefined)).toBe(true);
    const del = await hub.api(`/users/cleo/tokens/${made.id}`, { method: 'DELETE', token: own });
    expect(del.status).toBe(204);
    expect((await hub.api(`/users/cleo/tokens/${made.id}`, { token: own })).status).toBe(404);
    expect((await hub.api('/user', { token: made.token })).status).toBe(403);
  });
});

describe('groups', () => {
  it('creates, fills, lists, reads and deletes a group', async () => {
    const made = await hub.api('/groups/lab', { method: 'POST' });
    expect(made.status).toBe(201);
    expect(await made.json()).toMatchObject({ kind: 'group', name: 'lab', users: [], roles: [] });
    expect((await hub.api('/groups/lab', { method: 'POST' })).status).toBe(409);
    const filled = await hub.api('/groups/lab/users', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ users: ['ann', 'bert'] }) });
    expect(filled.status).toBe(200);
    expect((await filled.json()).users).toEqual(['ann', 'bert']);
    expect((await hub.api('/groups/lab/users', { method: 'POST', headers: JSON_HEADERS, body: '{"users": ["ghost"]}' })).status).toBe(400);
    const paged = await (await hub.api('/groups', { headers: PAGED })).json();
    expect(paged.items.map((g: { name: string }) => g.name)).toEqual(['lab']);
    expect((await (await hub.api('/users/ann')).json()).groups).toEqual(['lab']);
    expect((await hub.api('/groups/lab', { method: 'DELETE' })).status).toBe(204);
    expect((await hub.api('/groups/lab')).status).toBe(404);
  });
});

describe('proxy listing', () => {
  it('lists /user/<name>/ with its target and data, and the hub route', async () => {
    const routes = await (await hub.api('/proxy')).json();
    const user = routes['/user/runner/'];
    expect(user).toMatchObject({ routespec: '/user/runner/', data: { user: 'runner', server_name: '' } });
    expect(user.target).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number.isNaN(Date.parse(user.data.last_activity))).toBe(false);
    expect(routes['/'].data.hub).toBe(true);
    const env = await (await fetch(`${hub.origin}/user/runner/env`)).json();
    expect(new URL(env.JUPYTERHUB_SERVICE_URL).port).toBe(new URL(user.target).port);
  });
});

describe('proxy pagination and headers', () => {
  it('pages the route dict in routespec order, with the total of all routes', async () => {
    const body = await (await hub.api('/proxy?limit=1', { headers: PAGED })).json();
    expect(Object.keys(body.items)).toEqual(['/']);
    expect(body._pagination).toMatchObject({ offset: 0, limit: 1, total: 2, next: { offset: 1, limit: 1 } });
    const second = await (await fetch(body._pagination.next.url, { headers: { ...PAGED, authorization: `token ${hub.adminToken}` } })).json();
    expect(Object.keys(second.items)).toEqual(['/user/runner/']);
    expect(second._pagination.next).toBeNull();
  });

  it("sends JupyterHub's CORS and CSP headers, and answers OPTIONS on the API with an empty 200", async () => {
    const api = await hub.api('/users');
    expect(api.headers.get('access-control-allow-headers')).toBe('accept, content-type, authorization');
    expect(api.headers.get('content-security-policy')).toBe("frame-ancestors 'self'; report-uri /hub/security/csp-report; default-src 'none'");
    const page = await fetch(`${hub.origin}/hub/login`);
    expect(page.headers.get('content-security-policy')).toBe("frame-ancestors 'self'; report-uri /hub/security/csp-report");
    const options = await hub.api('/users/runner/server', { method: 'OPTIONS', token: null });
    expect(options.status).toBe(200);
    expect(await options.text()).toBe('');
  });
});

describe('errors', () => {
  it('are {status, message} JSON objects for API failures', async () => {
    const cases: [Promise<Response>, number][] = [
      [hub.api('/users/nobody'), 404],
      [hub.api('/no/such/endpoint'), 404],
      [hub.api('/users', { token: null }), 403],
      [hub.api('/users', { method: 'POST', headers: JSON_HEADERS, body: '{}' }), 400],
      [hub.api('/users/ann', { method: 'POST' }), 409],
    ];
    for (const [pending, status] of cases) {
      const r = await pending;
      expect(r.status).toBe(status);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      const body = await r.json();
      expect(body.status).toBe(status);
      expect(typeof body.message).toBe('string');
      expect(body.message.length).toBeGreaterThan(0);
    }
  });
});
