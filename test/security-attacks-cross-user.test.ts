// Attacks by one user on another, and on the hub's own records, through the real hub (sqlite file, spawned servers):
// what alice holds (her login cookie, her API token, an OAuth code for her server) must never reach bob; a cookie or
// token that was forged, tampered with or belongs to a deleted user must get nothing; and no token is stored in clear.
// (Alice's browser at bob's server through the proxy, with the real jupyterhub-singleuser doing its OAuth round, is in
// test/singleuser-browser.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedBytes } from './support/postgres.ts';
import { startTestHub, type TestHub } from './support/hub.ts';
import { get, login, waitReady } from './hub-protocol-support.ts';

let hub: TestHub;
let alice: { cookie: string; token: string };
let bobServerEnv: Record<string, string>;
let aliceServerEnv: Record<string, string>;
const seenTokens: string[] = [];

async function json(r: Response): Promise<any> {
  return r.json();
}

/** The environment the hub gave a user's (mock) server: its API token is its OAuth client secret. */
async function serverEnv(user: string): Promise<Record<string, string>> {
  const r = await get(hub, `/user/${user}/env`);
  expect(r.status).toBe(200);
  return json(r);
}

beforeAll(async () => {
  hub = await startTestHub();
  for (const name of ['alice', 'bob']) {
    expect((await hub.api(`/users/${name}`, { method: 'POST' })).status).toBe(201);
    expect([201, 202]).toContain((await hub.api(`/users/${name}/server`, { method: 'POST' })).status);
    await waitReady(hub, name);
  }
  const made = await json(await hub.api('/users/alice/tokens', { method: 'POST', body: JSON.stringify({ note: 'attack' }) }));
  alice = { cookie: await login(hub, 'alice'), token: made.token };
  seenTokens.push(made.token, hub.adminToken);
  aliceServerEnv = await serverEnv('alice');
  bobServerEnv = await serverEnv('bob');
  seenTokens.push(aliceServerEnv.JUPYTERHUB_API_TOKEN, bobServerEnv.JUPYTERHUB_API_TOKEN);
}, 60_000);

afterAll(async () => {
  await hub?.close();
});

describe("alice's API token against bob", () => {
  it('cannot read, start, stop, delete bob or mint tokens for him, and cannot list users', async () => {
    const as = { token: alice.token };
    expect((await hub.api('/user', as)).status).toBe(200); // the token itself works
    const attempts: [string, string][] = [
      ['GET', '/users/bob'], ['GET', '/users/bob/tokens'], ['POST', '/users/bob/tokens'], ['POST', '/users/bob/server'],
      ['DELETE', '/users/bob/server'], ['DELETE', '/users/bob'], ['PATCH', '/users/bob'], ['POST', '/users/bob/activity'],
    ];
    for (const [method, path] of attempts) {
      const body = method === 'GET' || method === 'DELETE' ? undefined : JSON.stringify(method === 'PATCH' ? { admin: true } : {});
      const r = await hub.api(path, { method, body, token: alice.token });
      expect([403, 404], `${method} ${path}`).toContain(r.status);
    }
    expect((await hub.api('/users', as)).status).toBe(403);
    // Alice cannot make herself admin either.
    expect([403, 404]).toContain((await hub.api('/users/alice', { method: 'PATCH', body: '{"admin":true}', token: alice.token })).status);
    const bob = await json(await hub.api('/users/bob'));
    expect(bob.servers['']).toMatchObject({ ready: true });
    expect(bob.admin).toBe(false);
  });

  it("cannot reach bob's server's hub-side routes with her cookie either", async () => {
    const r = await get(hub, '/hub/api/users/bob', { headers: { cookie: alice.cookie, referer: `${hub.origin}/hub/home` } });
    expect([403, 404]).toContain(r.status);
    expect(JSON.stringify(await r.json())).not.toContain('"servers"');
  });
});

