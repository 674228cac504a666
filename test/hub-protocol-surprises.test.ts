// The surprises of spec section 9, each pinned by a test against a real hub: behaviour an unmodified
// jupyterhub-singleuser, idle culler or browser depends on, and that a "sensible" reimplementation would get wrong.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { get, login, waitReady } from './hub-protocol-support.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };
let hub: TestHub;
let aliceCookie: string;

beforeAll(async () => {
  hub = await startTestHub();
  aliceCookie = await login(hub, 'alice');
});
afterAll(async () => hub?.close());

describe('token credentials on the hub API', () => {
  it('refuses ?token= in the URL even with a valid admin token (header only)', async () => {
    for (const path of ['/user', '/users', '/users/alice']) {
      const r = await hub.api(`${path}?token=${hub.adminToken}`, { token: null });
      expect(r.status, path).toBe(403);
    }
    // The same token in the header works, so the 403 above is about where the token was.
    expect((await hub.api('/users')).status).toBe(200);
  });

  it('answers /hub/api/user with 403, never 401, for unknown, malformed and expired tokens', async () => {
    const expired = await hub.running.hub.store.tokens.create({
      user_id: (await hub.running.hub.store.users.get('alice'))!.id, kind: 'api', token: 'e'.repeat(32), note: 'old',
      expires_at: Date.now() - 1000,
    });
    expect(expired.id).toBeGreaterThan(0);
    for (const authorization of [`token ${'0'.repeat(32)}`, 'bearer nope', 'token', `token ${'e'.repeat(32)}`, 'Basic YTpi']) {
      const r = await hub.api('/user', { token: null, headers: { authorization } });
      expect(r.status, authorization).toBe(403);
      expect(r.headers.get('content-type')).toContain('application/json');
    }
    expect((await hub.api('/user', { token: null })).status).toBe(403);
  });
});

describe('a stopped server', () => {
  it('GET /user/<name>/… goes to /hub/user/<name>/… and there answers 424 with a start link', async () => {
    const first = await get(hub, '/user/alice/tree/x.ipynb?a=b', { headers: { cookie: aliceCookie } });
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('/hub/user/alice/tree/x.ipynb?a=b');
    const page = await get(hub, '/hub/user/alice/tree/x.ipynb?a=b', { headers: { cookie: aliceCookie } });
    expect(page.status).toBe(424);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain(`/hub/spawn/alice?next=${encodeURIComponent('/hub/user/alice/tree/x.ipynb?a=b')}`.replace(/&/g, '&amp;'));
    // No implicit spawn: looking at the page started nothing.
    expect(hub.running.hub.servers.get('alice', '')).toBeUndefined();
  });

  it('answers 424 JSON with the documented message when JSON is preferred or a segment is api', async () => {
    const message = `JupyterHub server no longer running at /user/alice/api/contents. Restart the server at ${hub.origin}/hub/spawn/alice`;
    const viaApi = await get(hub, '/hub/user/alice/api/contents', { headers: { cookie: aliceCookie } });
    expect(viaApi.status).toBe(424);
    expect(viaApi.headers.get('content-type')).toContain('application/json');
    expect((await viaApi.json()).message).toBe(message);
    const viaAccept = await get(hub, '/hub/user/alice/tree/', { headers: { cookie: aliceCookie, accept: 'application/json' } });
    expect(viaAccept.status).toBe(424);
    expect(await viaAccept.json()).toMatchObject({
      message: `JupyterHub server no longer running at /user/alice/tree/. Restart the server at ${hub.origin}/hub/spawn/alice`,
    });
  });

  it("sends an anonymous visitor to log in, and answers another user's server with 404", async () => {
    const anon = await get(hub, '/hub/user/alice/tree/?x=1');
    expect(anon.status).toBe(302);
    expect(anon.headers.get('location')).toBe(`/hub/login?next=${encodeURIComponent('/hub/user/alice/tree/?x=1')}`);
    const daveCookie = await login(hub, 'dave');
    const other = await get(hub, '/hub/user/alice/tree/', { headers: { cookie: daveCookie } });
    expect(other.status).toBe(404);
    expect((await get(hub, '/hub/user/ghost/api/x', { headers: { cookie: daveCookie } })).status).toBe(404);
  });

  it('answers a non-GET to /user/<name>/… (outside /hub/) with 405, not a redirect', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const r = await get(hub, '/user/alice/api/kernels', { method, headers: { cookie: aliceCookie, ...JSON_HEADERS }, body: method === 'DELETE' ? undefined : '{}' });
      expect(r.status, method).toBe(405);
      expect(r.headers.get('location')).toBeNull();
    }
  });
});

