// /hub/api/users/{name}/tokens…: list, create, read and revoke a user's API and OAuth tokens (spec 2.2).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import type { TokenRecord, UserRecord } from '../../store/types.ts';
import { DEFAULT_ROLES, getAuthenticatedUser, newApiToken } from '../../auth/index.ts';
import { HubError } from '../../util/errors.ts';
import { apiPrincipal, hasAccess, principalForUser, userScopes, type Principal } from '../identity.ts';
import { tokenModel } from '../models.ts';
import { bodyObject } from './body.ts';
import { tokenExpiry, tokenScopesFor } from './token-scopes.ts';
import { findUser, requireUserScope } from './users.ts';
import { limiterKey, realClientAddress, trustedProxies } from '../client-address.ts';

type Params = { name: string; token_id?: string };

/** Raw scopes of a role: a definition in the store (load_roles may redefine defaults) wins over the built-in one. */
async function roleScopes(hub: Hub, name: string): Promise<readonly string[] | undefined> {
  return (await hub.store.roles.get(name))?.scopes ?? DEFAULT_ROLES.find((r) => r.name === name)?.scopes;
}

/** Ids are `a<int>`; anything else, or another user's token, is the same 404 so ids can't be probed. */
async function findToken(hub: Hub, user: UserRecord, tokenId: string): Promise<TokenRecord> {
  const notFound = new HubError(404, `No such token ${tokenId} for user ${user.name}`);
  const m = /^a(\d{1,15})$/.exec(tokenId);
  if (!m) throw notFound;
  const token = await hub.store.tokens.get(Number(m[1]));
  if (!token || token.user_id !== user.id) throw notFound;
  return token;
}

/** A request without credentials may name itself with `{"auth": {...}}`, which the Authenticator checks. */
async function principalFromAuthBody(hub: Hub, req: FastifyRequest, body: Record<string, unknown>): Promise<Principal> {
  const auth = body.auth;
  if (typeof auth !== 'object' || auth === null || Array.isArray(auth)) throw new HubError(403, 'Missing or invalid credentials.');
  const { username, password } = auth as Record<string, unknown>;
  // A password tried here counts against the same per-address limit as the login form and the event password: this
  // is a login too, and would otherwise be a way to guess a shared password without limit.
  const limiter = hub.loginLimiter ?? hub.sharedPassword?.limiter ?? null;
  const bucket = limiterKey(realClientAddress(req, trustedProxies(hub.config.hub.trusted_downstream_ips)));
  const wait = limiter?.retryAfter(bucket) ?? 0;
  if (wait > 0) throw new HubError(429, `Too many failed logins; try again in ${wait} s`, { 'Retry-After': String(wait) });
  let name: string | null = null;
  try {
    const result = await getAuthenticatedUser(hub.authenticator, {
      username: typeof username === 'string' ? username : '',
      password: typeof password === 'string' ? password : '',
    }, async (n) => (await hub.store.users.get(n)) !== undefined);
    name = result?.name ?? null;
    if (name === null) limiter?.recordFailure(bucket);
  } catch (err) {
    // An authenticator not made for this kind of data must not turn into a 500.
    hub.log.error(`Error authenticating token request: ${(err as Error).message}`);
  }
  const user = name === null ? undefined : await hub.store.users.get(name);
  if (!user) throw new HubError(403, 'Forbidden');
  return await principalForUser(hub, user);
}

