// A throw-away slapd (Debian's slapd package) on a free port: its own slapd.conf and an LDIF of users and groups under
// dc=example,dc=org, loaded with slapadd before the server starts. Optionally with a certificate, so clients can use
// StartTLS (ldapauthenticator 1.x always does). Used by the LDAP tests and bench/slurm.ts.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const SLAPD = '/usr/sbin/slapd';
export const hasSlapd = fs.existsSync(SLAPD) && fs.existsSync('/usr/sbin/slapadd');
export const BASE = 'dc=example,dc=org';
export const ADMIN = `cn=admin,${BASE}`;
export const ADMIN_PW = 'admin-secret';
export const userDn = (uid: string) => `uid=${uid},ou=people,${BASE}`;

export interface LdapUser { uid: string; cn?: string; password: string }
export interface LdapGroup { cn: string; members: string[] }

export interface Slapd {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

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

const entry = (u: LdapUser) => `dn: ${userDn(u.uid)}
objectClass: inetOrgPerson
uid: ${u.uid}
cn: ${u.cn ?? u.uid}
sn: ${u.cn ?? u.uid}
mail: ${u.uid}@example.org
userPassword: ${u.password}
`;

const group = (g: LdapGroup) => `dn: cn=${g.cn},ou=groups,${BASE}
objectClass: groupOfNames
cn: ${g.cn}
${g.members.map((m) => `member: ${userDn(m)}`).join('\n')}
`;

export async function startSlapd(opts: { users: LdapUser[]; groups?: LdapGroup[]; tls?: { crt: string; key: string } }): Promise<Slapd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodehub-slapd-'));
  fs.mkdirSync(path.join(dir, 'db'));
  const conf = path.join(dir, 'slapd.conf');
  const tls = opts.tls ? `TLSCertificateFile ${opts.tls.crt}\nTLSCertificateKeyFile ${opts.tls.key}\n` : '';
  fs.writeFileSync(conf, `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile ${dir}/slapd.pid
${tls}database mdb
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

${opts.users.map(entry).join('\n')}
${(opts.groups ?? []).map(group).join('\n')}`;
  fs.writeFileSync(path.join(dir, 'data.ldif'), ldif);
  execFileSync('/usr/sbin/slapadd', ['-f', conf, '-l', path.join(dir, 'data.ldif')], { stdio: 'pipe' });
  const port = await freePort();
  const child = spawn(SLAPD, ['-d', '0', '-h', `ldap://127.0.0.1:${port}/`, '-f', conf], { stdio: 'ignore' });
  await listening(port, child);
  return {
    port, dir,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
