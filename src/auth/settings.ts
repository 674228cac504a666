// The settings of every authenticator (JupyterHub's Authenticator class), of the built-in authenticators, and of the
// event's shared-password gate, declared once here.
import { configurable, setting } from '../config/declare.ts';
import * as t from '../config/traits.ts';

export const Authenticator = configurable('Authenticator', null, 'Settings for every authenticator: who may log in and who is admin.', {
  allowed_users: setting(t.names, [], 'Users allowed to log in (besides everyone, with allow_all); created at start-up. admin_users are added to it when it is not empty.', { deprecated: ['whitelist'] }),
  admin_users: setting(t.names, [], 'Users given the admin role; created at start-up. Removing a name never revokes admin.'),
  blocked_users: setting(t.names, [], 'Users never allowed to log in; at start-up those in the database lose admin, their roles and groups, and their servers are stopped.', { deprecated: ['blacklist'] }),
  allow_all: setting(t.nullable(t.bool), null, 'Let everyone the authenticator accepts log in. null: the class decides, as in JupyterHub 5.4: false, except DummyAuthenticator (true unless allowed_users is set) and TmpAuthenticator (true).'),
  allow_existing_users: setting(t.nullable(t.bool), null, 'Let every user in the database log in (users added through the API or the admin page, or allowed before). null: true when allowed_users is set, as in JupyterHub 5.4 (and implicitly in 3.x).'),
  any_allow_config: setting(t.nullable(t.bool), null, 'Set true to silence the start-up warning that no allow configuration was found. null: derived from allow_all, allow_existing_users and allowed_users.'),
  username_pattern: setting(t.string, '', 'Regular expression every user name must match at its start (Python re.match); empty allows any name.'),
  username_map: setting(t.stringMap, {}, 'Maps the (lowercased) names the authenticator gives to hub user names.'),
  auto_login: setting(t.bool, false, 'Skip the login page and start the login at once.'),
  enable_auth_state: setting(t.bool, false, "Keep what the authenticator returns as auth_state (tokens, claims) per user, encrypted with JUPYTERHUB_CRYPT_KEY; start-up stops without that key."),
  manage_groups: setting(t.bool, false, "The authenticator's groups for a user replace the user's hub groups at each login (groups are created as needed)."),
  refresh_pre_spawn: setting(t.bool, false, "Refresh the user's auth (refresh_user) before every spawn; a failed refresh refuses the spawn and sends the browser to log in again."),
  auth_refresh_age: setting(t.int, 300, "Seconds after which a user's auth is refreshed (refresh_user) when they spawn; 0 never refreshes on age."),
});

export const DummyAuthenticator = configurable('DummyAuthenticator', Authenticator, 'Any user name logs in (for testing), optionally with one shared password.', {
  password: setting(t.string, '', 'Deprecated in JupyterHub 5.3 (use SharedPasswordAuthenticator.user_password): password every user must give; empty accepts any password.'),
});

export const SharedPasswordAuthenticator = configurable('SharedPasswordAuthenticator', Authenticator, "JupyterHub 5.3+'s shared passwords: any allowed name logs in with user_password; admin_users log in, as admins, only with admin_password. For short events where users need no protection from each other.", {
  user_password: setting(t.nullable(t.string), null, 'Password for every non-admin user, at least 8 characters; null or empty: only admins can log in. Whoever knows it can log in as any allowed non-admin user.'),
  admin_password: setting(t.nullable(t.string), null, 'Password for the users in admin_users (and only them), at least 32 characters and not the user_password; null or empty: admins cannot log in.'),
});

export const TmpAuthenticator = configurable('TmpAuthenticator', Authenticator, 'Every visitor gets a new temporary user, no login page.', {
  force_new_server: setting(t.bool, false, "A visit to the hub's front URL without `next` (and any visit to /hub/tmplogin) gives a fresh user and server and stops the browser's old server; links with `next` (nbgitpuller) keep the user. Off, as in tmpauthenticator 0.6: a return visit keeps the user and server."),
});

export const NullAuthenticator = configurable('NullAuthenticator', Authenticator, 'No logins at all; only API tokens reach the hub.', {
  auto_login: setting(t.bool, true, 'No login page to show, so there is nothing to click.'),
});

export const LocalAuthenticator = configurable('LocalAuthenticator', Authenticator, "Settings of authenticators whose users are the machine's users (PAMAuthenticator): their servers run as that user.", {
  create_system_users: setting(t.bool, false, 'Create the system account (add_user_cmd) of a user the hub adds who has none; without it, such a user cannot start a server.'),
  add_user_cmd: setting(t.command, ['adduser', '-q', '--gecos', '""', '--disabled-password'], 'Command that creates a system user, as a list of words: USERNAME in any word is replaced by the name, and the name is appended as the last argument (JupyterHub\'s Linux default).'),
  uids: setting(t.jsonObject, {}, 'Maps user names to the uid to create their account with (added to add_user_cmd as `-u <uid>`), so accounts made again get the same uid.'),
  allowed_groups: setting(t.names, [], 'Unix groups whose members may log in (primary group included, from the system group database), besides allowed_users.', { deprecated: ['group_whitelist'] }),
});