describe('OAuth between users', () => {
  const authorize = (client: string, redirect: string, cookie = alice.cookie) => get(hub,
    `/hub/api/oauth2/authorize?client_id=${client}&redirect_uri=${encodeURIComponent(redirect)}&response_type=code&state=s1`,
    { headers: { cookie } });

  it("gives alice no code for bob's server, and no redirect at all", async () => {
    const r = await authorize('jupyterhub-user-bob', '/user/bob/oauth_callback');
    expect(r.status).toBe(403);
    expect(r.headers.get('location')).toBeNull();
    expect(await r.text()).toContain('You do not have permission');
  });

  it('refuses a redirect_uri other than the registered one, and unknown clients, without redirecting', async () => {
    for (const redirect of ['https://evil.example/cb', '//evil.example/user/alice/oauth_callback', '/user/bob/oauth_callback',
      '/user/alice/oauth_callback/../../bob/oauth_callback', '/user/alice/oauth_callbackx']) {
      const r = await authorize('jupyterhub-user-alice', redirect);
      expect(r.status, redirect).toBe(400);
      expect(r.headers.get('location'), redirect).toBeNull();
    }
    const r = await authorize('jupyterhub-user-nobody', '/user/nobody/oauth_callback');
    expect(r.status).toBe(400);
  });

  it("a code for alice's server cannot be redeemed by bob's client, nor twice, nor with a wrong secret", async () => {
    const codeFor = async () => {
      const r = await authorize('jupyterhub-user-alice', '/user/alice/oauth_callback');
      expect(r.status).toBe(302);
      const loc = new URL(r.headers.get('location')!, hub.origin);
      expect(loc.pathname).toBe('/user/alice/oauth_callback');
      return loc.searchParams.get('code')!;
    };
    const redeem = (code: string, client: string, secret: string) => fetch(`${hub.origin}/hub/api/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: client, client_secret: secret,
        redirect_uri: `/user/${client.slice('jupyterhub-user-'.length)}/oauth_callback` }).toString(),
    });
    expect(aliceServerEnv.JUPYTERHUB_CLIENT_ID).toBe('jupyterhub-user-alice');
    // Bob's server (its own valid client credentials) tries alice's code.
    const stolen = await redeem(await codeFor(), 'jupyterhub-user-bob', bobServerEnv.JUPYTERHUB_API_TOKEN);
    expect(stolen.status).toBe(400);
    expect(await stolen.json()).toEqual({ error: 'invalid_grant' });
    // Alice's client with bob's secret, or a made-up one.
    for (const secret of [bobServerEnv.JUPYTERHUB_API_TOKEN, 'x'.repeat(32), '']) {
      const r = await redeem(await codeFor(), 'jupyterhub-user-alice', secret);
      expect(r.status).toBe(401);
    }
    // The honest exchange works once; the same code a second time does not.
    const code = await codeFor();
    const ok = await redeem(code, 'jupyterhub-user-alice', aliceServerEnv.JUPYTERHUB_API_TOKEN);
    expect(ok.status).toBe(200);
    const granted = await ok.json();
    seenTokens.push(granted.access_token);
    const who = await json(await hub.api('/user', { token: granted.access_token }));
    expect(who.name).toBe('alice');
    expect((await redeem(code, 'jupyterhub-user-alice', aliceServerEnv.JUPYTERHUB_API_TOKEN)).status).toBe(400);
    // The OAuth token is alice's only: bob stays out of reach.
    expect([403, 404]).toContain((await hub.api('/users/bob', { token: granted.access_token })).status);
  });
});

describe('forged and tampered login cookies', () => {
  it('are treated as no login at all', async () => {
    const value = alice.cookie.split('; ').find((c) => c.startsWith('jupyterhub-hub-login='))!.slice('jupyterhub-hub-login='.length);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'a' ? 'b' : 'a') + s.slice(i + 1);
    const forged = [
      flip(value, 0), flip(value, Math.floor(value.length / 2)), flip(value, value.length - 1),
      value.split('|').slice(0, -1).join('|') + '|' + '0'.repeat(64), // signature replaced
      'bob', Buffer.from('bob').toString('base64'), '', value + 'x',
    ];
    const home = await get(hub, '/hub/home', { headers: { cookie: `jupyterhub-hub-login=${value}` } });
    expect(home.status).toBe(200); // the genuine value works
    for (const v of forged) {
      const r = await get(hub, '/hub/home', { headers: { cookie: `jupyterhub-hub-login=${v}` } });
      expect(r.status, v).toBe(302);
      expect(r.headers.get('location'), v).toMatch(/\/hub\/login/);
      const api = await get(hub, '/hub/api/user', { headers: { cookie: `jupyterhub-hub-login=${v}`, referer: `${hub.origin}/hub/home` } });
      expect(api.status, v).toBe(403);
    }
  });
});

describe('tokens at rest', () => {
  it('no token the hub issued or was configured with appears in clear in the database (sqlite files, PostgreSQL rows)', async () => {
    const bytes = await storedBytes(hub.dbUrl);
    // A control: the records are in these bytes (the note given with alice's token, in clear like any note).
    expect(bytes.includes(Buffer.from('attack'))).toBe(true);
    expect(seenTokens.length).toBeGreaterThanOrEqual(5);
    for (const t of seenTokens) {
      expect(t.length).toBeGreaterThan(10);
      expect(bytes.includes(Buffer.from(t)), `token ${t.slice(0, 4)}… stored in clear`).toBe(false);
    }
  });
});

describe('a deleted user', () => {
  it("leaves no working token or cookie behind, and a new user of the same name does not inherit them", async () => {
    const made = await json(await hub.api('/users/carol', { method: 'POST' }));
    expect(made.name).toBe('carol');
    const token = (await json(await hub.api('/users/carol/tokens', { method: 'POST', body: '{}' }))).token;
    const cookie = await login(hub, 'carol');
    expect((await hub.api('/user', { token })).status).toBe(200);
    expect((await hub.api('/users/carol', { method: 'DELETE' })).status).toBe(204);
    expect((await hub.api('/user', { token })).status).toBe(403);
    const home = await get(hub, '/hub/home', { headers: { cookie } });
    expect(home.status).toBe(302);
    // Recreated (as the dummy authenticator would on a new login): the old credentials still get nothing.
    expect((await hub.api('/users/carol', { method: 'POST' })).status).toBe(201);
    expect((await hub.api('/user', { token })).status).toBe(403);
    expect((await get(hub, '/hub/home', { headers: { cookie } })).status).toBe(302);
  });
});
