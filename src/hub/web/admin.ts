// /hub/admin: JupyterHub's admin page without its React app. Viewing needs `admin-ui`; the rows shown follow the
// caller's list:users filter and each row's fields the read scopes, as GET /hub/api/users does. Every action is the
// very REST call JupyterHub's admin page makes from the browser, made here by the hub on the form's behalf (an
// in-process request carrying the caller's own login cookie), so each one runs the REST handler with its scope
// checks, validation and messages, and nothing of it is written twice. Then POST-redirect-GET back to the listing.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import type { UserRecord } from '../../store/types.ts';
import { filterFor, parseCookies, serializeCookie } from '../../auth/index.ts';
import { HubError } from '../../util/errors.ts';
import { cookieUser, hasAccess, principalForUser, requireScopes, appendCookie, type Principal } from '../identity.ts';
import { userFacts, userModel } from '../models.ts';
import { requestOrigin } from '../http.ts';
import { urlEscapePath } from '../../util/url.ts';
import { withQuery } from '../pages/urls.ts';
import {
  adminConfirmPage, adminPage, viewQuery, type AdminServer, type AdminUserRow, type AdminView,
} from '../pages/admin.ts';
import { loginRedirect } from './redirects.ts';
import { xsrfToken } from './xsrf.ts';

const NOTICE_COOKIE = 'nodehub-admin-notice';
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;
const MAX_OFFSET = 1_000_000_000;

type Query = Record<string, unknown>;

function str(q: Query, key: string): string {
  const v = q[key];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s : '';
}

function intArg(q: Query, key: string, def: number, min: number, max: number): number {
  const s = str(q, key).trim();
  if (s === '') return def;
  if (!/^\d{1,10}$/.test(s) || Number(s) < min || Number(s) > max) {
    throw new HubError(400, `${key} must be a whole number from ${min} to ${max}, got ${JSON.stringify(s.slice(0, 40))}`);
  }
  return Number(s);
}

/** The listing's view from a query (the page's own, or the `back` field an action form carries). */
export function readView(q: Query): AdminView {
  const sort = str(q, 'sort') || 'name';
  if (sort !== 'name' && sort !== 'last_activity') throw new HubError(400, `sort must be 'name' or 'last_activity', not ${JSON.stringify(sort.slice(0, 40))}`);
  const dir = str(q, 'dir') || 'asc';
  if (dir !== 'asc' && dir !== 'desc') throw new HubError(400, `dir must be 'asc' or 'desc', not ${JSON.stringify(dir.slice(0, 40))}`);
  return {
    q: str(q, 'q').trim().slice(0, 255),
    sort, dir,
    offset: intArg(q, 'offset', 0, 0, MAX_OFFSET),
    limit: intArg(q, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT),
  };
}

function serverState(model: Record<string, unknown>): string {
  if (model.pending === 'spawn') return 'starting';
  if (model.pending === 'stop') return 'stopping';
  if (model.ready) return 'running';
  if (model.stopped) return 'stopped';
  return 'busy';
}

