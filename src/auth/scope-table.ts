// JupyterHub 3.0's scope vocabulary (spec 2.4, jupyterhub/scopes.py). Data only: the implication table, the metascopes,
// the user-model field map and the default roles, so the rules in scope-expand.ts / scope-check.ts stay generic.

/** Base scope → the scopes it directly implies. Leaf scopes map to an empty list. */
export const SCOPE_IMPLIES: Readonly<Record<string, readonly string[]>> = {
  'admin-ui': [],
  'admin:users': ['admin:auth_state', 'users', 'read:roles:users', 'delete:users'],
  'admin:auth_state': [],
  users: ['read:users', 'list:users', 'users:activity'],
  'delete:users': [],
  'list:users': ['read:users:name'],
  'read:users': ['read:users:name', 'read:users:groups', 'read:users:activity'],
  'read:users:name': [],
  'read:users:groups': [],
  'read:users:activity': [],
  'read:roles': ['read:roles:users', 'read:roles:services', 'read:roles:groups'],
  'read:roles:users': [],
  'read:roles:services': [],
  'read:roles:groups': [],
  'users:activity': ['read:users:activity'],
  'admin:servers': ['admin:server_state', 'servers'],
  'admin:server_state': [],
  servers: ['read:servers', 'delete:servers'],
  'read:servers': ['read:users:name'],
  'delete:servers': [],
  tokens: ['read:tokens'],
  'read:tokens': [],
  'admin:groups': ['groups', 'read:roles:groups', 'delete:groups'],
  groups: ['read:groups', 'list:groups'],
  'list:groups': ['read:groups:name'],
  'read:groups': ['read:groups:name'],
  'read:groups:name': [],
  'delete:groups': [],
  'list:services': ['read:services:name'],
  'read:services': ['read:services:name'],
  'read:services:name': [],
  'read:hub': [],
  'access:servers': [],
  'access:services': [],
  proxy: [],
  shutdown: [],
  'read:metrics': [],
};

/** Scopes that stand for other scopes and never take a filter. */
export const METASCOPES: ReadonlySet<string> = new Set(['self', 'inherit', '(no_scope)']);

/** What `self` means for user U: these bases, each filtered `!user=U` (the 11 scopes of a user's default token). */
export const SELF_SCOPES: readonly string[] = [
  'read:users',
  'read:users:name',
  'read:users:groups',
  'users:activity',
  'read:users:activity',
  'servers',
  'delete:servers',
  'read:servers',
  'tokens',
  'read:tokens',
  'access:servers',
];

export type FilterKind = 'user' | 'server' | 'group' | 'service';
export const FILTER_KINDS: readonly FilterKind[] = ['user', 'server', 'group', 'service'];

/** Filters that may be written bare (`!user`) and then mean "the owner". `!group` always needs a value. */
export const OWNER_FILTER_KINDS: ReadonlySet<FilterKind> = new Set(['user', 'server', 'service']);

// JupyterHub's rule for custom scope names (define_custom_scopes), so a name valid there is valid here.
export const CUSTOM_SCOPE_PATTERN = /^custom:[a-z0-9][a-z0-9_\-*:]+[a-z0-9_*]$/;

/** Read scope → the user-model keys it reveals (spec 2.3, apihandlers/base.py user_model). */
export const USER_MODEL_ACCESS: Readonly<Record<string, readonly string[]>> = {
  'read:users': ['kind', 'name', 'admin', 'roles', 'groups', 'server', 'pending', 'created', 'last_activity'],
  'read:users:name': ['kind', 'name', 'admin'],
  'read:users:groups': ['kind', 'name', 'groups'],
  'read:users:activity': ['kind', 'name', 'last_activity'],
  'read:servers': ['kind', 'name', 'servers'],
  'read:roles:users': ['kind', 'name', 'roles', 'admin'],
  'admin:auth_state': ['kind', 'name', 'auth_state'],
};

export const GROUP_MODEL_ACCESS: Readonly<Record<string, readonly string[]>> = {
  'read:groups': ['kind', 'name', 'properties', 'users'],
  'read:groups:name': ['kind', 'name'],
  'read:roles:groups': ['kind', 'name', 'roles'],
};

export const SERVICE_MODEL_ACCESS: Readonly<Record<string, readonly string[]>> = {
  'read:services': ['kind', 'name', 'admin', 'url', 'prefix', 'command', 'pid', 'info', 'display'],
  'read:services:name': ['kind', 'name', 'admin'],
  'read:roles:services': ['kind', 'name', 'roles', 'admin'],
};

export interface RoleDef {
  name: string;
  description?: string;
  scopes: readonly string[];
}

/** The four roles every JupyterHub 3.0 database has (roles.py get_default_roles). */
export const DEFAULT_ROLES: readonly RoleDef[] = [
  { name: 'user', description: 'Standard user privileges', scopes: ['self'] },
  {
    name: 'admin',
    description: 'Elevated privileges (can do anything)',
    scopes: [
      'admin-ui',
      'admin:users',
      'admin:servers',
      'tokens',
      'admin:groups',
      'list:services',
      'read:services',
      'read:hub',
      'proxy',
      'shutdown',
      'access:services',
      'access:servers',
      'read:roles',
      'read:metrics',
    ],
  },
  { name: 'server', description: 'Post activity only', scopes: ['users:activity!user', 'access:servers!user'] },
  { name: 'token', description: 'Token with same permissions as its owner', scopes: ['inherit'] },
];
