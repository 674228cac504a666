import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ROLES,
  SCOPE_IMPLIES,
  checkAccess,
  excessScopes,
  expandScopes,
  filterAllows,
  filterFor,
  groupModelFields,
  identifyScopes,
  intersectScopes,
  isValidRoleName,
  isValidScope,
  notAuthorizedMessage,
  parseScope,
  reduceScopes,
  rolesToScopes,
  serviceModelFields,
  userModelFields,
  validateScopes,
  type ScopeOwner,
} from '../src/auth/scopes.ts';

const bob: ScopeOwner = { kind: 'user', name: 'bob' };
const root: ScopeOwner = { kind: 'user', name: 'root' };
const sorted = (s: Iterable<string>) => [...s].sort();
const asUser = (roles: string[], owner: ScopeOwner) => expandScopes(rolesToScopes(roles), owner);

describe('implication table', () => {
  it('admin:users implies users management, deletion, auth state and names', () => {
    const s = expandScopes(['admin:users'], root);
    for (const x of [
      'admin:auth_state',
      'users',
      'delete:users',
      'read:roles:users',
      'read:users',
      'list:users',
      'users:activity',
      'read:users:name',
      'read:users:groups',
      'read:users:activity',
    ]) {
      expect(s.has(x), x).toBe(true);
    }
    expect(s.has('servers')).toBe(false);
    expect(s.has('tokens')).toBe(false);
  });

  it('closures of servers, groups and roles scopes', () => {
    expect(sorted(expandScopes(['admin:servers'], root))).toEqual(
      sorted(['admin:servers', 'admin:server_state', 'servers', 'read:servers', 'delete:servers', 'read:users:name']),
    );
    expect(sorted(expandScopes(['admin:groups'], root))).toEqual(
      sorted(['admin:groups', 'groups', 'read:groups', 'list:groups', 'read:groups:name', 'read:roles:groups', 'delete:groups']),
    );
    expect(sorted(expandScopes(['read:roles'], root))).toEqual(
      sorted(['read:roles', 'read:roles:users', 'read:roles:services', 'read:roles:groups']),
    );
    expect(sorted(expandScopes(['list:services'], root))).toEqual(['list:services', 'read:services:name']);
  });

  it('keeps the filter on every implied scope', () => {
    expect(sorted(expandScopes(['users!group=g1'], root))).toEqual(
      sorted([
        'users!group=g1',
        'read:users!group=g1',
        'list:users!group=g1',
        'users:activity!group=g1',
        'read:users:name!group=g1',
        'read:users:groups!group=g1',
        'read:users:activity!group=g1',
      ]),
    );
  });

  it('a read scope filtered to a server also reveals the owner name', () => {
    expect(sorted(expandScopes(['read:servers!server=carol/foo'], root))).toEqual(
      sorted(['read:servers!server=carol/foo', 'read:users:name!server=carol/foo', 'read:users:name!user=carol']),
    );
    expect(expandScopes(['delete:servers!server=carol/foo'], root).has('read:users:name!user=carol')).toBe(false);
  });

  it('every implied scope is itself in the vocabulary', () => {
    for (const subs of Object.values(SCOPE_IMPLIES)) for (const s of subs) expect(s in SCOPE_IMPLIES, s).toBe(true);
  });

  it('reduces filtered scopes covered by an unfiltered one', () => {
    expect(sorted(reduceScopes(['read:users', 'read:users!user=bob', 'tokens!user=bob']))).toEqual(['read:users', 'tokens!user=bob']);
  });
});

