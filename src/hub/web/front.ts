// The hub's front URL (`<base>hub/`, where `<base>` itself lands) and TmpAuthenticator.force_new_server.
//
// With force_new_server, the front URL without `next` means "give me a fresh server": the visitor goes through
// tmplogin, which mints a new user, and the user this browser was has its servers stopped (nothing will use them
// again; the culler deletes the user later). A link carrying `next` (nbgitpuller, user-redirect, a login redirect) is a
// return visit and keeps the user. tmplogin is sent straight to the spawn URL, never back to the front URL, which
// would mint another user in a loop.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import type { UserRecord } from '../../store/types.ts';
import { pageUser } from './page-auth.ts';
import { requestUri } from '../http.ts';
import { loginRedirect, nextUrl } from './redirects.ts';

/** True for the tmp authenticator with force_new_server set. */
export function forcesNewServer(hub: Hub): boolean {
  return hub.authenticator.capabilities.temporaryUsers && hub.config.authenticator.force_new_server === true;
}

/** The request's query without `next`, as `?a=b` or '' (JupyterHub appends it when `next` is a default). */
function queryWithoutNext(req: FastifyRequest): string {
  const params = new URLSearchParams(requestUri(req).split('?')[1] ?? '');
  params.delete('next');
  const q = params.toString();
  return q ? `?${q}` : '';
}

function hasNext(req: FastifyRequest): boolean {
  const q = (req.query ?? {}) as Record<string, unknown>;
  return typeof q.next === 'string' && q.next !== '';
}

function withQuery(url: string, query: string): string {
  if (!query) return url;
  return url.includes('?') ? `${url}&${query.slice(1)}` : `${url}${query}`;
}

/** GET `<base>hub/`: JupyterHub's RootHandler, plus force_new_server. */
export async function frontPage(hub: Hub, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const hp = hub.hubPrefix;
  // Extra query keys (e.g. ?profile=gpu) travel to the spawn URL, so a profile chosen on the front URL reaches the spawn.
  const query = queryWithoutNext(req);
  if (forcesNewServer(hub) && !hasNext(req) && hub.authenticator.loginUrl) {
    const first = hub.config.hub.default_url || `${hp}${hub.config.hub.redirect_to_server ? 'spawn' : 'home'}`;
    const target = withQuery(first, query);
    return reply.redirect(`${hp}${hub.authenticator.loginUrl}?next=${encodeURIComponent(target)}`, 302);
  }
  const me = (await pageUser(hub, req))?.user;
  if (!me) return loginRedirect(hub, req, reply);
  if (hub.config.hub.default_url) return reply.redirect(hub.config.hub.default_url, 302);
  const next = nextUrl(hub, req, me.name);
  return reply.redirect(hasNext(req) ? next : withQuery(next, query), 302);
}

/** tmplogin replaced `previous` in this browser: with force_new_server its servers stop now, in the background. */
export function retirePreviousUser(hub: Hub, previous: UserRecord | null, current: UserRecord): void {
  if (!previous || previous.id === current.id || !forcesNewServer(hub)) return;
  for (const a of hub.servers.ofUser(previous.name)) {
    hub.log.info(`force_new_server: stopping ${previous.name}'s server${a.name ? ` ${a.name}` : ''}; the browser now has ${current.name}`);
    void hub.servers.stop(previous.name, a.name).catch((err: unknown) => hub.log.warn(`Stopping ${a.prefix} failed`, err));
  }
}
