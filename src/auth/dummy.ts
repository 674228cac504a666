// jupyterhub.auth.DummyAuthenticator: any user name; with DummyAuthenticator.password set, that shared password.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthenticatorConfig } from '../config/types.ts';
import { BaseAuthenticator } from './base.ts';
import type { AuthResult, AuthenticatorCapabilities, LoginData, StartupMessage } from './types.ts';

// Comparing digests keeps the comparison constant-time even when the lengths differ.
function samePassword(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export class DummyAuthenticator extends BaseAuthenticator {
  readonly className = 'jupyterhub.auth.DummyAuthenticator';
  readonly loginService = '';
  readonly loginUrl = null;
  readonly capabilities: AuthenticatorCapabilities;
  private readonly password: string;

  constructor(config: AuthenticatorConfig) {
    super(config);
    const password = config.password ?? '';
    if (typeof password !== 'string') throw new Error('DummyAuthenticator.password must be a string');
    this.password = password;
    this.capabilities = { temporaryUsers: false, passwordField: true, autoLogin: config.auto_login === true, systemUsers: false };
  }

  // JupyterHub 5.0 kept the testing authenticator open by default, as it was before allow_all existed.
  protected override defaultAllowAll(hasAllowedUsers: boolean): boolean {
    return !hasAllowedUsers;
  }

  override startupMessages(): StartupMessage[] {
    const out = super.startupMessages();
    if (this.password) {
      out.push({ level: 'warn', text: 'DummyAuthenticator.password is deprecated in JupyterHub 5.3. Use SharedPasswordAuthenticator.user_password instead.' });
    }
    out.push({ level: 'warn', text: 'Using testing authenticator DummyAuthenticator! This is not meant for production!' });
    return out;
  }

  async authenticate(data: LoginData): Promise<AuthResult | null> {
    const username = typeof data?.username === 'string' ? data.username : '';
    if (this.password) {
      const given = typeof data?.password === 'string' ? data.password : '';
      if (!samePassword(given, this.password)) return null;
    }
    return { name: username };
  }
}