describe('self and default roles', () => {
  it('self for bob is exactly the 11 scopes of a default user token', () => {
    expect(sorted(expandScopes(['self'], bob))).toEqual(
      sorted(
        [
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
        ].map((s) => `${s}!user=bob`),
      ),
    );
    expect(sorted(asUser(['user'], bob))).toEqual(sorted(expandScopes(['self'], bob)));
  });

  it('self means nothing for a service', () => {
    expect(expandScopes(['self'], { kind: 'service', name: 'culler' }).size).toBe(0);
  });

  it("a user token cannot list users, and another user's resources are filtered out", () => {
    const held = asUser(['user'], bob);
    expect(checkAccess(held, ['list:users'], {})).toBe('no-scope');
    expect(checkAccess(held, ['read:users', 'read:users:name'], { user: 'alice' })).toBe('filtered');
    expect(checkAccess(held, ['read:users'], { user: 'bob' })).toBe('ok');
    expect(checkAccess(held, ['servers'], { user: 'bob', server: 'bob/' })).toBe('ok');
    expect(checkAccess(held, ['servers'], { user: 'alice', server: 'alice/' })).toBe('filtered');
    expect(checkAccess(held, ['access:servers'], { server: 'bob/lab' })).toBe('ok');
    expect(checkAccess(held, ['delete:users'], { user: 'bob' })).toBe('no-scope');
    expect(checkAccess(held, ['shutdown'], {})).toBe('no-scope');
    expect(notAuthorizedMessage(['list:users'])).toBe(
      'Action is not authorized with current scopes; requires any of [list:users]',
    );
  });

  it('the admin role covers every scope in the vocabulary, unfiltered', () => {
    const held = asUser(['admin'], root);
    expect(sorted(held)).toEqual(sorted(Object.keys(SCOPE_IMPLIES)));
    expect(checkAccess(held, ['delete:users'], { user: 'anyone' })).toBe('ok');
    expect(checkAccess(held, ['access:servers'], { server: 'x/y' })).toBe('ok');
    expect(filterFor(held, 'list:users')).toEqual({ all: true });
  });

  it('the server role lets a spawned server post activity and be accessed, for its owner only', () => {
    const held = asUser(['server'], bob);
    expect(sorted(held)).toEqual(
      sorted(['users:activity!user=bob', 'read:users:activity!user=bob', 'access:servers!user=bob']),
    );
    expect(checkAccess(held, ['users:activity'], { user: 'bob' })).toBe('ok');
    expect(checkAccess(held, ['users:activity'], { user: 'alice' })).toBe('filtered');
    expect(checkAccess(held, ['servers'], { user: 'bob' })).toBe('no-scope');
  });

  it('a bare !server filter points at the issuing server of an OAuth token', () => {
    const s = expandScopes(['access:servers!server'], { kind: 'user', name: 'bob', clientServer: 'bob/' });
    expect(sorted(s)).toEqual(['access:servers!server=bob/']);
    expect(expandScopes(['access:servers!server'], bob).size).toBe(0);
    expect(sorted(expandScopes(['access:services!service'], { kind: 'service', name: 'svc' }))).toEqual([
      'access:services!service=svc',
    ]);
  });

  it('the token role is inherit, kept for the caller', () => {
    expect(sorted(rolesToScopes(['token']))).toEqual(['inherit']);
    expect(expandScopes(['inherit'], bob).has('inherit')).toBe(true);
    expect(DEFAULT_ROLES.map((r) => r.name)).toEqual(['user', 'admin', 'server', 'token']);
  });

  it('configured roles override defaults; unknown roles are errors', () => {
    const custom = [
      { name: 'user', scopes: ['self', 'list:users'] },
      { name: 'culler', scopes: ['list:users', 'admin:servers', 'delete:users'] },
    ];
    expect(sorted(rolesToScopes(['user', 'culler'], custom))).toEqual(
      sorted(['self', 'list:users', 'admin:servers', 'delete:users']),
    );
    expect(rolesToScopes(['culler'], new Map([['culler', ['proxy', 'list:users', 'proxy']]]))).toEqual(['list:users', 'proxy']);
    expect(() => rolesToScopes(['nope'])).toThrow(/Role 'nope' does not exist/);
    expect(isValidRoleName('culler')).toBe(true);
    expect(isValidRoleName('Bad Name')).toBe(false);
  });

  it('identify scopes name the owner only', () => {
    expect(sorted(identifyScopes(bob))).toEqual(['read:users:groups!user=bob', 'read:users:name!user=bob']);
    expect(sorted(identifyScopes({ kind: 'service', name: 's' }))).toEqual(['read:services:name!service=s']);
  });
});

