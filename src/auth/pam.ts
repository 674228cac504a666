// jupyterhub.auth.PAMAuthenticator: the machine's users log in with their system password. PAM is reached through a
// small Python helper (pam/pam-helper.py) using pamela, the binding JupyterHub itself uses (Debian's python3-pamela,
// which Debian's jupyterhub package already depends on): no native Node addon to build against each Node release
// (authenticate-pam and node-linux-pam are unmaintained native addons), no setuid, and PAM modules see the same calls
// as under JupyterHub. The password goes to the helper on stdin only — never a command line, environment or log.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AuthenticatorConfig } from '../config/types.ts';
import { systemGroupNames } from '../util/system-users.ts';
import { LocalAuthenticator } from './local.ts';
import type { AuthResult, AuthenticatorCapabilities, LoginData } from './types.ts';

const HELPER = fileURLToPath(new URL('./pam/pam-helper.py', import.meta.url));
// Debian's interpreter, where python3-pamela is installed, whatever python3 comes first on PATH.
const PYTHON = process.env.NODEHUB_PAM_PYTHON || '/usr/bin/python3';
const HELPER_TIMEOUT_MS = 60_000;

type PamOp = 'authenticate' | 'open_session' | 'close_session';
interface PamAnswer { ok: boolean; error?: string; unavailable?: boolean }

export class PAMAuthenticator extends LocalAuthenticator {
  readonly className = 'jupyterhub.auth.PAMAuthenticator';
  readonly loginService = '';
  readonly loginUrl = null;
  readonly capabilities: AuthenticatorCapabilities;
  private readonly service: string;
  private readonly encoding: string;
  private openSessions: boolean;
  private readonly checkAccount: boolean;
  private readonly adminGroups: ReadonlySet<string>;
  /** For log lines: PAM's reason for a refusal goes to the log, never to the visitor. */
  log: (message: string) => void = () => {};

  constructor(config: AuthenticatorConfig) {
    super(config, 'PAMAuthenticator');
    this.service = String(config.service ?? 'login');
    this.encoding = String(config.encoding ?? 'utf8');
    this.openSessions = config.open_sessions !== false;
    this.checkAccount = config.check_account !== false;
    this.adminGroups = new Set((config.admin_groups as string[] | undefined) ?? []);
    this.capabilities = { temporaryUsers: false, passwordField: true, autoLogin: config.auto_login === true, systemUsers: true };
  }

  async authenticate(data: LoginData): Promise<AuthResult | null> {
    const username = typeof data?.username === 'string' ? data.username : '';
    const password = typeof data?.password === 'string' ? data.password : '';
    if (!username) return null;
    const answer = await this.pam('authenticate', username, password);
    if (!answer.ok) {
      this.log(`PAM Authentication failed (${username}@${this.service}): ${answer.error}`);
      return null;
    }
    // admin_groups grants admin; not being in them leaves admin_users to decide (JupyterHub's is_admin).
    const admin = this.adminGroups.size > 0 && (await systemGroupNames(username)).some((g) => this.adminGroups.has(g)) ? true : undefined;
    return { name: username, admin };
  }

  override async preSpawnStart(name: string): Promise<void> {
    await super.preSpawnStart(name);
    if (!this.openSessions) return;
    const answer = await this.pam('open_session', name);
    if (!answer.ok) {
      // As JupyterHub does: many PAM stacks cannot open sessions for a service that is not a login (containers
      // without logind); one failure turns sessions off instead of failing every spawn.
      this.log(`Failed to open PAM session for ${name}: ${answer.error}; disabling PAM sessions (PAMAuthenticator.open_sessions = false)`);
      this.openSessions = false;
    }
  }

  async postSpawnStop(name: string): Promise<void> {
    if (!this.openSessions) return;
    const answer = await this.pam('close_session', name).catch((err: Error) => ({ ok: false, error: err.message }));
    if (!answer.ok) this.log(`Failed to close PAM session for ${name}: ${answer.error}`);
  }

  private pam(op: PamOp, user: string, password?: string): Promise<PamAnswer> {
    const request = JSON.stringify({ op, user, password, service: this.service, encoding: this.encoding, check_account: this.checkAccount });
    return new Promise((resolve, reject) => {
      const child = spawn(PYTHON, [HELPER], { stdio: ['pipe', 'pipe', 'pipe'], timeout: HELPER_TIMEOUT_MS, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' } });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.on('error', (e) => reject(new Error(`Could not run the PAM helper with ${PYTHON}: ${e.message}`)));
      child.on('close', (code) => {
        try {
          const answer = JSON.parse(out) as PamAnswer;
          if (answer.unavailable) reject(new Error(`PAMAuthenticator cannot reach PAM: ${answer.error} (install python3-pamela)`));
          else resolve(answer);
        } catch {
          reject(new Error(`The PAM helper exited with code ${code}: ${err.trim().split('\n').pop() ?? ''}`));
        }
      });
      child.stdin.on('error', () => {}); // an early exit is reported by 'close'
      child.stdin.end(`${request}\n`);
    });
  }
}
