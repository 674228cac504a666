// Who a page acts for. Pages take the login cookie or an API token (identity.ts pagePrincipal); a token reaches only
// what its scopes allow, as JupyterHub's needs_scope decides: a scope missing altogether is a 403, a scope that exists
// but does not reach this user is a 404 (the user is not revealed). A cookie user holds every scope on itself, so for
// them these checks only matter for other users' pages.
import type { FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import type { UserRecord } from '../../store/types.ts';
import { HubError } from '../../util/errors.ts';
import { pagePrincipal, requireScopes, type Principal } from '../identity.ts';

export interface PageUser {
  principal: Principal;
  user: UserRecord;
}

/** The user a page acts for, or null for a visitor. A service's token is refused: these pages are a user's. */
export async function pageUser(hub: Hub, req: FastifyRequest): Promise<PageUser | null> {
  const principal = await pagePrincipal(hub, req);
  if (!principal) return null;
  if (!principal.user) throw new HubError(403, `Service ${principal.name} has no user pages; use the REST API`);
  return { principal, user: principal.user };
}

/** Requires `scope` on `owner` (and its server `serverName`); throws 403/404 like JupyterHub's needs_scope. */
export async function requirePageScope(hub: Hub, p: Principal, scope: string, owner: string, serverName = ''): Promise<void> {
  const user = await hub.store.users.get(owner);
  const userGroups = user ? await hub.store.groups.groupsOfUser(user.id) : [];
  requireScopes(p, [scope], { user: owner, server: `${owner}/${serverName}`, userGroups });
}
