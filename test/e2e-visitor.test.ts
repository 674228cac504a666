// Acceptance of the ephemeral visitor journey in real Chromium against a hub with the tmp authenticator, the shared
// password and the real jupyterhub-singleuser (classic notebook): password page, wrong password refused, progress
// page, notebook UI, a cell run through the UI; a second browser is a second user; a returning browser keeps its own.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHub } from './support/hub.ts';
import { PASSWORD, canRunE2e, launchChromium, recordDocuments, startVisitorHub, userInPath } from './support/e2e.ts';

const NOTEBOOK = {
  cells: [{ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: [] }],
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  nbformat: 4,
  nbformat_minor: 5,
};

const path = (page: Page) => {
  const u = new URL(page.url());
  return u.pathname + u.search;
};

/** Opens the hub's front URL in `context` and passes the password page; returns the page and the documents it loaded. */
async function visit(context: BrowserContext, hub: TestHub): Promise<{ page: Page; documents: string[] }> {
  const page = await context.newPage();
  const documents = recordDocuments(page);
  await page.goto(hub.url);
  expect(path(page)).toMatch(/^\/hub\/password\?next=/);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(/\/user\/[^/]+\/tree/, { timeout: 60_000 }), page.click('button[type=submit]')]);
  return { page, documents };
}

describe.skipIf(!canRunE2e)('a visitor in Chromium: shared password, progress page, notebook, a cell runs', () => {
  let hub: TestHub;
  let browser: Browser;
  beforeAll(async () => {
    [hub, browser] = await Promise.all([startVisitorHub(), launchChromium()]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  }, 60_000);

  it('goes from the password page through the progress bar into the notebook and runs print(6*7)', { timeout: 90_000 }, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const documents = recordDocuments(page);

    await page.goto(hub.url);
    expect(path(page)).toMatch(/^\/hub\/password\?next=/);
    expect(await page.locator('input[type=password][name=password]').count()).toBe(1);

    await page.fill('input[name=password]', 'not-the-password');
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    expect(path(page)).toMatch(/^\/hub\/password/);
    expect(await page.locator('.alert.error').innerText()).toContain('That password is not right');
    expect(documents.some((d) => d.startsWith('/hub/tmplogin'))).toBe(false);

    await page.fill('input[name=password]', PASSWORD);
    await Promise.all([page.waitForURL(/\/hub\/spawn-pending\//, { timeout: 30_000 }), page.click('button[type=submit]')]);
    // The progress bar is on screen while the server starts; the page's script moves on by itself when it is ready.
    await page.locator('#spawn-progress .progress').waitFor({ state: 'visible' });
    const pendingUser = /\/hub\/spawn-pending\/([^/?]+)/.exec(page.url())![1]!;

    await page.waitForURL(/\/user\/[^/]+\/tree/, { timeout: 60_000 });
    const user = userInPath(path(page))!;
    expect(user).toBe(pendingUser);
    expect(user).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await page.locator('#notebook_list').waitFor({ state: 'attached' });
    expect(await page.title()).toContain('Home');
    // The way in: password, a fresh temporary user, the spawn, the pending page, the server's OAuth round.
    const trail = documents.map((d) => d.split('?')[0]);
    for (const step of ['/hub/password', '/hub/tmplogin', '/hub/spawn', `/hub/spawn-pending/${user}`, '/hub/api/oauth2/authorize', `/user/${user}/oauth_callback`]) {
      expect(trail, `no ${step} in ${trail.join(' -> ')}`).toContain(step);
    }

    // A notebook in the user's directory (the server's root), opened and run in the classic notebook UI.
    writeFileSync(join(hub.dir, 'home', user, 'calc.ipynb'), JSON.stringify(NOTEBOOK));
    await page.goto(`${hub.origin}/user/${user}/notebooks/calc.ipynb`);
    await page.locator('#kernel_indicator_icon.kernel_idle_icon').waitFor({ timeout: 60_000 });
    await page.locator('.cell .CodeMirror').first().click();
    await page.keyboard.type('print(6*7)');
    await page.keyboard.press('Shift+Enter');
    const output = page.locator('.output_area .output_text').first();
    await output.waitFor({ timeout: 30_000 });
    expect((await output.innerText()).trim()).toBe('42');

    // A second browser is a second visitor: its own password entry, its own user and server.
    const other = await browser.newContext();
    const second = await visit(other, hub);
    const otherUser = userInPath(path(second.page))!;
    expect(otherUser).toBeTruthy();
    expect(otherUser).not.toBe(user);
    await other.close();

    // The first browser coming back to the front URL: same user and the same server, no password, no new spawn.
    const before = await (await hub.api(`/users/${user}`)).json();
    const again = await context.newPage();
    const againDocs = recordDocuments(again);
    await again.goto(hub.url);
    await again.waitForURL(/\/user\/[^/]+\/tree/, { timeout: 30_000 });
    expect(userInPath(path(again))).toBe(user);
    expect(againDocs.some((d) => /^\/hub\/(password|tmplogin|spawn-pending)/.test(d)), againDocs.join(' -> ')).toBe(false);
    const after = await (await hub.api(`/users/${user}`)).json();
    expect(after.servers[''].started).toBe(before.servers[''].started);
    expect(after.servers[''].state.pid).toBe(before.servers[''].state.pid);
    const users = (await (await hub.api('/users')).json()) as { name: string }[];
    expect(users.map((u) => u.name).sort()).toEqual([user, otherUser].sort());
    await context.close();
  });
});
