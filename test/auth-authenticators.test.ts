import { describe, expect, it } from 'vitest';
import type { AuthenticatorConfig } from '../src/config/types.ts';
import {
  getAuthenticatedUser,
  knownAuthenticators,
  registerAuthenticator,
  resolveAuthenticator,
  NullAuthenticator,
} from '../src/auth/index.ts';

const cfg = (extra: Partial<AuthenticatorConfig> = {}): AuthenticatorConfig => ({
  allowed_users: [],
  admin_users: [],
  blocked_users: [],
  allow_all: null,
  allow_existing_users: null,
  any_allow_config: null,
  username_pattern: '',
  username_map: {},
  auto_login: false,
  enable_auth_state: false,
  manage_groups: false,
  refresh_pre_spawn: false,
  auth_refresh_age: 300,
  ...extra,
});
const login = (username: string, password = '') => ({ username, password });
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('DummyAuthenticator', () => {
  it('without a password lets any name in', async () => {
    const auth = resolveAuthenticator('dummy', cfg());
    expect(auth.className).toBe('jupyterhub.auth.DummyAuthenticator');
    expect(auth.capabilities.passwordField).toBe(true);
    expect(auth.loginUrl).toBeNull();
    expect(auth.capabilities.autoLogin).toBe(false);
    expect(await auth.authenticate(login('Alice', 'whatever'))).toEqual({ name: 'Alice' });
    expect(await getAuthenticatedUser(auth, login('Alice', ''))).toEqual({ name: 'alice', admin: undefined, auth_state: null });
  });

  it('with a password requires exactly that password', async () => {
    const auth = resolveAuthenticator('jupyterhub.auth.DummyAuthenticator', cfg({ password: 's3cret' }));
    expect(await auth.authenticate(login('bob', 's3cret'))).toEqual({ name: 'bob' });
    expect(await auth.authenticate(login('bob', 's3cre'))).toBeNull();
    expect(await auth.authenticate(login('bob', 's3cret '))).toBeNull();
    expect(await auth.authenticate(login('bob', ''))).toBeNull();
    expect(await auth.authenticate({ username: 'bob' } as never)).toBeNull();
    expect(() => resolveAuthenticator('dummy', cfg({ password: 5 }))).toThrow(/DummyAuthenticator.password must be a string/);
  });

  it('honours auto_login from config', () => {
    expect(resolveAuthenticator('dummy', cfg({ auto_login: true })).capabilities.autoLogin).toBe(true);
  });
});

describe('allow, block and admin lists', () => {
  it('blocked wins over allowed; an empty allowed list allows all', async () => {
    const open = resolveAuthenticator('dummy', cfg({ blocked_users: ['Mallory'] }));
    expect(open.checkAllowed('anyone')).toBe(true);
    expect(open.checkAllowed('mallory')).toBe(false);
    expect(await getAuthenticatedUser(open, login('MALLORY'))).toBeNull();

    const closed = resolveAuthenticator('dummy', cfg({ allowed_users: ['ann', 'mallory'], blocked_users: ['mallory'] }));
    expect(closed.checkAllowed('ann')).toBe(true);
    expect(closed.checkAllowed('bob')).toBe(false);
    expect(closed.checkAllowed('mallory')).toBe(false);
    expect(await getAuthenticatedUser(closed, login('Ann'))).toMatchObject({ name: 'ann' });
    expect(await getAuthenticatedUser(closed, login('bob'))).toBeNull();
  });

  it('admin_users (normalised) make admins; others keep their stored flag', async () => {
    const auth = resolveAuthenticator('dummy', cfg({ admin_users: ['Root'] }));
    expect(auth.isAdmin('root')).toBe(true);
    expect(auth.isAdmin('bob')).toBe(false);
    expect(await getAuthenticatedUser(auth, login('ROOT'))).toEqual({ name: 'root', admin: true, auth_state: null });
    expect((await getAuthenticatedUser(auth, login('bob')))?.admin).toBeUndefined();
  });

  it('invalid names in the lists or bad list types are config errors', () => {
    expect(() => resolveAuthenticator('dummy', cfg({ admin_users: ['a/b'] }))).toThrow(/admin_users: user name "a\/b" is not valid/);
    expect(() => resolveAuthenticator('dummy', cfg({ allowed_users: 'bob' as never }))).toThrow(/allowed_users must be a list/);
  });
});

