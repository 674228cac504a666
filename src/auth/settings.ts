// The settings of every authenticator (JupyterHub's Authenticator class), of the built-in authenticators, and of the
// event's shared-password gate, declared once here.
import { configurable, setting } from '../config/declare.ts';
import * as t from '../config/traits.ts';

export const Authenticator = configurable('Authenticator', null, 'Settings for every authenticator: who may log in and who is admin.', {
  allowed_users: setting(t.names, [], 'Users allowed to log in; empty allows everyone the authenticator accepts.', { deprecated: ['whitelist'] }),
  admin_users: setting(t.names, [], 'Users given the admin role.'),
  blocked_users: setting(t.names, [], 'Users never allowed to log in.', { deprecated: ['blacklist'] }),
  auto_login: setting(t.bool, false, 'Skip the login page and start the login at once.'),
});

export const DummyAuthenticator = configurable('DummyAuthenticator', Authenticator, 'Any user name logs in (for testing), optionally with one shared password.', {
  password: setting(t.string, '', 'Password every user must give; empty accepts any password.'),
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
