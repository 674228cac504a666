// Cross-site request forgery protection for the hub's form POSTs, as JupyterHub 4+ pages have it: each browser holds
// a random id in the `_xsrf` cookie, every form carries a token derived from that id with the cookie secret, and a
// state-changing page request must bring the token back (form field `_xsrf` or header X-XSRFToken). A request whose
// Origin (or, without one, Referer) is another site is refused outright. SameSite=Lax alone leaves top-level form
// POSTs from sibling subdomains and older browsers open. The REST API is not concerned: a token there is no ambient
// credential, and cookie-authenticated API calls have their own same-origin rule (identity.ts). Nor are page requests
// authenticated by a token: they act for the token's owner whatever cookies the browser holds.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import { hmacKey, parseCookies, serializeCookie } from '../../auth/index.ts';
import { HubError } from '../../util/errors.ts';
import { appendCookie, pagePrincipal } from '../identity.ts';
import { requestOrigin, requestProto } from '../http.ts';

export const XSRF_COOKIE = '_xsrf';
const ID = /^[0-9a-f]{32}$/;
const issued = new WeakMap<FastifyRequest, string>();

function tokenFor(hub: Hub, id: string): string {
  return createHmac('sha256', hmacKey(hub.cookieSecret)).update(`xsrf\0${id}`).digest('hex').slice(0, 40);
}

/** The `_xsrf` token for a form on this page; sets the browser's `_xsrf` cookie when it has none yet. */
export function xsrfToken(hub: Hub, req: FastifyRequest, reply: FastifyReply): string {
  let id = issued.get(req) ?? parseCookies(req.headers.cookie ?? '')[XSRF_COOKIE];
  if (!id || !ID.test(id)) {
    id = randomBytes(16).toString('hex');
    // Scoped to the hub's own pages, as JupyterHub scopes it: the single-user servers under /user/ use a cookie of the
    // same name for their own XSRF check, and must never be sent the hub's.
    appendCookie(reply, serializeCookie(XSRF_COOKIE, id, {
      path: hub.hubPrefix, httpOnly: true, sameSite: 'Lax', secure: requestProto(req) === 'https',
    }));
  }
  issued.set(req, id);
  return tokenFor(hub, id);
}

/** Whether the browser says the request comes from a page of this hub's own origin (no claim at all is not refused). */
function sameSite(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  const claimed = typeof origin === 'string' ? origin : typeof req.headers.referer === 'string' ? req.headers.referer : undefined;
  if (claimed === undefined) return true;
  try {
    return new URL(claimed).origin === requestOrigin(req);
  } catch {
    // "null" (a sandboxed frame, a redirect from elsewhere) and junk are not this site.
    return false;
  }
}

function validToken(hub: Hub, req: FastifyRequest): boolean {
  const id = parseCookies(req.headers.cookie ?? '')[XSRF_COOKIE];
  if (!id || !ID.test(id)) return false;
  const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
  const header = req.headers['x-xsrftoken'];
  const sent = typeof body._xsrf === 'string' ? body._xsrf : typeof header === 'string' ? header : '';
  const expected = Buffer.from(tokenFor(hub, id));
  const got = Buffer.from(sent);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** Checks every state-changing request to a hub page (not the REST API) once its body is read. */
export function registerXsrfCheck(app: FastifyInstance, hub: Hub): void {
  const hp = hub.hubPrefix;
  const api = `${hp}api/`;
  // Pages that live under /hub/api (the OAuth consent form) are pages here too.
  const apiPages = [`${api}oauth2/authorize`];
  // Browsers send CSP reports on their own, with no form and nothing to forge: the endpoint only answers 204.
  const exempt = new Set([`${hp}security/csp-report`]);
  // /hub/user/… only ever answers a non-GET with the 424 "server not running" JSON (spec 3.2), changing nothing.
  const userUrls = `${hp}user/`;
  app.addHook('preHandler', async (req) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return;
    // Nothing to forge where no route answers: the 404/405 answer stays what it is.
    if (req.routeOptions.url === undefined) return;
    const path = req.url.split('?')[0];
    if (exempt.has(path) || path.startsWith(userUrls)) return;
    // A request that authenticates with a known token (header or ?token=) acts for the token's owner, not for whoever
    // the browser's cookies say: no ambient credential to forge, so no _xsrf, as JupyterHub exempts token requests.
    if ((await pagePrincipal(hub, req))?.via === 'token') return;
    if ((path.startsWith(api) || path === `${hp}api`) && !apiPages.includes(path)) return;
    if (!sameSite(req)) throw new HubError(403, 'Cross-site form submission refused');
    if (!validToken(hub, req)) throw new HubError(403, "'_xsrf' argument missing or wrong in POST; reload the page and try again");
  });
}
