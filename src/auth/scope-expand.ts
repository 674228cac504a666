// Turning raw scopes (as written in roles and tokens) into expanded scopes, and comparing expanded sets.
// Semantics follow jupyterhub/scopes.py 3.0: expand_scopes, parse_scopes/unparse_scopes/reduce_scopes and
// _intersect_expanded_scopes, with group membership supplied by the caller instead of a database session.
import {
  CUSTOM_SCOPE_PATTERN,
  FILTER_KINDS,
  METASCOPES,
  OWNER_FILTER_KINDS,
  SCOPE_IMPLIES,
  SELF_SCOPES,
  type FilterKind,
} from './scope-table.ts';

export interface ScopeFilter {
  kind: FilterKind;
  /** null for a bare `!user` / `!server` / `!service`, which stands for the owner. */
  value: string | null;
}

export interface ParsedScope {
  base: string;
  filter: ScopeFilter | null;
}

/** Who holds a set of raw scopes: resolves `self` and bare filters. */
export interface ScopeOwner {
  kind: 'user' | 'service';
  name: string;
  /** For OAuth tokens issued to a spawned server's client: its "user/servername", the target of a bare `!server`. */
  clientServer?: string;
  /** For OAuth tokens issued to a service's client: the service name, the target of a bare `!service`. */
  clientService?: string;
}

export type Filters = { [K in FilterKind]: Set<string> };
/** Expanded scopes by base: 'all' when held unfiltered, else the filter values per kind. */
export type ParsedScopes = Map<string, 'all' | Filters>;

/** Looks up a user's group names; lets filters written for groups cover users and servers. */
export type GroupsOf = (userName: string) => Iterable<string>;

export function isKnownBase(base: string): boolean {
  return base in SCOPE_IMPLIES || METASCOPES.has(base) || CUSTOM_SCOPE_PATTERN.test(base);
}

/** Parses one raw scope string; throws an Error naming the problem when it is not a valid 3.0 scope. */
export function parseScope(scope: string): ParsedScope {
  if (typeof scope !== 'string') throw new Error(`Scope must be a string, got ${JSON.stringify(scope)}`);
  const bang = scope.indexOf('!');
  const base = bang === -1 ? scope : scope.slice(0, bang);
  if (!isKnownBase(base)) {
    if (base === 'all') throw new Error("Scope 'all' does not exist; it is now called 'inherit'");
    if (base.startsWith('custom:')) {
      throw new Error(
        `Invalid custom scope '${base}': after 'custom:' use lowercase letters, digits and -_:*, ` +
          'starting with a letter or digit and not ending with - or :',
      );
    }
    throw new Error(`Scope '${scope}' does not exist`);
  }
  if (bang === -1) return { base, filter: null };
  if (METASCOPES.has(base)) throw new Error(`Scope '${base}' cannot take a filter (in '${scope}')`);
  const filterText = scope.slice(bang + 1);
  const eq = filterText.indexOf('=');
  const kind = (eq === -1 ? filterText : filterText.slice(0, eq)) as FilterKind;
  if (!FILTER_KINDS.includes(kind)) {
    throw new Error(`Scope filter '!${filterText}' in scope '${scope}' does not exist (use !user=, !server=, !group=, !service=)`);
  }
  if (eq === -1) {
    if (!OWNER_FILTER_KINDS.has(kind)) throw new Error(`Scope filter '!${kind}' in '${scope}' needs a value`);
    return { base, filter: { kind, value: null } };
  }
  const value = filterText.slice(eq + 1);
  if (!value) throw new Error(`Scope filter '!${kind}=' in '${scope}' has an empty value`);
  return { base, filter: { kind, value } };
}

export function isValidScope(scope: string): boolean {
  try {
    parseScope(scope);
    return true;
  } catch {
    return false;
  }
}

/** Throws the first problem in a list of raw scopes (for config loading and token creation → 400). */
export function validateScopes(scopes: Iterable<string>): void {
  for (const s of scopes) parseScope(s);
}

function emptyFilters(): Filters {
  return { user: new Set(), server: new Set(), group: new Set(), service: new Set() };
}

/**
 * Groups expanded scopes by base. Lenient on purpose: held sets come from our own expansion, and a string that
 * cannot be read simply grants nothing.
 */
export function parseScopes(scopes: Iterable<string>): ParsedScopes {
  const parsed: ParsedScopes = new Map();
  for (const scope of scopes) {
    if (typeof scope !== 'string' || !scope) continue;
    const bang = scope.indexOf('!');
    if (bang === -1) {
      parsed.set(scope, 'all');
      continue;
    }
    const base = scope.slice(0, bang);
    const filterText = scope.slice(bang + 1);
    const eq = filterText.indexOf('=');
    const kind = filterText.slice(0, eq) as FilterKind;
    if (eq <= 0 || !FILTER_KINDS.includes(kind) || eq === filterText.length - 1) continue;
    let entry = parsed.get(base);
    if (entry === 'all') continue;
    if (!entry) parsed.set(base, (entry = emptyFilters()));
    entry[kind].add(filterText.slice(eq + 1));
  }
  return parsed;
}