export function registerTokenApi(app: FastifyInstance, hub: Hub): void {
  const api = `${hub.hubPrefix}api`;
  const params = (req: FastifyRequest) => req.params as Params;

  app.get(`${api}/users/:name/tokens`, async (req) => {
    const { name } = params(req);
    await requireUserScope(hub, req, ['read:tokens'], name);
    const user = await findUser(hub, name);
    const now = Date.now();
    await hub.store.tokens.purgeExpired(now);
    const tokens = (await hub.store.tokens
      .listForUser(user.id))
      .filter((t) => t.expires_at === null || t.expires_at > now)
      .sort((a, b) => (a.last_activity ?? a.created) - (b.last_activity ?? b.created));
    return { api_tokens: await Promise.all(tokens.map((t) => tokenModel(hub, t))) };
  });

  app.post(`${api}/users/:name/tokens`, async (req, reply) => {
    const { name } = params(req);
    const body = bodyObject(req.body);
    let requester = await apiPrincipal(hub, req);
    if (!requester) {
      requester = await principalFromAuthBody(hub, req, body);
      if (requester.name !== name) throw new HubError(403, `User ${name} not found or no permissions to generate tokens`);
    }
    const user = await hub.store.users.get(name);
    const userGroups = user ? await hub.store.groups.groupsOfUser(user.id) : [];
    if (!user || !hasAccess(requester, ['tokens'], { user: name, userGroups })) {
      const kind = requester.kind === 'user' ? 'User' : 'Service';
      throw new HubError(403, `${kind} ${name} not found or no permissions to generate tokens`);
    }
    const self = requester.kind === 'user' && requester.user?.id === user.id;
    if (body.note !== undefined && body.note !== null && typeof body.note !== 'string') throw new HubError(400, 'note must be a string');
    let note = typeof body.note === 'string' ? body.note : '';
    if (!note) note = self ? 'Requested via api' : `Requested via api by ${requester.kind} ${requester.name}`;
    const now = Date.now();
    const expiresAt = tokenExpiry(body.expires_in, now);
    // The checks below are synchronous: the groups of the users the scopes name and the roles asked for are read first.
    const named = new Set<string>([user.name]);
    for (const s of Array.isArray(body.scopes) ? body.scopes : []) {
      const m = /!(?:user|server)=([^/]+)/.exec(String(s));
      if (m) named.add(m[1]!);
    }
    const groupsByName = new Map<string, string[]>();
    for (const n of named) {
      const u = await hub.store.users.get(n);
      groupsByName.set(n, u ? await hub.store.groups.groupsOfUser(u.id) : []);
    }
    const roleDefs = new Map<string, readonly string[] | undefined>();
    // without roles the `token` role decides (token-scopes.ts)
    for (const r of Array.isArray(body.roles) ? body.roles : ['token']) if (typeof r === 'string') roleDefs.set(r, await roleScopes(hub, r));
    const scopes = tokenScopesFor(
      { scopes: body.scopes, roles: body.roles },
      {
        ref: { kind: 'user', name: user.name },
        scopes: await userScopes(hub, user),
        groupsOf: (n) => groupsByName.get(n) ?? [],
      },
      (role) => roleDefs.get(role),
    );
    const plain = newApiToken();
    const record = await hub.store.tokens.create({
      user_id: user.id, kind: 'api', token: plain, note, scopes, client_id: 'jupyterhub', expires_at: expiresAt,
    });
    hub.log.info(self ? `User ${user.name} requested new API token` : `${requester.kind === 'user' ? 'User' : 'Service'} ${requester.name} requested API token for ${user.name}`);
    reply.code(201);
    return { ...(await tokenModel(hub, record)), token: plain };
  });

  app.get(`${api}/users/:name/tokens/:token_id`, async (req) => {
    const { name, token_id } = params(req);
    await requireUserScope(hub, req, ['read:tokens'], name);
    const user = await findUser(hub, name);
    const token = await findToken(hub, user, token_id ?? '');
    if (token.expires_at !== null && token.expires_at <= Date.now()) throw new HubError(404, `No such token ${token_id} for user ${user.name}`);
    return await tokenModel(hub, token);
  });

  app.delete(`${api}/users/:name/tokens/:token_id`, async (req, reply) => {
    const { name, token_id } = params(req);
    await requireUserScope(hub, req, ['tokens'], name);
    const user = await findUser(hub, name);
    const token = await findToken(hub, user, token_id ?? '');
    // Revoking one OAuth token revokes the client's access for this user altogether, as JupyterHub does.
    if (token.client_id !== 'jupyterhub') await hub.store.tokens.deleteForClient(token.client_id, user.id);
    else await hub.store.tokens.delete(token.id);
    // No payload at all: fastify drops the content type of a 204 that carries one, and JupyterHub sends text/plain.
    return reply.code(204).header('content-type', 'text/plain').send();
  });
}
