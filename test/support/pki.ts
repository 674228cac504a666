// A small PKI made with Debian's openssl for TLS tests: a site CA, a server certificate for 127.0.0.1/localhost, client
// certificates by CN (valid, expired), and a second CA whose certificates the hub must not accept.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const hasOpenssl = existsSync('/usr/bin/openssl');

function openssl(dir: string, args: string[]): void {
  execFileSync('/usr/bin/openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface Pki {
  dir: string;
  /** Paths: <name>.crt and <name>.key in dir. */
  crt(name: string): string;
  key(name: string): string;
  /** A certificate authority named `name`. */
  ca(name: string, cn: string): void;
  /** A certificate for `cn` signed by CA `by`; `days` -1 makes one that has expired; `server` adds the SAN for 127.0.0.1. */
  issue(name: string, cn: string, by: string, opts?: { days?: number; server?: boolean }): void;
}

export function makePki(dir: string): Pki {
  const crt = (n: string) => join(dir, `${n}.crt`);
  const key = (n: string) => join(dir, `${n}.key`);
  const newKey = (n: string) => {
    openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key(n)]);
    chmodSync(key(n), 0o600);
  };
  return {
    dir, crt, key,
    ca(name, cn) {
      newKey(name);
      openssl(dir, ['req', '-x509', '-new', '-key', key(name), '-out', crt(name), '-subj', `/O=Test University/CN=${cn}`, '-days', '30',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    },
    issue(name, cn, by, opts = {}) {
      newKey(name);
      const csr = join(dir, `${name}.csr`);
      openssl(dir, ['req', '-new', '-key', key(name), '-out', csr, '-subj', `/O=Test University/OU=NLHPC/CN=${cn}`]);
      const ext = join(dir, `${name}.ext`);
      writeFileSync(ext, opts.server
        ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
        : 'extendedKeyUsage=clientAuth\n');
      openssl(dir, ['x509', '-req', '-in', csr, '-CA', crt(by), '-CAkey', key(by), '-CAcreateserial', '-out', crt(name),
        '-days', String(opts.days ?? 30), '-extfile', ext]);
    },
  };
}
