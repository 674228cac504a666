// Roles are named bundles of raw scopes (jupyterhub/roles.py). Expansion for an owner happens in scope-expand.ts.
import { DEFAULT_ROLES, type RoleDef } from './scope-table.ts';

export { DEFAULT_ROLES, type RoleDef };

// JupyterHub's role-name rule: 3-255 chars, lowercase ascii, digits and -_~. ; starts with a letter, ends alphanumeric.
const ROLE_NAME = /^[a-z][a-z0-9\-_~.]{1,253}[a-z0-9]$/;

export function isValidRoleName(name: string): boolean {
  return typeof name === 'string' && ROLE_NAME.test(name);
}

/** Role definitions as a list of roles or as a map name → scopes. */
export type RoleDefs = Iterable<RoleDef> | ReadonlyMap<string, readonly string[]>;

/**
 * The raw (unexpanded) scopes of the named roles, sorted and unique. `roleDefs` wins over the built-in defaults of the
 * same name, since JupyterHub lets `load_roles` redefine `user`, `admin`, `server` and `token`. An unknown role name
 * is an Error.
 */
export function rolesToScopes(roleNames: Iterable<string>, roleDefs: RoleDefs = []): string[] {
  const byName = new Map<string, readonly string[]>();
  for (const r of DEFAULT_ROLES) byName.set(r.name, r.scopes);
  if (roleDefs instanceof Map) for (const [name, scopes] of roleDefs) byName.set(name, scopes);
  else for (const r of roleDefs as Iterable<RoleDef>) byName.set(r.name, r.scopes);
  const scopes = new Set<string>();
  for (const name of roleNames) {
    const role = byName.get(name);
    if (!role) throw new Error(`Role '${name}' does not exist; known roles: ${[...byName.keys()].sort().join(', ')}`);
    for (const s of role) scopes.add(s);
  }
  return [...scopes].sort();
}
