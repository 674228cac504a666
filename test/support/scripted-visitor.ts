// A scripted visitor for the tmp-authenticator journeys: a cookie jar (names only; everything here shares one origin
// and the hub's cookie paths never collide) and redirects followed one by one, so a test sees every page on the way.

export interface Hop {
  url: string;
  status: number;
}

export interface Visit {
  status: number;
  /** Path and query of the last page. */
  url: string;
  body: string;
  hops: Hop[];
}

export class Visitor {
  readonly jar = new Map<string, string>();
  private readonly origin: string;

  constructor(origin: string) {
    this.origin = origin;
  }

  /** GETs `path` and follows redirects like a browser; every response is a hop, the last one is the page. */
  async go(path: string): Promise<Visit> {
    const hops: Hop[] = [];
    let url = new URL(path, this.origin);
    for (let i = 0; i < 25; i++) {
      const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair.indexOf('=');
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        if (/max-age=0|expires=thu, 01 jan 1970/i.test(c) || value === '' || value === '""') this.jar.delete(name);
        else this.jar.set(name, value);
      }
      hops.push({ url: url.pathname + url.search, status: res.status });
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.arrayBuffer();
        url = new URL(location, url);
        if (url.origin !== this.origin) throw new Error(`redirect off site: ${location}`);
        continue;
      }
      return { status: res.status, url: url.pathname + url.search, body: await res.text(), hops };
    }
    throw new Error(`too many redirects from ${path}: ${hops.map((h) => h.url).join(' -> ')}`);
  }

  /** go(), then reloads a spawn-pending or queue page as its own refresh would until it leads on (a spawn slower than
   *  the spawn page's one-second wait, as on a loaded machine, lands there first); the hops of every load are kept. */
  async arrive(path: string, timeoutMs = 30_000): Promise<Visit> {
    let page = await this.go(path);
    const hops = [...page.hops];
    for (const end = Date.now() + timeoutMs; /^\/hub\/(spawn-pending|queue)\//.test(page.url) && Date.now() < end;) {
      await sleep(200);
      page = await this.go(page.url);
      hops.push(...page.hops);
    }
    return { ...page, hops };
  }
}

/** The user name in a /user/<name>/… path, or null. */
export function userOf(path: string): string | null {
  const m = /^\/user\/([^/?]+)\//.exec(path);
  return m ? decodeURIComponent(m[1]) : null;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
