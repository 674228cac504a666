// The login round trip in headless Chromium (the first table of bench/oauth-login.ts), as a person does it: open the
// hub's login page, click "Sign in with Keycloak", the provider's login form, submit, and back at the hub on its
// logged-in home page (/hub/home, asked for with ?next= so that neither hub starts a server). Every login gets a fresh
// browser context (no cookies, no cache), so the hub's and the provider's static files are fetched each time, as on a
// first visit. test/auth-oauth-browser.test.ts walks the same steps as a test.
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
}

export interface BrowserLogin {
  /** Navigation to /hub/login until its load event → the hub's home page loaded after the callback. */
  total: number;
  /** The hub's login page, until loaded. */
  loginPage: number;
  /** The click on "Sign in with …" → the provider's form loaded (the hub's /oauth_login redirect, the provider's /auth). */
  toProvider: number;
  /** The form submitted → /hub/home loaded (the provider's redirect, the hub's callback with its token and user-info calls). */
  back: number;
}

export async function browserRoundTrip(browser: Browser, hubUrl: string, user: string): Promise<BrowserLogin> {
  const hubOrigin = new URL(hubUrl).origin;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const t0 = performance.now();
    await page.goto(`${hubUrl}hub/login?next=${encodeURIComponent('/hub/home')}`);
    const t1 = performance.now();
    await Promise.all([page.waitForURL(/\/interaction\//), page.click('text=Sign in with Keycloak')]);
    const t2 = performance.now();
    await page.fill('input[name="login"]', user);
    await Promise.all([page.waitForURL((u) => u.origin === hubOrigin && u.pathname === '/hub/home'), page.click('button')]);
    const t3 = performance.now();
    const cookies = await context.cookies(`${hubUrl}hub/`); // the login cookie is scoped to /hub/
    if (!cookies.some((c) => c.name.startsWith('jupyterhub-hub-login'))) throw new Error(`${user}: on /hub/home without the hub's login cookie`);
    return { total: t3 - t0, loginPage: t1 - t0, toProvider: t2 - t1, back: t3 - t2 };
  } finally {
    await context.close();
  }
}
