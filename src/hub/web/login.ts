// Login and logout pages. The authenticator decides who someone is; this file only turns its answer into a user
// record and a login cookie. `/hub/tmplogin` is the tmp authenticator's own login URL (a fresh user every time).
import { pageVars } from './page-vars.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import { xsrfToken } from './xsrf.ts';
import { forbiddenNameChars } from '../../auth/names.ts';
import { checkResult, getAuthenticatedUser, parseCookies, serializeCookie, signValue, verifySignedValue } from '../../auth/index.ts';
import type { OAuthPending } from '../../auth/index.ts';
import { applyAuthResult, markRefreshed } from '../auth-state.ts';
import { requestOrigin } from '../http.ts';
import { limiterKey, realClientAddress, trustedProxies } from '../client-address.ts';
import { loginLimiter } from './password.ts';
import type { UserRecord } from '../../store/types.ts';
import { appendCookie, clearLoginCookies, cookieUser, ensureSessionId, pageTokenOf, setLoginCookie } from '../identity.ts';
import { HubError } from '../../util/errors.ts';
import { loginPage, logoutPage } from '../pages/index.ts';
import { nextUrl, safeNext } from './redirects.ts';
import { retirePreviousUser } from './front.ts';
import { takePooledUser } from './pool-login.ts';

/** Finds or creates the user an authenticator named. An explicit admin true/false from the authenticator sets the
 *  flag (SharedPasswordAuthenticator's user password takes admin away); otherwise admin_users only ever grants it.
 *  A user made here is made active at `now` (the login), so startSession need not write it again. `fresh`: the
 *  authenticator minted the name just now (temporary users), so it is inserted without looking it up first. */
export async function loginUser(hub: Hub, name: string, admin?: boolean, opts: { now?: number; fresh?: boolean } = {}): Promise<UserRecord> {
  const isAdmin = admin ?? (hub.authenticator.isAdmin(name) ? true : undefined);
  const made = { admin: isAdmin === true, lastActivity: opts.now ?? Date.now() };
  const created = opts.fresh ? await hub.store.users.add(name, made) : undefined;
  if (created) return created;
  const existing = await hub.store.users.get(name);
  if (!existing) return await hub.store.users.create(name, made);
  if (isAdmin !== undefined && isAdmin !== existing.admin) return await hub.store.users.update(existing.id, { admin: isAdmin });
  return existing;
}

async function startSession(hub: Hub, req: FastifyRequest, reply: FastifyReply, user: UserRecord, now = Date.now()): Promise<void> {
  setLoginCookie(hub, req, reply, user);
  ensureSessionId(hub, req, reply);
  // the touch moves last_activity forward only, so a user whose record already says `now` (made by this login) is
  // spared the write
  if (user.last_activity === null || user.last_activity < now) await hub.store.users.touch(user.id, now);
  await hub.store.activity.record(user.name, now);
}

function queryNext(req: FastifyRequest): string | undefined {
  const q = (req.query ?? {}) as Record<string, unknown>;
  return typeof q.next === 'string' ? q.next : undefined;
}

/**
 * Logging in is for browsers. A request that carries a token (valid or not) is an API client's: it acts through the
 * token on each request (page-auth.ts) and must never be given a login, least of all a freshly minted temporary user.
 */
function refuseTokenLogin(req: FastifyRequest): void {
  if (pageTokenOf(req) !== null) throw new HubError(403, 'A token cannot log in; send it with each request instead');
}

