// jupyterhub.authenticators.shared.SharedPasswordAuthenticator (JupyterHub 5.3+): one password for every allowed
// non-admin name, a second, longer one that only admin_users may use. Anyone with the user password can be any
// allowed non-admin user, so it suits short events where users need no protection from each other. Wrong passwords
// are counted by the hub's login limiter (the one the event's password gate uses), not here.
import { ConfigError } from '../config/errors.ts';
import type { AuthenticatorConfig } from '../config/types.ts';
import { BaseAuthenticator } from './base.ts';
import { passwordMatches } from './shared-password.ts';
import type { AuthResult, AuthenticatorCapabilities, LoginData, StartupMessage } from './types.ts';

const CLS = 'SharedPasswordAuthenticator';
export const USER_PASSWORD_MIN_LENGTH = 8;
export const ADMIN_PASSWORD_MIN_LENGTH = 32;

function passwordSetting(config: AuthenticatorConfig, trait: string): string | null {
  const v = config[trait] ?? null;
  if (v !== null && typeof v !== 'string') throw new ConfigError(`${CLS}.${trait} must be a string or null`, `${CLS}.${trait}`);
  // An empty password means "not set", as in JupyterHub.
  return v || null;
}

export class SharedPasswordAuthenticator extends BaseAuthenticator {
  readonly className = 'jupyterhub.authenticators.shared.SharedPasswordAuthenticator';
  readonly loginService = '';
  readonly loginUrl = null;
  readonly capabilities: AuthenticatorCapabilities;
  private readonly userPassword: string | null;
  private readonly adminPassword: string | null;

  constructor(config: AuthenticatorConfig) {
    super(config);
    this.userPassword = passwordSetting(config, 'user_password');
    this.adminPassword = passwordSetting(config, 'admin_password');
    // Lengths in code points, as Python's len() counts them.
    const length = (s: string) => [...s].length;
    if (this.userPassword !== null && length(this.userPassword) < USER_PASSWORD_MIN_LENGTH) {
      throw new ConfigError(
        `${CLS}.user_password must be at least ${USER_PASSWORD_MIN_LENGTH} characters long, got ${length(this.userPassword)} characters`,
        `${CLS}.user_password`,
      );
    }
    if (this.adminPassword !== null && length(this.adminPassword) < ADMIN_PASSWORD_MIN_LENGTH) {
      throw new ConfigError(
        `${CLS}.admin_password must be at least ${ADMIN_PASSWORD_MIN_LENGTH} characters, not ${length(this.adminPassword)}.`,
        `${CLS}.admin_password`,
      );
    }
    if (this.adminPassword !== null && this.adminPassword === this.userPassword) {
      throw new ConfigError(`${CLS}.user_password and ${CLS}.admin_password cannot be the same`, `${CLS}.admin_password`);
    }
    this.capabilities = { temporaryUsers: false, passwordField: true, autoLogin: config.auto_login === true, systemUsers: false };
  }

  override startupMessages(): StartupMessage[] {
    const out = super.startupMessages();
    if (this.adminPassword && this.adminUsers.size === 0) {
      out.push({ level: 'warn', text: `${CLS}.admin_password set, but ${CLS}.admin_users is not. No admin users will be able to login. Add usernames to ${CLS}.admin_users to grant users admin permissions.` });
    }
    if (this.adminUsers.size > 0 && !this.adminPassword) {
      out.push({ level: 'warn', text: `${CLS}.admin_users set, but ${CLS}.admin_password is not. No admin users will be able to login. Set ${CLS}.admin_password to allow admins to login.` });
    }
    if (!this.userPassword) {
      // An error in the log but no refusal to start: a hub nobody can log in to is a valid choice.
      if (!this.adminPassword) out.push({ level: 'error', text: `Neither ${CLS}.admin_password nor ${CLS}.user_password is set. Nobody will be able to login!` });
      else out.push({ level: 'warn', text: `${CLS}.user_password not set. No non-admin users will be able to login.` });
    }
    return out;
  }

  async authenticate(data: LoginData): Promise<AuthResult | null> {
    const username = typeof data?.username === 'string' ? data.username : '';
    const given = typeof data?.password === 'string' ? data.password : '';
    // JupyterHub 5.4 compares the name as typed with the (normalised) admin_users, so "Admin" with the user password
    // passed as the non-admin "admin" and lost admin; comparing the normalised name keeps admin names for admins.
    if (this.adminUsers.has(this.normalizeUsername(username))) {
      if (this.adminPassword && passwordMatches(this.adminPassword, given)) return { name: username, admin: true };
      return null;
    }
    // The user password never makes an admin, and takes admin away from a name that had it.
    if (this.userPassword && passwordMatches(this.userPassword, given)) return { name: username, admin: false };
    return null;
  }
}
