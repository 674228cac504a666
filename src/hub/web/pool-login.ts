// A new `tmp` visitor becomes the user of a ready pooled server when the pool has one for the profile they asked for
// (?profile= on the tmplogin URL, or in the query of its `next`, e.g. a spawn or nbgitpuller link).
import type { FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import type { UserRecord } from '../../store/types.ts';

function requestedProfile(req: FastifyRequest): string | undefined {
  const q = (req.query ?? {}) as Record<string, unknown>;
  if (typeof q.profile === 'string' && q.profile) return q.profile;
  if (typeof q.next !== 'string' || !q.next) return undefined;
  try {
    return new URL(q.next, 'http://next.invalid').searchParams.get('profile') || undefined;
  } catch {
    return undefined;
  }
}

/** The user of a pooled server, taken out of the pool; null when the pool has none ready (or there is no pool). */
export function takePooledUser(hub: Hub, req: FastifyRequest): UserRecord | null {
  const pooled = hub.pool?.take(requestedProfile(req));
  if (!pooled) return null;
  return hub.store.users.getById(pooled.id) ?? null;
}
