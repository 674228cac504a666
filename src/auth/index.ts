// Public surface of auth/: scopes and roles, token values, cookies, and the Authenticator classes.
export * from './scopes.ts';
export { newApiToken, newOAuthToken, newOAuthCode, parseAuthorizationHeader } from './tokens.ts';
export {
  parseCookies,
  serializeCookie,
  clearCookie,
  signValue,
  verifySignedValue,
  hmacKey,
  loadOrCreateCookieSecret,
  type CookieOptions,
} from './cookies.ts';
export { COOKIE_SECRET_BYTES, type CookieSecretOptions } from './cookie-secret.ts';
export type { Authenticator, AuthResult, OAuthFlow, OAuthPending, LoginData, AuthenticatorFactory, StartupMessage } from './types.ts';
export { BaseAuthenticator } from './base.ts';
export { DummyAuthenticator } from './dummy.ts';
export { NullAuthenticator } from './null.ts';
export { PAMAuthenticator } from './pam.ts';
export { LDAPAuthenticator } from './ldap.ts';
export { SharedPasswordAuthenticator } from './shared-password-authenticator.ts';
export { TmpAuthenticator } from './tmp.ts';
export { resolveAuthenticator, registerAuthenticator, knownAuthenticators } from './registry.ts';
export { getAuthenticatedUser, checkResult } from './login.ts';
export { GenericOAuthenticator } from './generic-oauth.ts';
export { CryptKeeper } from './crypt.ts';
export { temporaryUsers, type TemporaryUsers } from './temporary-users.ts';
