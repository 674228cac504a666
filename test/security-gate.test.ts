// Attacks on the shared-password gate of an ephemeral hub (issue #9): every way a stranger might get a temporary user
// minted or a server started without the event password. The store and the server table are the judges.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { ask, basicAuth, formPost, type Ask } from './support/raw-http.ts';

const PASSWORD = 'correct horse battery';
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub({ JupyterHub: { authenticator_class: 'tmp' } }, { env: { NODEHUB_SHARED_PASSWORD: PASSWORD } });
});
afterAll(async () => { await hub?.close(); });

const users = async () => await hub.running.hub.store.users.count();
const servers = () => [...hub.running.hub.servers.all()].length;

/** Asks, following same-site redirects as `curl -L -c j -b j` does (cookies kept), up to 8 hops. */
async function follow(path: string, o: Ask): Promise<number> {
  const jar: Record<string, string> = {};
  let url = path;
  let opts = o;
  for (let hop = 0; hop < 8; hop++) {
    const cookie = [o.headers?.cookie, ...Object.entries(jar).map(([k, v]) => `${k}=${v}`)].filter(Boolean).join('; ');
    const r = await ask(hub.origin, url, { ...opts, headers: { ...opts.headers, ...(cookie ? { cookie } : {}) } });
    Object.assign(jar, r.cookies);
    const loc = r.headers.location;
    if (r.status < 300 || r.status >= 400 || typeof loc !== 'string') return r.status;
    const next = new URL(loc, hub.origin);
    if (next.origin !== hub.origin) return r.status;
    url = next.pathname + next.search;
    opts = { headers: o.headers };
  }
  return 0;
}

describe('the gate lets through only what it can verify', () => {
  const paths = ['/hub/tmplogin', '/hub/spawn', '/hub/', '/', '/user/x/', '/hub/login', '/hub/home', '/hub/user-redirect/tree'];
  const forged = 'nodehub-shared-password=v1:0000000000000000';
  const credentials: Record<string, Record<string, string>> = {
    'bogus token header': { authorization: 'token x' },
    'bogus bearer header': { authorization: 'Bearer x' },
    'token scheme, no value': { authorization: 'token' },
    'basic with the wrong password': { authorization: basicAuth('a', 'wrong') },
    'forged pass cookie': { cookie: forged },
    'unsigned pass cookie': { cookie: 'nodehub-shared-password=1' },
    'nothing at all': {},
  };

  for (const [what, headers] of Object.entries(credentials)) {
    it(`mints no user and starts no server with ${what}`, async () => {
      const before = await users();
      for (const path of paths) {
        for (const method of ['GET', 'POST']) {
          // Wherever the redirects lead (the password page at best), the store is the judge below.
          await follow(path, method === 'POST' ? { ...formPost({}), headers: { ...formPost({}).headers, ...headers } } : { headers });
          await follow(`${path}${path.includes('?') ? '&' : '?'}token=bogus`, { method, headers });
          expect(await users(), `${method} ${path}`).toBe(before);
        }
      }
      const create = await ask(hub.origin, '/hub/api/users', {
        method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ usernames: ['mallory'] }),
      });
      expect(create.status).toBeGreaterThanOrEqual(400);
      const one = await ask(hub.origin, '/hub/api/users/mallory', { method: 'POST', headers });
      expect(one.status).toBeGreaterThanOrEqual(400);
      const spawn = await ask(hub.origin, '/hub/api/users/mallory/server?token=bogus', { method: 'POST', headers });
      expect(spawn.status).toBeGreaterThanOrEqual(400);
      expect(await users()).toBe(before);
      expect(await hub.running.hub.store.users.get('mallory')).toBeUndefined();
      expect(servers()).toBe(0);
    });
  }

  it('refuses an unknown token on the API at the gate, and a valid one still works within its scopes', async () => {
    const bogus = await ask(hub.origin, '/hub/api/users', { headers: { authorization: 'token not-a-token' } });
    expect(bogus.status).toBe(401);
    expect(JSON.parse(bogus.body).status).toBe(401);
    const ok = await hub.api('/users');
    expect(ok.status).toBe(200);
    // A valid token passes the gate but never logs in: the tmp authenticator would mint a user for it.
    const before = await users();
    const page = await ask(hub.origin, '/hub/tmplogin', { headers: { authorization: `token ${hub.adminToken}` } });
    expect(page.status).toBe(403);
    expect(await users()).toBe(before);
  });

  it("lets a valid token through to pages as its owner, within its scopes, and never mints a user for it", async () => {
    const store = hub.running.hub.store;
    expect((await hub.api('/users/tokenuser', { method: 'POST' })).status).toBe(201);
    const mint = async (scopes?: string[]) => {
      const r = await hub.api('/users/tokenuser/tokens', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(scopes ? { scopes } : {}),
      });
      return (await r.json()).token as string;
    };
    const full = await mint();
    const narrow = await mint(['read:users!user=tokenuser']);
    const before = await users();
    for (const headers of [{ authorization: `token ${full}` }, {}] as Record<string, string>[]) {
      const path = 'authorization' in headers ? '/hub/home' : `/hub/home?token=${full}`;
      const home = await ask(hub.origin, path, { headers });
      expect(home.status, path).toBe(200);
      expect(home.body).toContain('Signed in as <strong>tokenuser</strong>');
    }
    expect((await ask(hub.origin, '/hub/home', { headers: { authorization: `token ${narrow}` } })).status).toBe(403);
    // Every way into a login with a valid token: refused, nobody minted, no login cookie, no server.
    for (const [method, path] of [['GET', '/hub/tmplogin'], ['GET', `/hub/tmplogin?token=${full}`], ['POST', '/hub/login'], ['GET', '/hub/login']]) {
      for (const token of [full, narrow]) {
        const headers: Record<string, string> = path.includes('token=') ? {} : { authorization: `token ${token}` };
        const r = method === 'POST'
          ? await ask(hub.origin, path, { ...formPost({ username: 'x' }), headers: { ...formPost({}).headers, ...headers } })
          : await follow(path, { headers });
        if (typeof r !== 'number') expect(r.cookies['jupyterhub-hub-login']).toBeUndefined();
        expect(await users(), `${method} ${path}`).toBe(before);
      }
    }
    expect(await store.users.get('tokenuser')).toBeDefined();
    expect(servers()).toBe(0);
  });

  it('keeps /hub/health public', async () => {
    expect((await ask(hub.origin, '/hub/health', { headers: { authorization: 'token x' } })).status).toBe(200);
    expect((await ask(hub.origin, '/hub/health')).status).toBe(200);
  });

  it('still lets the right password in', async () => {
    const before = await users();
    const r = await ask(hub.origin, '/hub/tmplogin', { headers: { authorization: basicAuth('a', PASSWORD) }, from: '127.0.0.9' });
    expect(r.status).toBe(302);
    expect(await users()).toBe(before + 1);
  });
});
