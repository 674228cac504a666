// The small pages: /hub/ itself, home, token, health, static files, error pages, and the redirects that bring stray
// paths into the hub.
import { pageVars } from './page-vars.ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import { xsrfToken } from './xsrf.ts';
import { tokenExpiry } from '../api/token-scopes.ts';
import { HubError } from '../../util/errors.ts';
import { isoTime } from '../../util/time.ts';
import { hasAccess, pagePrincipal, principalForUser } from '../identity.ts';
import { pageUser, requirePageScope } from './page-auth.ts';
import { errorPage, homePage, styleCss, tokenPage } from '../pages/index.ts';
import { newApiToken } from '../../auth/index.ts';
import { pendingOf, serverPrefix } from '../../servers/index.ts';
import { loginRedirect } from './redirects.ts';
import { frontPage } from './front.ts';
import { registerAssets } from './assets.ts';
import { requestUri } from '../http.ts';

export function registerMiscPages(app: FastifyInstance, hub: Hub): void {
  const hp = hub.hubPrefix;

  // Public and database-free, so uptime checks and load balancers can poll it cheaply. `?ready` (a Kubernetes readiness
  // probe) is 503 until start-up has adopted the servers, so a rolling update sends traffic to a new hub only then,
  // and 503 while the database does not answer (one `SELECT 1` on PostgreSQL), so traffic waits while it restarts.
  let started = false;
  void hub.ready.then(() => (started = true));
  const health = async (req: FastifyRequest, reply: import('fastify').FastifyReply) => {
    const askReady = Object.hasOwn((req.query ?? {}) as object, 'ready');
    const ready = !askReady || (started && await hub.store.available());
    return reply.code(ready ? 200 : 503).type('text/html').send('');
  };
  for (const p of [`${hp}health`, `${hp}api/health`]) {
    app.get(p, health);
  }

  registerAssets(app, hub.config, hp);

  app.get(`${hp}static/style.css`, async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(styleCss));

  app.get(`${hp}error/:code`, async (req, reply) => {
    // Only the proxy links here, with a real error code; anything else is a page that does not exist, not a 500.
    const raw = (req.params as { code: string }).code;
    const code = /^\d{3}$/.test(raw) ? Number(raw) : 0;
    const status = code >= 400 && code < 600 ? code : 404;
    return reply.code(status).type('text/html').send(errorPage({ ...pageVars(hub), base: hub.base, status, user: (await pagePrincipal(hub, req))?.name }));
  });

  app.post(`${hp}security/csp-report`, async (_req, reply) => reply.code(204).send());

  app.get(hp, async (req, reply) => frontPage(hub, req, reply));

  app.get(`${hp}home`, async (req, reply) => {
    const who = await pageUser(hub, req);
    if (!who) return loginRedirect(hub, req, reply);
    const me = who.user;
    await requirePageScope(hub, who.principal, 'read:servers', me.name);
    const active = hub.servers.get(me.name, '');
    const server = active ? { url: serverPrefix(hub.base, me.name, ''), ready: active.phase === 'ready', pending: pendingOf(active) } : null;
    const named = hub.servers.ofUser(me.name).filter((a) => a.name).map((a) => ({ name: a.name, url: a.prefix, ready: a.phase === 'ready', pending: pendingOf(a) }));
    const adminLink = hasAccess(await principalForUser(hub, me), ['admin-ui']);
    return reply.type('text/html').send(homePage({ ...pageVars(hub, 'home'), base: hub.base, user: me.name, server, namedServers: named, adminLink }));
  });

  const tokenRows = async (userId: number) => (await hub.store.tokens.listForUser(userId)).filter((t) => t.server_id === null).map((t) => ({
    id: `a${t.id}`, note: t.note, created: isoTime(t.created), last_activity: isoTime(t.last_activity), expires_at: isoTime(t.expires_at),
  }));

  app.get(`${hp}token`, async (req, reply) => {
    const who = await pageUser(hub, req);
    if (!who) return loginRedirect(hub, req, reply);
    const me = who.user;
    await requirePageScope(hub, who.principal, 'read:tokens', me.name);
    return reply.type('text/html').send(tokenPage({ ...pageVars(hub), base: hub.base, user: me.name, tokens: await tokenRows(me.id), xsrf: xsrfToken(hub, req, reply) }));
  });

  app.post(`${hp}token`, async (req, reply) => {
    const who = await pageUser(hub, req);
    if (!who) throw new HubError(403, 'You must be logged in to request a token');
    const me = who.user;
    await requirePageScope(hub, who.principal, 'tokens', me.name);
    const form = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const note = typeof form.note === 'string' && form.note.trim() ? form.note.trim().slice(0, 200) : 'Requested via token page';
    // The form's "Never" is an empty value; anything else is held to the API's rule.
    const raw = typeof form.expires_in === 'string' ? form.expires_in.trim() : '';
    const expiresAt = raw === '' ? null : tokenExpiry(/^\d{1,12}$/.test(raw) ? Number(raw) : raw, Date.now());
    const token = newApiToken();
    await hub.store.tokens.create({ user_id: me.id, kind: 'api', token, note, expires_at: expiresAt });
    return reply.type('text/html').send(tokenPage({ ...pageVars(hub), base: hub.base, user: me.name, tokens: await tokenRows(me.id), newToken: token, xsrf: xsrfToken(hub, req, reply) }));
  });

  app.get(hp.slice(0, -1), async (_req, reply) => reply.redirect(hp, 301));
}

/** Paths outside /hub/ that reached the hub: GET moves under /hub/ (keeping the query), anything else is 405. */
export function strayPath(hub: Hub, req: FastifyRequest): string | null {
  const uri = requestUri(req);
  if (req.method !== 'GET' && req.method !== 'HEAD') return null;
  const path = uri.split('?')[0];
  const userNoSlash = new RegExp(`^${hub.base}user/[^/]+$`);
  if (userNoSlash.test(path)) return uri.replace(path, path + '/');
  return `${hub.hubPrefix}${uri.slice(hub.base.length)}`;
}
