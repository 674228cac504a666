// The login round trip in headless Chromium (the first table of bench/oauth-login.ts), as a person does it: open the
// hub's login page, click "Sign in with Keycloak", the provider's login form, submit, and back at the hub on its
// logged-in home page (/hub/home, asked for with ?next= so that neither hub starts a server). Every login gets a fresh
// browser context (no cookies, no cache), so the hub's and the provider's static files are fetched each time, as on a
// first visit. test/auth-oauth-browser.test.ts walks the same steps as a test.
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../test/support/chromium.ts';

export { CHROMIUM };

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface BrowserLogin {
  /** The browser's time: the sum of the three legs below, each from its first navigation request to its load event. */
  total: number;
  /** Wall time from page.goto to /hub/home loaded, with Playwright's click and fill actions (its actionability checks
   * cost ~350 ms per action on this loaded machine: the stand-in for a person's clicks, not the hubs' time). */
  wall: number;
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
    // A leg starts when the browser sends its first navigation request after the action (the click has landed).
    let legStart: number | undefined;
    page.on('request', (r) => { if (legStart === undefined && r.isNavigationRequest() && r.frame() === page.mainFrame()) legStart = performance.now(); });
    const leg = () => { const ms = performance.now() - legStart!; legStart = undefined; return ms; };
    const t0 = performance.now();
    await page.goto(`${hubUrl}hub/login?next=${encodeURIComponent('/hub/home')}`);
    const loginPage = leg();
    await Promise.all([page.waitForURL(/\/interaction\//), page.click('text=Sign in with Keycloak')]);
    const toProvider = leg();
    await page.fill('input[name="login"]', user);
    await Promise.all([page.waitForURL((u) => u.origin === hubOrigin && u.pathname === '/hub/home'), page.click('button')]);
    const back = leg();
    const wall = performance.now() - t0;
    const cookies = await context.cookies(`${hubUrl}hub/`); // the login cookie is scoped to /hub/
    if (!cookies.some((c) => c.name.startsWith('jupyterhub-hub-login'))) throw new Error(`${user}: on /hub/home without the hub's login cookie`);
    return { total: loginPage + toProvider + back, wall, loginPage, toProvider, back };
  } finally {
    await context.close();
  }
}