describe('filters via groups', () => {
  const held = expandScopes(['read:users!group=staff', 'servers!group=staff', 'read:groups!group=staff'], root);

  it('user scopes match through the user groups', () => {
    expect(checkAccess(held, ['read:users'], { user: 'eve', userGroups: ['staff'] })).toBe('ok');
    expect(checkAccess(held, ['read:users'], { user: 'eve', userGroups: ['other'] })).toBe('filtered');
    expect(checkAccess(held, ['read:users'], { user: 'eve' })).toBe('filtered');
  });

  it('server scopes match through the owner and the owner groups', () => {
    expect(checkAccess(held, ['servers'], { server: 'eve/lab', userGroups: ['staff'] })).toBe('ok');
    expect(checkAccess(held, ['servers'], { server: 'eve/lab', userGroups: [] })).toBe('filtered');
    const byUser = expandScopes(['servers!user=eve'], root);
    expect(checkAccess(byUser, ['delete:servers'], { server: 'eve/lab' })).toBe('ok');
    expect(checkAccess(byUser, ['delete:servers'], { server: 'evelyn/lab' })).toBe('filtered');
  });

  it('group scopes match the group itself', () => {
    expect(checkAccess(held, ['read:groups'], { group: 'staff' })).toBe('ok');
    expect(checkAccess(held, ['read:groups'], { group: 'other' })).toBe('filtered');
  });

  it('filterFor gives list endpoints the permitted names', () => {
    const f = filterFor(expandScopes(['list:users!user=ann', 'list:users!group=g'], root), 'list:users');
    expect(f.all).toBe(false);
    if (f.all) return;
    expect(sorted(f.users)).toEqual(['ann']);
    expect(sorted(f.groups)).toEqual(['g']);
    expect(filterAllows(f, { user: 'ann' })).toBe(true);
    expect(filterAllows(f, { user: 'zed', userGroups: ['g'] })).toBe(true);
    expect(filterAllows(f, { user: 'zed' })).toBe(false);
    const none = filterFor(new Set(['tokens']), 'list:users');
    expect(none.all === false && none.users.size + none.groups.size).toBe(0);
  });
});

describe('intersectScopes', () => {
  const ownerBob = expandScopes(['self'], bob);

  it('drops what the token asks beyond its owner and keeps what is within', () => {
    const token = expandScopes(['read:users!user=bob', 'admin:users', 'shutdown'], bob);
    const got = intersectScopes(token, ownerBob);
    expect(sorted(got)).toEqual(
      sorted(['read:users!user=bob', 'read:users:name!user=bob', 'read:users:groups!user=bob', 'read:users:activity!user=bob', 'users:activity!user=bob']),
    );
    expect(got.has('shutdown')).toBe(false);
    expect(excessScopes(token, ownerBob).has('shutdown')).toBe(true);
    expect(excessScopes(token, ownerBob).has('admin:users')).toBe(true);
  });

  it('an unfiltered token scope is narrowed to the owner filter', () => {
    expect(sorted(intersectScopes(expandScopes(['read:tokens'], bob), ownerBob))).toEqual(['read:tokens!user=bob']);
    expect(sorted(intersectScopes(expandScopes(['read:users!user=bob'], bob), expandScopes(['read:users'], root)))).toContain(
      'read:users!user=bob',
    );
  });

  it('bare !user in a token expands to its owner before intersecting', () => {
    const token = expandScopes(['read:servers!user', 'access:servers!user'], bob);
    expect(sorted(token)).toEqual(
      sorted(['read:servers!user=bob', 'read:users:name!user=bob', 'access:servers!user=bob']),
    );
    expect(excessScopes(token, ownerBob).size).toBe(0);
    expect(intersectScopes(token, ownerBob)).toEqual(token);
  });

  it('a server filter is within its user filter, and group filters cover members when groups are known', () => {
    const token = expandScopes(['access:servers!server=bob/lab'], bob);
    expect(sorted(intersectScopes(token, ownerBob))).toEqual(['access:servers!server=bob/lab']);
    const owner = expandScopes(['read:users!group=staff'], root);
    const askAnn = expandScopes(['read:users:name!user=ann'], root);
    expect(intersectScopes(askAnn, owner).size).toBe(0);
    const groupsOf = (u: string) => (u === 'ann' ? ['staff'] : []);
    expect(sorted(intersectScopes(askAnn, owner, groupsOf))).toEqual(['read:users:name!user=ann']);
    expect(intersectScopes(expandScopes(['read:users:name!user=joe'], root), owner, groupsOf).size).toBe(0);
  });

  it('inherit gives the owner scopes; it is never excess', () => {
    expect(intersectScopes(['inherit'], ownerBob)).toEqual(ownerBob);
    expect(excessScopes(['inherit'], ownerBob).size).toBe(0);
  });
});

