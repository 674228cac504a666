// GenericOAuthenticator against a real OpenID provider (oidc-provider): login round trip, groups, admin, logout,
// auth state encrypted at rest, refresh before spawn, and a pre-spawn hook exchanging the access token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openStore } from '../src/store/index.ts';
import { randomBytes } from 'node:crypto';
import { eventually, startTestHub, type TestHub } from './support/hub.ts';
import { Browser, startOidc, type Oidc } from './support/oidc.ts';
import { CryptKeeper } from '../src/auth/crypt.ts';

const users = { alice: { groups: ['jupyter-users'] }, bob: { groups: ['jupyter-users', 'jupyter-admins'] }, mallory: { groups: ['other'] } };
const key1 = randomBytes(32).toString('hex');
const key2 = randomBytes(32).toString('hex');

describe('GenericOAuthenticator with a real OpenID provider', () => {
  let hub: TestHub;
  let oidc: Oidc;
  let vault: ReturnType<typeof createServer>;
  let vaultUrl = '';

  beforeAll(async () => {
    // A token-exchange service standing in for the secret store: it answers a per-user token for a valid access token.
    vault = createServer(async (req, res) => {
      const auth = req.headers.authorization ?? '';
      const r = await fetch(`${oidc.issuer}/me`, { headers: { authorization: auth } });
      if (!r.ok) { res.statusCode = 401; return res.end(); }
      const me = await r.json() as { preferred_username: string };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ token: `vault-token-for-${me.preferred_username}` }));
    });
    await new Promise<void>((r) => vault.listen(0, '127.0.0.1', r));
    vaultUrl = `http://127.0.0.1:${(vault.address() as AddressInfo).port}/exchange`;
    // The hub's port is known only once it listens: reserve one first.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const hubUrl = `http://127.0.0.1:${port}/`;
    oidc = await startOidc(users, `${hubUrl}hub/oauth_callback`, `${hubUrl}hub/login`);
    hub = await startTestHub({
      JupyterHub: { port, authenticator_class: 'oauthenticator.generic.GenericOAuthenticator' },
      Authenticator: { enable_auth_state: true, manage_groups: true, refresh_pre_spawn: true },
      GenericOAuthenticator: {
        client_id: 'hub', client_secret: 'hub-secret', oauth_callback_url: `${hubUrl}hub/oauth_callback`,
        authorize_url: `${oidc.issuer}/auth`, token_url: `${oidc.issuer}/token`, userdata_url: `${oidc.issuer}/me`,
        scope: ['openid', 'profile', 'groups'], username_claim: 'preferred_username', login_service: 'Keycloak',
        allowed_groups: ['jupyter-users'], admin_groups: ['jupyter-admins'],
        logout_redirect_url: `${oidc.issuer}/session/end?client_id=hub`,
      },
    }, { env: { JUPYTERHUB_CRYPT_KEY: `${key1};${key2}` } });
    hub.running.hub.config.spawner.pre_spawn_hook = async (spawner: { auth_state: { access_token: string }; environment: Record<string, string> }) => {
      const r = await fetch(vaultUrl, { method: 'POST', headers: { authorization: `Bearer ${spawner.auth_state.access_token}` } });
      if (!r.ok) throw new Error(`token exchange failed: ${r.status}`);
      spawner.environment = { ...spawner.environment, NOTEBOOK_VAULT_TOKEN: ((await r.json()) as { token: string }).token };
    };
  }, 60_000);

  afterAll(async () => {
    await hub?.close();
    await oidc?.close();
    vault?.close();
  });

  it('shows "Sign in with {login_service}" on the login page', async () => {
    const html = await (await fetch(`${hub.url}hub/login`)).text();
    expect(html).toContain('Sign in with Keycloak');
    expect(html).toContain('/hub/oauth_login');
  });

  it('logs alice in through the provider; groups become hub groups; auth state is readable only with admin:auth_state', async () => {
    const b = new Browser();
    const res = await b.login(hub.url, 'alice');
    expect(b.lastUrl).toMatch(/\/hub\/(home|spawn|user)|\/user\/alice\//);
    expect(res.status).toBeLessThan(500);
    const model = await (await hub.api('/users/alice')).json();
    expect(model.groups).toEqual(['jupyter-users']);
    expect(model.admin).toBe(false);
    expect(model.auth_state.oauth_user.preferred_username).toBe('alice');
    expect(typeof model.auth_state.access_token).toBe('string');
    const group = await (await hub.api('/groups/jupyter-users')).json();
    expect(group.users).toContain('alice');
  });

  it('makes a member of admin_groups an admin', async () => {
    await new Browser().login(hub.url, 'bob');
    expect((await (await hub.api('/users/bob')).json()).admin).toBe(true);
  });

  it('refuses a user outside allowed_groups with a readable page', async () => {
    const res = await new Browser().login(hub.url, 'mallory');
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('mallory is not allowed');
    expect((await hub.api('/users/mallory')).status).toBe(404);
  });

  it('keeps auth state encrypted at rest: unreadable without the key, readable with either of two keys', async () => {
    const store = await openStore(hub.dbUrl);
    const row = (await store.users.get('alice'))! as { auth_state: unknown; encrypted_auth_state: string };
    await store.close();
    expect(row.auth_state).toBeNull();
    expect(row.encrypted_auth_state).not.toContain('alice');
    expect(() => CryptKeeper.fromEnv(randomBytes(32).toString('hex'))!.decrypt(row.encrypted_auth_state)).toThrow();
    // Rotation: a new key first still reads what the old one wrote.
    const rotated = CryptKeeper.fromEnv(`${randomBytes(32).toString('hex')};${key1}`)!;
    expect((rotated.decrypt(row.encrypted_auth_state) as { oauth_user: { preferred_username: string } }).oauth_user.preferred_username).toBe('alice');
  });

  it('logout clears the hub session and redirects to logout_redirect_url', async () => {
    const b = new Browser();
    await b.login(hub.url, 'alice');
    const res = await fetch(`${hub.url}hub/logout`, { redirect: 'manual' });
    expect(res.headers.get('location')).toBe(`${oidc.issuer}/session/end?client_id=hub`);
    await b.go(`${hub.url}hub/logout`, {}, 0).catch(() => undefined);
  });

  it('refreshes an expired access token with the refresh token before a spawn; the hook passes each user their own token', async () => {
    await hub.api('/users/alice/server', { method: 'DELETE' });
    const before = (await (await hub.api('/users/alice')).json()).auth_state;
    expect(before.refresh_token).toBeTruthy();
    await (await oidc.provider.AccessToken.find(before.access_token))?.destroy();
    const res = await hub.api('/users/alice/server', { method: 'POST' });
    expect([201, 202]).toContain(res.status);
    const after = (await (await hub.api('/users/alice')).json()).auth_state;
    expect(after.access_token).not.toBe(before.access_token);
    const env = await eventuallyEnv(hub, 'alice');
    expect(env.NOTEBOOK_VAULT_TOKEN).toBe('vault-token-for-alice');
    await hub.api('/users/bob/server', { method: 'DELETE' });
    expect([201, 202]).toContain((await hub.api('/users/bob/server', { method: 'POST' })).status);
    const envB = await eventuallyEnv(hub, 'bob');
    expect(envB.NOTEBOOK_VAULT_TOKEN).toBe('vault-token-for-bob');
    expect((await eventuallyEnv(hub, 'alice')).NOTEBOOK_VAULT_TOKEN).toBe('vault-token-for-alice');
  }, 60_000);

  it('refuses a spawn with 403 and sends the browser to log in when the refresh token is revoked', async () => {
    await hub.api('/users/bob/server', { method: 'DELETE' });
    const b = new Browser();
    await b.login(hub.url, 'bob');
    // the login started bob's server: the spawn page below must find none. A stop is refused (400) while the spawn is
    // pending and may answer 202 while it runs, so: ask again until the server is gone.
    await eventually(async () => {
      const server = (await (await hub.api('/users/bob')).json()).servers?.[''];
      if (!server) return true;
      if (server.pending !== 'spawn') await hub.api('/users/bob/server', { method: 'DELETE' });
      return false;
    }, 60_000, 200);
    const state = (await (await hub.api('/users/bob')).json()).auth_state;
    await (await oidc.provider.AccessToken.find(state.access_token))?.destroy();
    await (await oidc.provider.RefreshToken.find(state.refresh_token))?.destroy();
    const api = await hub.api('/users/bob/server', { method: 'POST' });
    expect(api.status).toBe(403);
    expect((await api.json()).message).toBe('auth has expired for bob, login again');
    const page = await b.go(`${hub.url}hub/spawn`, {}, 1);
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toMatch(/\/hub\/login\?next=/);
    // The hub session is gone: the login cookie was cleared.
    expect(page.headers.getSetCookie().some((c) => c.startsWith('jupyterhub-hub-login=;'))).toBe(true);
  }, 120_000);
});

async function eventuallyEnv(hub: TestHub, user: string): Promise<Record<string, string>> {
  const end = Date.now() + 20_000;
  for (;;) {
    const r = await fetch(`${hub.origin}/user/${user}/env`, { headers: { authorization: `token ${hub.adminToken}` } }).catch(() => null);
    if (r?.ok) return r.json() as Promise<Record<string, string>>;
    if (Date.now() > end) throw new Error(`no env from ${user}'s server`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
