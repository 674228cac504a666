// Several hubs behind one host name (seed 004's /astro and /astro-students): a browser logged into both stays logged
// into both, because every cookie a hub sets is scoped under its own base_url (a browser keys cookies by host and path,
// never by port). Chromium, so the cookie rules are a real browser's.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { startTestHub, type TestHub } from './support/hub.ts';
import { CHROMIUM, CHROMIUM_ARGS } from './support/e2e.ts';

let astro: TestHub;
let students: TestHub;
let browser: Browser;

describe.skipIf(!existsSync(CHROMIUM))('two hubs on one host name', () => {
  beforeAll(async () => {
    [astro, students] = await Promise.all([
      startTestHub({ JupyterHub: { base_url: '/astro/' } }),
      startTestHub({ JupyterHub: { base_url: '/astro-students/' } }),
    ]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([astro?.close(), students?.close()]);
  });

  it('keeps a browser logged into both, each cookie under its own base_url', { timeout: 60_000 }, async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const login = async (hub: TestHub, name: string) => {
      await page.goto(`${hub.url}hub/login?next=${encodeURIComponent(`${new URL(hub.url).pathname}hub/home`)}`);
      await page.fill('input[name="username"]', name);
      await page.fill('input[name="password"]', 'any');
      await Promise.all([page.waitForURL(/\/hub\/home$/), page.click('form button[type="submit"], form input[type="submit"]')]);
    };
    await login(astro, 'alice');
    await login(students, 'bob');
    for (const [hub, name] of [[astro, 'alice'], [students, 'bob']] as const) {
      await page.goto(`${hub.url}hub/home`);
      expect(new URL(page.url()).pathname).toBe(`${new URL(hub.url).pathname}hub/home`);
      expect(await page.textContent('body')).toContain(name);
    }
    // both hubs' cookies, none of them shared: every path lies under one hub's base_url
    const cookies = await ctx.cookies();
    expect(cookies.length).toBeGreaterThanOrEqual(2);
    for (const c of cookies) expect(c.path.startsWith('/astro/') || c.path.startsWith('/astro-students/')).toBe(true);
    expect(cookies.filter((c) => c.name === 'jupyterhub-hub-login').map((c) => c.path).sort()).toEqual(['/astro-students/hub/', '/astro/hub/']);
    await ctx.close();
  });
});
