// The event's shared password in front of the whole hub: the password page, the gate every hub request passes, and
// the start-up rule that refuses an open hub of temporary users. Single-user servers are not gated here: their own
// OAuth with the hub already protects them, and reaching the hub for that OAuth needs the pass.
import { pageVars } from './page-vars.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import type { Authenticator } from '../../auth/index.ts';
import type { HubConfig, SharedPasswordConfig } from '../../config/types.ts';
import { parseAuthorizationHeader, parseCookies, serializeCookie } from '../../auth/index.ts';
import {
  AttemptLimiter, PASS_COOKIE, PASSWORD_ENV, PASSWORD_FILE_ENV, SharedPassword, loadSharedPassword, parseBasicAuth,
} from '../../auth/shared-password.ts';
import { passwordPage } from '../pages/index.ts';
import { prefersJson, requestProto, requestUri } from '../http.ts';
import { listenAddress, isLoopback } from '../listen.ts';
import { safeNext } from './redirects.ts';
import { xsrfToken } from './xsrf.ts';
import { limiterKey, realClientAddress, trustedProxies } from '../client-address.ts';

export function sharedPasswordConfig(config: HubConfig): SharedPasswordConfig {
  return config.sections.SharedPassword;
}

/** The hub's one limiter of wrong passwords, for the event's password gate and the login form alike. */
export function loginLimiter(config: HubConfig): AttemptLimiter {
  const { max_wrong_tries, wrong_try_window } = sharedPasswordConfig(config);
  return new AttemptLimiter({ limit: max_wrong_tries, windowMs: wrong_try_window * 1000 });
}

/**
 * The hub's shared password from the environment, or null. Throws (before anything listens) when the password file is
 * unusable, or when the hub would be an open hub: reachable beyond loopback, minting temporary users, no password.
 */
export function setupSharedPassword(
  config: HubConfig, authenticator: Authenticator, cookieSecret: Buffer, env: Record<string, string | undefined>,
  limiter: AttemptLimiter = loginLimiter(config),
): SharedPassword | null {
  const password = loadSharedPassword(env);
  if (password !== null) return new SharedPassword(password, cookieSecret, limiter);
  const { host } = listenAddress(config);
  const tmp = authenticator.capabilities.temporaryUsers;
  if (tmp && !isLoopback(host) && !sharedPasswordConfig(config).allow_open_hub) {
    throw new Error(
      `Refusing to listen on ${host === '::' ? 'every interface' : host} with the tmp authenticator and no shared password: ` +
      'an open hub with temporary users lets anyone on the network run code (open hubs are found and used for crypto-mining). ' +
      `Set ${PASSWORD_ENV} or ${PASSWORD_FILE_ENV}, listen on 127.0.0.1, or set SharedPassword.allow_open_hub = true ` +
      'if something in front of the hub already restricts access.',
    );
  }
  return null;
}