describe('scope strings', () => {
  it('accepts known bases, filters and custom scopes', () => {
    for (const s of [
      'read:users',
      'read:users!user=bob',
      'servers!server=bob/',
      'users!group=g',
      'access:services!service=svc',
      'access:servers!user',
      'self',
      'inherit',
      'custom:jupyter_server:read:*',
    ]) {
      expect(isValidScope(s), s).toBe(true);
    }
    expect(parseScope('servers!server=bob/lab')).toEqual({ base: 'servers', filter: { kind: 'server', value: 'bob/lab' } });
    expect(parseScope('access:servers!user')).toEqual({ base: 'access:servers', filter: { kind: 'user', value: null } });
  });

  it('rejects unknown scopes and filters with a message naming them', () => {
    for (const s of ['read:everything', 'all', 'read:users!flavour=x', 'read:users!user=', 'users!group', 'self!user=bob', '', 'Custom:x', 'custom:x-']) {
      expect(isValidScope(s), s).toBe(false);
    }
    expect(() => parseScope('all')).toThrow(/inherit/);
    expect(() => parseScope('read:everything')).toThrow("Scope 'read:everything' does not exist");
    expect(() => parseScope('read:users!flavour=x')).toThrow(/filter '!flavour=x'/);
    expect(() => validateScopes(['read:users', 'nope'])).toThrow(/'nope'/);
    expect(isValidScope(42 as unknown as string)).toBe(false);
  });

  it('unreadable scopes grant nothing when expanded', () => {
    expect(sorted(expandScopes(['nope', 'proxy'], root))).toEqual(['proxy']);
  });
});

describe('model field filtering (spec 2.3)', () => {
  it('read:users shows the model without servers or auth_state', () => {
    expect(sorted(userModelFields(expandScopes(['read:users'], root), 'bob'))).toEqual(
      sorted(['kind', 'name', 'admin', 'roles', 'groups', 'server', 'pending', 'created', 'last_activity']),
    );
  });

  it('narrow read scopes show only their fields', () => {
    expect(sorted(userModelFields(new Set(['read:users:name']), 'bob'))).toEqual(['admin', 'kind', 'name']);
    expect(sorted(userModelFields(new Set(['read:users:groups']), 'bob'))).toEqual(['groups', 'kind', 'name']);
    expect(sorted(userModelFields(new Set(['read:users:activity']), 'bob'))).toEqual(['kind', 'last_activity', 'name']);
    expect(sorted(userModelFields(new Set(['read:servers']), 'bob'))).toEqual(['kind', 'name', 'servers']);
    expect(sorted(userModelFields(new Set(['read:roles:users']), 'bob'))).toEqual(['admin', 'kind', 'name', 'roles']);
    expect(sorted(userModelFields(new Set(['admin:auth_state']), 'bob'))).toEqual(['auth_state', 'kind', 'name']);
  });

  it('a user token sees its own full model (with servers) and nothing of others', () => {
    const held = expandScopes(['self'], bob);
    expect(userModelFields(held, 'bob').has('servers')).toBe(true);
    expect(userModelFields(held, 'bob').has('auth_state')).toBe(false);
    expect(userModelFields(held, 'alice').size).toBe(0);
  });

  it('group filters apply to field filtering', () => {
    const held = expandScopes(['read:users:activity!group=staff'], root);
    expect(sorted(userModelFields(held, 'eve', ['staff']))).toEqual(['kind', 'last_activity', 'name']);
    expect(userModelFields(held, 'eve', []).size).toBe(0);
  });

  it('admin sees everything, including auth_state', () => {
    expect(userModelFields(asUser(['admin'], root), 'bob').has('auth_state')).toBe(true);
    expect(sorted(groupModelFields(asUser(['admin'], root), 'g'))).toEqual(['kind', 'name', 'properties', 'roles', 'users']);
    expect(sorted(serviceModelFields(new Set(['read:services:name']), 's'))).toEqual(['admin', 'kind', 'name']);
  });
});
