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

export const SharedPassword = configurable('SharedPassword', null, "nodehub: the event's shared password page. The password itself comes only from NODEHUB_SHARED_PASSWORD or NODEHUB_SHARED_PASSWORD_FILE.", {
  event_name: setting(t.string, '', 'Name of the event, the heading of the password page.'),
  message: setting(t.string, '', 'A note from the organisers shown on the password page.'),
  max_wrong_tries: setting(t.positiveInt, 10, 'Wrong passwords a client address (an IPv6 client: its /64) may try within wrong_try_window; beyond it even the right password is refused (429) until the window frees a try.'),
  wrong_try_window: setting(t.positiveFloat, 60, 'Seconds over which max_wrong_tries counts.'),
  allow_open_hub: setting(t.bool, false, 'Start even when listening beyond loopback with the tmp authenticator and no shared password.'),
});
