// PAMAuthenticator against the machine's real PAM stack (pam_unix, /etc/shadow) with users this suite creates, and
// LocalProcessSpawner running a PAM user's server as that user. Needs root (useradd, reading /etc/shadow, switching
// uid) and python3-pamela; skipped otherwise.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getAuthenticatedUser, resolveAuthenticator } from '../src/auth/index.ts';
import type { AuthenticatorConfig } from '../src/config/types.ts';
import { LocalProcessSpawner } from '../src/spawner/local/spawner.ts';
import { makeSpec, mockInit, tmpRoot } from './support/spawner-fixtures.ts';

const canRun = (() => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import pamela']);
    execFileSync('which', ['useradd', 'chpasswd', 'setpriv']);
    return true;
  } catch {
    return false;
  }
})();

const tag = `${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const GOOD = `nhp${tag}a`;
const LOCKED = `nhp${tag}b`;
const OUTSIDE = `nhp${tag}c`;
const GROUP = `nhg${tag}`;
const PASSWORD = 'correct horse battery 9';
const users = [GOOD, LOCKED, OUTSIDE];

const sh = (file: string, args: string[], input?: string) => execFileSync(file, args, { input, stdio: ['pipe', 'pipe', 'pipe'] });

beforeAll(() => {
  if (!canRun) return;
  sh('groupadd', [GROUP]);
  for (const u of users) sh('useradd', ['-m', '-s', '/bin/sh', u]);
  sh('chpasswd', [], users.map((u) => `${u}:${PASSWORD}`).join('\n') + '\n');
  sh('usermod', ['-L', LOCKED]);
  sh('usermod', ['-aG', GROUP, GOOD]);
  sh('usermod', ['-aG', GROUP, LOCKED]);
});
afterAll(() => {
  if (!canRun) return;
  for (const u of users) {
    try {
      sh('userdel', ['-r', u]);
    } catch {
      // already gone
    }
  }
  try {
    sh('groupdel', [GROUP]);
  } catch {
    // already gone
  }
});

function pam(over: Partial<AuthenticatorConfig> = {}) {
  return resolveAuthenticator('pam', { allow_all: true, ...over } as AuthenticatorConfig);
}

describe.skipIf(!canRun)('PAMAuthenticator', () => {
  it("is JupyterHub's default authenticator and names its users system users", () => {
    const auth = resolveAuthenticator('default', {} as AuthenticatorConfig);
    expect(auth.className).toBe('jupyterhub.auth.PAMAuthenticator');
    expect(auth.capabilities.systemUsers).toBe(true);
    expect(resolveAuthenticator('jupyterhub.auth.PAMAuthenticator', {} as AuthenticatorConfig).className).toBe('jupyterhub.auth.PAMAuthenticator');
  });

  it('logs in a system user with their password and refuses a wrong one', async () => {
    const auth = pam();
    expect(await getAuthenticatedUser(auth, { username: GOOD, password: PASSWORD })).toMatchObject({ name: GOOD });
    expect(await getAuthenticatedUser(auth, { username: GOOD, password: `${PASSWORD}x` })).toBeNull();
    expect(await getAuthenticatedUser(auth, { username: `nobody${tag}`, password: PASSWORD })).toBeNull();
  });

  it('refuses a locked account', async () => {
    expect(await getAuthenticatedUser(pam(), { username: LOCKED, password: PASSWORD })).toBeNull();
  });

  it('with allowed_groups, lets in members of the Unix group only; admin_groups makes admins', async () => {
    const auth = pam({ allow_all: false, allowed_groups: [GROUP], admin_groups: [GROUP] });
    expect(await getAuthenticatedUser(auth, { username: GOOD, password: PASSWORD })).toMatchObject({ name: GOOD, admin: true });
    expect(await getAuthenticatedUser(auth, { username: OUTSIDE, password: PASSWORD })).toBeNull();
    // the group does not bypass blocked_users
    const blocked = pam({ allow_all: false, allowed_groups: [GROUP], blocked_users: [GOOD] });
    expect(await getAuthenticatedUser(blocked, { username: GOOD, password: PASSWORD })).toBeNull();
  });
});

describe.skipIf(!canRun)('LocalProcessSpawner with system users', () => {
  const root = tmpRoot();
  const live: LocalProcessSpawner[] = [];
  beforeAll(() => fs.mkdirSync(root, { mode: 0o711 }));
  afterEach(async () => {
    await Promise.all(live.splice(0).map((s) => s.stop().catch(() => {})));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const spawner = (user: string) => {
    const s = new LocalProcessSpawner(mockInit(root, { spec: makeSpec(user), systemUsers: true, config: { preload: false } }));
    live.push(s);
    return s;
  };

  it("runs a PAM user's server as that user: uid, gid, groups, HOME and SHELL from passwd, cwd their home", async () => {
    const [, , uid, gid, , home, shell] = execFileSync('getent', ['passwd', GOOD], { encoding: 'utf8' }).trim().split(':');
    const groupGid = execFileSync('getent', ['group', GROUP], { encoding: 'utf8' }).split(':')[2];
    const s = spawner(GOOD);
    const url = await s.start();
    const { pid } = s.getState() as { pid: number };
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(new RegExp(`^Uid:\\s+${uid}\\s`, 'm'));
    expect(status).toMatch(new RegExp(`^Gid:\\s+${gid}\\s`, 'm'));
    expect(/^Groups:(.*)$/m.exec(status)![1]!.trim().split(/\s+/)).toContain(groupGid);
    const env = await (await fetch(`${url}/user/${GOOD}/env`)).json() as Record<string, string>;
    expect(env).toMatchObject({ USER: GOOD, HOME: home, SHELL: shell });
    const proc = await (await fetch(`${url}/user/${GOOD}/proc`)).json() as { cwd: string };
    expect(proc.cwd).toBe(home);
    await s.stop();
    // the user's real home is never removed with the server
    expect(fs.existsSync(home!)).toBe(true);
  });

  it('refuses, with a clear error, a user who has no system account', async () => {
    await expect(spawner(`nosuch${tag}`).start()).rejects.toThrow(/has no system account.*create_system_users/s);
  });

  it('create_system_users adds the account with add_user_cmd before the server starts', async () => {
    const name = `nhp${tag}d`;
    users.push(name);
    const auth = pam({ create_system_users: true, add_user_cmd: ['useradd', '-m', '-s', '/bin/sh'] });
    await auth.preSpawnStart!(name);
    expect(execFileSync('getent', ['passwd', name], { encoding: 'utf8' })).toContain(`${name}:`);
    const s = spawner(name);
    await s.start();
    expect(path.isAbsolute((s.getState() as { home: string }).home)).toBe(true);
  });
});
