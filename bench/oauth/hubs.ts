// The hubs of the single sign-on bench (bench/oauth-login.ts), each with the same GenericOAuthenticator settings
// against one OpenID provider: nodehub; Debian's JupyterHub 3.0 (/usr/bin/jupyterhub) with oauthenticator 17.4.0's
// source on PYTHONPATH, the acceptance line's reference; and, as an option, JupyterHub 5.4.6 from source with the same
// oauthenticator. The JupyterHubs launch configurable-http-proxy from npm under the system node, as bench/hub.ts does.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../nodehub.ts';
import { JUPYTERHUB_BIN, py, SYSTEM_NODE } from '../reference.ts';
import { NPM_CHP } from '../hub/systems.ts';
import { freePort } from '../lib/ports.ts';
import { makeTempDir, startProcess, waitForUrl, type ManagedProcess } from '../lib/procs.ts';

export const OAUTH_SRC = process.env.OAUTH_SRC ?? '/tmp/oauth174';
export const JH54_SRC = process.env.JH54_SRC ?? '/tmp/jh54';
const RUN54 = resolve(REPO_ROOT, '../shared/reference/run-jupyterhub-5.4.sh');
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Auth state is on in the seed's hub, so both sides encrypt it with the same kind of key (32 bytes, hex). */
const CRYPT_KEY = randomBytes(32).toString('hex');

export type HubKind = 'nodehub' | 'jupyterhub30' | 'jupyterhub54';
export const LABEL: Record<HubKind, string> = {
  nodehub: 'nodehub',
  jupyterhub30: 'JupyterHub 3.0 (Debian) + oauthenticator 17.4',
  jupyterhub54: 'JupyterHub 5.4.6 + oauthenticator 17.4',
};

export interface OAuthHub { kind: HubKind; url: string; port: number; process: ManagedProcess; stop(): Promise<void>; api(path: string): Promise<Response> }

/** What a hub of this kind needs on this machine that is missing (empty: it can run). */
export function missing(kind: HubKind): string[] {
  const need = kind === 'nodehub' ? [] : kind === 'jupyterhub30' ? [JUPYTERHUB_BIN, OAUTH_SRC, NPM_CHP, SYSTEM_NODE] : [RUN54, JH54_SRC, OAUTH_SRC, NPM_CHP, SYSTEM_NODE];
  return need.filter((p) => !existsSync(p));
}

/** The seed's login settings, oauthenticator 17's trait names; the same on every hub. */
export function oauthSettings(issuer: string, hubUrl: string): Record<string, unknown> {
  return {
    client_id: 'hub', client_secret: 'hub-secret', oauth_callback_url: `${hubUrl}hub/oauth_callback`,
    authorize_url: `${issuer}/auth`, token_url: `${issuer}/token`, userdata_url: `${issuer}/me`,
    scope: ['openid', 'profile', 'groups'], username_claim: 'preferred_username', login_service: 'Keycloak',
    allowed_groups: ['jupyter-users'], admin_groups: ['hub-admins'],
  };
}