/** Registers the password page and the gate; does nothing when no password is configured. Call before the routes. */
export function registerPasswordGate(app: FastifyInstance, hub: Hub): void {
  const gate = hub.sharedPassword;
  if (!gate) return;
  const hp = hub.hubPrefix;
  const page = `${hp}password`;
  const settings = sharedPasswordConfig(hub.config);
  const maxAgeDays = hub.config.hub.cookie_max_age_days;
  const api = `${hp}api`;
  // The logo and favicon are public as static files are: the password page itself shows them.
  const open = new Set([`${hp}health`, `${hp}api/health`, page, `${hp}logo`, `${hp}favicon.ico`, `${hub.base}favicon.ico`]);

  const trusted = trustedProxies(hub.config.hub.trusted_downstream_ips);
  // The real client (behind trusted proxies) for logs; wrong tries count per limiterKey of it (an IPv6 client's /64).
  const clientAddress = (req: FastifyRequest) => realClientAddress(req, trusted);
  const bucket = (req: FastifyRequest) => limiterKey(clientAddress(req));
  const isApi = (path: string) => path === api || path.startsWith(`${api}/`);
  const hasPass = (req: FastifyRequest) => gate.validPassCookie(parseCookies(req.headers.cookie)[PASS_COOKIE], maxAgeDays);
  const render = (req: FastifyRequest, reply: FastifyReply, status: number, next: string, extra: { error?: string; retryAfter?: number } = {}) =>
    reply.code(status).type('text/html').send(passwordPage({
      ...pageVars(hub),
      base: hub.base, next, eventName: settings.event_name, message: settings.message, xsrf: xsrfToken(hub, req, reply), ...extra,
    }));
  const refuse = (req: FastifyRequest, reply: FastifyReply, status: number, message: string, basic: boolean) => {
    const json = isApi(pathOf(req)) || prefersJson(req);
    // A browser shows a login prompt for this header, so it goes only to clients that speak Basic or JSON.
    if (basic || prefersJson(req)) reply.header('WWW-Authenticate', 'Basic realm="nodehub"');
    if (json) return reply.code(status).type('application/json').send({ status, message });
    return render(req, reply, status, safeNext(hub, req, requestUri(req)), { error: message });
  };
  const limited = (req: FastifyRequest, reply: FastifyReply, retryAfter: number, next: string) => {
    hub.log.debug(`Shared password try from ${clientAddress(req)} refused: too many wrong tries`);
    reply.header('Retry-After', String(retryAfter));
    if (isApi(pathOf(req)) || prefersJson(req)) {
      return reply.code(429).type('application/json').send({ status: 429, message: `Too many wrong passwords; try again in ${retryAfter} s` });
    }
    return render(req, reply, 429, next, { retryAfter });
  };

  app.addHook('onRequest', async (req, reply) => {
    const path = pathOf(req);
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (open.has(path)) return;
    if (get && (path === api || path === `${api}/` || path.startsWith(`${hp}static/`))) return;
    if (req.method === 'POST' && path === `${api}/oauth2/token`) return;
    if (hasPass(req)) return;
    // Only what the gate can verify goes through. A token must be one the hub knows (valid, unexpired); then the API
    // and the pages act as its owner within its scopes (pages: web/page-auth.ts). It never makes a visitor: the login
    // pages refuse a request carrying a token, so no temporary user is minted for it.
    const token = presentedToken(req);
    if (token !== null) {
      if (await hub.store.tokens.find(token)) return;
      hub.log.debug(`Shared password gate: unknown token from ${clientAddress(req)}`);
      return refuse(req, reply, 401, isApi(path) ? 'Invalid or expired token' : 'The event password is required', false);
    }
    const basic = parseBasicAuth(req.headers.authorization);
    if (basic) {
      const verdict = gate.check(basic.password, bucket(req));
      if (verdict.ok) return;
      if (verdict.retryAfter > 0) return limited(req, reply, verdict.retryAfter, safeNext(hub, req, requestUri(req)));
      hub.log.warn(`Wrong shared password (HTTP Basic) from ${clientAddress(req)}`);
      return refuse(req, reply, 401, 'Wrong password', true);
    }
    const accept = String(req.headers.accept ?? '');
    if (get && !prefersJson(req) && (!isApi(path) || accept.includes('text/html'))) {
      return reply.redirect(`${page}?next=${encodeURIComponent(requestUri(req))}`, 302);
    }
    if (isApi(path) || prefersJson(req)) return refuse(req, reply, 401, 'The event password is required', false);
    return refuse(req, reply, 403, 'Please enter the event password first', false);
  });

  const nextOf = (req: FastifyRequest): string => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const raw = typeof q.next === 'string' ? q.next : typeof body.next === 'string' ? body.next : undefined;
    // The password page itself is no place to land after the password.
    const next = safeNext(hub, req, raw);
    return next && next.split('?')[0] !== page ? next : hp;
  };

  app.get(page, async (req, reply) => {
    const next = nextOf(req);
    if (hasPass(req)) return reply.redirect(next, 302);
    const wait = gate.limiter.retryAfter(bucket(req));
    if (wait > 0) reply.header('Retry-After', String(wait));
    return render(req, reply, 200, next, wait > 0 ? { retryAfter: wait } : {});
  });

  app.post(page, async (req, reply) => {
    const next = nextOf(req);
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const candidate = typeof body.password === 'string' ? body.password : '';
    const verdict = gate.check(candidate, bucket(req));
    if (!verdict.ok && verdict.retryAfter > 0) return limited(req, reply, verdict.retryAfter, next);
    if (!verdict.ok) {
      hub.log.warn(`Wrong shared password from ${clientAddress(req)}`);
      return render(req, reply, 403, next, { error: 'That password is not right. Please try again.' });
    }
    reply.header('Set-Cookie', serializeCookie(PASS_COOKIE, gate.passCookieValue(), {
      path: hub.base, httpOnly: true, sameSite: 'Lax', secure: requestProto(req) === 'https',
    }));
    return reply.redirect(next, 302);
  });
}

/** The token a request presents (Authorization `token`/`bearer`, or `?token=`), or null when it presents none. */
function presentedToken(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (typeof header === 'string' && /^(?:token|bearer)\b/i.test(header.trim())) return parseAuthorizationHeader(header) ?? '';
  const q = (req.query ?? {}) as Record<string, unknown>;
  if (q.token !== undefined) return typeof q.token === 'string' ? q.token : '';
  return null;
}

function pathOf(req: FastifyRequest): string {
  const url = req.url;
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
