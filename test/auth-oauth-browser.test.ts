// Single sign-on in headless Chromium (issue #14, tests): the hub's login page → "Sign in with Keycloak" → the OpenID
// provider's login form (oidc-provider, test/support/oidc.ts; consent is granted by its policy, as a Keycloak client
// without consent screen does) → back to the hub → the server spawned → the notebook page (the real singleuser when
// installed). Logout clears the hub session and ends the provider's, so the next login asks for the user again. A
// user outside allowed_groups gets a readable refusal page.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { startOidc, type Oidc } from './support/oidc.ts';
import { CHROMIUM, CHROMIUM_ARGS } from './support/e2e.ts';

const realSingleuser = existsSync('/usr/bin/jupyterhub-singleuser');
const users = { alice: { groups: ['jupyter-users'] }, mallory: { groups: ['other'] } };

describe.skipIf(!existsSync(CHROMIUM))('GenericOAuthenticator in Chromium', () => {
  let hub: TestHub;
  let oidc: Oidc;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const hubUrl = `http://127.0.0.1:${port}/`;
    oidc = await startOidc(users, `${hubUrl}hub/oauth_callback`, `${hubUrl}hub/login`);
    hub = await startTestHub({
      JupyterHub: { port, authenticator_class: 'generic-oauth' },
      Authenticator: { manage_groups: true },
      GenericOAuthenticator: {
        client_id: 'hub', client_secret: 'hub-secret', oauth_callback_url: `${hubUrl}hub/oauth_callback`,
        authorize_url: `${oidc.issuer}/auth`, token_url: `${oidc.issuer}/token`, userdata_url: `${oidc.issuer}/me`,
        scope: ['openid', 'profile', 'groups'], username_claim: 'preferred_username', login_service: 'Keycloak',
        allowed_groups: ['jupyter-users'], logout_redirect_url: `${oidc.issuer}/session/end?client_id=hub`,
      },
      ...(realSingleuser ? {
        Spawner: { cmd: ['jupyterhub-singleuser'], default_url: '/tree', http_timeout: 60, start_timeout: 60, environment: { JUPYTERHUB_SINGLEUSER_APP: 'notebook.notebookapp.NotebookApp' } },
        LocalProcessSpawner: { interrupt_timeout: 15 },
      } : {}),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    await oidc?.close();
  }, 60_000);

  async function signIn(user: string): Promise<void> {
    await page.goto(`${hub.url}hub/login`);
    await page.click('text=Sign in with Keycloak');
    await page.waitForURL(/\/interaction\//);
    expect(new URL(page.url()).origin).toBe(oidc.issuer);
    await page.fill('input[name="login"]', user);
    await Promise.all([page.waitForURL((u) => u.origin === new URL(hub.url).origin), page.click('button')]);
  }

  it('logs in through the provider, spawns the server and lands on the notebook page', { timeout: 90_000 }, async () => {
    await signIn('alice');
    await page.waitForURL(/\/user\/alice\//, { timeout: 60_000 });
    if (realSingleuser) {
      await page.waitForSelector('#notebook_list', { timeout: 30_000 });
      expect(new URL(page.url()).pathname).toBe('/user/alice/tree');
    }
    const model = await (await hub.api('/users/alice')).json();
    expect(model.groups).toEqual(['jupyter-users']);
    expect(model.servers['']).toMatchObject({ ready: true });
  });

  it('logs out of the hub and the provider; the next login asks for the user again', { timeout: 60_000 }, async () => {
    await page.goto(`${hub.url}hub/logout`);
    await page.waitForURL((u) => u.origin === oidc.issuer);
    expect(await page.context().cookies(hub.url).then((cs) => cs.filter((c) => c.name.startsWith('jupyterhub-hub-login')))).toEqual([]);
    // the provider's end-session confirmation, as Keycloak asks without an id_token_hint
    await Promise.all([page.waitForLoadState(), page.click('button[value="yes"]')]);
    await page.goto(`${hub.url}hub/home`);
    expect(new URL(page.url()).pathname).toBe('/hub/login');
    await page.click('text=Sign in with Keycloak');
    await page.waitForURL(/\/interaction\//);
    expect(await page.locator('input[name="login"]').count()).toBe(1);
  });

  it('refuses a user outside allowed_groups with a readable page', async () => {
    await page.goto(`${hub.url}hub/login`);
    await page.click('text=Sign in with Keycloak');
    await page.waitForURL(/\/interaction\//);
    await page.fill('input[name="login"]', 'mallory');
    const [res] = await Promise.all([page.waitForResponse((r) => r.url().includes('/hub/oauth_callback')), page.click('button')]);
    expect(res.status()).toBe(403);
    expect(await page.locator('body').textContent()).toMatch(/mallory|not allowed|Forbidden/i);
    expect((await hub.api('/users/mallory')).status).toBe(404);
  });
});
