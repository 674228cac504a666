// Spawn, spawn-pending, user-redirect and the "server not running" flow (spec 3.2): the pages between a link and a
// running server.
import { pageVars } from './page-vars.ts';
import { freshAuth } from '../auth-state.ts';
import { clearLoginCookies } from '../identity.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import { xsrfToken } from './xsrf.ts';
import type { UserRecord } from '../../store/types.ts';
import { HubError, isDomainError } from '../../util/errors.ts';
import { hasAccess, pagePrincipal } from '../identity.ts';
import { pageUser, requirePageScope } from './page-auth.ts';
import { errorPage, notRunningPage, queuePage, spawnPage, spawnPendingPage } from '../pages/index.ts';
import { urlEscapePath } from '../../util/url.ts';
import { effectiveSpawnerConfig, serverPrefix, hasProfileOptions, optionsFromForm } from '../../servers/index.ts';
import { heldServer, startServer, validServerName } from '../api/servers.ts';
import { loginRedirect, nextUrl, safeNext } from './redirects.ts';
import { prefersJson, requestOrigin, requestUri } from '../http.ts';

const SPAWN_PAGE_WAIT_MS = 1000;
/** How often the queue page asks again; a place is dropped after 60 s without asking (src/servers/queue.ts). */
const QUEUE_PAGE_REFRESH_S = 3;

type Params = { user?: string; server?: string; '*'?: string };

/**
 * The logged-in user (by cookie or token) and the (possibly other) user whose server the page is about, once the
 * caller holds `scope` there (JupyterHub's spawn and spawn-pending pages need `servers`).
 */
async function pageUsers(hub: Hub, req: FastifyRequest, scope = 'servers'): Promise<{ me: UserRecord; owner: UserRecord; serverName: string } | null> {
  const who = await pageUser(hub, req);
  if (!who) return null;
  const me = who.user;
  const p = req.params as Params;
  const ownerName = p.user ?? me.name;
  const serverName = validServerName(p.server ?? '');
  if (ownerName === me.name) {
    await requirePageScope(hub, who.principal, scope, me.name, serverName);
    return { me, owner: me, serverName };
  }
  const owner = await hub.store.users.get(ownerName);
  const groups = owner ? await hub.store.groups.groupsOfUser(owner.id) : [];
  if (!owner || !hasAccess(who.principal, [scope], { user: ownerName, server: `${ownerName}/${serverName}`, userGroups: groups })) {
    throw new HubError(404, `No such user: ${ownerName}`);
  }
  return { me, owner, serverName };
}

/** What the spawn and spawn-pending pages start from: who asks, whose server, where to go after, and its state. */
async function serverPage(hub: Hub, req: FastifyRequest) {
  const who = await pageUsers(hub, req);
  if (!who) return null;
  const next = nextUrl(hub, req, who.owner.name, serverPrefix(hub.base, who.owner.name, who.serverName));
  return { ...who, next, active: hub.servers.get(who.owner.name, who.serverName) };
}

/**
 * Once a server is ready, send a `/hub/user/<name>/…` next straight to `/user/<name>/…`: the route exists, so the
 * extra hop through the hub that 3.0 takes only costs time (5.x goes direct too, spec 5.2 step 4).
 */
function readyTarget(hub: Hub, next: string, owner: string): string {
  const viaHub = `${hub.hubPrefix}user/${urlEscapePath(owner)}/`;
  return next.startsWith(viaHub) ? `${hub.base}user/${next.slice(`${hub.hubPrefix}user/`.length)}` : next;
}

function pendingUrl(hub: Hub, owner: string, serverName: string, next: string): string {
  return `${hub.hubPrefix}spawn-pending/${urlEscapePath(owner)}${serverName ? '/' + urlEscapePath(serverName) : ''}?next=${encodeURIComponent(next)}`;
}

function queueUrl(hub: Hub, owner: string, serverName: string, next: string): string {
  return `${hub.hubPrefix}queue/${urlEscapePath(owner)}${serverName ? '/' + urlEscapePath(serverName) : ''}?next=${encodeURIComponent(next)}`;
}

