// The OAuth2 provider single-user servers and services log browsers in with (spec 1.5): the authorization-code grant
// only, relative redirect_uris compared exactly, client secret = the server's API token (stored hashed).
import { pageVars } from './web/page-vars.ts';
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { xsrfToken } from './web/xsrf.ts';
import type { Hub } from './context.ts';
import type { OAuthClientRecord, UserRecord } from '../store/types.ts';
import { HubError } from '../util/errors.ts';
import { hashToken } from '../store/index.ts';
import { checkAccess, newOAuthCode, newOAuthToken } from '../auth/index.ts';
import { cookieUser, ensureSessionId, userScopes } from './identity.ts';
import { requestOrigin, requestUri } from './http.ts';
import { loginRedirect } from './web/redirects.ts';
import { oauthConfirmPage } from './pages/index.ts';

const CODE_TTL_MS = 300_000;

function param(q: Record<string, unknown>, k: string): string {
  const v = q[k];
  return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '';
}

/** What the client's access scopes resolve to: a server (u/s) or a service, for the permission check. */
function accessResource(client: OAuthClientRecord): { scope: string; resource: { user?: string; server?: string; service?: string } } | null {
  for (const s of client.allowed_scopes) {
    let m = /^access:servers!server=([^/]+)\/(.*)$/.exec(s);
    if (m) return { scope: 'access:servers', resource: { user: m[1], server: `${m[1]}/${m[2]}` } };
    m = /^access:services!service=(.+)$/.exec(s);
    if (m) return { scope: 'access:services', resource: { service: m[1] } };
  }
  return null;
}

function grantedScopes(client: OAuthClientRecord): string[] {
  return [...new Set([...client.allowed_scopes, 'read:users:name!user', 'read:users:groups!user'])];
}

async function issueCode(hub: Hub, req: FastifyRequest, reply: FastifyReply, user: UserRecord, client: OAuthClientRecord, state: string) {
  const sessionId = ensureSessionId(hub, req, reply);
  const code = newOAuthCode();
  await hub.store.oauth.createCode(code, {
    client_id: client.identifier, user_id: user.id, scopes: grantedScopes(client), session_id: sessionId,
    redirect_uri: client.redirect_uri, expires_at: Date.now() + CODE_TTL_MS,
  });
  const sep = client.redirect_uri.includes('?') ? '&' : '?';
  const target = `${client.redirect_uri}${sep}code=${encodeURIComponent(code)}${state ? `&state=${encodeURIComponent(state)}` : ''}`;
  return reply.redirect(target, 302);
}

async function checkAuthorizeRequest(hub: Hub, q: Record<string, unknown>): Promise<OAuthClientRecord> {
  const clientId = param(q, 'client_id');
  const client = clientId ? await hub.store.oauth.getClient(clientId) : undefined;
  if (!client) throw new HubError(400, `Invalid OAuth client: ${JSON.stringify(clientId)}`);
  if (param(q, 'response_type') !== 'code') throw new HubError(400, 'Only response_type=code is supported');
  const redirect = param(q, 'redirect_uri');
  if (redirect && redirect !== client.redirect_uri) throw new HubError(400, 'redirect_uri does not match the registered one');
  return client;
}

export function registerOAuth(app: FastifyInstance, hub: Hub): void {
  const authorize = `${hub.hubPrefix}api/oauth2/authorize`;

  const handle = async (req: FastifyRequest, reply: FastifyReply, confirmed: boolean) => {
    const user = await cookieUser(hub, req);
    if (!user) return loginRedirect(hub, req, reply);
    const q = (req.query ?? {}) as Record<string, unknown>;
    const client = await checkAuthorizeRequest(hub, q);
    const access = accessResource(client);
    const scopes = await userScopes(hub, user);
    if (access && checkAccess(scopes, [access.scope], access.resource) !== 'ok') {
      throw new HubError(403, `You do not have permission to access ${client.description}`);
    }
    const svc = access?.resource.service ? hub.config.hub.services.find((s) => s.name === access.resource.service) : undefined;
    const own = access?.resource.user === user.name;
    const known = (await hub.store.tokens.listForUser(user.id)).some((t) => t.client_id === client.identifier);
    if (own || svc?.oauth_no_confirm || known || confirmed) return await issueCode(hub, req, reply, user, client, param(q, 'state'));
    reply.type('text/html');
    return oauthConfirmPage({ ...pageVars(hub), base: hub.base, user: user.name, clientDescription: client.description, action: requestUri(req), xsrf: xsrfToken(hub, req, reply) });
  };

  app.get(authorize, (req, reply) => handle(req, reply, false));
  app.post(authorize, (req, reply) => {
    // The confirmation form posts back here; only a same-page Referer counts as the user's click.
    const expected = new URL(requestUri(req), requestOrigin(req)).toString();
    if (req.headers.referer !== expected) throw new HubError(403, 'Authorization form must be sent from the authorization page');
    return handle(req, reply, true);
  });

  app.post(`${hub.hubPrefix}api/oauth2/token`, async (req, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const clientId = param(body, 'client_id');
    const secret = param(body, 'client_secret');
    const client = clientId ? await hub.store.oauth.getClient(clientId) : undefined;
    const given = Buffer.from(hashToken(secret || '-'), 'hex');
    const stored = Buffer.from(client?.secret_hash ?? '0'.repeat(64), 'hex');
    if (!client || !secret || given.length !== stored.length || !timingSafeEqual(given, stored)) {
      return reply.code(401).send({ error: 'invalid_client' });
    }
    if (param(body, 'grant_type') !== 'authorization_code') return reply.code(400).send({ error: 'unsupported_grant_type' });
    const code = await hub.store.oauth.consumeCode(param(body, 'code'), Date.now());
    const redirect = param(body, 'redirect_uri');
    if (!code || code.client_id !== client.identifier || (redirect && redirect !== code.redirect_uri)) {
      return reply.code(400).send({ error: 'invalid_grant' });
    }
    const user = await hub.store.users.getById(code.user_id);
    if (!user) return reply.code(400).send({ error: 'invalid_grant' });
    const expiresIn = hub.config.hub.cookie_max_age_days * 86400;
    const token = newOAuthToken();
    const scopes = code.scopes.map((s) => (s.endsWith('!user') ? `${s}=${user.name}` : s));
    await hub.store.tokens.create({
      user_id: user.id, kind: 'oauth', token, scopes, session_id: code.session_id, client_id: client.identifier,
      expires_at: Date.now() + expiresIn * 1000, note: '',
    });
    return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: code.scopes.join(' ') };
  });
}
