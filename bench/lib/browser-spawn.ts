// One user's way from the login page to a running server, scripted the way a browser does it (test/support/browser.ts:
// cookie jar, redirects followed, the `_xsrf` hidden field sent back where the hub's page carries one): GET the login
// page, POST its form (timed on its own: the hub checks the password, here with an LDAP bind), then GET /hub/spawn/<name>
// and follow it to the notebook page; on the spawn-pending page the visitor reads the progress event stream to its
// `ready` event, as the page's script does, and reloads. Spawn→ready ends when the single-user server answers through
// the hub's proxy, the redirects followed.
import { Browser } from '../../test/support/browser.ts';

export interface BrowserSpawn {
  /** The login form's POST until the hub's answer with its login cookie. */
  loginMs: number;
  /** GET /hub/spawn/<name> until the server answered through the proxy. */
  spawnMs: number;
  /** performance.now() when the notebook page answered. */
  readyAt: number;
  /** `<status> <path>` of the last page. */
  final: string;
}

const enc = encodeURIComponent;

function formAction(html: string): string {
  const m = /<form[^>]*\saction="([^"]*)"/i.exec(html);
  if (!m) throw new Error('no form with an action on the login page');
  return m[1]!.replace(/&amp;/g, '&').replace(/&#x2F;|&#47;/g, '/');
}

/** GET the login page; returns a function that submits its form (so a caller can time all submissions together). */
export async function openLoginPage(origin: string, user: string, password: string): Promise<() => Promise<BrowserSpawn>> {
  const browser = new Browser(origin);
  const landing = await browser.go('/hub/login');
  if (landing.status !== 200) throw new Error(`/hub/login answered ${landing.status}`);
  const action = formAction(landing.body);
  const xsrf = /name="_xsrf" value="([^"]+)"/.exec(landing.body)?.[1];
  const form = new URLSearchParams({ username: user, password, ...(xsrf ? { _xsrf: xsrf } : {}) }).toString();
  return async () => {
    const t0 = performance.now();
    const res = await browser.request(action, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await res.arrayBuffer();
    const loginMs = performance.now() - t0;
    if (res.status !== 302 || !Object.keys(browser.cookiesFor('/hub/')).some((k) => k.startsWith('jupyterhub-hub-login'))) {
      throw new Error(`${user}'s login answered ${res.status} without a login cookie`);
    }
    const t1 = performance.now();
    let page = await browser.go(`/hub/spawn/${enc(user)}`);
    if (page.status === 200 && page.url.startsWith(`/hub/spawn-pending/${enc(user)}`)) {
      const progress = await browser.request(`/hub/api/users/${enc(user)}/server/progress`, {
        headers: { accept: 'text/event-stream', referer: `${origin}${page.url}` },
      });
      const events = await progress.text();
      if (!/"ready":\s*true/.test(events)) throw new Error(`${user}'s progress stream ended without ready: ${events.slice(-300)}`);
      page = await browser.go(page.url);
    }
    const readyAt = performance.now();
    // The server's own answer through the proxy ends it (any status below 500: Debian's notebook 6 in these jobs
    // answers its /tree with 404, for either hub).
    if (page.status >= 500 || !page.url.startsWith(`/user/${enc(user)}/`)) {
      throw new Error(`${user}'s spawn did not end on the server: ${page.hops.map((h) => `${h.status} ${h.url}`).join(' -> ')}`);
    }
    return { loginMs, spawnMs: readyAt - t1, readyAt, final: `${page.status} ${page.url}` };
  };
}