/** Spawn options from a query string: every key but `next`, each a list of values (options_from_query). */
function queryOptions(req: FastifyRequest): Record<string, string[]> | undefined {
  const params = new URLSearchParams(requestUri(req).split('?')[1] ?? '');
  const out: Record<string, string[]> = {};
  for (const [k, v] of params) if (k !== 'next') (out[k] ??= []).push(v);
  return Object.keys(out).length ? out : undefined;
}

async function spawnAndRedirect(hub: Hub, req: FastifyRequest, reply: FastifyReply, options: Record<string, unknown> | undefined) {
  const page = await serverPage(hub, req);
  if (!page) return loginRedirect(hub, req, reply);
  const { me, owner, serverName, next, active } = page;
  if (active?.phase === 'ready') return reply.redirect(readyTarget(hub, next, owner.name), 302);
  if (active?.phase === 'spawning') return reply.redirect(pendingUrl(hub, owner.name, serverName, next), 302);
  const profiles = hub.config.spawner.profile_list;
  // JupyterHub shows the options form when no option came with the request. nodehub starts a plain profile list's
  // default at once (an ephemeral visitor goes straight in); options within a profile are what the form is for.
  if (!options && hasProfileOptions(hub.config.spawner)) {
    // Picks of the last start come pre-selected, as KubeSpawner's form does.
    const submitted = (await hub.store.servers.get(owner.id, serverName))?.user_options ?? null;
    return reply.type('text/html').send(spawnPage({ ...pageVars(hub, 'spawn'), base: hub.base, user: owner.name, serverName, profiles, next, currentUser: me.name, submitted, xsrf: xsrfToken(hub, req, reply) }));
  }
  try {
    effectiveSpawnerConfig(hub.config.spawner, options ?? {}, hub.config.spawnerSection);
  } catch (err) {
    if (!isDomainError(err, 'invalid')) throw err;
    return reply.code(400).type('text/html')
      .send(spawnPage({ ...pageVars(hub, 'spawn'), base: hub.base, user: owner.name, serverName, profiles, error: err.message, next, currentUser: me.name, submitted: options, xsrf: xsrfToken(hub, req, reply) }));
  }
  if (!(await freshAuth(hub, owner))) {
    // JupyterHub: the provider no longer accepts the user, so the hub session ends and the browser logs in again.
    if (me.name !== owner.name) throw new HubError(403, `auth has expired for ${owner.name}, login again`);
    await clearLoginCookies(hub, req, reply);
    return reply.redirect(`${hub.hubPrefix}login?next=${encodeURIComponent(req.url)}`, 302);
  }
  let started;
  try {
    started = startServer(hub, owner, serverName, options);
  } catch (err) {
    // At a limit a browser waits in line instead of getting JupyterHub's 429 (API clients keep the 429).
    if (!isDomainError(err, 'limit-reached')) throw err;
    hub.servers.queue.enqueue({ id: owner.id, name: owner.name, admin: owner.admin }, serverName, options);
    return reply.redirect(queueUrl(hub, owner.name, serverName, next), 302);
  }
  if (await hub.servers.waitReady(started, SPAWN_PAGE_WAIT_MS)) return reply.redirect(readyTarget(hub, next, owner.name), 302);
  return reply.redirect(pendingUrl(hub, owner.name, serverName, next), 302);
}