/** A row from the REST user model, so the same scopes cut the same fields. */
function toRow(model: Record<string, unknown>): AdminUserRow {
  const row: AdminUserRow = {
    name: String(model.name),
    admin: model.admin === true,
    last_activity: typeof model.last_activity === 'string' ? model.last_activity : null,
  };
  if (Array.isArray(model.groups)) row.groups = [...(model.groups as string[])].sort();
  if (model.servers && typeof model.servers === 'object') {
    const servers: AdminServer[] = Object.values(model.servers as Record<string, Record<string, unknown>>).map((s) => ({
      name: String(s.name), state: serverState(s), url: String(s.url ?? ''),
      last_activity: typeof s.last_activity === 'string' ? s.last_activity : null,
    }));
    if (!servers.some((s) => s.name === '')) servers.push({ name: '', state: 'stopped', url: '', last_activity: null });
    row.servers = servers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  return row;
}

/** The page of users the caller may list (the REST listing's rule), with their models. */
async function listUsers(hub: Hub, p: Principal, view: AdminView): Promise<{ users: AdminUserRow[]; more: boolean }> {
  if (!hasAccess(p, ['list:users'])) return { users: [], more: false };
  const f = filterFor(p.scopes, 'list:users');
  let names: string[] | undefined;
  if (!f.all) {
    const set = new Set<string>(f.users);
    for (const g of f.groups) {
      const group = await hub.store.groups.get(g);
      if (group) for (const m of await hub.store.groups.memberNames(group.id)) set.add(m);
    }
    names = [...set];
  }
  const { items, more } = await hub.store.users.adminPage({
    offset: view.offset, limit: view.limit, sort: view.sort, dir: view.dir, nameFilter: view.q || undefined, names,
  });
  const facts = await userFacts(hub, p, items);
  return { users: await Promise.all(items.map(async (u) => toRow(await userModel(hub, p, u, { includeStopped: true, facts: facts(u) })))), more };
}

export function registerAdminPages(app: FastifyInstance, hub: Hub): void {
  const hp = hub.hubPrefix;
  const adminPath = `${hp}admin`;

  /** The logged-in caller with admin-ui, or a login redirect (null) / a 403 page (thrown). */
  const caller = async (req: FastifyRequest, reply: FastifyReply): Promise<{ me: UserRecord; p: Principal } | null> => {
    const me = await cookieUser(hub, req);
    if (!me) {
      if (req.method === 'GET') loginRedirect(hub, req, reply);
      else throw new HubError(403, 'You must be logged in to use the admin page');
      return null;
    }
    const p = await principalForUser(hub, me);
    if (!hasAccess(p, ['admin-ui'])) throw new HubError(403, 'The admin page needs the admin-ui scope, which you do not have.');
    return { me, p };
  };

  const form = (req: FastifyRequest): Query => (typeof req.body === 'object' && req.body !== null ? req.body as Query : {});
  const userParam = (req: FastifyRequest) => (req.params as { name: string }).name;
  const back = (req: FastifyRequest): AdminView => readView(Object.fromEntries(new URLSearchParams(str(form(req), 'back'))));
  const listing = (view: AdminView) => withQuery(adminPath, viewQuery(view));

  /** The REST call behind an action, as the caller: their cookie, a same-origin Referer (spec 2.1.4), JSON. */
  const callApi = async (req: FastifyRequest, method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) => {
    const pass = ['cookie', 'host', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-for', 'x-scheme', 'x-real-ip'];
    const headers: Record<string, string> = {};
    for (const h of pass) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    headers.referer = `${requestOrigin(req)}${adminPath}`;
    headers.accept = 'application/json';
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await app.inject({
      method, url: `${hp}api${path}`, headers, remoteAddress: req.socket.remoteAddress,
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    if (res.statusCode >= 400) {
      let message = `The hub answered ${res.statusCode}`;
      try {
        const parsed = JSON.parse(res.body) as { message?: unknown };
        if (typeof parsed.message === 'string' && parsed.message) message = parsed.message;
      } catch { /* keep the status line */ }
      throw new HubError(res.statusCode, message);
    }
    return res;
  };

  /** Back to the listing the form came from, with a note on what happened (a short-lived cookie, not the URL, so a
   *  link cannot make the page claim something happened). */
  const done = (req: FastifyRequest, reply: FastifyReply, view: AdminView, notice: string) => {
    appendCookie(reply, serializeCookie(NOTICE_COOKIE, notice.slice(0, 500), {
      path: adminPath, httpOnly: true, sameSite: 'Lax', maxAge: 60, secure: requestOrigin(req).startsWith('https:'),
    }));
    return reply.redirect(listing(view), 303);
  };

  app.get(adminPath, async (req, reply) => {
    const who = await caller(req, reply);
    if (!who) return reply;
    const view = readView((req.query ?? {}) as Query);
    const notice = parseCookies(req.headers.cookie ?? '')[NOTICE_COOKIE];
    if (notice !== undefined) appendCookie(reply, serializeCookie(NOTICE_COOKIE, '', { path: adminPath, maxAge: 0, expires: new Date(0) }));
    const { users, more } = await listUsers(hub, who.p, view);
    const p = who.p;
    const html = adminPage({
      base: hub.base, currentUser: who.me.name, xsrf: xsrfToken(hub, req, reply), users, view, more,
      namedServers: hub.config.hub.allow_named_servers, notice: notice || null,
      allowed: {
        addUsers: hasAccess(p, ['admin:users']),
        editUsers: hasAccess(p, ['admin:users']),
        deleteUsers: hasAccess(p, ['delete:users']),
        servers: hasAccess(p, ['servers']),
        groups: hasAccess(p, ['groups']),
      },
    });
    return reply.type('text/html').header('cache-control', 'no-store').send(html);
  });

  app.post(`${adminPath}/users`, async (req, reply) => {
    if (!await caller(req, reply)) return reply;
    const view = back(req);
    const usernames = str(form(req), 'usernames').split(/[\s,]+/).filter((n) => n !== '');
    const admin = str(form(req), 'admin') === '1';
    const res = await callApi(req, 'POST', '/users', { usernames, admin });
    const created = (JSON.parse(res.body) as { name: string }[]).map((u) => u.name);
    return done(req, reply, view, `Added ${created.length === 1 ? 'user' : 'users'} ${created.join(', ')}${admin ? ' as admin' : ''}.`);
  });

  app.post(`${adminPath}/users/:name/admin`, async (req, reply) => {
    if (!await caller(req, reply)) return reply;
    const name = userParam(req);
    const admin = str(form(req), 'admin') === '1';
    await callApi(req, 'PATCH', `/users/${urlEscapePath(name)}`, { admin });
    return done(req, reply, back(req), admin ? `${name} is now an admin.` : `${name} is no longer an admin.`);
  });

  app.post(`${adminPath}/users/:name/groups`, async (req, reply) => {
    if (!await caller(req, reply)) return reply;
    const name = userParam(req);
    const op = str(form(req), 'op');
    const group = str(form(req), 'group').trim();
    if (op !== 'add' && op !== 'remove') throw new HubError(400, "op must be 'add' or 'remove'");
    if (!group) throw new HubError(400, 'Enter the name of a group');
    await callApi(req, op === 'add' ? 'POST' : 'DELETE', `/groups/${urlEscapePath(group)}/users`, { users: [name] });
    return done(req, reply, back(req), op === 'add' ? `Added ${name} to group ${group}.` : `Removed ${name} from group ${group}.`);
  });

  app.post(`${adminPath}/users/:name/start`, async (req, reply) => {
    if (!await caller(req, reply)) return reply;
    const name = userParam(req);
    const server = str(form(req), 'server');
    const path = server ? `/users/${urlEscapePath(name)}/servers/${urlEscapePath(server)}` : `/users/${urlEscapePath(name)}/server`;
    const res = await callApi(req, 'POST', path);
    const label = server ? `${name}'s server ${server}` : `${name}'s server`;
    return done(req, reply, back(req), res.statusCode === 202 ? `Starting ${label}.` : `Started ${label}.`);
  });

  // Destructive actions: a GET shows what will happen and a form to confirm; only the confirmed POST acts.
  const confirmGet = (kind: 'delete' | 'stop') => async (req: FastifyRequest, reply: FastifyReply) => {
    const who = await caller(req, reply);
    if (!who) return reply;
    const name = userParam(req);
    const q = (req.query ?? {}) as Query;
    const view = readView(q);
    if (!await hub.store.users.get(name)) throw new HubError(404, `No such user: ${name}`);
    const server = kind === 'stop' ? str(q, 'server') : '';
    const label = server ? `${name}'s server “${server}”` : `${name}'s server`;
    const fields: Record<string, string> = { back: withQuery('', viewQuery(view)).replace(/^\?/, '') };
    if (server) fields.server = server;
    const html = adminConfirmPage({
      base: hub.base, currentUser: who.me.name, xsrf: xsrfToken(hub, req, reply),
      title: kind === 'delete' ? 'Delete user' : 'Stop server',
      question: kind === 'delete'
        ? `Delete the user ${name}? Their servers are stopped and their tokens revoked. This cannot be undone.`
        : `Stop ${label}? Anything running in it is ended.`,
      action: `${adminPath}/users/${urlEscapePath(name)}/${kind}`,
      fields, confirmLabel: kind === 'delete' ? `Delete ${name}` : 'Stop server', cancelUrl: listing(view),
    });
    return reply.type('text/html').header('cache-control', 'no-store').send(html);
  };
  app.get(`${adminPath}/users/:name/delete`, confirmGet('delete'));
  app.get(`${adminPath}/users/:name/stop`, confirmGet('stop'));

  app.post(`${adminPath}/users/:name/delete`, async (req, reply) => {
    if (!await caller(req, reply)) return reply;
    const name = userParam(req);
    await callApi(req, 'DELETE', `/users/${urlEscapePath(name)}`);
    return done(req, reply, back(req), `Deleted user ${name}.`);
  });

  app.post(`${adminPath}/users/:name/stop`, async (req, reply) => {
    if (!await caller(req, reply)) return reply;
    const name = userParam(req);
    const server = str(form(req), 'server');
    const path = server ? `/users/${urlEscapePath(name)}/servers/${urlEscapePath(server)}` : `/users/${urlEscapePath(name)}/server`;
    const res = await callApi(req, 'DELETE', path);
    const label = server ? `${name}'s server ${server}` : `${name}'s server`;
    return done(req, reply, back(req), res.statusCode === 202 ? `Stopping ${label}.` : `Stopped ${label}.`);
  });
}