describe('names', () => {
  const auth = resolveAuthenticator('dummy', cfg({ username_map: { 'alice@example.org': 'alice' } }));

  it('normalises by lowercasing, then username_map', async () => {
    expect(auth.normalizeUsername('BoB')).toBe('bob');
    expect(auth.normalizeUsername('Alice@Example.org')).toBe('alice');
    expect(await getAuthenticatedUser(auth, login('ALICE@example.org'))).toMatchObject({ name: 'alice' });
  });

  it('validates: not empty, no slash, no surrounding space or control characters, at most 255 chars', async () => {
    for (const bad of ['', 'a/b', ' bob', 'bob ', 'bo\nb', 'x'.repeat(256)]) expect(auth.validateUsername(bad), JSON.stringify(bad)).toBe(false);
    for (const good of ['bob', 'a.b-c_d@e', 'x'.repeat(255), 'zoë', '3e25278a-03a2-4122-b71e-dbb257470ede']) {
      expect(auth.validateUsername(good), good).toBe(true);
    }
    expect(await getAuthenticatedUser(auth, login('a/b'))).toBeNull();
    expect(await getAuthenticatedUser(auth, login(''))).toBeNull();
  });

  it('applies username_pattern anchored at the start, as Python re.match does', () => {
    const strict = resolveAuthenticator('dummy', cfg({ username_pattern: '[a-z]+' }));
    expect(strict.validateUsername('bob')).toBe(true);
    expect(strict.validateUsername('bob2')).toBe(true);
    expect(strict.validateUsername('2bob')).toBe(false);
    const full = resolveAuthenticator('dummy', cfg({ username_pattern: '[a-z]+$' }));
    expect(full.validateUsername('bob2')).toBe(false);
    expect(() => resolveAuthenticator('dummy', cfg({ username_pattern: '[' }))).toThrow(/username_pattern is not a valid regular expression/);
  });
});

describe('NullAuthenticator', () => {
  it('never logs anyone in', async () => {
    const auth = resolveAuthenticator('null', cfg());
    expect(auth).toBeInstanceOf(NullAuthenticator);
    expect(auth.capabilities.autoLogin).toBe(true);
    expect(auth.loginService).toBe('null');
    expect(await auth.authenticate(login('bob', 'pw'))).toBeNull();
    expect(await getAuthenticatedUser(auth, login('bob', 'pw'))).toBeNull();
  });
});

describe('TmpAuthenticator', () => {
  it('auto-logs in via tmplogin and mints a fresh uuid4 user every time', async () => {
    const auth = resolveAuthenticator('tmp', cfg());
    expect(auth.className).toBe('tmpauthenticator.TmpAuthenticator');
    expect(auth.capabilities.autoLogin).toBe(true);
    expect(auth.loginUrl).toBe('tmplogin');
    expect(auth.loginService).toBe('Automatic Temporary Credentials');
    expect(auth.capabilities.passwordField).toBe(false);
    const names = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await getAuthenticatedUser(auth, login(''));
      expect(r?.name).toMatch(UUID4);
      names.add(r!.name);
    }
    expect(names.size).toBe(20);
  });

  it('is found under its import path too', () => {
    expect(resolveAuthenticator('tmpauthenticator.TmpAuthenticator', cfg()).loginUrl).toBe('tmplogin');
  });
});

describe('registry', () => {
  it('names the trait and the known classes for an unknown class', () => {
    expect(() => resolveAuthenticator('dockerauth.NopeAuthenticator', cfg())).toThrow(
      /^Unknown JupyterHub.authenticator_class "dockerauth.NopeAuthenticator"; known authenticators: tmp \(tmpauthenticator, .*\); dummy \(jupyterhub.auth.DummyAuthenticator, DummyAuthenticator\); shared-password \(jupyterhub.authenticators.shared.SharedPasswordAuthenticator, SharedPasswordAuthenticator\); pam \(default, .*\); ldap \(ldapauthenticator.LDAPAuthenticator, .*\); null /,
    );
  });

  it('capabilities, not class names, say what an authenticator does', () => {
    expect(resolveAuthenticator('tmp', cfg()).capabilities).toEqual({ temporaryUsers: true, passwordField: false, autoLogin: true, systemUsers: false });
    expect(resolveAuthenticator('dummy', cfg()).capabilities.temporaryUsers).toBe(false);
  });

  it('accepts registered authenticators and refuses taken names', () => {
    registerAuthenticator('TestShared', ['test-shared', 'nodehub.auth.TestShared'], (c) => resolveAuthenticator('dummy', { ...c, password: 'pw' }));
    expect(knownAuthenticators()).toContain('test-shared (nodehub.auth.TestShared)');
    expect(resolveAuthenticator('NODEHUB.AUTH.TestShared', cfg()).className).toBe('jupyterhub.auth.DummyAuthenticator');
    expect(() => registerAuthenticator('Other', ['dummy'], () => resolveAuthenticator('null', cfg()))).toThrow(/already taken by DummyAuthenticator/);
  });
});
