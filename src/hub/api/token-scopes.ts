// What a new token may carry (POST /users/{name}/tokens, spec 2.2 and 2.4): scopes or roles (never both), every scope a
// valid 3.0 scope, and nothing beyond what the owner holds. Pure, so the rules are tested without a hub.
import { excessScopes, expandScopes, parseScope, type GroupsOf, type ScopeOwner } from '../../auth/index.ts';
import { HubError } from '../../util/errors.ts';

export interface TokenScopeRequest {
  scopes?: unknown;
  roles?: unknown;
}

export interface TokenOwner {
  ref: ScopeOwner;
  /** The owner's expanded scopes. */
  scopes: Iterable<string>;
  groupsOf?: GroupsOf;
}

function stringList(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new HubError(400, `${what} must be a list of strings`);
  return v;
}

/**
 * The raw scopes to store on the new token; [] means "the owner's own permissions" (the store's spelling of inherit).
 * `roleScopes` gives a role's raw scopes by name (custom definitions first, then the default roles), undefined if none.
 * Throws HubError(400) with the reason when the request cannot be granted.
 */
export function tokenScopesFor(
  req: TokenScopeRequest,
  owner: TokenOwner,
  roleScopes: (role: string) => readonly string[] | undefined,
): string[] {
  const hasScopes = req.scopes !== undefined && req.scopes !== null;
  const hasRoles = req.roles !== undefined && req.roles !== null;
  if (hasScopes && hasRoles) throw new HubError(400, 'Can only assign one of scopes or roles when creating tokens.');
  let raw: string[];
  if (hasScopes) {
    raw = stringList(req.scopes, 'scopes');
  } else {
    // No roles named: the `token` role decides, as in JupyterHub (an admin may have redefined it).
    const roles = hasRoles ? stringList(req.roles, 'roles') : ['token'];
    raw = [];
    for (const role of roles) {
      const scopes = roleScopes(role);
      if (!scopes) throw new HubError(400, `No such role: ${role}`);
      raw.push(...scopes);
    }
  }
  raw = [...new Set(raw)];
  for (const scope of raw) {
    try {
      parseScope(scope);
    } catch (err) {
      throw new HubError(400, `Invalid scope for token: ${(err as Error).message}`);
    }
  }
  if (raw.every((s) => s === 'inherit')) return [];
  const requested = expandScopes(raw.filter((s) => s !== 'inherit'), owner.ref);
  const excess = excessScopes(requested, owner.scopes, owner.groupsOf);
  if (excess.size > 0) {
    const kind = owner.ref.kind === 'user' ? 'User' : 'Service';
    throw new HubError(400, `Not assigning requested scopes ${[...excess].sort().join(',')} not held by ${kind} ${owner.ref.name}`);
  }
  return raw;
}

/** The longest lifetime a token may ask for: 100 years, far inside what a Date (and the token page) can show. */
export const MAX_EXPIRES_IN = 100 * 365 * 86400;

/**
 * expires_in in seconds: absent or null → never; otherwise a positive number of seconds up to MAX_EXPIRES_IN.
 * Returns epoch ms or null. Checked before anything is stored: an expiry no Date can hold would store a token whose
 * listing then fails.
 */
export function tokenExpiry(expiresIn: unknown, now: number): number | null {
  if (expiresIn === undefined || expiresIn === null) return null;
  // JupyterHub takes any positive number (a timedelta of seconds); past MAX no date could hold the expiry.
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0 || expiresIn > MAX_EXPIRES_IN) {
    throw new HubError(400, `expires_in must be a positive number of seconds, at most ${MAX_EXPIRES_IN}, got ${JSON.stringify(expiresIn)}`);
  }
  return now + expiresIn * 1000;
}