export const PAMAuthenticator = configurable('PAMAuthenticator', LocalAuthenticator, "The machine's users log in with their system password, checked by PAM (JupyterHub's default authenticator).", {
  service: setting(t.string, 'login', 'The PAM service (a file in /etc/pam.d) to authenticate with.'),
  encoding: setting(t.string, 'utf8', 'Encoding of user names and passwords given to PAM.'),
  open_sessions: setting(t.bool, true, 'Open a PAM session when a server starts and close it when it stops. A session that fails to open is logged and turns this off, as in JupyterHub.'),
  check_account: setting(t.bool, true, 'Ask PAM whether the account may be used (pam_acct_mgmt: locked, expired) after the password, as JupyterHub does.'),
  admin_groups: setting(t.names, [], 'Unix groups whose members are admins.'),
});

export const LDAPAuthenticator = configurable('LDAPAuthenticator', Authenticator, "ldapauthenticator's LDAPAuthenticator: a user logs in by binding to the directory with their DN and password.", {
  server_address: setting(t.string, '', 'Host name or address of the LDAP server (required).'),
  server_port: setting(t.nullable(t.int), null, 'Port of the LDAP server; null: 636 with tls_strategy on_connect, else 389.'),
  use_ssl: setting(t.nullable(t.bool), null, 'Deprecated in ldapauthenticator 2.0 (use tls_strategy): true means tls_strategy on_connect (LDAPS); false, as in 1.x, means StartTLS before the bind.'),
  tls_strategy: setting(t.oneOf(['before_bind', 'on_connect', 'insecure'] as const), 'before_bind', 'before_bind: StartTLS before binding; on_connect: LDAPS from the start; insecure: no TLS at all (passwords cross the network in clear).'),
  tls_kwargs: setting(t.jsonObject, {}, 'Options for the TLS connection (Node tls.connect options such as ca, rejectUnauthorized, servername).'),
  bind_dn_template: setting(t.command, [], 'DN template(s) to bind as, tried in order; {username} is replaced by the escaped user name, e.g. uid={username},ou=people,dc=example,dc=org.'),
  lookup_dn: setting(t.bool, false, 'Find the user\'s DN by searching user_search_base for user_attribute = the typed name (with the search user), instead of bind_dn_template alone.'),
  user_search_base: setting(t.nullable(t.string), null, 'Base DN to search for users (lookup_dn, search_filter).'),
  user_attribute: setting(t.nullable(t.string), null, 'Attribute holding the login name, e.g. uid or sAMAccountName (lookup_dn).'),
  lookup_dn_search_filter: setting(t.string, '({login_attr}={login})', 'Filter for the lookup_dn search; {login_attr} is user_attribute, {login} the escaped typed name.'),
  lookup_dn_search_user: setting(t.nullable(t.string), null, 'DN to bind as for the lookup_dn search; null with no password: an anonymous search.'),
  lookup_dn_search_password: setting(t.nullable(t.string), null, 'Password of lookup_dn_search_user.'),
  lookup_dn_user_dn_attribute: setting(t.nullable(t.string), null, 'Attribute of the found entry whose value becomes the user name (with use_lookup_dn_username) and fills bind_dn_template, e.g. cn.'),
  use_lookup_dn_username: setting(t.bool, true, 'With lookup_dn, the hub user name is the value of lookup_dn_user_dn_attribute rather than the typed name.'),
  escape_userdn: setting(t.bool, false, 'Escape filter characters in the user DN (ldapauthenticator\'s option for servers that need it); the name inside the DN is always DN-escaped.'),
  search_filter: setting(t.string, '', 'Filter (with {username} and {userattr}) the user must match under user_search_base after binding; empty: no search.'),
  attributes: setting(t.strings, [], 'Attributes fetched by search_filter.'),
  allowed_groups: setting(t.strings, [], 'Full DNs of groups whose members may log in (group_search_filter); empty: any user who can bind, subject to the Authenticator allow settings.'),
  group_search_filter: setting(t.string, '(|(member={userdn})(uniqueMember={userdn})(memberUid={uid}))', 'Filter a group in allowed_groups must match for the user to be a member; {userdn} and {uid} are escaped.'),
  valid_username_regex: setting(t.string, '^[a-z][.a-z0-9_-]*$', 'Typed names must match this (a first guard against LDAP injection; values are escaped anyway).'),
  auth_state_attributes: setting(t.strings, [], "The user's attributes saved in auth_state (with enable_auth_state)."),
});

