// Page requests authenticated by an API token (issue #11 item 5): the Authorization header or ?token= act as the
// token's owner, limited by the token's scopes; a token never logs a browser in (no cookie) and needs no _xsrf.
// Also the stopped-server answers of /hub/user/<name>/… (spec 3.2) for scripts, browsers and visitors, end to end
// through the hub's own proxy from /user/<name>/….
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { get, login, waitReady } from './hub-protocol-support.ts';
import { ask, formPost } from './support/raw-http.ts';

let hub: TestHub;
let full: string;
let readOnly: string;
let accessOnly: string;

async function tokenFor(user: string, scopes?: string[]): Promise<string> {
  const r = await hub.api(`/users/${user}/tokens`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(scopes ? { scopes } : {}),
  });
  expect(r.status).toBe(201);
  return (await r.json()).token;
}

beforeAll(async () => {
  hub = await startTestHub();
  for (const name of ['alice', 'bob']) expect((await hub.api(`/users/${name}`, { method: 'POST' })).status).toBe(201);
  full = await tokenFor('alice');
  readOnly = await tokenFor('alice', ['read:users!user=alice']);
  accessOnly = await tokenFor('alice', ['access:servers!user=alice']);
});
afterAll(async () => hub?.close());

const auth = (token: string) => ({ authorization: `token ${token}` });

describe('pages take API tokens', () => {
  it('shows the home page to a token in the header or in ?token=, and sets no login cookie', async () => {
    for (const [path, headers] of [['/hub/home', auth(full)], [`/hub/home?token=${full}`, {}]] as const) {
      const r = await ask(hub.origin, path, { headers });
      expect(r.status, path).toBe(200);
      expect(r.body).toContain('Signed in as <strong>alice</strong>');
      expect(r.cookies['jupyterhub-hub-login'], path).toBeUndefined();
    }
    // Bearer works as in the API; no credentials at all still means the login page.
    expect((await ask(hub.origin, '/hub/home', { headers: { authorization: `Bearer ${full}` } })).status).toBe(200);
    expect((await ask(hub.origin, '/hub/home')).status).toBe(302);
  });

  it('ignores an unknown token: the visitor is anonymous, or the cookie decides', async () => {
    const anon = await ask(hub.origin, '/hub/home', { headers: auth('0'.repeat(32)) });
    expect(anon.status).toBe(302);
    expect(anon.headers.location).toMatch(/^\/hub\/login\?next=/);
    const bobCookie = await login(hub, 'bob');
    const r = await ask(hub.origin, '/hub/home', { headers: { ...auth('0'.repeat(32)), cookie: bobCookie } });
    expect(r.body).toContain('Signed in as <strong>bob</strong>');
    // A known token wins over the cookie, as JupyterHub's get_current_user tries the token first.
    const t = await ask(hub.origin, '/hub/home', { headers: { ...auth(full), cookie: bobCookie } });
    expect(t.body).toContain('Signed in as <strong>alice</strong>');
  });

  it("holds a token to its scopes: 403 where it has none, the page where it has them", async () => {
    expect((await ask(hub.origin, '/hub/home', { headers: auth(readOnly) })).status).toBe(403);
    expect((await ask(hub.origin, '/hub/token', { headers: auth(accessOnly) })).status).toBe(403);
    expect((await ask(hub.origin, '/hub/spawn', { headers: auth(readOnly) })).status).toBe(403);
    expect((await ask(hub.origin, '/hub/token', { headers: auth(full) })).status).toBe(200);
    // Another user's spawn page is not found for alice's token (the user is not revealed).
    expect((await ask(hub.origin, '/hub/spawn/bob', { headers: auth(full) })).status).toBe(404);
    expect(hub.running.hub.servers.get('alice', '')).toBeUndefined();
  });

  it('needs no _xsrf for a form POST authenticated by a token, but a cookie POST still does', async () => {
    const store = hub.running.hub.store;
    const alice = (await store.users.get('alice'))!;
    const before = (await store.tokens.listForUser(alice.id)).length;
    const r = await ask(hub.origin, '/hub/token', formPost({ note: 'from a script' }, auth(full)));
    expect(r.status).toBe(200);
    expect((await store.tokens.listForUser(alice.id)).map((t) => t.note)).toContain('from a script');
    const denied = await ask(hub.origin, '/hub/token', formPost({ note: 'x' }, auth(readOnly)));
    expect(denied.status).toBe(403);
    const aliceCookie = await login(hub, 'alice');
    const forged = await ask(hub.origin, '/hub/token', formPost({ note: 'forged' }, { cookie: aliceCookie }));
    expect(forged.status).toBe(403);
    expect((await store.tokens.listForUser(alice.id)).length).toBe(before + 1);
  });

  it("refuses to log in with a token at all (POST /hub/login)", async () => {
    const before = await hub.running.hub.store.users.count();
    const r = await ask(hub.origin, '/hub/login', formPost({ username: 'carol', password: 'x' }, auth(full)));
    expect(r.status).toBe(403);
    expect(r.cookies['jupyterhub-hub-login']).toBeUndefined();
    expect(await hub.running.hub.store.users.count()).toBe(before);
  });
});

