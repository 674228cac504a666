// Who is asking, and what may they do. An API request is identified by an API token (Authorization header only: the
// hub API never takes ?token=, spec 2.1) or by the hub login cookie; a page request by a token (header or ?token=,
// see pagePrincipal) or the cookie. Its scopes are the owner's roles expanded, cut down to the token's own scopes when
// it has any.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Hub } from './context.ts';
import type { ServiceRecord, TokenRecord, UserRecord } from '../store/types.ts';
import {
  checkAccess, expandScopes, intersectScopes, parseAuthorizationHeader, parseCookies, rolesToScopes,
  serializeCookie, signValue, verifySignedValue,
  FILTERED_MESSAGE,
} from '../auth/index.ts';
import type { RoleDef, ScopeResource as AccessResource } from '../auth/index.ts';
import { HubError } from '../util/errors.ts';
import { requestHost, requestProto } from './http.ts';
import { noteRequester } from './access-log.ts';

export const LOGIN_COOKIE = 'jupyterhub-hub-login';
export const SESSION_COOKIE = 'jupyterhub-session-id';

export interface Principal {
  kind: 'user' | 'service';
  name: string;
  user: UserRecord | null;
  service: ServiceRecord | null;
  token: TokenRecord | null;
  /** Expanded scopes this request holds. */
  scopes: Set<string>;
  via: 'token' | 'cookie';
}

/** Raw scopes of the roles; custom roles come from the store (load_roles), and a role deleted since is ignored. */
// The look-ups below run side by side (Promise.all): on PostgreSQL each is a round trip, on sqlite it costs nothing.
async function roleScopes(hub: Hub, roles: string[]): Promise<Set<string>> {
  const defs: RoleDef[] = [];
  const known: string[] = [];
  const found = await Promise.all(roles.map((name) => hub.store.roles.get(name)));
  roles.forEach((name, i) => {
    const r = found[i];
    if (r) defs.push(r);
    if (r || ['user', 'admin', 'server', 'token'].includes(name)) known.push(name);
  });
  return new Set(rolesToScopes(known, defs));
}

export async function userScopes(hub: Hub, user: UserRecord): Promise<Set<string>> {
  const [own, groupNames] = await Promise.all([hub.store.roles.ofUser(user.id), hub.store.groups.groupsOfUser(user.id)]);
  const roles = new Set<string>(['user', ...own]);
  if (user.admin) roles.add('admin');
  const groupRoles = await Promise.all(groupNames.map(async (g) => {
    const group = await hub.store.groups.get(g);
    return group ? hub.store.roles.ofGroup(group.id) : [];
  }));
  for (const list of groupRoles) for (const r of list) roles.add(r);
  return expandScopes(await roleScopes(hub, [...roles]), { kind: 'user', name: user.name });
}

export async function serviceScopes(hub: Hub, service: ServiceRecord): Promise<Set<string>> {
  const roles = new Set<string>(await hub.store.roles.ofService(service.id));
  if (service.admin) roles.add('admin');
  return expandScopes(await roleScopes(hub, [...roles]), { kind: 'service', name: service.name });
}

/** The scopes a token carries: its owner's, cut to the token's own list when it has one. */
export function tokenScopes(owner: Set<string>, token: TokenRecord, ownerRef: { kind: 'user' | 'service'; name: string }): Set<string> {
  if (token.scopes.length === 0 || token.scopes.includes('inherit')) return owner;
  return intersectScopes(expandScopes(token.scopes, ownerRef), owner);
}

const ACTIVITY_RESOLUTION_MS = 30_000;

export async function principalForToken(hub: Hub, plain: string): Promise<Principal | null> {
  const token = await hub.store.tokens.find(plain);
  if (!token) return null;
  const now = Date.now();
  // activity stamps are not awaited: the request need not wait for them (and a failed one is only a stamp)
  if (token.last_activity === null || now - token.last_activity > ACTIVITY_RESOLUTION_MS) hub.store.tokens.touch(token.id, now).catch(() => {});
  if (token.user_id !== null) {
    const user = await hub.store.users.getById(token.user_id);
    if (!user) return null;
    // A server's own token acting (activity reports) is not the user being active (spec 1.7).
    if (token.server_id === null && (user.last_activity === null || now - user.last_activity > ACTIVITY_RESOLUTION_MS)) {
      hub.store.users.touch(user.id, now).catch(() => {});
    }
    const ref = { kind: 'user' as const, name: user.name };
    return { kind: 'user', name: user.name, user, service: null, token, scopes: tokenScopes(await userScopes(hub, user), token, ref), via: 'token' };
  }
  if (token.service_id !== null) {
    const service = await hub.store.services.getById(token.service_id);
    if (!service) return null;
    const ref = { kind: 'service' as const, name: service.name };
    return { kind: 'service', name: service.name, user: null, service, token, scopes: tokenScopes(await serviceScopes(hub, service), token, ref), via: 'token' };
  }
  return null;
}

/** The user the hub login cookie names, if the cookie is valid and the user still exists. */
export async function cookieUser(hub: Hub, req: FastifyRequest): Promise<UserRecord | null> {
  const raw = parseCookies(req.headers.cookie ?? '')[LOGIN_COOKIE];
  if (!raw) return null;
  const cookieId = verifySignedValue(hub.cookieSecret, LOGIN_COOKIE, raw, hub.config.hub.cookie_max_age_days);
  if (!cookieId) return null;
  const user = (await hub.store.users.getByCookieId(cookieId)) ?? null;
  if (user) noteRequester(req, user.name);
  return user;
}

export async function principalForUser(hub: Hub, user: UserRecord): Promise<Principal> {
  return { kind: 'user', name: user.name, user, service: null, token: null, scopes: await userScopes(hub, user), via: 'cookie' };
}