export async function startHub(kind: HubKind, port: number, issuer: string): Promise<OAuthHub> {
  const url = `http://127.0.0.1:${port}/`;
  const dir = makeTempDir(`oauth-${kind}`);
  // An admin service token (3.0's admin role carries admin:auth_state) for the after-run checks of the users' models.
  const token = randomBytes(32).toString('hex');
  const env = { PATH: SYSTEM_PATH, HOME: dir, LANG: 'C.UTF-8', JUPYTERHUB_CRYPT_KEY: CRYPT_KEY };
  let proc: ManagedProcess;
  if (kind === 'nodehub') {
    const config = join(dir, 'nodehub.json');
    writeFileSync(config, JSON.stringify({
      JupyterHub: { ip: '127.0.0.1', port, db_url: `sqlite:///${join(dir, 'nodehub.sqlite')}`, cookie_secret_file: join(dir, 'cookie_secret'),
        authenticator_class: 'oauthenticator.generic.GenericOAuthenticator', log_level: 'warn',
        services: [{ name: 'bench', api_token: token, admin: true }] },
      Authenticator: { enable_auth_state: true, manage_groups: true },
      GenericOAuthenticator: oauthSettings(issuer, url),
    }));
    proc = startProcess({ name: 'nodehub', command: process.execPath, args: [join(REPO_ROOT, 'bin', 'nodehub.mjs'), '-f', config], env, cwd: dir });
  } else {
    const pyValue = (v: unknown) => JSON.stringify(v).replace(/\btrue\b/g, 'True').replace(/\bfalse\b/g, 'False');
    const config = join(dir, 'jupyterhub_config.py');
    writeFileSync(config, [
      `c.JupyterHub.ip = '127.0.0.1'`, `c.JupyterHub.port = ${port}`, `c.JupyterHub.hub_ip = '127.0.0.1'`, `c.JupyterHub.hub_port = ${await freePort()}`,
      `c.JupyterHub.db_url = ${py(`sqlite:///${join(dir, 'jupyterhub.sqlite')}`)}`, `c.JupyterHub.cookie_secret_file = ${py(join(dir, 'cookie_secret'))}`,
      ...(kind === 'jupyterhub54' ? [`c.JupyterHub.data_files_path = ${py(`${JH54_SRC}/share/jupyterhub`)}`] : []),
      `c.JupyterHub.log_level = 'WARN'`,
      `c.ConfigurableHTTPProxy.command = [${py(SYSTEM_NODE)}, ${py(NPM_CHP)}]`,
      `c.ConfigurableHTTPProxy.api_url = ${py(`http://127.0.0.1:${await freePort()}`)}`,
      `c.ConfigurableHTTPProxy.pid_file = ${py(join(dir, 'proxy.pid'))}`,
      `c.JupyterHub.services = [{'name': 'bench', 'api_token': ${py(token)}, 'admin': True}]`,
      `c.JupyterHub.authenticator_class = 'oauthenticator.generic.GenericOAuthenticator'`,
      // JupyterHub 3.0's Authenticator has these two (manage_groups since 2.2); allowed_groups and admin_groups are
      // oauthenticator's own traits.
      `c.Authenticator.enable_auth_state = True`, `c.Authenticator.manage_groups = True`,
      ...Object.entries(oauthSettings(issuer, url)).map(([k, v]) => `c.GenericOAuthenticator.${k} = ${pyValue(v)}`),
      '',
    ].join('\n'));
    const command = kind === 'jupyterhub30' ? JUPYTERHUB_BIN : '/bin/bash';
    const args = kind === 'jupyterhub30' ? ['-f', config] : [RUN54, '-f', config];
    proc = startProcess({ name: kind, command, args, env: { ...env, PYTHONPATH: OAUTH_SRC, JH54_SRC }, cwd: dir });
  }
  try {
    await waitForUrl(`${url}hub/login`, { process: proc, timeoutMs: 60_000, intervalMs: 100, accept: (s) => s === 200 });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const api = (path: string) => fetch(`${url}hub/api${path}`, { headers: { authorization: `token ${token}` } });
  return { kind, url, port, process: proc, stop: () => proc.stop(15_000), api };
}

/** Not timed: what the hub made of two logins — groups from the provider, admin from admin_groups, auth state kept. */
export async function checkLogins(hub: OAuthHub, admin: string, member: string): Promise<string> {
  const problems: string[] = [];
  for (const [name, wantAdmin] of [[admin, true], [member, false]] as const) {
    const res = await hub.api(`/users/${encodeURIComponent(name)}`);
    if (res.status !== 200) { problems.push(`GET /users/${name}: ${res.status}`); continue; }
    const m = await res.json() as { admin?: boolean; groups?: string[]; auth_state?: { access_token?: string; oauth_user?: { groups?: string[] } } | null };
    if (m.admin !== wantAdmin) problems.push(`${name}: admin ${m.admin}`);
    if (!m.groups?.includes('jupyter-users')) problems.push(`${name}: groups ${JSON.stringify(m.groups)}`);
    if (!m.auth_state?.access_token || !m.auth_state.oauth_user?.groups?.includes('jupyter-users')) problems.push(`${name}: auth_state ${JSON.stringify(m.auth_state)?.slice(0, 80)}`);
  }
  return problems.length ? `NOT as oauthenticator: ${problems.join('; ')}` : 'groups synced (manage_groups), admin from admin_groups, auth_state with access_token and oauth_user: as expected';
}

/** Not timed: every module oauthenticator (with JupyterHub 3.0's app) imports comes from a Debian package or its source. */
export function checkDebianImports(): string {
  const script = [
    'import sys, sysconfig, oauthenticator.generic, jupyterhub.app',
    'std = sysconfig.get_paths()["stdlib"] + "/"',
    'tops = {}',
    'for name, m in list(sys.modules.items()):',
    '    f = getattr(m, "__file__", None) or ""',
    '    if f and not (f.startswith(std) and "-packages" not in f): tops.setdefault(name.split(".")[0], f)',
    'print(len(tops)); [print(t, f) for t, f in sorted(tops.items()) if not f.startswith("/usr/lib/python3/dist-packages/") and not f.startswith(sys.argv[1])]',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', script, `${OAUTH_SRC}/`], { env: { PATH: SYSTEM_PATH, PYTHONPATH: OAUTH_SRC, LANG: 'C.UTF-8' }, encoding: 'utf8' });
  if (r.status !== 0) return `import failed: ${r.stderr.trim().split('\n').at(-1)}`;
  const [count, ...others] = r.stdout.trim().split('\n');
  return others.length ? `imports from outside Debian's packages: ${others.join(', ')}` :
    `all ${count} top-level non-stdlib modules imported with oauthenticator.generic and jupyterhub.app come from /usr/lib/python3/dist-packages (Debian) or ${OAUTH_SRC}`;
}