describe('server start and activity', () => {
  it('returns 201 when the server is ready within slow_spawn_timeout', async () => {
    expect((await hub.api('/users/bob', { method: 'POST' })).status).toBe(201);
    const r = await hub.api('/users/bob/server', { method: 'POST' });
    expect(r.status).toBe(201);
    expect(await r.text()).toBe('');
  });

  it('answers an activity report with 200 and an empty body', async () => {
    const now = new Date().toISOString();
    const r = await hub.api('/users/bob/activity', {
      method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ servers: { '': { last_activity: now } }, last_activity: now }),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(await r.text()).toBe('');
    const model = await (await hub.api('/users/bob')).json();
    expect(Date.parse(model.servers[''].last_activity)).toBe(Date.parse(now));
    expect((await hub.api('/users/bob/server', { method: 'DELETE' })).status).toBe(204);
  });

  it('returns 202 when the server is not ready within slow_spawn_timeout, and 202 again while pending', async () => {
    const slow = await startTestHub({ JupyterHub: { slow_spawn_timeout: 0.2 }, Spawner: { environment: { MOCK_DELAY_MS: '2500' } } });
    try {
      expect((await slow.api('/users/carol', { method: 'POST' })).status).toBe(201);
      // 202, not 201: it answered before the server (2.5 s to start) was ready.
      const r = await slow.api('/users/carol/server', { method: 'POST' });
      expect(r.status).toBe(202);
      expect((await (await slow.api('/users/carol')).json()).pending).toBe('spawn');
      expect((await slow.api('/users/carol/server', { method: 'POST' })).status).toBe(202);
      await waitReady(slow, 'carol');
      expect((await slow.api('/users/carol/server', { method: 'POST' })).status).toBe(400);
    } finally {
      await slow.close();
    }
  });
});

describe('browser rules of 3.0', () => {
  it('rewrites next=/user/… to /hub/user/… (spec 3.3 rule 4)', async () => {
    const r = await get(hub, `/hub/login?next=${encodeURIComponent('/user/alice/lab?a=b')}`, { headers: { cookie: aliceCookie } });
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toBe('/hub/user/alice/lab?a=b');
  });

  it('honours the login cookie on the API only with a same-origin Referer under /hub/', async () => {
    const referer = `${hub.origin}/hub/home`;
    const cookieGet = (headers: Record<string, string>) => hub.api('/user', { token: null, headers: { cookie: aliceCookie, ...headers } });
    expect((await cookieGet({})).status).toBe(403);
    const ok = await cookieGet({ referer });
    expect(ok.status).toBe(200);
    expect((await ok.json()).name).toBe('alice');
    expect((await cookieGet({ referer: 'http://evil.example/hub/home' })).status).toBe(403);
    expect((await cookieGet({ referer: `${hub.origin}/user/alice/tree/` })).status).toBe(403);
    expect((await cookieGet({ referer: 'not a url' })).status).toBe(403);
  });

  it('treats a cookie-authenticated POST with a form content type as anonymous', async () => {
    const referer = `${hub.origin}/hub/home`;
    const post = (contentType?: string) => hub.api('/users/alice/tokens', {
      // fetch would label a string body text/plain itself, so the no-content-type case sends no body. The body is JSON
      // under every type: JupyterHub reads it as JSON whatever the type (a form body would be its 400 before the 403).
      method: 'POST', token: null, body: contentType === undefined ? undefined : '{"note": "x"}',
      headers: { cookie: aliceCookie, referer, ...(contentType ? { 'content-type': contentType } : {}) },
    });
    expect((await post('application/x-www-form-urlencoded')).status).toBe(403);
    expect((await post('text/plain')).status).toBe(403);
    expect((await post('application/json')).status).toBe(201);
    expect((await post()).status).toBe(201);
  });

  it('sends X-JupyterHub-Version (5.4.6, the version whose REST models nodehub follows) on API answers, pages, redirects and errors', async () => {
    const responses = await Promise.all([
      hub.api('', { token: null }), hub.api('/users'), hub.api('/nope'), get(hub, '/hub/login'), get(hub, '/hub/home'),
      get(hub, '/hub/nope'), get(hub, '/user/alice/'), get(hub, '/user/alice/x', { method: 'POST' }), get(hub, '/hub/health'),
      hub.api('/users', { token: null }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 404, 200, 302, 404, 302, 405, 200, 403]);
    for (const r of responses) expect(r.headers.get('x-jupyterhub-version'), r.url).toBe('5.4.6');
  });

  it('exposes jupyterhub_active_users (3.1 gauge, safe to have) in /hub/metrics', async () => {
    const r = await get(hub, '/hub/metrics', { headers: { authorization: `token ${hub.adminToken}` } });
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).toMatch(/^# TYPE jupyterhub_active_users gauge$/m);
    for (const period of ['24h', '7d', '30d']) expect(text).toMatch(new RegExp(`^jupyterhub_active_users\\{period="${period}"\\} \\d+`, 'm'));
  });
});
