// Deciding whether held (expanded) scopes allow an action on a resource, as jupyterhub/scopes.py needs_scope and
// check_scope_filter do: no base scope → 403, base held but its filter misses the resource → 404.
import { parseScopes, type Filters, type ParsedScopes } from './scope-expand.ts';
import { GROUP_MODEL_ACCESS, SERVICE_MODEL_ACCESS, USER_MODEL_ACCESS } from './scope-table.ts';

/** The resource an action touches. `server` is "user/servername" ("bob/" for the default server). */
export interface ScopeResource {
  user?: string;
  server?: string;
  group?: string;
  service?: string;
  /** Groups of the user (or of the server's owner), so `!group=` filters can match. */
  userGroups?: readonly string[];
}
/** Alias of ScopeResource. */
export type AccessResource = ScopeResource;

export type ScopeFilterResult =
  | { all: true }
  | { all: false; users: Set<string>; servers: Set<string>; groups: Set<string>; services: Set<string> };

export type AccessResult = 'ok' | 'no-scope' | 'filtered';

type Held = Iterable<string> | ParsedScopes;

function parsedOf(held: Held): ParsedScopes {
  return held instanceof Map ? held : parseScopes(held);
}

function toResult(entry: 'all' | Filters | undefined): ScopeFilterResult {
  if (entry === 'all') return { all: true };
  const f = entry;
  return {
    all: false,
    users: new Set(f?.user),
    servers: new Set(f?.server),
    groups: new Set(f?.group),
    services: new Set(f?.service),
  };
}

/**
 * What one scope is held for: everything, or the named users/servers/groups/services (all empty when not held).
 * List endpoints use it to keep only permitted rows, e.g. `GET /users` with `list:users`.
 */
export function filterFor(held: Held, scope: string): ScopeFilterResult {
  return toResult(parsedOf(held).get(scope));
}

function inAnyGroup(groups: Set<string>, userGroups: readonly string[] | undefined): boolean {
  return !!userGroups && userGroups.some((g) => groups.has(g));
}

/** Whether a filter covers a resource: servers via their owner and the owner's groups, users via their groups. */
export function filterAllows(filter: ScopeFilterResult, resource: ScopeResource): boolean {
  if (filter.all) return true;
  const { user, server, group, service, userGroups } = resource;
  if (user !== undefined && (filter.users.has(user) || inAnyGroup(filter.groups, userGroups))) return true;
  if (server !== undefined) {
    const owner = user ?? server.split('/')[0];
    if (filter.servers.has(server) || filter.users.has(owner) || inAnyGroup(filter.groups, userGroups)) return true;
  }
  if (group !== undefined && filter.groups.has(group)) return true;
  if (service !== undefined && filter.services.has(service)) return true;
  return false;
}

/**
 * Whether held scopes allow an action that needs any of `required` on `resource`.
 * With no resource named (e.g. `GET /users`), holding the base is enough: the caller then filters rows by filterFor.
 */
export function checkAccess(held: Held, required: readonly string[], resource: ScopeResource): AccessResult {
  const parsed = parsedOf(held);
  const named =
    resource.user !== undefined ||
    resource.server !== undefined ||
    resource.group !== undefined ||
    resource.service !== undefined;
  let anyBase = false;
  for (const scope of required) {
    const entry = parsed.get(scope);
    if (!entry) continue;
    anyBase = true;
    if (!named || filterAllows(toResult(entry), resource)) return 'ok';
  }
  return anyBase ? 'filtered' : 'no-scope';
}

/** The 403 message JupyterHub gives when no required scope is held. */
export function notAuthorizedMessage(required: readonly string[]): string {
  return `Action is not authorized with current scopes; requires any of [${required.join(', ')}]`;
}

/** The 404 message JupyterHub gives when a scope is held but its filter does not cover the resource. */
export const FILTERED_MESSAGE = 'No access to resources or resources not found';

function modelFields(
  held: Held,
  access: Readonly<Record<string, readonly string[]>>,
  resource: ScopeResource,
): Set<string> {
  const parsed = parsedOf(held);
  const keys = new Set<string>();
  for (const [scope, fields] of Object.entries(access)) {
    if (filterAllows(toResult(parsed.get(scope)), resource)) for (const f of fields) keys.add(f);
  }
  return keys;
}

/**
 * The user-model keys the held scopes reveal for this user (spec 2.3). Empty → the user is not visible at all.
 * `servers` is listed when `read:servers` covers the user; single servers visible only through `!server=` filters are
 * for the caller to add (check `read:servers` per server).
 */
export function userModelFields(held: Held, userName: string, userGroups: readonly string[] = []): Set<string> {
  return modelFields(held, USER_MODEL_ACCESS, { user: userName, userGroups });
}

export function groupModelFields(held: Held, groupName: string): Set<string> {
  return modelFields(held, GROUP_MODEL_ACCESS, { group: groupName });
}

export function serviceModelFields(held: Held, serviceName: string): Set<string> {
  return modelFields(held, SERVICE_MODEL_ACCESS, { service: serviceName });
}