export function registerLoginPages(app: FastifyInstance, hub: Hub): void {
  const auth = hub.authenticator;
  const userExists = async (name: string) => await hub.store.users.get(name) !== undefined;
  // Wrong passwords here count in the same buckets as at the event's password gate.
  const limiter = hub.loginLimiter ?? hub.sharedPassword?.limiter ?? loginLimiter(hub.config);
  const trusted = trustedProxies(hub.config.hub.trusted_downstream_ips);
  const bucket = (req: FastifyRequest) => limiterKey(realClientAddress(req, trusted));
  const page = (req: FastifyRequest, reply: FastifyReply, error?: string, username?: string) =>
    loginPage({
      ...pageVars(hub, 'login'),
      base: hub.base, next: safeNext(hub, req, queryNext(req)), error, username, showPassword: auth.capabilities.passwordField,
      loginService: auth.loginService, xsrf: xsrfToken(hub, req, reply),
      loginUrl: auth.oauth ? `${hub.hubPrefix}${auth.loginUrl}${queryNext(req) ? `?next=${encodeURIComponent(queryNext(req)!)}` : ''}` : undefined,
    });

  app.get(`${hub.hubPrefix}login`, async (req, reply) => {
    const user = await cookieUser(hub, req);
    if (user) {
      await startSession(hub, req, reply, user);
      return reply.redirect(nextUrl(hub, req, user.name), 302);
    }
    if (auth.capabilities.autoLogin && auth.loginUrl) {
      const next = queryNext(req);
      return reply.redirect(`${hub.hubPrefix}${auth.loginUrl}${next ? `?next=${encodeURIComponent(next)}` : ''}`, 302);
    }
    return reply.type('text/html').send(page(req, reply));
  });

  app.post(`${hub.hubPrefix}login`, async (req, reply) => {
    refuseTokenLogin(req);
    const form = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const username = typeof form.username === 'string' ? form.username.trim() : '';
    const password = typeof form.password === 'string' ? form.password : '';
    // A name no rule allows is refused before any Authenticator sees it, with the rule it breaks.
    // On the name as typed: trim() would quietly drop a leading U+FEFF.
    const problem = typeof form.username === 'string' ? forbiddenNameChars(form.username) : null;
    if (problem) {
      hub.log.info(`Refused login name ${JSON.stringify(username.slice(0, 100))}: ${problem}`);
      return reply.code(400).type('text/html').send(page(req, reply, `Invalid username: ${problem}`, ''));
    }
    // Only where a password is asked for: a limited client is refused before its try is even looked at.
    const limited = auth.capabilities.passwordField;
    const wait = limited ? limiter.retryAfter(bucket(req)) : 0;
    if (wait > 0) {
      reply.header('Retry-After', String(wait));
      return reply.code(429).type('text/html').send(page(req, reply, `Too many failed logins; try again in ${wait} s`, username));
    }
    const result = await getAuthenticatedUser(auth, { username, password }, userExists);
    if (!result) {
      if (limited) limiter.recordFailure(bucket(req));
      hub.log.info(`Failed login for ${JSON.stringify(username.slice(0, 100))}`);
      return reply.code(200).type('text/html').send(page(req, reply, 'Invalid username or password', username));
    }
    const now = Date.now();
    const user = await loginUser(hub, result.name, result.admin, { now });
    await startSession(hub, req, reply, user, now);
    hub.log.info(`User logged in: ${user.name}`);
    return reply.redirect(nextUrl(hub, req, user.name), 302);
  });

  if (auth.oauth) registerOAuthPages(app, hub);
  else if (auth.loginUrl) {
    // The tmp authenticator: every visit here mints a new user and replaces whoever this browser was (tmpauthenticator 1.0).
    app.get(`${hub.hubPrefix}${auth.loginUrl}`, async (req, reply) => {
      refuseTokenLogin(req);
      const previous = await cookieUser(hub, req);
      const result = await getAuthenticatedUser(auth, { username: '', password: '' }, userExists);
      if (!result) return reply.code(403).type('text/html').send(page(req, reply, 'Login is not possible right now'));
      const now = Date.now();
      const fresh = auth.capabilities.temporaryUsers;
      const user = (await takePooledUser(hub, req)) ?? (await loginUser(hub, result.name, result.admin, { now, fresh }));
      await startSession(hub, req, reply, user, now);
      retirePreviousUser(hub, previous, user);
      return reply.redirect(nextUrl(hub, req, user.name), 302);
    });
  }

  app.get(`${hub.hubPrefix}logout`, async (req, reply) => {
    const user = await cookieUser(hub, req);
    await clearLoginCookies(hub, req, reply);
    if (user && hub.config.hub.shutdown_on_logout) {
      await Promise.all(hub.servers.ofUser(user.name).map((a) => hub.servers.stop(user.name, a.name)));
    }
    // GenericOAuthenticator.logout_redirect_url: the provider's end-session page, so its session ends too.
    if (auth.oauth?.logoutRedirectUrl) return reply.redirect(auth.oauth.logoutRedirectUrl, 302);
    if (auth.capabilities.autoLogin) return reply.type('text/html').send(logoutPage({ ...pageVars(hub, 'logout'), base: hub.base, loginUrl: `${hub.hubPrefix}login` }));
    return reply.redirect(`${hub.hubPrefix}login`, 302);
  });
}

