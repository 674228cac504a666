// /hub/admin end to end in headless Chromium with JavaScript off: an admin (DummyAuthenticator admin_users) logs in,
// searches, pages, adds users, starts and stops servers (the mock single-user server), grants admin, edits groups and
// deletes a user through the confirmation page; a non-admin is refused and the forms need their _xsrf.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './support/chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestHub, type TestHub } from './support/hub.ts';
import { login, xsrfFor } from './hub-protocol-support.ts';


let hub: TestHub;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;

const model = async (name: string) => (await hub.api(`/users/${name}`)).json() as Promise<Record<string, any>>;
const row = (name: string) => page.locator(`tr[data-user="${name}"]`);

async function loginAs(p: Page, name: string): Promise<void> {
  await p.goto(`${hub.url}hub/login`);
  await p.fill('input[name="username"]', name);
  await p.fill('input[name="password"]', 'any');
  await Promise.all([p.waitForNavigation(), p.click('form button[type="submit"], form input[type="submit"]')]);
}

describe.skipIf(!existsSync(CHROMIUM))('/hub/admin in Chromium, JavaScript off', () => {
  beforeAll(async () => {
    hub = await startTestHub({ Authenticator: { admin_users: ['root'] }, JupyterHub: { allow_named_servers: true } });
    const names = ['alice', 'bob', 'carol', ...Array.from({ length: 25 }, (_, i) => `zz${String(i).padStart(2, '0')}`)];
    expect((await hub.api('/users', { method: 'POST', body: JSON.stringify({ usernames: names }) })).status).toBe(201);
    expect((await hub.api('/groups/physics', { method: 'POST' })).status).toBe(201);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    ctx = await browser.newContext({ javaScriptEnabled: false });
    page = await ctx.newPage();
    await loginAs(page, 'root');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  it('is linked from the home page and lists users with search, sort and paging', async () => {
    await page.goto(`${hub.url}hub/home`);
    await Promise.all([page.waitForNavigation(), page.click('#admin-link')]);
    expect(new URL(page.url()).pathname).toBe('/hub/admin');
    expect(await page.locator('h1').textContent()).toBe('Administration');
    await expect(row('root').locator('.admin-flag').count()).resolves.toBe(1);

    await page.fill('#admin-search', 'LIC');
    await Promise.all([page.waitForNavigation(), page.click('form[role="search"] button')]);
    expect(await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-user')))).toEqual(['alice']);

    await page.goto(`${hub.url}hub/admin?limit=10`);
    const first = await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-user')));
    expect(first).toEqual(['alice', 'bob', 'carol', 'root', 'zz00', 'zz01', 'zz02', 'zz03', 'zz04', 'zz05']);
    await Promise.all([page.waitForNavigation(), page.click('a[rel="next"]')]);
    expect(await page.locator('#admin-range').textContent()).toBe('Users 11–20');
    expect(await row('zz06').count()).toBe(1);
    await Promise.all([page.waitForNavigation(), page.click('a[rel="prev"]')]);
    expect(await row('alice').count()).toBe(1);

    // Sorting by last activity: root (just logged in) comes first, most recent first.
    await Promise.all([page.waitForNavigation(), page.click('th a:has-text("Last activity")')]);
    expect(new URL(page.url()).searchParams.get('sort')).toBe('last_activity');
    expect(await page.locator('tbody tr').first().getAttribute('data-user')).toBe('root');
  });

  it('adds users, one as admin', async () => {
    await page.goto(`${hub.url}hub/admin`);
    await page.click('details.add-users summary');
    await page.fill('#new-usernames', 'dave\nerin');
    await page.check('input[name="admin"]');
    await Promise.all([page.waitForNavigation(), page.click('details.add-users button[type="submit"]')]);
    expect(new URL(page.url()).pathname).toBe('/hub/admin');
    expect(await page.locator('#admin-notice').textContent()).toBe('Added users dave, erin as admin.');
    expect((await model('dave')).admin).toBe(true);
    expect(await row('erin').locator('.admin-flag').count()).toBe(1);
    // The notice is shown once.
    await page.reload();
    expect(await page.locator('#admin-notice').count()).toBe(0);
  });

  it('starts and stops a default server, and stops a named one after confirming', async () => {
    await page.goto(`${hub.url}hub/admin?q=alice`);
    await Promise.all([page.waitForNavigation(), row('alice').locator('button:has-text("Start")').click()]);
    await eventually(async () => (await model('alice')).servers?.['']?.ready);
    await page.reload();
    expect(await row('alice').locator('.server-state').first().textContent()).toBe('running');

    await Promise.all([page.waitForNavigation(), row('alice').locator('a:has-text("Stop")').click()]);
    expect(await page.locator('h1').textContent()).toBe('Stop server');
    // Nothing is stopped until the confirmation is posted.
    expect((await model('alice')).servers?.['']?.ready).toBe(true);
    await Promise.all([page.waitForNavigation(), page.click('#confirm-button')]);
    expect(new URL(page.url()).searchParams.get('q')).toBe('alice');
    expect(await page.locator('#admin-notice').textContent()).toMatch(/^Stop(ped|ping) alice's server\.$/);
    await eventually(async () => !(await model('alice')).servers?.['']);

    expect((await hub.api('/users/bob/servers/nb', { method: 'POST' })).status).toBeLessThan(300);
    await eventually(async () => (await model('bob')).servers?.nb?.ready);
    await page.goto(`${hub.url}hub/admin?q=bob`);
    const nb = row('bob').locator('li', { hasText: '“nb”' });
    expect(await nb.locator('.server-state').textContent()).toBe('running');
    await Promise.all([page.waitForNavigation(), nb.locator('a:has-text("Stop")').click()]);
    await Promise.all([page.waitForNavigation(), page.click('#confirm-button')]);
    await eventually(async () => !(await model('bob')).servers?.nb);
  }, 60_000);

  it('grants and revokes admin, edits groups', async () => {
    await page.goto(`${hub.url}hub/admin?q=bob`);
    await Promise.all([page.waitForNavigation(), row('bob').locator('button:has-text("Make admin")').click()]);
    expect((await model('bob')).admin).toBe(true);
    await Promise.all([page.waitForNavigation(), row('bob').locator('button:has-text("Revoke admin")').click()]);
    expect((await model('bob')).admin).toBe(false);

    await row('bob').locator('.add-group input[name="group"]').fill('physics');
    await Promise.all([page.waitForNavigation(), row('bob').locator('.add-group button').click()]);
    expect((await model('bob')).groups).toEqual(['physics']);
    expect(await row('bob').locator('.group-name').allTextContents()).toEqual(['physics']);
    await Promise.all([page.waitForNavigation(), row('bob').locator('button:has-text("Remove")').click()]);
    expect((await model('bob')).groups).toEqual([]);

    // A group that does not exist: the REST answer, as a readable page.
    await row('bob').locator('.add-group input[name="group"]').fill('nosuch');
    const [res] = await Promise.all([page.waitForNavigation(), row('bob').locator('.add-group button').click()]);
    expect(res?.status()).toBe(404);
    expect(await page.locator('main').textContent()).toContain('nosuch');
  });

  it('deletes a user only after confirming', async () => {
    await page.goto(`${hub.url}hub/admin?q=carol`);
    await Promise.all([page.waitForNavigation(), row('carol').locator('a:has-text("Delete")').click()]);
    expect(await page.locator('h1').textContent()).toBe('Delete user');
    expect((await hub.api('/users/carol')).status).toBe(200);
    await Promise.all([page.waitForNavigation(), page.click('a:has-text("Cancel")')]);
    expect((await hub.api('/users/carol')).status).toBe(200);
    await Promise.all([page.waitForNavigation(), row('carol').locator('a:has-text("Delete")').click()]);
    await Promise.all([page.waitForNavigation(), page.click('#confirm-button')]);
    expect(await page.locator('#admin-notice').textContent()).toBe('Deleted user carol.');
    expect((await hub.api('/users/carol')).status).toBe(404);
    // Admins are not offered to delete themselves.
    await page.goto(`${hub.url}hub/admin?q=root`);
    expect(await row('root').locator('a:has-text("Delete")').count()).toBe(0);
  });

  it('refuses a non-admin: a 403 page, no link, and no action', async () => {
    const other = await browser.newContext({ javaScriptEnabled: false });
    const p = await other.newPage();
    await loginAs(p, 'zz00');
    expect(await p.locator('#admin-link').count()).toBe(0);
    const res = await p.goto(`${hub.url}hub/admin`);
    expect(res?.status()).toBe(403);
    expect(await p.locator('h1').textContent()).toBe('Access denied');
    await other.close();

    const cookie = await login(hub, 'zz01');
    const xsrf = await xsrfFor(hub, cookie);
    const r = await fetch(`${hub.url}hub/admin/users/zz02/delete`, {
      method: 'POST', redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _xsrf: xsrf }).toString(),
    });
    expect(r.status).toBe(403);
    expect((await hub.api('/users/zz02')).status).toBe(200);
  });

  it('refuses an admin form without its _xsrf, or from another site', async () => {
    const cookie = await login(hub, 'root');
    const post = (body: Record<string, string>, headers: Record<string, string> = {}) => fetch(`${hub.url}hub/admin/users/zz03/admin`, {
      method: 'POST', redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(body).toString(),
    });
    expect((await post({ admin: '1' })).status).toBe(403);
    expect((await post({ admin: '1', _xsrf: 'f'.repeat(40) })).status).toBe(403);
    const xsrf = await xsrfFor(hub, cookie);
    expect((await post({ admin: '1', _xsrf: xsrf }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await model('zz03')).admin).toBe(false);
    // The same request with its token goes through: what the refusals above lacked was the token alone.
    const ok = await post({ admin: '1', _xsrf: xsrf });
    expect(ok.status).toBe(303);
    expect((await model('zz03')).admin).toBe(true);
  });
});
