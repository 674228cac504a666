// The login round trip with a scripted HTTP client (the second table of bench/oauth-login.ts): what a browser asks for
// from "Sign in with …" until the hub sets its login cookie — GET /hub/oauth_login → the provider's /auth → its login
// form (GET, POST) → /hub/oauth_callback — without pages, scripts or styles. A fresh cookie jar each time; cookies by
// name (hub and provider both live on 127.0.0.1, whose cookies a browser shares across ports).

/** Runs one round trip; resolves with the milliseconds spent waiting on the hub's answers (the rest is the provider's). */
export async function httpRoundTrip(hubUrl: string, user: string): Promise<number> {
  const jar = new Map<string, string>();
  const hubOrigin = new URL(hubUrl).origin;
  let hubMs = 0;
  let url = `${hubUrl}hub/oauth_login`;
  let method = 'GET';
  let body: string | undefined;
  for (let hop = 0; hop < 12; hop++) {
    const headers: Record<string, string> = {};
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const t0 = performance.now();
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0]!;
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i).trim(), pair.slice(i + 1));
    }
    const here = new URL(url);
    await res.arrayBuffer();
    if (here.origin === hubOrigin) hubMs += performance.now() - t0;
    if (here.pathname.endsWith('/hub/oauth_callback')) {
      if (res.status !== 302 || ![...jar.keys()].some((k) => k.startsWith('jupyterhub-hub-login'))) throw new Error(`callback answered ${res.status} without a login cookie`);
      return hubMs;
    }
    if (/^\/interaction\//.test(here.pathname) && method === 'GET') {
      method = 'POST';
      body = new URLSearchParams({ login: user }).toString();
      continue;
    }
    const loc = res.headers.get('location');
    if (!loc || res.status < 300 || res.status >= 400) throw new Error(`${method} ${url} answered ${res.status}`);
    url = new URL(loc, url).href;
    method = 'GET';
    body = undefined;
  }
  throw new Error('too many redirects');
}
