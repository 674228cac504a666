// A new `tmp` visitor becomes the user of a ready pooled server when the pool has one for the profile they asked for
// and the choices within it (the query of the tmplogin URL, or of its `next`, e.g. a spawn or nbgitpuller link).
import type { FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import type { UserRecord } from '../../store/types.ts';
import { requestUri } from '../http.ts';

function queryLists(params: URLSearchParams, only?: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of params) if (k !== 'next' && (only === undefined || k === only)) (out[k] ??= []).push(v);
  return out;
}

/** The spawn options the visit will bring (lists, as from a query string), so the pool hands out only a match. */
function requestedOptions(req: FastifyRequest): Record<string, string[]> {
  const own = queryLists(new URLSearchParams(requestUri(req).split('?')[1] ?? ''));
  if (Object.keys(own).length) return own;
  const next = (req.query as Record<string, unknown> | undefined)?.next;
  if (typeof next !== 'string' || !next) return {};
  try {
    const url = new URL(next, 'http://next.invalid');
    // A user-redirect link passes only `profile` on to the spawn; the rest of its query is for the server.
    return queryLists(url.searchParams, url.pathname.includes('/user-redirect/') ? 'profile' : undefined);
  } catch {
    return {};
  }
}

/** The user of a pooled server, taken out of the pool; null when the pool has none ready (or there is no pool). */
export async function takePooledUser(hub: Hub, req: FastifyRequest): Promise<UserRecord | null> {
  const pooled = hub.pool?.take(requestedOptions(req));
  if (!pooled) return null;
  return await hub.store.users.getById(pooled.id) ?? null;
}
