// LDAPAuthenticator against a real slapd the suite starts on a free port with its own configuration and an LDIF of
// users and groups (Debian packages slapd and ldap-utils, in scripts/setup.sh --test). Skipped without slapd.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAuthenticatedUser, resolveAuthenticator } from '../src/auth/index.ts';
import { escapeDnValue, escapeFilterValue } from '../src/auth/ldap.ts';
import type { AuthenticatorConfig } from '../src/config/types.ts';
import { hasOpenssl, makePki } from './support/pki.ts';
import { ADMIN, ADMIN_PW, BASE, hasSlapd, startSlapd, type Slapd } from './support/slapd.ts';

const STUDENTS = `cn=students,ou=groups,${BASE}`;

let slapd: Slapd | null = null;
let port = 0;
let caPem = '';

beforeAll(async () => {
  if (!hasSlapd) return;
  // A certificate for StartTLS (ldapauthenticator's default); the other cases use tls_strategy insecure.
  const pki = hasOpenssl ? makePki(fs.mkdtempSync(path.join(os.tmpdir(), 'nodehub-ldap-pki-'))) : null;
  pki?.ca('ca', 'LDAP test CA');
  pki?.issue('ldap', '127.0.0.1', 'ca', { server: true });
  caPem = pki ? fs.readFileSync(pki.crt('ca'), 'utf8') : '';
  slapd = await startSlapd({
    tls: pki ? { crt: pki.crt('ldap'), key: pki.key('ldap') } : undefined,
    users: [{ uid: 'alice', password: 'alice-pw' }, { uid: 'bob', password: 'bob-pw' }, { uid: 'carol', cn: 'Carol Lookup', password: 'carol-pw' }],
    groups: [{ cn: 'students', members: ['alice', 'carol'] }],
  });
  port = slapd.port;
}, 60_000);

afterAll(async () => {
  await slapd?.stop();
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

  it.skipIf(!hasOpenssl)('StartTLS (use_ssl false, tls_kwargs with the CA) for one login after another', async () => {
    // ldapts keeps the socket in the options object it is given: a shared tls_kwargs once made the second login
    // reuse the first connection's closed socket.
    const auth = ldap({ ...template, tls_strategy: 'before_bind', use_ssl: false, tls_kwargs: { ca: caPem } });
    expect(await getAuthenticatedUser(auth, { username: 'alice', password: 'alice-pw' })).toMatchObject({ name: 'alice' });
    expect(await getAuthenticatedUser(auth, { username: 'bob', password: 'bob-pw' })).toMatchObject({ name: 'bob' });
    expect(await getAuthenticatedUser(auth, { username: 'bob', password: 'alice-pw' })).toBeNull();
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
