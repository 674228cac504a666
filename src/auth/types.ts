// The Authenticator contract, after JupyterHub's Authenticator base class: the hub asks it who someone is and whether
// they may log in; it never touches HTTP or the database itself.
import type { AuthenticatorConfig } from '../config/types.ts';

export interface AuthResult {
  name: string;
  /** true/false sets the user's admin flag; undefined leaves the stored flag as it is (JupyterHub's None). */
  admin?: boolean;
  auth_state?: unknown;
  /** The user's groups as the authenticator learnt them: LDAP group DNs for check_allowed (never stored), or the
   *  provider's groups for manage_groups (undefined leaves hub groups alone). */
  groups?: string[];
}

/** What the login redirect remembers until the provider sends the browser back (kept in a signed cookie). */
export interface OAuthPending {
  state: string;
  redirectUri: string;
  verifier?: string;
  nonce?: string;
  next?: string;
}

/** An authenticator that logs in through an OAuth 2.0 provider (GenericOAuthenticator). */
export interface OAuthFlow {
  /** oauth_callback_url as configured; empty: derived from the request. */
  readonly callbackUrl: string;
  readonly logoutRedirectUrl: string;
  readonly manageGroups: boolean;
  authorizeUrl(redirectUri: string): Promise<{ url: string; pending: OAuthPending }>;
  /** The user from the provider's answer at the callback URL; throws when state, PKCE or the grant fail. */
  callback(currentUrl: URL, pending: OAuthPending): Promise<AuthResult>;
}

export interface LoginData {
  username: string;
  password: string;
}

export interface AuthenticatorCapabilities {
  /** Every visitor becomes a fresh, throw-away user (tmpauthenticator): the warm pool, the culler deleting users and
   *  the rules for serving strangers apply. */
  readonly temporaryUsers: boolean;
  /** The hub's login page shows a password field beside the user name. */
  readonly passwordField: boolean;
  /** Skip the login page and go straight to loginUrl (or try authenticate() with no data when loginUrl is null). */
  readonly autoLogin: boolean;
  /** Users are the machine's users (PAM, LDAP backed by NSS): a local spawner runs their servers as that passwd entry
   *  (uid, gid, groups, home, shell) instead of a uid from its range. */
  readonly systemUsers: boolean;
}

/** A start-up note about the authenticator's configuration (JupyterHub's check_allow_config). */
export interface StartupMessage {
  level: 'warn' | 'error';
  text: string;
}

export interface Authenticator {
  /** Python-style class name, for `GET /hub/api/info` and log lines. */
  readonly className: string;
  /** Text on the login button ("Sign in with …"); empty for the username/password form. */
  readonly loginService: string;
  /** Relative to the hub prefix, e.g. 'tmplogin'; null means the hub's own login form at 'login'. */
  readonly loginUrl: string | null;
  /** What this authenticator can do; the hub asks this, never the class name. */
  readonly capabilities: AuthenticatorCapabilities;
  /** A new temporary user's name, for an authenticator with `capabilities.temporaryUsers` (the warm pool makes its
   *  users ahead of visitors with it). */
  mintTemporaryName?(): string;
  /** Turns login data into a user, or null. Allow/block lists are applied by the caller (see getAuthenticatedUser). */
  authenticate(data: LoginData): Promise<AuthResult | null>;
  /** Lowercases and applies `username_map`, as JupyterHub does. */
  normalizeUsername(name: string): string;
  /** For a normalized name: not empty, no '/', no surrounding spaces, control or format characters or unpaired surrogates, ≤255, `username_pattern`. */
  validateUsername(name: string): boolean;
  /** The rule a name breaks (for messages), or null when validateUsername would accept it. */
  usernameProblem(name: string): string | null;
  /** `allow_all` after JupyterHub 5.4's rules (given, or the class's default). */
  readonly allowAll: boolean;
  /** `allow_existing_users`: every user in the database may log in. */
  readonly allowExistingUsers: boolean;
  /** Normalised `allowed_users`, plus `admin_users` when it is not empty. */
  readonly allowedUsers: ReadonlySet<string>;
  readonly blockedUsers: ReadonlySet<string>;
  readonly adminUsers: ReadonlySet<string>;
  /** `blocked_users` wins; then `allow_all`, `allowed_users`, and (with `allow_existing_users`) whether the user exists. */
  checkAllowed(name: string, userExists?: (name: string) => boolean | Promise<boolean>, authentication?: AuthResult): boolean | Promise<boolean>;
  /** Warnings and errors about the configuration, logged once at start-up. */
  startupMessages(): StartupMessage[];
  /** JupyterHub's pre_spawn_start: before a server of `name` starts (PAM opens its session; LocalAuthenticator creates
   *  a missing system user). A throw fails the spawn with its message. */
  preSpawnStart?(name: string): Promise<void>;
  /** JupyterHub's post_spawn_stop: after a server of `name` stopped (PAM closes its session). Never throws. */
  postSpawnStop?(name: string): Promise<void>;
  /** Where an authenticator that talks to a system (PAM, LDAP) notes why a login failed; the hub points it at its log. */
  log?: (message: string) => void;
  /** Present on OAuth authenticators: the login redirect and callback. */
  readonly oauth?: OAuthFlow;
  /** The allow decision with what authenticate returned (groups); checkAllowed is used when absent. */
  checkAllowedResult?(name: string, result: AuthResult, userExists?: (name: string) => boolean | Promise<boolean>): Promise<boolean>;
  /** JupyterHub's refresh_user: true (still valid), a fresh result (new auth state), or false (log in again). */
  refreshUser?(authState: unknown): Promise<AuthResult | true | false>;
  /** Whether the name is in `admin_users`. */
  isAdmin(name: string): boolean;
}

export type AuthenticatorFactory = (config: AuthenticatorConfig) => Authenticator;
