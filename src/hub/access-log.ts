// One line per request the hub itself answers, as JupyterHub's log_request writes it:
// `200 GET /hub/api/users?state=[secret] (admin-svc@127.0.0.1) 2.10ms`. Requests the proxy forwards to single-user
// servers never come here (the forwarder does no per-request logging work). Secrets never reach the line: query
// values whose names look secret and the Authorization and Cookie headers are replaced by [secret].
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../util/log.ts';

const SECRET = '[secret]';
// A query parameter is scrubbed when its name contains one of these (JupyterHub scrubs token, auth, key, code, state).
const SECRET_PARAMS = ['token', 'auth', 'key', 'code', 'state', 'secret', 'password', '_xsrf'];
const SECRET_PATHS = ['/authorizations/token/', '/authorizations/cookie/'];

const who = new WeakMap<object, string>();

/** Records the user or service a request turned out to be, for its access line (called where identity is resolved). */
export function noteRequester(req: FastifyRequest, name: string): void {
  who.set(req.raw, name);
}

/** The URL with secret query values and secret path tails replaced; undecodable queries lose their values whole. */
export function scrubUrl(url: string): string {
  const q = url.indexOf('?');
  let path = q < 0 ? url : url.slice(0, q);
  for (const p of SECRET_PATHS) {
    const at = path.indexOf(p);
    if (at >= 0) path = `${path.slice(0, at + p.length)}${SECRET}`;
  }
  if (q < 0) return path;
  const parts = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) return pair;
    let name: string;
    try {
      name = decodeURIComponent(pair.slice(0, eq).replace(/\+/g, ' ')).toLowerCase();
    } catch {
      return `${pair.slice(0, eq)}=${SECRET}`;
    }
    return SECRET_PARAMS.some((s) => name.includes(s)) ? `${pair.slice(0, eq)}=${SECRET}` : pair;
  });
  return `${path}?${parts.join('&')}`;
}

/** The request headers with credentials replaced, as JupyterHub logs them for a failed request. */
export function scrubHeaders(headers: FastifyRequest['headers']): Record<string, unknown> {
  const out: Record<string, unknown> = { ...headers };
  if (typeof out.authorization === 'string') {
    const scheme = out.authorization.split(' ', 1)[0];
    out.authorization = scheme && scheme !== out.authorization ? `${scheme} ${SECRET}` : SECRET;
  }
  if (out.cookie !== undefined) out.cookie = SECRET;
  return out;
}

/** Levels as JupyterHub's: 304 and successful health probes at debug, other successes and redirects info, 4xx warn. */
export function logRequest(log: Logger, req: FastifyRequest, reply: FastifyReply, isProbe: (url: string) => boolean): void {
  const status = reply.statusCode;
  const level = status === 304 || (status < 300 && isProbe(req.url)) ? 'debug'
    : status < 400 ? 'info' : status < 500 ? 'warn' : 'error';
  let location = '';
  if (status === 301 || status === 302 || status === 303 || status === 307) {
    const target = reply.getHeader('location');
    if (typeof target === 'string') location = ` → ${scrubUrl(target)}`;
  }
  if (status >= 500 && status !== 502) log[level](JSON.stringify(scrubHeaders(req.headers), null, 2));
  log[level](`${status} ${req.method} ${scrubUrl(req.url)}${location} (${who.get(req.raw) ?? ''}@${req.ip}) ${reply.elapsedTime.toFixed(2)}ms`);
}