/** The token a page request presents: `Authorization: token|bearer X`, else a single `?token=X`; null when none. */
export function pageTokenOf(req: FastifyRequest): string | null {
  const header = parseAuthorizationHeader(req.headers.authorization);
  if (header) return header;
  const q = (req.query ?? {}) as Record<string, unknown>;
  return typeof q.token === 'string' && q.token !== '' ? q.token : null;
}

const pagePrincipals = new WeakMap<FastifyRequest, Promise<Principal | null>>();

/**
 * The caller of a page request, or null (a visitor). A known token wins over the login cookie, as in JupyterHub's
 * get_current_user; an unknown one is ignored and the cookie decides. JupyterHub 3-5 take tokens on pages only at
 * /hub/user/… and /hub/metrics (header only); nodehub takes them on every page that acts for a user, within the
 * token's scopes. A token never logs a browser in: no cookie is set from it (JupyterHub sets one only in the
 * single-user server's HubOAuth, for ?token=). Memoised per request: the XSRF check and the handler both ask.
 */
export function pagePrincipal(hub: Hub, req: FastifyRequest): Promise<Principal | null> {
  let p = pagePrincipals.get(req);
  if (!p) {
    p = findPagePrincipal(hub, req);
    pagePrincipals.set(req, p);
  }
  return p;
}

async function findPagePrincipal(hub: Hub, req: FastifyRequest): Promise<Principal | null> {
  const plain = pageTokenOf(req);
  const p = plain ? await principalForToken(hub, plain) : null;
  if (p) {
    noteRequester(req, p.name);
    return p;
  }
  const user = await cookieUser(hub, req);
  return user ? await principalForUser(hub, user) : null;
}

/**
 * 3.0's rule for cookie-authenticated API calls (spec 2.1.4): honour the cookie only with a same-origin Referer under
 * the hub prefix, and for POST only with a JSON or absent content type. That is what stops cross-site requests.
 */
function cookieAllowedForApi(hub: Hub, req: FastifyRequest): boolean {
  const referer = req.headers.referer;
  if (!referer) return false;
  let ref: URL;
  try {
    ref = new URL(referer);
  } catch {
    return false;
  }
  if (ref.host !== requestHost(req) || ref.protocol !== `${requestProto(req)}:`) return false;
  if (!ref.pathname.startsWith(hub.hubPrefix)) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const ct = String(req.headers['content-type'] ?? '');
    if (ct && !ct.startsWith('application/json')) return false;
  }
  return true;
}

/** The caller of an API request, or null (anonymous). */
export async function apiPrincipal(hub: Hub, req: FastifyRequest): Promise<Principal | null> {
  const header = req.headers.authorization;
  if (header) {
    const plain = parseAuthorizationHeader(header);
    const p = plain ? await principalForToken(hub, plain) : null;
    if (p) noteRequester(req, p.name);
    return p;
  }
  if (!cookieAllowedForApi(hub, req)) return null;
  const user = await cookieUser(hub, req);
  return user ? await principalForUser(hub, user) : null;
}

/** Throws the 403 or 404 JupyterHub answers when the principal's scopes don't reach the resource. */
export function requireScopes(p: Principal | null, required: string[], resource: AccessResource = {}): Principal {
  if (!p) throw new HubError(403, 'Missing or invalid credentials.');
  const verdict = checkAccess(p.scopes, required, resource);
  if (verdict === 'no-scope') {
    throw new HubError(403, `Action is not authorized with current scopes; requires any of [${required.join(', ')}]`);
  }
  if (verdict === 'filtered') throw new HubError(404, FILTERED_MESSAGE);
  return p;
}

export function hasAccess(p: Principal | null, required: string[], resource: AccessResource = {}): boolean {
  return !!p && checkAccess(p.scopes, required, resource) === 'ok';
}

/** Adds a Set-Cookie line: fastify's reply.header appends to set-cookie rather than replacing it (so handing it the
 *  lines already set repeated each of them). */
function appendCookie(reply: FastifyReply, cookie: string): void {
  reply.header('set-cookie', cookie);
}

export function setLoginCookie(hub: Hub, req: FastifyRequest, reply: FastifyReply, user: UserRecord): void {
  const secure = requestProto(req) === 'https';
  appendCookie(reply, serializeCookie(LOGIN_COOKIE, signValue(hub.cookieSecret, LOGIN_COOKIE, user.cookie_id), {
    path: hub.hubPrefix, httpOnly: true, secure, sameSite: 'Lax', maxAge: hub.config.hub.cookie_max_age_days * 86400,
  }));
}

/** The browser session id (unsigned, as JupyterHub: it ties OAuth tokens to a session and is not a credential). */
export function ensureSessionId(hub: Hub, req: FastifyRequest, reply: FastifyReply): string {
  const existing = parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE];
  if (existing && /^[0-9a-f]{32}$/.test(existing)) return existing;
  const sid = crypto.randomUUID().replace(/-/g, '');
  appendCookie(reply, serializeCookie(SESSION_COOKIE, sid, { path: hub.base, httpOnly: true, secure: requestProto(req) === 'https', sameSite: 'Lax' }));
  return sid;
}

export async function clearLoginCookies(hub: Hub, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const sid = parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE];
  if (sid) await hub.store.tokens.deleteForSession(sid);
  const gone = { httpOnly: true, maxAge: 0, expires: new Date(0) };
  appendCookie(reply, serializeCookie(LOGIN_COOKIE, '', { ...gone, path: hub.hubPrefix }));
  appendCookie(reply, serializeCookie(SESSION_COOKIE, '', { ...gone, path: hub.base }));
  appendCookie(reply, serializeCookie('jupyterhub-services', '', { ...gone, path: `${hub.base}services` }));
}

export { appendCookie };