export function unparseScopes(parsed: ParsedScopes): Set<string> {
  const out = new Set<string>();
  for (const [base, filters] of parsed) {
    if (filters === 'all') {
      out.add(base);
      continue;
    }
    for (const kind of FILTER_KINDS) for (const value of filters[kind]) out.add(`${base}!${kind}=${value}`);
  }
  return out;
}

/** Drops filtered scopes whose base is also held unfiltered. */
export function reduceScopes(scopes: Iterable<string>): Set<string> {
  return unparseScopes(parseScopes(scopes));
}

function closure(base: string, into: Set<string>): void {
  if (into.has(base)) return;
  into.add(base);
  for (const sub of SCOPE_IMPLIES[base] ?? []) closure(sub, into);
}

function ownerValue(kind: FilterKind, owner: ScopeOwner): string | null {
  if (kind === 'user') return owner.kind === 'user' ? owner.name : null;
  if (kind === 'service') return owner.clientService ?? (owner.kind === 'service' ? owner.name : null);
  if (kind === 'server') return owner.clientServer ?? null;
  return null;
}

/**
 * Expands raw scopes for their owner: implied sub-scopes, `self` (users only), bare filters → the owner.
 * `inherit` and `(no_scope)` are kept as they are; what `inherit` means is the caller's business (see intersectScopes).
 * Unreadable scopes and bare filters with nothing to point at grant nothing, as in JupyterHub.
 */
export function expandScopes(scopes: Iterable<string>, owner: ScopeOwner): Set<string> {
  const out = new Set<string>();
  const add = (base: string, filter: string | null) => {
    const bases = new Set<string>();
    closure(base, bases);
    for (const b of bases) out.add(filter ? `${b}!${filter}` : b);
    // Reading a server implies knowing whose it is (JupyterHub's special case for !server filters).
    if (filter?.startsWith('server=') && [...bases].some((b) => b.startsWith('read:'))) {
      out.add(`read:users:name!user=${filter.slice('server='.length).split('/')[0]}`);
    }
  };
  for (const raw of scopes) {
    let parsed: ParsedScope;
    try {
      parsed = parseScope(raw);
    } catch {
      continue;
    }
    const { base, filter } = parsed;
    if (base === 'self') {
      if (owner.kind === 'user') for (const s of SELF_SCOPES) add(s, `user=${owner.name}`);
      continue;
    }
    if (!filter) {
      add(base, null);
      continue;
    }
    const value = filter.value ?? ownerValue(filter.kind, owner);
    if (value === null) continue;
    add(base, `${filter.kind}=${value}`);
  }
  return reduceScopes(out);
}

/** The scopes every credential may use to identify its owner (`GET /hub/api/user`). */
export function identifyScopes(owner: ScopeOwner): Set<string> {
  if (owner.kind === 'service') return new Set([`read:services:name!service=${owner.name}`]);
  return new Set([`read:users:name!user=${owner.name}`, `read:users:groups!user=${owner.name}`]);
}

function intersectFilters(a: Filters, b: Filters, groupsOf: GroupsOf | undefined): Filters {
  const out = emptyFilters();
  for (const kind of FILTER_KINDS) for (const v of a[kind]) if (b[kind].has(v)) out[kind].add(v);
  const inGroups = (user: string, groups: Set<string>): boolean => {
    if (!groupsOf || groups.size === 0) return false;
    for (const g of groupsOf(user)) if (groups.has(g)) return true;
    return false;
  };
  // A narrower filter on one side is covered by a wider one on the other: server ⊂ its user ⊂ the user's groups.
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    for (const server of x.server) {
      const user = server.split('/')[0];
      if (y.user.has(user) || inGroups(user, y.group)) out.server.add(server);
    }
    for (const user of x.user) if (inGroups(user, y.group)) out.user.add(user);
  }
  return out;
}

/**
 * The permissions a token really has: the token's expanded scopes limited to what its owner holds, filter-aware
 * (`read:users!user=bob` is within `read:users`). A token holding `inherit` gets exactly the owner's scopes.
 * Pass `groupsOf` so group filters on one side can cover users/servers on the other; without it such pairs are
 * dropped (fewer permissions, never more).
 */
export function intersectScopes(
  tokenScopes: Iterable<string>,
  ownerScopes: Iterable<string>,
  groupsOf?: GroupsOf,
): Set<string> {
  const token = new Set(tokenScopes);
  if (token.has('inherit')) return reduceScopes(ownerScopes);
  const a = parseScopes(token);
  const b = parseScopes(ownerScopes);
  const common: ParsedScopes = new Map();
  for (const [base, fa] of a) {
    const fb = b.get(base);
    if (!fb) continue;
    if (fa === 'all') common.set(base, fb);
    else if (fb === 'all') common.set(base, fa);
    else common.set(base, intersectFilters(fa, fb, groupsOf));
  }
  return unparseScopes(common);
}

/** Expanded token scopes the owner does not hold (non-empty → 400 at token creation). `inherit` is never excess. */
export function excessScopes(tokenScopes: Iterable<string>, ownerScopes: Iterable<string>, groupsOf?: GroupsOf): Set<string> {
  const token = reduceScopes([...tokenScopes].filter((s) => s !== 'inherit'));
  const kept = intersectScopes(token, ownerScopes, groupsOf);
  return new Set([...token].filter((s) => !kept.has(s)));
}
