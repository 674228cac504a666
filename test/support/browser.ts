// A scripted browser for flows that cross the hub and single-user servers: fetch with `redirect: 'manual'`, redirects
// followed here (so every hop is visible to the test) and a cookie jar that scopes cookies by path the way browsers do.
// One origin is enough for our tests (everything is behind the hub's port), so cookies are not keyed by host.

export interface Hop {
  method: string;
  url: string;
  status: number;
  location: string | null;
  /** When the request left (Date.now()): under load the answer may come seconds later. */
  sentAt: number;
}

export interface Page {
  status: number;
  url: string;
  headers: Headers;
  body: string;
  /** Every response on the way, the final one last. */
  hops: Hop[];
}

interface Cookie {
  name: string;
  value: string;
  path: string;
  expires: number | null;
}

const MAX_REDIRECTS = 20;

/** RFC 6265 default-path: the request path up to (not including) its last slash. */
function defaultPath(pathname: string): string {
  const i = pathname.lastIndexOf('/');
  return i <= 0 ? '/' : pathname.slice(0, i);
}

/** RFC 6265 path-match. */
function pathMatches(cookiePath: string, requestPath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

function parseSetCookie(header: string, requestUrl: URL, now: number): Cookie | null {
  const [pair, ...attrs] = header.split(';');
  const eq = pair!.indexOf('=');
  if (eq <= 0) return null;
  const cookie: Cookie = { name: pair!.slice(0, eq).trim(), value: pair!.slice(eq + 1).trim(), path: '', expires: null };
  let maxAge: number | null = null;
  for (const attr of attrs) {
    const i = attr.indexOf('=');
    const key = (i < 0 ? attr : attr.slice(0, i)).trim().toLowerCase();
    const val = i < 0 ? '' : attr.slice(i + 1).trim();
    if (key === 'path' && val.startsWith('/')) cookie.path = val;
    else if (key === 'max-age' && /^-?\d+$/.test(val)) maxAge = Number(val);
    else if (key === 'expires' && !Number.isNaN(Date.parse(val))) cookie.expires = Date.parse(val);
  }
  // Max-Age wins over Expires, as in browsers.
  if (maxAge !== null) cookie.expires = now + maxAge * 1000;
  if (!cookie.path) cookie.path = defaultPath(requestUrl.pathname);
  return cookie;
}

export class Browser {
  #jar: Cookie[] = [];
  #origin: string;
  #lastXsrf: string | undefined;

  constructor(origin: string) {
    this.#origin = origin;
  }

  /** The cookies a request to `path` would carry, most specific path first (as browsers order them). */
  cookiesFor(path: string): Record<string, string> {
    const now = Date.now();
    this.#jar = this.#jar.filter((c) => c.expires === null || c.expires > now);
    const out: Record<string, string> = {};
    const matching = this.#jar.filter((c) => pathMatches(c.path, path)).sort((a, b) => b.path.length - a.path.length);
    for (const c of matching) if (!(c.name in out)) out[c.name] = c.value;
    return out;
  }

  /** All stored cookies as `name@path`, for assertions about where a cookie was scoped. */
  cookieNames(): string[] {
    return this.#jar.map((c) => `${c.name}@${c.path}`);
  }

  #store(res: Response, url: URL): void {
    const now = Date.now();
    for (const header of res.headers.getSetCookie()) {
      const c = parseSetCookie(header, url, now);
      if (!c) continue;
      this.#jar = this.#jar.filter((o) => !(o.name === c.name && o.path === c.path));
      if (c.expires === null || c.expires > now) this.#jar.push(c);
    }
  }

  /** One request without following redirects. */
  async request(url: string, init: { method?: string; body?: string; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
    const target = new URL(url, this.#origin);
    const headers = new Headers(init.headers);
    const cookies = Object.entries(this.cookiesFor(target.pathname));
    if (cookies.length) headers.set('cookie', cookies.map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(target, { method: init.method ?? 'GET', headers, body: init.body, redirect: 'manual', signal: init.signal });
    this.#store(res, target);
    return res;
  }

  /** Like navigating: follows redirects (303 and 301/302 after POST become GET, as browsers do) and reads the body. */
  async go(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Page> {
    let method = init.method ?? (init.form ? 'POST' : 'GET');
    // A form is submitted from the page last shown, with the hidden _xsrf field that page carried.
    const form = init.form && this.#lastXsrf && !('_xsrf' in init.form) ? { ...init.form, _xsrf: this.#lastXsrf } : init.form;
    let body = form ? new URLSearchParams(form).toString() : undefined;
    let headers = init.form ? { 'content-type': 'application/x-www-form-urlencoded', ...init.headers } : init.headers;
    let current = new URL(url, this.#origin);
    const hops: Hop[] = [];
    for (;;) {
      const sentAt = Date.now();
      const res = await this.request(current.href, { method, body, headers });
      const location = res.headers.get('location');
      hops.push({ method, url: current.pathname + current.search, status: res.status, location, sentAt });
      if (res.status >= 300 && res.status < 400 && location) {
        await res.arrayBuffer();
        if (hops.length > MAX_REDIRECTS) throw new Error(`too many redirects: ${hops.map((h) => h.url).join(' -> ')}`);
        const next = new URL(location, current);
        if (next.origin !== new URL(this.#origin).origin) throw new Error(`redirect leaves the site: ${location}`);
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
          headers = undefined;
        }
        current = next;
        continue;
      }
      const text = await res.text();
      this.#lastXsrf = /name="_xsrf" value="([^"]+)"/.exec(text)?.[1] ?? this.#lastXsrf;
      return { status: res.status, url: current.pathname + current.search, headers: res.headers, body: text, hops };
    }
  }
}
