// Who may log in, as JupyterHub 5.4 decides it (auth.py: allow_all and allow_existing_users with their dynamic
// defaults, check_allow_config), and SharedPasswordAuthenticator's rules.
import { describe, expect, it } from 'vitest';
import type { AuthenticatorConfig } from '../src/config/types.ts';
import { ConfigError } from '../src/config/errors.ts';
import { getAuthenticatedUser, resolveAuthenticator, SharedPasswordAuthenticator } from '../src/auth/index.ts';

const cfg = (extra: Record<string, unknown> = {}): AuthenticatorConfig => ({
  allowed_users: [], admin_users: [], blocked_users: [], allow_all: null, allow_existing_users: null, any_allow_config: null,
  username_pattern: '', username_map: {}, auto_login: false, enable_auth_state: false, manage_groups: false, refresh_pre_spawn: false, auth_refresh_age: 300, ...extra,
});
const login = (username: string, password = '') => ({ username, password });
const USER_PW = 'eight-ch';
const ADMIN_PW = 'a'.repeat(32);

describe('allow_all and allow_existing_users defaults (JupyterHub 5.4)', () => {
  it('the classes decide allow_all when it is not set', () => {
    expect(resolveAuthenticator('dummy', cfg()).allowAll).toBe(true);
    expect(resolveAuthenticator('dummy', cfg({ allowed_users: ['ann'] })).allowAll).toBe(false);
    expect(resolveAuthenticator('tmp', cfg()).allowAll).toBe(true);
    expect(resolveAuthenticator('tmp', cfg({ allowed_users: ['ann'] })).allowAll).toBe(true);
    expect(resolveAuthenticator('null', cfg()).allowAll).toBe(false);
    expect(resolveAuthenticator('shared-password', cfg({ user_password: USER_PW })).allowAll).toBe(false);
    expect(resolveAuthenticator('dummy', cfg({ allow_all: false })).allowAll).toBe(false);
    expect(resolveAuthenticator('shared-password', cfg({ allow_all: true, user_password: USER_PW })).allowAll).toBe(true);
  });

  it('allow_existing_users follows allowed_users unless set', () => {
    expect(resolveAuthenticator('dummy', cfg()).allowExistingUsers).toBe(false);
    expect(resolveAuthenticator('dummy', cfg({ allowed_users: ['ann'] })).allowExistingUsers).toBe(true);
    expect(resolveAuthenticator('dummy', cfg({ allowed_users: ['ann'], allow_existing_users: false })).allowExistingUsers).toBe(false);
  });

  it('existing users get in only with allow_existing_users, and never past blocked_users', async () => {
    const exists = (n: string) => ['carl', 'mallory'].includes(n);
    const auth = resolveAuthenticator('dummy', cfg({ allowed_users: ['ann'], blocked_users: ['mallory'] }));
    expect(await getAuthenticatedUser(auth, login('carl'), exists)).toMatchObject({ name: 'carl' });
    expect(await getAuthenticatedUser(auth, login('carl'))).toBeNull();
    expect(await getAuthenticatedUser(auth, login('dora'), exists)).toBeNull();
    expect(await getAuthenticatedUser(auth, login('mallory'), exists)).toBeNull();
    const strict = resolveAuthenticator('dummy', cfg({ allowed_users: ['ann'], allow_existing_users: false }));
    expect(await getAuthenticatedUser(strict, login('carl'), exists)).toBeNull();
  });

  it('admin_users join a non-empty allowed_users (init_users), but do not open an empty one', async () => {
    const auth = resolveAuthenticator('dummy', cfg({ allowed_users: ['ann'], admin_users: ['Boss'] }));
    expect([...auth.allowedUsers].sort()).toEqual(['ann', 'boss']);
    expect(await getAuthenticatedUser(auth, login('boss'))).toMatchObject({ name: 'boss', admin: true });
    const onlyAdmins = resolveAuthenticator('shared-password', cfg({ admin_users: ['boss'], user_password: USER_PW }));
    expect(onlyAdmins.allowedUsers.size).toBe(0);
    expect(await getAuthenticatedUser(onlyAdmins, login('ann', USER_PW))).toBeNull();
  });

  it('warns at start-up when no allow config is found, unless told not to', () => {
    const text = (a: ReturnType<typeof resolveAuthenticator>) => a.startupMessages().map((m) => m.text).join('\n');
    expect(text(resolveAuthenticator('null', cfg()))).toMatch(/No allow config found/);
    expect(text(resolveAuthenticator('null', cfg({ any_allow_config: true })))).not.toMatch(/No allow config found/);
    expect(text(resolveAuthenticator('null', cfg({ allowed_users: ['a1'] })))).not.toMatch(/No allow config found/);
    expect(text(resolveAuthenticator('dummy', cfg()))).not.toMatch(/No allow config found/);
    expect(text(resolveAuthenticator('dummy', cfg()))).toMatch(/Using testing authenticator DummyAuthenticator/);
    expect(text(resolveAuthenticator('dummy', cfg({ password: 'x' })))).toMatch(/DummyAuthenticator.password is deprecated in JupyterHub 5.3/);
    expect(text(resolveAuthenticator('null', cfg({ allowed_users: ['b', 'a', 'c'] })))).toMatch(/single-character names: \["a","b","c"\]; did you mean set\(\['abc'\]\)/);
  });
});

