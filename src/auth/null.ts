// jupyterhub.auth.NullAuthenticator: nobody logs in through the browser; the hub is used with API tokens only.
import { BaseAuthenticator } from './base.ts';
import type { AuthResult } from './types.ts';

export class NullAuthenticator extends BaseAuthenticator {
  readonly className = 'jupyterhub.auth.NullAuthenticator';
  readonly loginService = 'null';
  readonly loginUrl = null;
  // auto_login with the hub's own login URL: the login page tries authenticate() at once, which fails → 403.
  readonly capabilities = { temporaryUsers: false, passwordField: false, autoLogin: true, systemUsers: false };

  async authenticate(): Promise<AuthResult | null> {
    return null;
  }
}
