// oauthenticator 17's GenericOAuthenticator on openid-client (certified OpenID relying party): the authorization code
// flow with state and PKCE, user info from userdata_url, groups from the auth state, and refresh_user as oauthenticator
// does it (the access token is tried at userdata_url first; the refresh token only when that fails).
import type * as Oidc from 'openid-client';
import { ConfigError } from '../config/errors.ts';
import type { AuthenticatorConfig, GenericOAuthenticatorConfig } from '../config/types.ts';
import { BaseAuthenticator } from './base.ts';
import type { AuthResult, AuthenticatorCapabilities, OAuthFlow, OAuthPending, StartupMessage } from './types.ts';

const CLS = 'GenericOAuthenticator';

// openid-client (and jose under it) is imported on first use: a hub with another authenticator never loads it, which
// keeps it off every hub's start-up and idle memory.
let oidcLib: Promise<typeof Oidc> | null = null;
const loadOidc = (): Promise<typeof Oidc> => (oidcLib ??= import('openid-client'));

/** A dotted path into nested objects ('oauth_user.groups'), as oauthenticator's auth_state_groups_key reads it. */
export function dig(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Without discovery the ID token's issuer must still be known: Keycloak's endpoints live under the issuer's
 *  /protocol/openid-connect/; other providers' under the issuer itself. */
function guessIssuer(authorizeUrl: string): string {
  const u = new URL(authorizeUrl);
  const kc = u.pathname.indexOf('/protocol/openid-connect/');
  u.pathname = kc >= 0 ? u.pathname.slice(0, kc) : u.pathname.replace(/\/[^/]*$/, '');
  return u.href.replace(/\/$/, '').replace(/[?#].*$/, '');
}

export class GenericOAuthenticator extends BaseAuthenticator implements OAuthFlow {
  readonly className = 'oauthenticator.generic.GenericOAuthenticator';
  readonly loginService: string;
  readonly loginUrl = 'oauth_login';
  readonly capabilities: AuthenticatorCapabilities;
  readonly oauth = this;
  readonly logoutRedirectUrl: string;
  readonly callbackUrl: string;
  readonly manageGroups: boolean;
  private readonly c: GenericOAuthenticatorConfig;
  private readonly groupsKey: string;
  private readonly allowedGroups: ReadonlySet<string>;
  private readonly adminGroups: ReadonlySet<string>;
  private readonly warnings: StartupMessage[] = [];
  private configuration: Promise<Oidc.Configuration> | null = null;

  constructor(config: AuthenticatorConfig, env: Record<string, string | undefined> = process.env) {
    super(config);
    const c = { ...(config as unknown as GenericOAuthenticatorConfig) };
    // oauthenticator's environment fallbacks for settings left empty.
    c.client_id ||= env.OAUTH_CLIENT_ID ?? '';
    c.client_secret ||= env.OAUTH_CLIENT_SECRET ?? '';
    c.oauth_callback_url ||= env.OAUTH_CALLBACK_URL ?? '';
    c.authorize_url ||= env.OAUTH2_AUTHORIZE_URL ?? '';
    c.token_url ||= env.OAUTH2_TOKEN_URL ?? '';
    c.userdata_url ||= env.OAUTH2_USERDATA_URL ?? '';
    this.c = c;
    this.loginService = c.login_service === 'OAuth 2.0' && env.LOGIN_SERVICE ? env.LOGIN_SERVICE : c.login_service;
    this.logoutRedirectUrl = c.logout_redirect_url;
    this.callbackUrl = c.oauth_callback_url;
    this.manageGroups = config.manage_groups === true;
    this.capabilities = { temporaryUsers: false, systemUsers: false, passwordField: false, autoLogin: config.auto_login === true };
    if (!c.client_id) throw new ConfigError(`${CLS}.client_id is required (or OAUTH_CLIENT_ID)`, `${CLS}.client_id`);
    if (c.userdata_from_id_token) {
      if (c.userdata_url) throw new ConfigError(`${CLS}.userdata_url and ${CLS}.userdata_from_id_token cannot both be set (oauthenticator 17)`, `${CLS}.userdata_url`);
      if (!c.scope.includes('openid')) throw new ConfigError(`${CLS}.userdata_from_id_token needs openid in ${CLS}.scope: without it there is no ID token`, `${CLS}.scope`);
    }
    if (!c.oidc_issuer) {
      for (const k of ['authorize_url', 'token_url', ...(c.userdata_from_id_token ? [] : ['userdata_url'] as const)] as const) {
        if (!c[k]) throw new ConfigError(`${CLS}.${k} is required (or ${CLS}.oidc_issuer for discovery)`, `${CLS}.${k}`);
      }
    }
    const unrequested = c.allowed_scopes.filter((sc) => !c.scope.includes(sc));
    if (unrequested.length) throw new ConfigError(`${CLS}.allowed_scopes must be a subset of ${CLS}.scope; not requested: ${unrequested.join(', ')}`, `${CLS}.allowed_scopes`);
    if (!c.validate_server_cert) {
      throw new ConfigError(`${CLS}.validate_server_cert = false is not supported by nodehub; trust the provider's CA with NODE_EXTRA_CA_CERTS instead`, `${CLS}.validate_server_cert`);
    }
    this.groupsKey = c.claim_groups_key ? `oauth_user.${c.claim_groups_key}` : c.auth_state_groups_key;
    if (c.claim_groups_key) this.warnings.push({ level: 'warn', text: `${CLS}.claim_groups_key is deprecated in oauthenticator 17; use ${CLS}.auth_state_groups_key = "oauth_user.${c.claim_groups_key}"` });
    this.allowedGroups = new Set(c.allowed_groups);
    this.adminGroups = new Set(c.admin_groups);
    // oauthenticator 17: groups come from the auth state and only mean something with manage_groups.
    for (const k of ['allowed_groups', 'admin_groups'] as const) {
      if (c[k].length && !this.manageGroups) {
        throw new ConfigError(`${CLS}.${k} requires ${CLS}.manage_groups = true (oauthenticator 17)`, `${CLS}.${k}`);
      }
    }
    if (this.allowedGroups.size) this.anyAllowConfigFromGroups = true;
  }

  private anyAllowConfigFromGroups = false;

  override startupMessages(): StartupMessage[] {
    const base = super.startupMessages();
    const out = this.anyAllowConfigFromGroups ? base.filter((m) => !m.text.startsWith('No allow config')) : base;
    return [...out, ...this.warnings];
  }

  private config(): Promise<Oidc.Configuration> {
    this.configuration ??= this.buildConfiguration().catch((err) => {
      this.configuration = null; // try again on the next login, the provider may come up later
      throw err;
    });
    return this.configuration;
  }

  private async buildConfiguration(): Promise<Oidc.Configuration> {
    const oidc = await loadOidc();
    const c = this.c;
    const auth = c.client_secret ? (c.basic_auth ? oidc.ClientSecretBasic(c.client_secret) : oidc.ClientSecretPost(c.client_secret)) : oidc.None();
    const insecure = [c.oidc_issuer, c.authorize_url, c.token_url, c.userdata_url].some((u) => u.startsWith('http:'));
    let config: Oidc.Configuration;
    if (c.oidc_issuer) {
      config = await oidc.discovery(new URL(c.oidc_issuer), c.client_id, undefined, auth, insecure ? { execute: [oidc.allowInsecureRequests] } : undefined);
      const meta = config.serverMetadata();
      if (c.authorize_url || c.token_url || c.userdata_url) {
        const { supportsPKCE: _, ...plain } = meta;
        config = new oidc.Configuration({
          ...plain,
          authorization_endpoint: c.authorize_url || meta.authorization_endpoint,
          token_endpoint: c.token_url || meta.token_endpoint,
          userinfo_endpoint: c.userdata_url || meta.userinfo_endpoint,
        }, c.client_id, undefined, auth);
        if (insecure) oidc.allowInsecureRequests(config);
      }
    } else {
      config = new oidc.Configuration({
        issuer: guessIssuer(c.authorize_url), authorization_endpoint: c.authorize_url, token_endpoint: c.token_url, userinfo_endpoint: c.userdata_url,
      }, c.client_id, undefined, auth);
      if (insecure) oidc.allowInsecureRequests(config);
    }
    return config;
  }

  async authorizeUrl(redirectUri: string): Promise<{ url: string; pending: OAuthPending }> {
    const oidc = await loadOidc();
    const config = await this.config();
    const pending: OAuthPending = { state: oidc.randomState(), redirectUri };
    const params: Record<string, string> = { ...this.c.extra_authorize_params, redirect_uri: redirectUri, state: pending.state };
    if (this.c.scope.length) params.scope = this.c.scope.join(' ');
    if (this.c.enable_pkce) {
      pending.verifier = oidc.randomPKCECodeVerifier();
      params.code_challenge = await oidc.calculatePKCECodeChallenge(pending.verifier);
      params.code_challenge_method = 'S256';
    }
    if (this.c.scope.includes('openid')) params.nonce = pending.nonce = oidc.randomNonce();
    return { url: oidc.buildAuthorizationUrl(config, params).href, pending };
  }

  async callback(currentUrl: URL, pending: OAuthPending): Promise<AuthResult> {
    const oidc = await loadOidc();
    const config = await this.config();
    // The redirect_uri sent to the token endpoint must be the one the authorization used.
    const url = new URL(pending.redirectUri);
    url.search = currentUrl.search;
    const tokens = await oidc.authorizationCodeGrant(config, url, {
      expectedState: pending.state, pkceCodeVerifier: pending.verifier, expectedNonce: pending.nonce, idTokenExpected: this.c.userdata_from_id_token,
    }, { ...this.c.token_params });
    return this.userFromTokens(config, tokens);
  }

  private async userinfo(config: Oidc.Configuration, accessToken: string): Promise<Record<string, unknown>> {
    const oidc = await loadOidc();
    const url = new URL(config.serverMetadata().userinfo_endpoint!);
    for (const [k, v] of Object.entries(this.c.userdata_params)) url.searchParams.set(k, v);
    const res = await oidc.fetchProtectedResource(config, accessToken, url, 'GET');
    if (!res.ok) throw new Error(`userdata_url answered ${res.status}`);
    const body = await res.json();
    if (!body || typeof body !== 'object') throw new Error('userdata_url did not answer a JSON object');
    return body as Record<string, unknown>;
  }

  private async userFromTokens(config: Oidc.Configuration, tokens: Oidc.TokenEndpointResponse & Oidc.TokenEndpointResponseHelpers,
    previous?: Record<string, unknown>): Promise<AuthResult> {
    // userdata_from_id_token: the ID token's claims (openid-client checked issuer, audience, expiry and nonce).
    const claims = this.c.userdata_from_id_token ? tokens.claims() : undefined;
    if (this.c.userdata_from_id_token && !claims) throw new Error(`the token endpoint returned no ID token (${CLS}.userdata_from_id_token)`);
    const oauthUser = claims ? { ...claims } as Record<string, unknown> : await this.userinfo(config, tokens.access_token);
    const name = dig(oauthUser, this.c.username_claim);
    if (typeof name !== 'string' || !name) throw new Error(`the user info has no ${JSON.stringify(this.c.username_claim)} (${CLS}.username_claim)`);
    const { access_token, refresh_token, id_token, scope } = tokens;
    let authState: Record<string, unknown> = {
      access_token,
      // A refresh grant may not return a new refresh token; the old one stays valid then.
      refresh_token: refresh_token ?? previous?.refresh_token ?? null,
      id_token: id_token ?? previous?.id_token ?? null,
      scope: scope ? scope.split(' ') : [],
      token_response: { ...tokens },
      oauth_user: oauthUser,
      expires_at: tokens.expires_in ? Date.now() + tokens.expires_in * 1000 : null,
    };
    const hook = this.c.modify_auth_state_hook;
    if (hook) authState = ((await hook(this, authState)) as Record<string, unknown> | undefined) ?? authState;
    const groups = this.manageGroups ? this.groupsOf(authState) : undefined;
    let admin: boolean | undefined;
    if (this.adminGroups.size && groups) admin = groups.some((g) => this.adminGroups.has(g)) || this.isAdmin(this.normalizeUsername(name));
    return { name, admin, auth_state: authState, groups };
  }

  private groupsOf(authState: unknown): string[] {
    const v = dig(authState, this.groupsKey);
    return Array.isArray(v) ? v.filter((g): g is string => typeof g === 'string') : [];
  }

  /** oauthenticator 17's check_allowed: the base rules, or membership of allowed_groups, or admin. */
  async checkAllowedResult(name: string, result: AuthResult, userExists?: (name: string) => boolean | Promise<boolean>): Promise<boolean> {
    if (this.blockedUsers.has(name)) return false;
    if (await this.checkAllowed(name, userExists)) return true;
    if (result.admin === true) return true;
    // allowed_scopes: every one of them was granted (the token response's scope)
    const granted = ((result.auth_state as Record<string, unknown> | undefined)?.scope ?? []) as string[];
    if (this.c.allowed_scopes.length && this.c.allowed_scopes.every((sc) => granted.includes(sc))) return true;
    return (result.groups ?? []).some((g) => this.allowedGroups.has(g));
  }

  /** Not a password login: the hub's form never reaches here. */
  async authenticate(): Promise<AuthResult | null> {
    return null;
  }

  /** oauthenticator's refresh_user: true when the access token still works at userdata_url, a new AuthResult after a
   *  refresh grant, false when neither works (the user must log in again). */
  async refreshUser(authState: unknown): Promise<AuthResult | true | false> {
    const state = (authState ?? {}) as Record<string, unknown>;
    const config = await this.config();
    if (this.c.userdata_from_id_token) {
      // no user-info endpoint to try the access token at: it is good until it expires
      if (typeof state.expires_at === 'number' && state.expires_at > Date.now()) return true;
    } else if (typeof state.access_token === 'string') {
      try {
        await this.userinfo(config, state.access_token);
        return true;
      } catch { /* expired or revoked: try the refresh token */ }
    }
    if (typeof state.refresh_token !== 'string') return false;
    try {
      const tokens = await (await loadOidc()).refreshTokenGrant(config, state.refresh_token, { ...this.c.token_params });
      return await this.userFromTokens(config, tokens, state);
    } catch {
      return false;
    }
  }
}

