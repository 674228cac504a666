// Acceptance with the real Debian jupyterhub-singleuser 3.0 (classic notebook 6.4 pages) driven by a scripted browser:
// log in, spawn, wait on the pending page, the single-user OAuth round (spec 1.5, 3.2), the notebook page; and the same
// browser refused at another user's server.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, eventually, type TestHub } from './support/hub.ts';
import { Browser, type Page } from './support/browser.ts';

const hasSingleuser = existsSync('/usr/bin/jupyterhub-singleuser');

// The spawn page answers once the server is ready or after one second, whichever is first; a warm machine can start
// the singleuser in under a second, so it waits a moment before exec to make the pending page certain.
const SLOW_SINGLEUSER = ['/bin/sh', '-c', 'sleep 1.5 && exec jupyterhub-singleuser "$@"', 'jupyterhub-singleuser'];

function attr(html: string, name: string): string {
  const m = new RegExp(`${name}="([^"]*)"`).exec(html);
  if (!m) throw new Error(`no ${name} on the page`);
  return m[1]!.replace(/&amp;/g, '&').replace(/&#x2F;|&#47;/g, '/').replace(/&quot;/g, '"');
}

/** Reads the progress event stream as the pending page's EventSource would (with the page as Referer). */
async function readProgress(browser: Browser, origin: string, progressUrl: string, pageUrl: string) {
  const res = await browser.request(progressUrl, { headers: { accept: 'text/event-stream', referer: `${origin}${pageUrl}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const text = await res.text();
  return text.split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => JSON.parse(b.slice(6)) as Record<string, unknown>);
}

function hopPaths(page: Page): string[] {
  return page.hops.map((h) => `${h.status} ${h.url.split('?')[0]}`);
}

describe.skipIf(!hasSingleuser)('a browser through login, spawn and single-user OAuth (real singleuser)', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({
      Spawner: {
        cmd: SLOW_SINGLEUSER, http_timeout: 60, start_timeout: 60,
        environment: { JUPYTERHUB_SINGLEUSER_APP: 'notebook.notebookapp.NotebookApp' },
      },
      LocalProcessSpawner: { interrupt_timeout: 15 },
    });
  }, 30_000);
  afterAll(async () => hub?.close(), 60_000);

  it('logs in, spawns, waits, passes the OAuth round and lands on the notebook page; is refused at bob\'s server', { timeout: 90_000 }, async () => {
    // Bob's server starts in the background (API) while alice's browser goes through the pages.
    expect((await hub.api('/users/bob', { method: 'POST' })).status).toBe(201);
    expect([201, 202]).toContain((await hub.api('/users/bob/server', { method: 'POST' })).status);

    const browser = new Browser(hub.origin);
    const login = await browser.go('/hub/login');
    expect(login.status).toBe(200);
    expect(login.body).toContain('name="username"');

    // Dummy authenticator: any password. No next, so the default for a user without a server: spawn it.
    const pending = await browser.go('/hub/login', { form: { username: 'alice', password: 'anything' } });
    expect(hopPaths(pending)).toEqual(['302 /hub/login', '302 /hub/spawn', '200 /hub/spawn-pending/alice']);
    expect(browser.cookieNames()).toEqual(expect.arrayContaining(['jupyterhub-hub-login@/hub/']));

    const progressUrl = attr(pending.body, 'data-progress-url');
    expect(progressUrl).toBe('/hub/api/users/alice/server/progress');
    const events = await readProgress(browser, hub.origin, progressUrl, pending.url);
    expect(events.at(-1)).toMatchObject({ progress: 100, ready: true, url: '/user/alice/' });

    // Reloading the pending page now moves on: to the server, whose unauthenticated visitor is sent through the
    // hub's authorize endpoint and back to its OAuth callback, and on to the notebook tree.
    const tree = await browser.go(pending.url);
    expect(tree.status).toBe(200);
    expect(tree.url).toMatch(/^\/user\/alice\/tree\/?(\?|$)/);
    expect(tree.body).toContain('Jupyter Notebook');
    expect(hopPaths(tree)).toEqual([
      '302 /hub/spawn-pending/alice',
      '302 /user/alice/',
      '302 /user/alice/tree/',
      '302 /hub/api/oauth2/authorize',
      '302 /user/alice/oauth_callback',
      '200 /user/alice/tree/',
    ]);

    const authorize = new URL(tree.hops.find((h) => h.url.startsWith('/hub/api/oauth2/authorize'))!.url, hub.origin);
    expect(authorize.searchParams.get('client_id')).toBe('jupyterhub-user-alice');
    expect(authorize.searchParams.get('redirect_uri')).toBe('/user/alice/oauth_callback');
    expect(authorize.searchParams.get('response_type')).toBe('code');
    const callback = new URL(tree.hops.find((h) => h.url.startsWith('/user/alice/oauth_callback'))!.url, hub.origin);
    expect(callback.searchParams.get('code')).toBeTruthy();
    expect(callback.searchParams.get('state')).toBe(authorize.searchParams.get('state'));
    // The server keeps the OAuth token in its own cookie on its own prefix; the hub's session cookie is site-wide.
    expect(browser.cookieNames()).toEqual(expect.arrayContaining(['jupyterhub-user-alice@/user/alice/', 'jupyterhub-session-id@/']));

    // Logged in at the server now: the tree answers at once, no hub round.
    const again = await browser.go('/user/alice/tree');
    expect(hopPaths(again)).toEqual(['200 /user/alice/tree']);

    // Bob's server: its singleuser sends alice's browser to the hub's authorize endpoint, which refuses her (spec 1.5).
    await eventually(async () => (await (await hub.api('/users/bob')).json()).servers['']?.ready, 60_000, 200);
    const bob = await browser.go('/user/bob/tree');
    expect(bob.status).toBe(403);
    expect(bob.url).toMatch(/^\/hub\/api\/oauth2\/authorize\?.*client_id=jupyterhub-user-bob/);
    expect(bob.body).toContain('You do not have permission to access Server at /user/bob/');
    expect(browser.cookieNames().some((c) => c.startsWith('jupyterhub-user-bob@'))).toBe(false);

    for (const user of ['alice', 'bob']) expect((await hub.api(`/users/${user}/server`, { method: 'DELETE' })).status).toBe(204);
  });
});
