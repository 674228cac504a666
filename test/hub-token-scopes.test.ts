import { describe, expect, it } from 'vitest';
import { DEFAULT_ROLES, expandScopes, rolesToScopes } from '../src/auth/index.ts';
import { tokenExpiry, tokenScopesFor, type TokenOwner } from '../src/hub/api/token-scopes.ts';
import { HubError } from '../src/util/errors.ts';

const bob: TokenOwner = { ref: { kind: 'user', name: 'bob' }, scopes: expandScopes(rolesToScopes(['user']), { kind: 'user', name: 'bob' }) };
const admin: TokenOwner = { ref: { kind: 'user', name: 'root' }, scopes: expandScopes(rolesToScopes(['user', 'admin']), { kind: 'user', name: 'root' }) };
const defaults = (name: string) => DEFAULT_ROLES.find((r) => r.name === name)?.scopes;

function error400(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).status).toBe(400);
    return (err as HubError).message;
  }
  throw new Error('expected a 400');
}

describe('tokenScopesFor', () => {
  it('gives a token the owner\'s permissions when nothing is asked (the default token role is inherit)', () => {
    expect(tokenScopesFor({}, bob, defaults)).toEqual([]);
    expect(tokenScopesFor({ scopes: ['inherit'] }, bob, defaults)).toEqual([]);
    expect(tokenScopesFor({ roles: ['token'] }, bob, defaults)).toEqual([]);
  });

  it('follows a redefined token role', () => {
    const custom = (name: string) => (name === 'token' ? ['read:users!user'] : defaults(name));
    expect(tokenScopesFor({}, bob, custom)).toEqual(['read:users!user']);
  });

  it('keeps scopes within the owner\'s, filtered or not', () => {
    expect(tokenScopesFor({ scopes: ['read:users!user=bob', 'access:servers!user=bob'] }, bob, defaults))
      .toEqual(['read:users!user=bob', 'access:servers!user=bob']);
    expect(tokenScopesFor({ scopes: ['self'] }, bob, defaults)).toEqual(['self']);
    expect(tokenScopesFor({ scopes: ['admin:users', 'read:users!user=bob'] }, admin, defaults)).toEqual(['admin:users', 'read:users!user=bob']);
  });

  it('refuses scopes beyond the owner\'s and names them', () => {
    const msg = error400(() => tokenScopesFor({ scopes: ['read:users!user=bob', 'admin:users'] }, bob, defaults));
    expect(msg).toMatch(/^Not assigning requested scopes .* not held by User bob$/);
    expect(msg).toContain('admin:users');
    expect(msg).not.toContain('read:users!user=bob,');
    expect(error400(() => tokenScopesFor({ scopes: ['read:users!user=alice'] }, bob, defaults))).toContain('read:users!user=alice');
  });

  it('maps roles to scopes and checks them like scopes', () => {
    expect(tokenScopesFor({ roles: ['admin'] }, admin, defaults)).toEqual(DEFAULT_ROLES.find((r) => r.name === 'admin')!.scopes);
    expect(error400(() => tokenScopesFor({ roles: ['admin'] }, bob, defaults))).toContain('not held by User bob');
    expect(error400(() => tokenScopesFor({ roles: ['nope'] }, bob, defaults))).toBe('No such role: nope');
  });

  it('refuses scopes and roles together, malformed lists and invalid scopes', () => {
    expect(error400(() => tokenScopesFor({ scopes: [], roles: [] }, bob, defaults))).toBe('Can only assign one of scopes or roles when creating tokens.');
    expect(error400(() => tokenScopesFor({ scopes: 'read:users' }, bob, defaults))).toBe('scopes must be a list of strings');
    expect(error400(() => tokenScopesFor({ roles: [1] }, bob, defaults))).toBe('roles must be a list of strings');
    expect(error400(() => tokenScopesFor({ scopes: ['read:userz'] }, bob, defaults))).toContain("Scope 'read:userz' does not exist");
    expect(error400(() => tokenScopesFor({ scopes: ['all'] }, bob, defaults))).toContain("now called 'inherit'");
    expect(error400(() => tokenScopesFor({ scopes: ['read:users!nobody=x'] }, bob, defaults))).toContain('does not exist');
  });
});

describe('tokenExpiry', () => {
  it('turns seconds into an expiry time, absent or null into never', () => {
    expect(tokenExpiry(undefined, 1000)).toBeNull();
    expect(tokenExpiry(null, 1000)).toBeNull();
    expect(tokenExpiry(60, 1000)).toBe(61_000);
    expect(tokenExpiry(0.5, 1000)).toBe(1500);
  });

  it('refuses what is not a positive number', () => {
    for (const bad of [0, -5, '60', Number.NaN, Infinity, {}]) {
      expect(error400(() => tokenExpiry(bad, 0))).toContain('expires_in must be a positive number of seconds');
    }
  });
});
