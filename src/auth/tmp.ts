// tmpauthenticator.TmpAuthenticator (1.0, spec 4): every visit to /hub/tmplogin mints a new user named by a uuid4.
import { randomUUID } from 'node:crypto';
import { BaseAuthenticator } from './base.ts';
import type { AuthResult } from './types.ts';

export class TmpAuthenticator extends BaseAuthenticator {
  readonly className = 'tmpauthenticator.TmpAuthenticator';
  readonly loginService = 'Automatic Temporary Credentials';
  readonly loginUrl = 'tmplogin';
  // autoLogin always: tmpauthenticator defaults auto_login to True and the merged config cannot tell "unset" from False.
  readonly capabilities = { temporaryUsers: true, passwordField: false, autoLogin: true, systemUsers: false };

  mintTemporaryName(): string {
    return randomUUID();
  }

  // Every visitor is a stranger with a fresh name: an allow list could never name them (tmpauthenticator's main
  // branch defaults allow_all to true for JupyterHub 5).
  protected override defaultAllowAll(): boolean {
    return true;
  }

  async authenticate(): Promise<AuthResult | null> {
    return { name: this.mintTemporaryName() };
  }
}