const STATE_COOKIE = 'oauthenticator-state';

/** /hub/oauth_login sends the browser to the provider (state, PKCE and nonce kept in a signed cookie for ten minutes);
 *  /hub/oauth_callback checks them, logs the user in and keeps the tokens as auth state. */
function registerOAuthPages(app: FastifyInstance, hub: Hub): void {
  const auth = hub.authenticator;
  const oauth = auth.oauth!;
  const userExists = async (name: string) => await hub.store.users.get(name) !== undefined;
  const callbackUrl = (req: FastifyRequest) => oauth.callbackUrl || `${requestOrigin(req)}${hub.hubPrefix}oauth_callback`;
  const cookiePath = hub.hubPrefix;

  app.get(`${hub.hubPrefix}oauth_login`, async (req, reply) => {
    refuseTokenLogin(req);
    let target;
    try {
      target = await oauth.authorizeUrl(callbackUrl(req));
    } catch (err) {
      hub.log.warn(`OAuth login could not reach the provider: ${(err as Error).message}`);
      throw new HubError(502, 'The login provider cannot be reached right now; try again in a moment');
    }
    const pending: OAuthPending = { ...target.pending, next: safeNext(hub, req, queryNext(req)) };
    appendCookie(reply, serializeState(hub, req, JSON.stringify(pending), cookiePath, 600));
    return reply.redirect(target.url, 302);
  });

  app.get(`${hub.hubPrefix}oauth_callback`, async (req, reply) => {
    refuseTokenLogin(req);
    const q = (req.query ?? {}) as Record<string, unknown>;
    const raw = parseCookies(req.headers.cookie ?? '')[STATE_COOKIE];
    const value = raw ? verifySignedValue(hub.cookieSecret, STATE_COOKIE, raw, 600 / 86400) : null;
    appendCookie(reply, serializeState(hub, req, '', cookiePath, 0));
    if (typeof q.error === 'string') throw new HubError(403, `The login provider refused: ${String(q.error_description ?? q.error).slice(0, 200)}`);
    if (!value) throw new HubError(400, 'OAuth state missing or expired: start the login again');
    let pending: OAuthPending;
    try {
      pending = JSON.parse(value) as OAuthPending;
    } catch {
      throw new HubError(400, 'OAuth state is not valid: start the login again');
    }
    if (q.state !== pending.state) throw new HubError(400, 'OAuth state mismatch: start the login again');
    let result;
    try {
      result = await oauth.callback(new URL(req.url, requestOrigin(req)), pending);
    } catch (err) {
      hub.log.warn(`OAuth callback failed: ${(err as Error).message}`);
      throw new HubError(403, `Login failed: ${(err as Error).message.slice(0, 200)}`);
    }
    const checked = await checkResult(auth, result, userExists);
    if (!checked) {
      hub.log.info(`OAuth user ${JSON.stringify(String(result.name).slice(0, 100))} is not allowed`);
      throw new HubError(403, `User ${String(result.name).slice(0, 100)} is not allowed to use this hub. Ask an administrator for access.`);
    }
    const now = Date.now();
    let user = await loginUser(hub, checked.name, checked.admin, { now });
    user = await applyAuthResult(hub, user, checked);
    markRefreshed(hub.store, user.id);
    await startSession(hub, req, reply, user, now);
    hub.log.info(`User logged in: ${user.name}`);
    const next = pending.next && pending.next.startsWith('/') && !pending.next.startsWith('//') ? pending.next : null;
    return reply.redirect(next ?? nextUrl(hub, req, user.name), 302);
  });
}

function serializeState(hub: Hub, req: FastifyRequest, value: string, path: string, maxAge: number): string {
  const signed = value ? signValue(hub.cookieSecret, STATE_COOKIE, value) : '';
  return serializeCookie(STATE_COOKIE, signed, { path, httpOnly: true, secure: requestOrigin(req).startsWith('https:'), sameSite: 'Lax', maxAge });
}
