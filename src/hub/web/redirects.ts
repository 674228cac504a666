// Where a browser goes next. `next` is attacker-controlled (it arrives in links), so it is reduced to an on-site path
// exactly as JupyterHub 3.0's get_next_url does (spec 3.3), or dropped.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import { HubError } from '../../util/errors.ts';
import { requestHost, requestProto, requestUri } from '../http.ts';

/** Unauthenticated page request: GET/HEAD go to the login page with `next`; anything else is refused. */
export function loginRedirect(hub: Hub, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HubError(403, 'You must be logged in to do that');
  return reply.redirect(`${hub.hubPrefix}login?next=${encodeURIComponent(requestUri(req))}`, 302);
}

/** Returns a safe on-site path for `next`, or '' when it must be dropped. */
export function safeNext(hub: Hub, req: FastifyRequest, next: string | undefined): string {
  if (!next) return '';
  let n = next.replace(/\\/g, '%5C').replace(/^\/{3,}/, '//');
  const host = requestHost(req);
  for (const origin of [`${requestProto(req)}://${host}`, `//${host}`]) {
    if (n === origin) n = '/';
    else if (n.startsWith(origin + '/') || n.startsWith(origin + '?')) n = n.slice(origin.length) || '/';
  }
  // Still absolute, protocol-relative, or relative: not ours.
  if (!n.startsWith('/') || n.startsWith('//') || /^\/[^/]*:/.test(n) && /^[a-z]+:/i.test(n)) return '';
  // Control characters could split headers or confuse browsers.
  if (/[\u0000-\u001f\u007f]/.test(n)) return '';
  // A Location header carries only Latin-1, so anything beyond printable ASCII is percent-encoded (as UTF-8); text
  // that has no UTF-8 form (a lone surrogate) is dropped.
  let encodable = true;
  n = n.replace(/[^\x21-\x7e]+/g, (run) => {
    try {
      return encodeURIComponent(run);
    } catch {
      encodable = false;
      return '';
    }
  });
  if (!encodable) return '';
  // 3.0 sends /user/… through /hub/user/…, which routes a browser back once the proxy has the server (spec 3.3 rule 4).
  const userPrefix = `${hub.base}user/`;
  if (n.startsWith(userPrefix)) n = `${hub.hubPrefix}user/${n.slice(userPrefix.length)}`;
  return n;
}

/** JupyterHub's fallback chain when `next` is empty: default_url, the running server, the spawn page. */
export function defaultNext(hub: Hub, userName: string): string {
  if (hub.config.hub.default_url) return hub.config.hub.default_url;
  const active = hub.servers.get(userName, '');
  if (active?.phase === 'ready') return active.prefix;
  return hub.config.hub.redirect_to_server ? `${hub.hubPrefix}spawn` : `${hub.hubPrefix}home`;
}

export function nextUrl(hub: Hub, req: FastifyRequest, userName: string, fallback?: string): string {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const raw = typeof q.next === 'string' ? q.next : undefined;
  return safeNext(hub, req, raw) || fallback || defaultNext(hub, userName);
}
