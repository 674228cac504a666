// A real OpenID provider (npm oidc-provider) for the GenericOAuthenticator tests, with users and a groups claim, and a
// tiny login form (/interaction/:uid) that a test submits like a browser would; `Browser` follows redirects with a
// cookie jar across the provider and the hub.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
// @ts-expect-error oidc-provider ships no type declarations (its types live in @types/oidc-provider)
import Provider from 'oidc-provider';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export interface Oidc { issuer: string; provider: Any; close(): Promise<void> }

/** One client, `hub`; several redirect URIs let hubs on different ports share the provider (bench/oauth-login.ts). */
export async function startOidc(users: Record<string, { groups: string[] }>, redirectUri: string | string[], postLogout: string | string[]): Promise<Oidc> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'hub', client_secret: 'hub-secret', redirect_uris: [redirectUri].flat(), post_logout_redirect_uris: [postLogout].flat(),
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
    }],
    findAccount: async (_ctx: Any, id: string) => (users[id] ? { accountId: id, claims: async () => ({ sub: id, preferred_username: id, groups: users[id]!.groups }) } : undefined),
    claims: { openid: ['sub'], profile: ['preferred_username'], groups: ['groups'] },
    scopes: ['openid', 'profile', 'groups', 'offline_access'],
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: Any, interaction: Any) => `/interaction/${interaction.uid}` },
    issueRefreshToken: async () => true,
    loadExistingGrant: async (ctx: Any) => {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid profile groups offline_access');
      await grant.save();
      return grant;
    },
    cookies: { keys: ['test-cookie-key'] },
  });
  const handler = provider.callback();
  server.on('request', async (req, res) => {
    const m = /^\/interaction\/([^/?]+)/.exec(req.url ?? '');
    if (!m) return handler(req, res);
    try {
      if (req.method === 'GET') {
        await provider.interactionDetails(req, res);
        res.setHeader('content-type', 'text/html');
        return res.end(`<form method="post" action="/interaction/${m[1]}"><input name="login"><button>Sign in</button></form>`);
      }
      let body = '';
      for await (const chunk of req) body += chunk;
      const login = new URLSearchParams(body).get('login') ?? '';
      if (!users[login]) { res.statusCode = 403; return res.end('unknown user'); }
      await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    } catch (err) {
      res.statusCode = 500;
      res.end(String(err));
    }
  });
  return { issuer, provider, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

/** A cookie-keeping HTTP client that follows redirects itself (cookies by host, as browsers ignore ports). */
export class Browser {
  private jar = new Map<string, string>();
  lastUrl = '';

  async go(url: string, init: { method?: string; form?: Record<string, string> } = {}, maxHops = 20): Promise<Response> {
    let target = url;
    let method = init.method ?? 'GET';
    let body: string | undefined = init.form ? new URLSearchParams(init.form).toString() : undefined;
    for (let hop = 0; hop < maxHops; hop++) {
      const headers: Record<string, string> = {};
      const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
      if (cookie) headers.cookie = cookie;
      if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
      const res = await fetch(target, { method, headers, body, redirect: 'manual' });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const i = pair!.indexOf('=');
        const k = pair!.slice(0, i).trim();
        const v = pair!.slice(i + 1);
        if (v === '' || /max-age=0\b/i.test(c) || /expires=Thu, 01 Jan 1970/i.test(c)) this.jar.delete(k);
        else this.jar.set(k, v);
      }
      this.lastUrl = target;
      const loc = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && loc && hop + 1 < maxHops) {
        target = new URL(loc, target).href;
        method = 'GET';
        body = undefined;
        continue;
      }
      return res;
    }
    throw new Error('too many redirects');
  }

  /** Logs in at the provider's form when the flow lands there; returns the final response. */
  async login(hubUrl: string, user: string): Promise<Response> {
    const res = await this.go(`${hubUrl}hub/oauth_login`);
    if (!/\/interaction\//.test(this.lastUrl)) return res;
    return this.go(this.lastUrl, { method: 'POST', form: { login: user } });
  }
}