export function registerSpawnPages(app: FastifyInstance, hub: Hub): void {
  const hp = hub.hubPrefix;
  for (const path of ['spawn', 'spawn/:user', 'spawn/:user/:server']) {
    app.get(`${hp}${path}`, (req, reply) => spawnAndRedirect(hub, req, reply, queryOptions(req)));
    app.post(`${hp}${path}`, async (req, reply) => {
      if (!await pageUser(hub, req)) throw new HubError(403, 'You must be logged in to start a server');
      const form = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
      const fields: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(form)) if (k !== '_xsrf') fields[k] = Array.isArray(v) ? v.map(String) : [String(v)];
      const options = optionsFromForm(hub.config.spawner, fields, (keys) => hub.log.warn(`Ignoring unrecognized form data in spawn request: ${keys.join(', ')}`));
      return spawnAndRedirect(hub, req, reply, options);
    });
  }

  for (const path of ['spawn-pending/:user', 'spawn-pending/:user/:server']) {
    app.get(`${hp}${path}`, async (req, reply) => {
      const page = await serverPage(hub, req);
      if (!page) return loginRedirect(hub, req, reply);
      const { me, owner, serverName, next, active } = page;
      if (active?.phase === 'ready') return reply.redirect(readyTarget(hub, next, owner.name), 302);
      const spawnUrl = `${hp}spawn/${urlEscapePath(owner.name)}${serverName ? '/' + urlEscapePath(serverName) : ''}?next=${encodeURIComponent(next)}`;
      if (!active && hub.servers.queue.has(owner.name, serverName)) return reply.redirect(queueUrl(hub, owner.name, serverName, next), 302);
      if (!active) {
        const failure = hub.servers.lastFailure(owner.name, serverName);
        if (failure) {
          return reply.code(500).type('text/html').send(errorPage({ ...pageVars(hub), base: hub.base, status: 500, message: 'Spawn failed', detail: failure, user: me.name }));
        }
        return reply.type('text/html').send(notRunningPage({ ...pageVars(hub), base: hub.base, user: owner.name, serverName, spawnUrl, currentUser: me.name }));
      }
      const progressUrl = `${hp}api/users/${urlEscapePath(owner.name)}/${serverName ? `servers/${urlEscapePath(serverName)}` : 'server'}/progress`;
      return reply.type('text/html').send(spawnPendingPage({
        ...pageVars(hub),
        base: hub.base, user: owner.name, serverName, progressUrl, nextUrl: readyTarget(hub, next, owner.name), currentUser: me.name,
      }));
    });
  }

  // The waiting room: the visitor's place in the spawn queue, until their spawn begins (then spawn-pending or next).
  for (const path of ['queue/:user', 'queue/:user/:server']) {
    app.get(`${hp}${path}`, async (req, reply) => {
      const who = await pageUsers(hub, req);
      if (!who) return loginRedirect(hub, req, reply);
      const { owner, serverName } = who;
      const next = nextUrl(hub, req, owner.name, serverPrefix(hub.base, owner.name, serverName));
      const active = hub.servers.get(owner.name, serverName);
      if (active?.phase === 'ready') return reply.redirect(readyTarget(hub, next, owner.name), 302);
      const place = active ? null : hub.servers.queue.place(owner.name, serverName);
      if (!place) {
        // Begun (or failed: spawn-pending shows why); otherwise the place was dropped, so line up again.
        if (active || hub.servers.lastFailure(owner.name, serverName)) return reply.redirect(pendingUrl(hub, owner.name, serverName, next), 302);
        return reply.redirect(`${hp}spawn/${urlEscapePath(owner.name)}${serverName ? '/' + urlEscapePath(serverName) : ''}?next=${encodeURIComponent(next)}`, 302);
      }
      return reply.header('cache-control', 'no-store').type('text/html')
        .send(queuePage({ ...pageVars(hub), base: hub.base, position: place.position, total: place.total, retryAfterSeconds: QUEUE_PAGE_REFRESH_S }));
    });
  }

  app.get(`${hp}user-redirect/*`, async (req, reply) => {
    const me = (await pageUser(hub, req))?.user;
    if (!me) return loginRedirect(hub, req, reply);
    const uri = requestUri(req);
    const rest = uri.slice(uri.indexOf('/user-redirect/') + '/user-redirect/'.length);
    const target = `${hub.base}user/${urlEscapePath(me.name)}/${rest}`;
    // `profile` also goes to the spawn URL as a spawn option; the link's query is passed on untouched (nbgitpuller
    // ignores keys it does not know).
    const profile = new URLSearchParams(rest.split('?')[1] ?? '').get('profile');
    const options = profile ? `profile=${encodeURIComponent(profile)}&` : '';
    return reply.redirect(`${hp}spawn/${urlEscapePath(me.name)}?${options}next=${encodeURIComponent(target)}`, 302);
  });

  // A request for /user/<name>/… reached the hub: the proxy has no route, so the server is not running (spec 3.2).
  // As JupyterHub's UserUrlHandler: anything but GET is an API call failing with 424 JSON whoever sends it (nothing is
  // revealed or done); a GET needs a login (cookie or token, else the login redirect) and access:servers on the owner.
  const notRunning = async (req: FastifyRequest, reply: FastifyReply) => {
    const uri = requestUri(req);
    const rest = uri.slice(`${hp}user/`.length);
    const [rawName = '', ...tail] = rest.split('?')[0].split('/');
    let ownerName: string;
    try {
      ownerName = decodeURIComponent(rawName);
    } catch {
      throw new HubError(404, 'No such user');
    }
    const userUrl = `${hub.base}user/${rest}`;
    const failApi = (serverName: string) => {
      hub.log.warn(`Failing suspected API request to not-running server: ${userUrl.split('?')[0]}`);
      const spawnPath = `${hp}spawn/${urlEscapePath(ownerName)}${serverName ? '/' + urlEscapePath(serverName) : ''}`;
      return reply.code(424).type('application/json').send({
        status: 424,
        message: `JupyterHub server no longer running at ${userUrl.split('?')[0]}. Restart the server at ${requestOrigin(req)}${spawnPath}`,
      });
    };
    const namedServer = async (owner: UserRecord | undefined) => {
      const maybe = hub.config.hub.allow_named_servers && tail[0] ? safeDecode(tail[0]) : '';
      return owner && maybe && await hub.store.servers.get(owner.id, maybe) ? maybe : '';
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const p = await pagePrincipal(hub, req);
      return failApi(p?.user?.name === ownerName ? await namedServer(p.user) : '');
    }
    // A service's token may ask too (an admin script reading a stopped server), as JupyterHub's needs_scope lets it.
    const who = await pagePrincipal(hub, req);
    if (!who) return loginRedirect(hub, req, reply);
    await requirePageScope(hub, who, 'access:servers', ownerName);
    const owner = await hub.store.users.get(ownerName);
    if (!owner) throw new HubError(404, `No such user: ${ownerName}`);
    const isApi = tail.includes('api') || prefersJson(req);
    // Named servers: /user/<name>/<server>/… when the second segment is one of the user's named servers.
    const serverName = await namedServer(owner);
    const active = await heldServer(hub, owner.name, serverName, false);
    if (active?.phase === 'ready') {
      const url = new URL(userUrl, 'http://x');
      const n = Number(url.searchParams.get('redirects') ?? '0') || 0;
      if (n >= hub.config.hub.user_redirect_limit) throw new HubError(500, 'Redirect loop detected.');
      if (n >= 1) await new Promise((r) => setTimeout(r, Math.min(2 ** n, 10) * 1000));
      url.searchParams.set('redirects', String(n + 1));
      return reply.redirect(url.pathname + url.search, 302);
    }
    const spawnUrl = `${hp}spawn/${urlEscapePath(owner.name)}${serverName ? '/' + urlEscapePath(serverName) : ''}?next=${encodeURIComponent(uri)}`;
    if (isApi) return failApi(serverName);
    if (!active && hub.servers.queue.has(owner.name, serverName)) return reply.redirect(queueUrl(hub, owner.name, serverName, safeNext(hub, req, uri) || uri), 303);
    if (active?.phase === 'spawning' || hub.servers.lastFailure(owner.name, serverName)) {
      return reply.redirect(pendingUrl(hub, owner.name, serverName, safeNext(hub, req, uri) || uri), 303);
    }
    return reply.code(424).type('text/html').send(notRunningPage({ ...pageVars(hub), base: hub.base, user: owner.name, serverName, spawnUrl, currentUser: who.user?.name ?? who.name }));
  };
  app.all(`${hp}user/*`, notRunning);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}
