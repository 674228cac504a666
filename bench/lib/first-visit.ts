// A new visitor's first visit, scripted the way a browser does it: open the front URL, get a form (nodehub's shared
// password page, or JupyterHub's login page), submit it, and follow every redirect to the notebook page. When a hub
// shows its spawn-pending page, the visitor reads the progress event stream to its `ready` event (the page's script
// does the same) and reloads the page, which sends it on. Only the part from the form submission on is timed.
import { Browser, type Page } from '../../test/support/browser.ts';

export interface FirstVisit {
  /** Milliseconds from sending the form until the notebook page answered 200. */
  ms: number;
  user: string;
  /** `<status> <path>` of every response after the form, the final page last. */
  hops: string[];
  sawPending: boolean;
}

export interface VisitPlan {
  /** The hub's public origin, e.g. http://127.0.0.1:8000. */
  origin: string;
  /** Where the visitor starts, e.g. /hub/ (must end on a page with a POST form). */
  entry: string;
  /** The form fields the visitor types in. */
  form: Record<string, string>;
  /** The notebook page's path for a user, e.g. /user/<name>/tree/. */
  isNotebook: (path: string) => boolean;
}

function formAction(html: string): string {
  const m = /<form[^>]*\saction="([^"]*)"/i.exec(html);
  if (!m) throw new Error('no form with an action on the page');
  return m[1]!.replace(/&amp;/g, '&').replace(/&#x2F;|&#47;/g, '/').replace(/&quot;/g, '"');
}

const hopList = (page: Page) => page.hops.map((h) => `${h.status} ${h.url.split('?')[0]}`);

export async function firstVisit(plan: VisitPlan): Promise<FirstVisit> {
  const browser = new Browser(plan.origin);
  const landing = await browser.go(plan.entry);
  if (landing.status !== 200) throw new Error(`${plan.entry} answered ${landing.status}: ${hopList(landing).join(' -> ')}`);
  const action = formAction(landing.body);

  const t0 = performance.now();
  let page = await browser.go(action, { form: plan.form });
  const hops = hopList(page);
  let sawPending = false;
  const pending = /^\/hub\/spawn-pending\/([^/?]+)/.exec(page.url);
  if (page.status === 200 && pending) {
    sawPending = true;
    const progress = await browser.request(`/hub/api/users/${pending[1]}/server/progress`, {
      headers: { accept: 'text/event-stream', referer: `${plan.origin}${page.url}` },
    });
    const events = await progress.text();
    if (!/"ready":\s*true/.test(events)) throw new Error(`the progress stream ended without ready: ${events.slice(-300)}`);
    page = await browser.go(page.url);
    hops.push(...hopList(page));
  }
  const ms = performance.now() - t0;
  const path = page.url.split('?')[0]!;
  if (page.status !== 200 || !plan.isNotebook(path)) {
    throw new Error(`the visit did not end on the notebook page: ${hops.join(' -> ')}`);
  }
  const user = decodeURIComponent(/^\/user\/([^/]+)\//.exec(path)![1]!);
  return { ms, user, hops, sawPending };
}
