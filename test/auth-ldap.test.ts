// LDAPAuthenticator against a real slapd the suite starts on a free port with its own configuration and an LDIF of
// users and groups (Debian packages slapd and ldap-utils, in scripts/setup.sh --test). Skipped without slapd.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAuthenticatedUser, resolveAuthenticator } from '../src/auth/index.ts';
import { escapeDnValue, escapeFilterValue } from '../src/auth/ldap.ts';
import type { AuthenticatorConfig } from '../src/config/types.ts';

const SLAPD = '/usr/sbin/slapd';
const hasSlapd = fs.existsSync(SLAPD) && fs.existsSync('/usr/sbin/slapadd');
const BASE = 'dc=example,dc=org';
const ADMIN = `cn=admin,${BASE}`;
const ADMIN_PW = 'admin-secret';
const STUDENTS = `cn=students,ou=groups,${BASE}`;

let dir = '';
let port = 0;
let slapd: ChildProcess | null = null;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    }).on('error', reject);
  });
}

async function listening(p: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`slapd exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(p, '127.0.0.1', () => { c.destroy(); resolve(true); }).on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const user = (uid: string, cn: string, pw: string) => `dn: uid=${uid},ou=people,${BASE}
objectClass: inetOrgPerson
uid: ${uid}
cn: ${cn}
sn: ${cn}
mail: ${uid}@example.org
userPassword: ${pw}
`;

beforeAll(async () => {
  if (!hasSlapd) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodehub-slapd-'));
  fs.mkdirSync(path.join(dir, 'db'));
  const conf = path.join(dir, 'slapd.conf');
  fs.writeFileSync(conf, `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile ${dir}/slapd.pid
database mdb
suffix "${BASE}"
rootdn "${ADMIN}"
rootpw ${ADMIN_PW}
directory ${dir}/db
access to attrs=userPassword by anonymous auth by self read by * none
access to * by * read
`);
  const ldif = `dn: ${BASE}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,${BASE}
objectClass: organizationalUnit
ou: people

dn: ou=groups,${BASE}
objectClass: organizationalUnit
ou: groups

${user('alice', 'alice', 'alice-pw')}
${user('bob', 'bob', 'bob-pw')}
${user('carol', 'Carol Lookup', 'carol-pw')}
dn: ${STUDENTS}
objectClass: groupOfNames
cn: students
member: uid=alice,ou=people,${BASE}
member: uid=carol,ou=people,${BASE}
`;
  fs.writeFileSync(path.join(dir, 'data.ldif'), ldif);
  execFileSync('/usr/sbin/slapadd', ['-f', conf, '-l', path.join(dir, 'data.ldif')], { stdio: 'pipe' });
  port = await freePort();
  slapd = spawn(SLAPD, ['-d', '0', '-h', `ldap://127.0.0.1:${port}/`, '-f', conf], { stdio: 'ignore' });
  await listening(port, slapd);
}, 60_000);

afterAll(async () => {
  if (slapd && slapd.exitCode === null) {
    const gone = new Promise((r) => slapd!.once('exit', r));
    slapd.kill('SIGTERM');
    await gone;
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function ldap(over: Record<string, unknown>) {
  return resolveAuthenticator('ldap', {
    allow_all: true, server_address: '127.0.0.1', server_port: port, tls_strategy: 'insecure', ...over,
  } as unknown as AuthenticatorConfig);
}

describe('LDAP escaping', () => {
  it('escapes filter and DN values', () => {
    expect(escapeFilterValue('*)(uid=*')).toBe('\\2a\\29\\28uid=\\2a');
    expect(escapeDnValue('a,b=c+d')).toBe('a\\,b\\=c\\+d');
    expect(escapeDnValue(' #x ')).toBe('\\ #x\\ ');
  });
});

describe.skipIf(!hasSlapd)('LDAPAuthenticator against slapd', () => {
  const template = { bind_dn_template: [`uid={username},ou=people,${BASE}`] };

  it('logs in with bind_dn_template and refuses a wrong or empty password', async () => {
    const auth = ldap(template);
    expect(auth.className).toBe('ldapauthenticator.LDAPAuthenticator');
    expect(await getAuthenticatedUser(auth, { username: 'alice', password: 'alice-pw' })).toMatchObject({ name: 'alice' });
    expect(await getAuthenticatedUser(auth, { username: 'alice', password: 'bob-pw' })).toBeNull();
    expect(await getAuthenticatedUser(auth, { username: 'alice', password: '' })).toBeNull();
  });

  it('with allowed_groups, lets in members of the group DN only', async () => {
    const auth = ldap({ ...template, allow_all: false, allowed_groups: [STUDENTS] });
    expect(await getAuthenticatedUser(auth, { username: 'alice', password: 'alice-pw' })).toMatchObject({ name: 'alice' });
    expect(await getAuthenticatedUser(auth, { username: 'bob', password: 'bob-pw' })).toBeNull();
  });

  it('lookup_dn finds the DN with the search user, and lookup_dn_user_dn_attribute becomes the user name', async () => {
    const auth = ldap({
      lookup_dn: true, lookup_dn_search_user: ADMIN, lookup_dn_search_password: ADMIN_PW, user_search_base: `ou=people,${BASE}`,
      user_attribute: 'uid', lookup_dn_user_dn_attribute: 'cn', auth_state_attributes: ['mail'], valid_username_regex: '^[a-z][.a-z0-9_-]*$',
    });
    const got = await getAuthenticatedUser(auth, { username: 'carol', password: 'carol-pw' });
    expect(got).toMatchObject({ name: 'carol lookup', auth_state: { user_attributes: { mail: 'carol@example.org' } } });
    expect(await getAuthenticatedUser(auth, { username: 'carol', password: 'alice-pw' })).toBeNull();
  });

  it('refuses a name trying LDAP injection, even with the name check opened up', async () => {
    const open = {
      lookup_dn: true, lookup_dn_search_user: ADMIN, lookup_dn_search_password: ADMIN_PW, user_search_base: `ou=people,${BASE}`,
      user_attribute: 'uid', lookup_dn_user_dn_attribute: 'cn', valid_username_regex: '.*',
    };
    for (const name of ['*)(uid=*', '*', 'alice)(|(uid=*']) {
      expect(await getAuthenticatedUser(ldap(template), { username: name, password: 'alice-pw' })).toBeNull();
      expect(await getAuthenticatedUser(ldap(open), { username: name, password: 'alice-pw' })).toBeNull();
      expect(await getAuthenticatedUser(ldap({ ...template, valid_username_regex: '.*' }), { username: name, password: 'alice-pw' })).toBeNull();
    }
  });
});
