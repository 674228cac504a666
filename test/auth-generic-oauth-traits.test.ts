// oauthenticator 17 traits beyond the basic flow, against the real oidc-provider: userdata_from_id_token (the user from
// the ID token's claims, no user-info request), allowed_scopes (granted scopes let a user in), modify_auth_state_hook,
// extra_authorize_params (and its old name), tls_verify as the deprecated name of validate_server_cert, and the
// start-up errors for combinations oauthenticator refuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestHub, type TestHub } from './support/hub.ts';
import { Browser, startOidc, type Oidc } from './support/oidc.ts';
import { GenericOAuthenticator } from '../src/auth/generic-oauth.ts';
import { loadConfig } from '../src/config/index.ts';

describe('GenericOAuthenticator traits', () => {
  let hub: TestHub;
  let oidc: Oidc;
  let userinfoCalls = 0;

  beforeAll(async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const hubUrl = `http://127.0.0.1:${port}/`;
    oidc = await startOidc({ alice: { groups: [] } }, `${hubUrl}hub/oauth_callback`, `${hubUrl}hub/login`);
    oidc.provider.use(async (ctx: { path: string }, next: () => Promise<void>) => {
      if (ctx.path === '/me') userinfoCalls++;
      await next();
    });
    hub = await startTestHub({
      JupyterHub: { port, authenticator_class: 'generic-oauth' },
      Authenticator: { enable_auth_state: true },
      GenericOAuthenticator: {
        client_id: 'hub', client_secret: 'hub-secret', oauth_callback_url: `${hubUrl}hub/oauth_callback`,
        authorize_url: `${oidc.issuer}/auth`, token_url: `${oidc.issuer}/token`, userdata_from_id_token: true,
        scope: ['openid', 'profile', 'groups'], username_claim: 'sub', allowed_scopes: ['groups'],
        authorize_params: { ui_locales: 'de' },
      },
    }, { env: { JUPYTERHUB_CRYPT_KEY: 'c'.repeat(64) } });
    // A .mjs config would set the hook; the JSON test config cannot hold a function, so it goes in here.
    (hub.running.hub.authenticator as unknown as { c: Record<string, unknown> }).c.modify_auth_state_hook =
      async (_a: unknown, state: Record<string, unknown>) => ({ ...state, team: 'blue' });
  }, 60_000);

  afterAll(async () => {
    await hub?.close();
    await oidc?.close();
  });

  it('logs in from the ID token alone, lets a user in by granted scopes, and keeps what the hook adds', async () => {
    const b = new Browser();
    const start = await fetch(`${hub.url}hub/oauth_login`, { redirect: 'manual' });
    expect(new URL(start.headers.get('location')!).searchParams.get('ui_locales')).toBe('de');
    await b.login(hub.url, 'alice');
    const model = await (await hub.api('/users/alice')).json();
    expect(model.name).toBe('alice');
    expect(model.auth_state.oauth_user.sub).toBe('alice');
    expect(model.auth_state.scope).toEqual(expect.arrayContaining(['groups']));
    expect(model.auth_state.team).toBe('blue');
    expect(userinfoCalls).toBe(0);
  });

  it('refuses the combinations oauthenticator refuses, naming the setting; takes tls_verify as validate_server_cert', async () => {
    const base = { client_id: 'x', authorize_url: 'https://p/auth', token_url: 'https://p/token', scope: ['openid'] };
    const make = (c: Record<string, unknown>) => async () => new GenericOAuthenticator((await loadConfig({ file: null, env: {},
      overrides: { 'JupyterHub.authenticator_class': 'generic-oauth', ...Object.fromEntries(Object.entries({ ...base, ...c }).map(([k, v]) => [`GenericOAuthenticator.${k}`, JSON.stringify(v)])) } })).authenticator);
    await expect(make({ userdata_from_id_token: true, userdata_url: 'https://p/me' })()).rejects.toThrow(/userdata_url and GenericOAuthenticator.userdata_from_id_token/);
    await expect(make({ userdata_from_id_token: true, scope: ['profile'] })()).rejects.toThrow(/needs openid in GenericOAuthenticator.scope/);
    await expect(make({ userdata_url: 'https://p/me', allowed_scopes: ['admin'] })()).rejects.toThrow(/allowed_scopes must be a subset.*admin/);
    await expect(make({ userdata_url: 'https://p/me', tls_verify: false })()).rejects.toThrow(/validate_server_cert = false/);
  });
});