describe('a stopped server at /hub/user/<name>/… (spec 3.2)', () => {
  it("answers a script's API call with 424 JSON after the server stopped, through the real /user/ redirect", async () => {
    expect((await hub.api('/users/alice/server', { method: 'POST' })).status).toBeLessThan(300);
    await waitReady(hub, 'alice');
    const headers = { ...auth(full), accept: 'application/json' };
    const running = await get(hub, '/user/alice/api/status', { headers });
    expect(running.status).not.toBe(302);
    expect((await hub.api('/users/alice/server', { method: 'DELETE' })).status).toBeLessThan(300);
    const first = await get(hub, '/user/alice/api/status', { headers });
    expect(first.status).toBe(302);
    const location = first.headers.get('location')!;
    expect(location).toBe('/hub/user/alice/api/status');
    const r = await get(hub, location, { headers });
    expect(r.status).toBe(424);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(await r.json()).toEqual({
      status: 424,
      message: `JupyterHub server no longer running at /user/alice/api/status. Restart the server at ${hub.origin}/hub/spawn/alice`,
    });
    // `curl -L` gets there in one go.
    const followed = await fetch(`${hub.origin}/user/alice/api/status`, { headers });
    expect(followed.status).toBe(424);
    // An admin script's service token, as JupyterHub's needs_scope('access:servers') lets a service through.
    const service = await fetch(`${hub.origin}/user/alice/api/status`, { headers: { authorization: `token ${hub.adminToken}`, accept: 'application/json' } });
    expect(service.status).toBe(424);
    expect((await service.json()).status).toBe(424);
  });

  it('answers a token that may not reach the server with 403, and one for another user with 404', async () => {
    const r = await get(hub, '/hub/user/alice/api/status', { headers: { ...auth(readOnly), accept: 'application/json' } });
    expect(r.status).toBe(403);
    expect((await r.json()).status).toBe(403);
    const other = await get(hub, '/hub/user/bob/api/status', { headers: { ...auth(full), accept: 'application/json' } });
    expect(other.status).toBe(404);
    const ok = await get(hub, '/hub/user/alice/api/status', { headers: { ...auth(accessOnly), accept: 'application/json' } });
    expect(ok.status).toBe(424);
  });

  it('shows a browser the not-running page with a start button, and sends a visitor to log in', async () => {
    const aliceCookie = await login(hub, 'alice');
    const page = await get(hub, '/hub/user/alice/tree/', { headers: { cookie: aliceCookie, accept: 'text/html' } });
    expect(page.status).toBe(424);
    expect(await page.text()).toContain(`href="/hub/spawn/alice?next=${encodeURIComponent('/hub/user/alice/tree/')}"`);
    for (const accept of ['text/html', 'application/json']) {
      const anon = await get(hub, '/hub/user/alice/api/status', { headers: { accept } });
      expect(anon.status, accept).toBe(302);
      expect(anon.headers.get('location')).toBe(`/hub/login?next=${encodeURIComponent('/hub/user/alice/api/status')}`);
    }
  });

  it('answers any non-GET with 424 JSON, as JupyterHub 3.0 does, and starts nothing', async () => {
    for (const headers of [{}, auth(full)]) {
      const r = await get(hub, '/hub/user/alice/api/kernels', { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' });
      expect(r.status).toBe(424);
      expect((await r.json()).message).toContain('/hub/spawn/alice');
    }
    expect(hub.running.hub.servers.get('alice', '')).toBeUndefined();
  });
});