export const GenericOAuthenticator = configurable('GenericOAuthenticator', Authenticator, "oauthenticator 17's GenericOAuthenticator: log in with any OAuth 2.0 / OpenID Connect provider (authorization code flow, state and PKCE).", {
  client_id: setting(t.string, '', 'OAuth client id registered with the provider (env OAUTH_CLIENT_ID when empty).'),
  client_secret: setting(t.string, '', 'OAuth client secret (env OAUTH_CLIENT_SECRET when empty); empty makes a public client.'),
  oauth_callback_url: setting(t.string, '', 'Callback URL registered with the provider, e.g. https://hub.example.org/hub/oauth_callback (env OAUTH_CALLBACK_URL); empty: derived from the request.'),
  authorize_url: setting(t.string, '', "The provider's authorization endpoint (env OAUTH2_AUTHORIZE_URL)."),
  token_url: setting(t.string, '', "The provider's token endpoint (env OAUTH2_TOKEN_URL)."),
  userdata_url: setting(t.string, '', "The provider's user-info endpoint (env OAUTH2_USERDATA_URL); required unless userdata_from_id_token."),
  userdata_from_id_token: setting(t.bool, false, "Take the user info from the ID token the token endpoint returned (its claims, checked by openid-client) instead of asking userdata_url; needs openid in scope; not with userdata_url."),
  scope: setting(t.strings, [], 'Scopes asked for, e.g. [openid, profile, email, groups].'),
  username_claim: setting(t.string, 'username', 'Field of the user info that is the user name (e.g. preferred_username); a dotted path reaches into nested objects.', { deprecated: ['username_key'] }),
  login_service: setting(t.string, 'OAuth 2.0', 'Name on the login button: "Sign in with {login_service}" (env LOGIN_SERVICE).'),
  allowed_groups: setting(t.strings, [], 'Members of these provider groups may log in (needs manage_groups).'),
  admin_groups: setting(t.strings, [], 'Members of these provider groups are admins; others lose admin at login (needs manage_groups).'),
  auth_state_groups_key: setting(t.string, 'oauth_user.groups', "Dotted path into the auth state to the user's list of groups."),
  claim_groups_key: setting(t.string, '', 'Deprecated (oauthenticator 17): the user-info claim with the groups; use auth_state_groups_key = "oauth_user.<claim>".'),
  logout_redirect_url: setting(t.string, '', "Where logout sends the browser after clearing the hub session (e.g. the provider's end-session URL); empty: the login page."),
  token_params: setting(t.stringMap, {}, 'Extra parameters sent to the token endpoint.', { deprecated: ['extra_params'] }),
  userdata_params: setting(t.stringMap, {}, 'Extra query parameters sent to the user-info endpoint.'),
  basic_auth: setting(t.bool, false, 'Send the client credentials to the token endpoint with HTTP Basic auth instead of in the body.'),
  validate_server_cert: setting(t.bool, true, "Check the provider's TLS certificate.", { deprecated: ['tls_verify'] }),
  enable_pkce: setting(t.bool, true, 'Use PKCE (S256) in the authorization code flow.'),
  extra_authorize_params: setting(t.stringMap, {}, 'Extra parameters sent to the authorization endpoint (e.g. {kc_idp_hint: github}).', { deprecated: ['authorize_params'] }),
  allowed_scopes: setting(t.strings, [], 'Users granted all of these scopes (a subset of scope) may log in, beside the other allow rules.'),
  modify_auth_state_hook: setting(t.hook, null, 'Function called as modify_auth_state_hook(authenticator, auth_state) after each login and refresh; its result (or the same object, changed) is the auth state kept (a .mjs config sets it).'),
  oidc_issuer: setting(t.string, '', 'nodehub: an OpenID issuer URL; when set, endpoints left empty come from its discovery document, and the ID token is verified against its JWKS (with a nonce).'),
});

export const SharedPassword = configurable('SharedPassword', null, "nodehub: the event's shared password page. The password itself comes only from NODEHUB_SHARED_PASSWORD or NODEHUB_SHARED_PASSWORD_FILE.", {
  event_name: setting(t.string, '', 'Name of the event, the heading of the password page.'),
  message: setting(t.string, '', 'A note from the organisers shown on the password page.'),
  max_wrong_tries: setting(t.positiveInt, 10, 'Wrong passwords a client address (an IPv6 client: its /64) may try within wrong_try_window; beyond it even the right password is refused (429) until the window frees a try.'),
  wrong_try_window: setting(t.positiveFloat, 60, 'Seconds over which max_wrong_tries counts.'),
  allow_open_hub: setting(t.bool, false, 'Start even when listening beyond loopback with the tmp authenticator and no shared password.'),
});
