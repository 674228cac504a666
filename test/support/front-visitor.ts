// A scripted browser for page flows of temporary users: a cookie jar (by name, ignoring paths, which is enough for one
// hub origin) and a redirect follower that records every hop and can stop before a given URL.
import type { TestHub } from './hub.ts';

export interface FrontHop {
  status: number;
  /** Path and query of the request that gave this status. */
  url: string;
  location: string | null;
}

export class FrontVisitor {
  readonly hub: TestHub;
  readonly cookies = new Map<string, string>();

  constructor(hub: TestHub) {
    this.hub = hub;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** One request, cookies sent and stored, redirects not followed. */
  async get(path: string): Promise<Response> {
    const r = await fetch(`${this.hub.origin}${path}`, { redirect: 'manual', headers: { cookie: this.cookieHeader() } });
    for (const c of r.headers.getSetCookie()) {
      const [pair = ''] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return r;
  }

  /** Follows redirects from `path` until a non-redirect answer or until `stop(location)` says so. */
  async follow(path: string, stop: (location: string) => boolean = () => false, maxHops = 20): Promise<{ hops: FrontHop[]; last: Response }> {
    const hops: FrontHop[] = [];
    let url = path;
    for (let i = 0; i < maxHops; i++) {
      const r = await this.get(url);
      const location = r.headers.get('location');
      hops.push({ status: r.status, url, location });
      if (r.status < 300 || r.status >= 400 || !location || stop(location)) return { hops, last: r };
      await r.arrayBuffer();
      const next = new URL(location, `${this.hub.origin}${url}`);
      url = next.pathname + next.search;
    }
    throw new Error(`more than ${maxHops} redirects from ${path}: ${hops.map((h) => h.url).join(' -> ')}`);
  }
}

/** The user name in a /user/<name>/… or /hub/spawn[-pending]/<name>… URL, if any. */
export function userIn(url: string): string | null {
  const m = /\/(?:user|spawn|spawn-pending)\/([^/?]+)/.exec(url);
  return m ? decodeURIComponent(m[1]!) : null;
}