describe('SharedPasswordAuthenticator', () => {
  const shared = (extra: Record<string, unknown> = {}) =>
    resolveAuthenticator('shared-password', cfg({ allow_all: true, user_password: USER_PW, admin_password: ADMIN_PW, admin_users: ['boss'], ...extra }));

  it('is found under its entry point and 5.4 class path, with a password form', () => {
    const auth = resolveAuthenticator('jupyterhub.authenticators.shared:SharedPasswordAuthenticator', cfg({ user_password: USER_PW }));
    expect(auth).toBeInstanceOf(SharedPasswordAuthenticator);
    expect(auth.className).toBe('jupyterhub.authenticators.shared.SharedPasswordAuthenticator');
    expect(auth.capabilities).toEqual({ temporaryUsers: false, passwordField: true, autoLogin: false, systemUsers: false });
  });

  it('the user password lets any name in as a non-admin; the admin password only admin_users, as admins', async () => {
    const auth = shared();
    expect(await getAuthenticatedUser(auth, login('Ann', USER_PW))).toMatchObject({ name: 'ann', admin: false });
    expect(await getAuthenticatedUser(auth, login('ann', ADMIN_PW))).toBeNull();
    expect(await getAuthenticatedUser(auth, login('ann', `${USER_PW} `))).toBeNull();
    expect(await getAuthenticatedUser(auth, login('boss', ADMIN_PW))).toMatchObject({ name: 'boss', admin: true });
    expect(await getAuthenticatedUser(auth, login('boss', USER_PW))).toBeNull();
    // 5.4 compares the name as typed: there "BOSS" with the user password is the non-admin "boss".
    expect(await getAuthenticatedUser(auth, login('BOSS', USER_PW))).toBeNull();
    expect(await getAuthenticatedUser(auth, login('BOSS', ADMIN_PW))).toMatchObject({ name: 'boss', admin: true });
  });

  it('without allow_all or allowed_users nobody gets in (5.4 default), with allowed_users only those', async () => {
    const closed = shared({ allow_all: null });
    expect(await getAuthenticatedUser(closed, login('ann', USER_PW))).toBeNull();
    // admin_users join allowed_users only when it has names, so they too need allow config.
    expect(await getAuthenticatedUser(closed, login('boss', ADMIN_PW))).toBeNull();
    const listed = shared({ allow_all: null, allowed_users: ['ann'] });
    expect(await getAuthenticatedUser(listed, login('ann', USER_PW))).toMatchObject({ name: 'ann' });
    expect(await getAuthenticatedUser(listed, login('bob', USER_PW))).toBeNull();
    expect(await getAuthenticatedUser(listed, login('boss', ADMIN_PW))).toMatchObject({ name: 'boss', admin: true });
  });

  it('refuses short or equal passwords, naming the exact key', () => {
    const err = (extra: Record<string, unknown>) => {
      try {
        resolveAuthenticator('shared-password', cfg(extra));
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('no error');
    };
    const short = err({ user_password: 'seven77' });
    expect(short).toBeInstanceOf(ConfigError);
    expect(short.key).toBe('SharedPasswordAuthenticator.user_password');
    expect(short.message).toBe('SharedPasswordAuthenticator.user_password must be at least 8 characters long, got 7 characters');
    const admin = err({ user_password: USER_PW, admin_password: 'b'.repeat(31) });
    expect(admin.key).toBe('SharedPasswordAuthenticator.admin_password');
    expect(admin.message).toBe('SharedPasswordAuthenticator.admin_password must be at least 32 characters, not 31.');
    expect(err({ user_password: ADMIN_PW, admin_password: ADMIN_PW }).message).toMatch(/user_password and SharedPasswordAuthenticator.admin_password cannot be the same/);
    // Code points, as Python counts: eight emoji are eight characters.
    expect(() => resolveAuthenticator('shared-password', cfg({ user_password: '😀'.repeat(8) }))).not.toThrow();
  });

  it("gives JupyterHub 5.4's start-up warnings and error", () => {
    const text = (extra: Record<string, unknown>) => resolveAuthenticator('shared-password', cfg({ allow_all: true, ...extra })).startupMessages();
    expect(text({})).toEqual([{ level: 'error', text: 'Neither SharedPasswordAuthenticator.admin_password nor SharedPasswordAuthenticator.user_password is set. Nobody will be able to login!' }]);
    expect(text({ admin_password: ADMIN_PW }).map((m) => m.text)).toEqual([
      expect.stringMatching(/^SharedPasswordAuthenticator.admin_password set, but SharedPasswordAuthenticator.admin_users is not/),
      'SharedPasswordAuthenticator.user_password not set. No non-admin users will be able to login.',
    ]);
    expect(text({ user_password: USER_PW, admin_users: ['boss'] }).map((m) => m.text)).toEqual([
      expect.stringMatching(/^SharedPasswordAuthenticator.admin_users set, but SharedPasswordAuthenticator.admin_password is not/),
    ]);
  });
});

describe('JupyterHub.load_groups in the configuration', () => {
  it('takes both forms and names the key of a bad one', async () => {
    const { loadConfig } = await import('../src/config/index.ts');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'nodehub-groups-cfg-'));
    const load = (groups: unknown) => {
      writeFileSync(join(dir, 'c.json'), JSON.stringify({ JupyterHub: { load_groups: groups } }));
      return loadConfig({ file: join(dir, 'c.json'), env: {} });
    };
    try {
      expect((await load({ a: ['x', 'x'], b: { users: ['y'], properties: { k: 1 } } })).hub.load_groups)
        .toEqual({ a: ['x'], b: { users: ['y'], properties: { k: 1 } } });
      await expect(load({ a: { user: ['x'] } })).rejects.toMatchObject({ key: 'JupyterHub.load_groups.a.user' });
      await expect(load({ a: 5 })).rejects.toMatchObject({ key: 'JupyterHub.load_groups.a' });
      await expect(load({ a: { users: 'x' } })).rejects.toMatchObject({ key: 'JupyterHub.load_groups.a.users' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
