// The settings of the hub itself (JupyterHub's own class) and of the built-in idle culler, declared once here; the
// loader, --generate-config, docs/config.md and the types in src/config/types.ts all come from these declarations.
// Defaults follow JupyterHub 3.0 except where nodehub's ephemeral-hub purpose says otherwise (marked "nodehub:").
import { configurable, field, setting } from '../config/declare.ts';
import type { FieldValues } from '../config/declare.ts';
import * as t from '../config/traits.ts';

export const serviceFields = {
  name: field.required(t.string, 'Service name; it is served at /services/<name>/.'),
  api_token: field.optional(t.string, 'API token the service uses; the hub registers it for this service.'),
  admin: field.withDefault(t.bool, false, 'Deprecated in JupyterHub 2.0: give the service the admin role.'),
  command: field.withDefault(t.command, [], 'Command the hub runs and keeps alive as a managed service.'),
  url: field.withDefault(t.string, '', 'Where the service listens; the proxy routes /services/<name>/ there.'),
  environment: field.withDefault(t.stringMap, {}, 'Extra environment for a managed service.'),
  oauth_no_confirm: field.withDefault(t.bool, false, 'Skip the "Authorize access" page for this service.'),
  display: field.withDefault(t.bool, true, 'List the service on the home page.'),
  cwd: field.optional(t.string, 'Working directory of a managed service.'),
  info: field.withDefault(t.jsonObject, {}, 'Free-form data shown in the service model of the REST API.'),
  user: field.optional(t.string, 'Unix user a managed service runs as.'),
  oauth_client_id: field.optional(t.string, 'OAuth client id (default service-<name>).'),
  oauth_redirect_uri: field.optional(t.string, 'OAuth redirect URI (default <service prefix>oauth_callback).'),
  oauth_client_allowed_scopes: field.withDefault(t.strings, [], 'Scopes tokens issued to this client may carry.'),
  oauth_roles: field.withDefault(t.strings, [], 'Deprecated alias of oauth_client_allowed_scopes by role.'),
};

export const roleFields = {
  name: field.required(t.string, 'Role name (admin, user, server, token are built in).'),
  description: field.optional(t.string, 'What the role is for.'),
  scopes: field.withDefault(t.strings, [], 'Scopes the role grants.'),
  users: field.withDefault(t.strings, [], 'Users given the role at start-up.'),
  groups: field.withDefault(t.strings, [], 'Groups given the role at start-up.'),
  services: field.withDefault(t.strings, [], 'Services given the role at start-up.'),
};

export const groupFields = {
  users: field.optional(t.names, 'Members, created as users when missing; members are only ever added.'),
  properties: field.optional(t.jsonObject, "The group's properties; when given they replace the stored ones."),
};

type GroupSpec = string[] | FieldValues<typeof groupFields>;

/** JupyterHub.load_groups: {group: {users, properties}} (3.2+), or {group: [users]} as JupyterHub 3.0 wrote it. */
const loadGroups: t.TraitType<Record<string, GroupSpec>> = {
  doc: 'dict of group name to {users, properties} (or to a list of users)',
  expected: 'a mapping of group names to {"users": [...], "properties": {...}}',
  check(value, path, where) {
    if (!t.isPlainObject(value)) throw t.mismatch(path, this.expected, value, where);
    const out: Record<string, GroupSpec> = {};
    for (const [name, spec] of Object.entries(value)) {
      const at = `${path}.${name}`;
      if (name === '') throw t.mismatch(path, 'a mapping with non-empty group names', value, where);
      out[name] = Array.isArray(spec) || spec instanceof Set
        ? t.names.check(spec, at, where)
        : t.checkFields(spec, groupFields, at, where, 'a {"users": [...], "properties": {...}} mapping or a list of user names') as GroupSpec;
    }
    return out;
  },
};

export const JupyterHub = configurable('JupyterHub', null, 'The hub itself: where it listens, its database, cookies, services, roles and limits.', {
  ip: setting(t.string, '127.0.0.1', 'IP the hub and proxy listen on. nodehub listens on loopback by default (JupyterHub: all interfaces) because its default hub has no accounts; set \'\' or 0.0.0.0 to listen on every interface.'),
  port: setting(t.int, 8000, 'Public port the hub listens on.'),
  bind_url: setting(t.string, '', 'Full public URL to listen on (e.g. http://:8000/prefix/); overrides ip, port and base_url.'),
  base_url: setting(t.string, '/', 'URL prefix of the whole hub; always normalised to start and end with a slash.'),
  hub_connect_url: setting(t.string, '', 'URL spawned servers use to reach the hub API; derived from the listener when empty.'),
  db_url: setting(t.string, 'sqlite:///nodehub.sqlite', 'nodehub: database URL: sqlite:///<path to file>, or postgresql://user[:password]@host[:port]/database (PGPASSWORD when the URL has no password; see docs/database.md).'),
  cookie_secret: setting(t.hex, '', 'Hex secret that signs cookies; empty means JPY_COOKIE_SECRET, then cookie_secret_file.'),
  cookie_secret_file: setting(t.string, 'nodehub_cookie_secret', 'nodehub: file holding the cookie secret; created when missing.'),
  cookie_max_age_days: setting(t.float, 14, 'Days a login cookie stays valid.'),
  services: setting(t.objects('service', serviceFields, t.uniqueBy('name', 'service')), [], 'Services: external or hub-managed programs with API access.'),
  load_groups: setting(loadGroups, {}, 'Groups to create at start-up with their members (and properties); members and groups are only ever added.'),
  load_roles: setting(t.objects('role', roleFields, t.uniqueBy('name', 'role')), [], 'Roles to create or update at start-up.'),
  api_tokens: setting(t.stringMap, {}, 'Pending deprecation: map of API token to user name, created at start-up.'),
  authenticator_class: setting(t.string, 'tmp', 'nodehub: authenticator (tmp, dummy, shared-password, null, or a class name such as jupyterhub.auth.DummyAuthenticator).'),
  spawner_class: setting(t.string, 'localprocess', 'Spawner (localprocess, kubernetes, or a class name such as kubespawner.KubeSpawner).'),
  default_url: setting(t.string, '', 'Where users land when they visit the hub root; empty means their server or the spawn page.'),
  concurrent_spawn_limit: setting(t.int, 100, 'Most servers starting at once (a KubeSpawner pod waiting for a node an autoscaler announced does not count until it is placed); 0 means no limit.'),
  active_server_limit: setting(t.int, 0, 'Most servers running (or starting) at once; 0 means no limit.'),
  allow_named_servers: setting(t.bool, false, 'Let users run named servers besides their default one.'),
  named_server_limit_per_user: setting(t.int, 0, 'Most named servers per user; 0 means no limit.'),
  shutdown_on_logout: setting(t.bool, false, "Stop a user's servers when they log out."),
  cleanup_servers: setting(t.bool, true, 'Stop user servers when the hub shuts down.'),
  last_activity_interval: setting(t.int, 300, 'Seconds between writes of collected activity to the database.'),
  trusted_downstream_ips: setting(t.ipNetworks, [], 'Proxies (IPs or CIDR networks) in front of the hub whose X-Forwarded-For is believed; the client is the rightmost address not in this list. Empty: the socket address is the client.'),
  ssl_key: setting(t.string, '', 'Path to the TLS key (PEM) for the public listener. nodehub refuses a key file other users may read or write (chmod 600; group-readable is accepted with a warning). Re-read on reload.'),
  ssl_cert: setting(t.string, '', 'Path to the TLS certificate (PEM, chain after it) for the public listener; with ssl_key it turns on https. Re-read on reload (SIGHUP, nodehub reload): new connections get the new certificate, open ones keep theirs; one that does not load, does not match the key or has expired is refused and the running one kept.'),
  ssl_client_ca: setting(t.string, '', "nodehub: PEM bundle of the certificate authorities whose client certificates the https listener requires (apache's SSLCACertificateFile with SSLVerifyClient require). A browser without one, or with an expired or foreign one, gets a 403 page saying why before any page of the hub or a server. Empty: no client certificate is asked for. Re-read on reload."),
  ssl_client_allowed_cns: setting(t.strings, [], 'nodehub: with ssl_client_ca, the subject common names (CN) admitted to this hub, compared exactly; a valid certificate with another CN gets a 403 page. Empty: every certificate the CA issued is admitted. Changes on reload.'),
  hub_ip: setting(t.string, '127.0.0.1', "IP of the hub's own listener (hub_port)."),
  hub_port: setting(t.int, 0, "nodehub: a second, plain-HTTP listener that serves only the hub's URLs (<base_url>hub/...), as JupyterHub's hub port: spawned servers reach the hub API there (unless hub_connect_url says otherwise), which they need when the public port asks for client certificates. 0 (default): none, the public listener serves the hub as well (JupyterHub's default is 8081)."),
  statsd_prefix: setting(t.string, 'jupyterhub', 'Ignored: nodehub has no statsd client; its metrics are at /hub/metrics (Prometheus). Accepted so JupyterHub configs load.'),
  proxy_auth_token: setting(t.string, '', 'Ignored: nodehub has the proxy built in, so there is no proxy API to protect. Accepted so JupyterHub configs load.'),
  authenticate_prometheus: setting(t.bool, true, 'Require a token with read:metrics for /hub/metrics.'),
  admin_access: setting(t.bool, false, "Deprecated in JupyterHub 2.0: let admins reach users' servers."),
  redirect_to_server: setting(t.bool, true, "Send users to their running server instead of the hub's home page."),
  api_page_default_limit: setting(t.int, 50, 'Items per page of a paginated API answer when no limit is asked for.'),
  api_page_max_limit: setting(t.int, 200, 'Largest page size the API hands out.'),
  user_redirect_limit: setting(t.int, 4, 'Redirect loops through a stopped server before the hub shows an error.'),
  slow_spawn_timeout: setting(t.float, 10, 'Seconds the spawn API and pages wait before answering "pending".'),
  template_vars: setting(t.jsonObject, {}, "Extra variables for the HTML pages; nodehub shows the strings announcement, announcement_login, announcement_home, announcement_spawn and announcement_logout (as JupyterHub's templates do) and ignores other keys."),
  logo_file: setting(t.string, '', 'Image file (png, svg, jpg, gif, ico, webp; at most 5 MiB) served at /hub/logo instead of the JupyterHub logo; read once at start-up.'),
  log_style: setting(t.oneOf(['text', 'json']), 'text', "nodehub: log lines as 'text' (JupyterHub's line format) or 'json' (one JSON object a line); JupyterHub's own log_format is not read."),
  pid_file: setting(t.string, '', 'File the running hub writes its process id to (removed at exit); `nodehub reload` signals the process it names. Empty: no pid file.'),
  reload_on_config_change: setting(t.bool, true, 'nodehub: re-read the configuration when its file changes (e.g. a Kubernetes ConfigMap update), as SIGHUP does; see docs/reload.md.'),
  handover_drain_timeout: setting(t.float, 3600, 'nodehub: seconds a hub that handed over to its successor (see docs/reload.md) keeps relaying the websockets and requests it still holds before it exits; user servers keep running either way.'),
  log_level: setting(t.logLevel, 'INFO', 'Log level: DEBUG, INFO, WARN, ERROR (Python names and numbers accepted).'),
});

export const IdleCuller = configurable('IdleCuller', null, "nodehub's built-in jupyterhub-idle-culler: stops idle servers and deletes idle users.", {
  enabled: setting(t.nullable(t.bool), null, 'nodehub: run the built-in culler. null (default) runs it with the tmp authenticator, whose users are throw-away, and not otherwise; true or false decides for any authenticator. Leave it off when jupyterhub-idle-culler runs as a service.'),
  timeout: setting(t.int, 600, 'Seconds a server may be idle (no proxied traffic and no reported activity) before it is stopped; with cull_users, also how long a user without a running server is kept. Must be positive.'),
  cull_every: setting(t.int, 0, 'Seconds between culling rounds; 0 means timeout / 2.'),
  max_age: setting(t.int, 0, 'Seconds a server may run at all, idle or not; 0 means no limit.'),
  cull_users: setting(t.nullable(t.bool), null, 'Delete non-admin users who have no running server and were last active more than timeout ago (their activity stays counted by jupyterhub_active_users). null (default) means true with the tmp authenticator, false otherwise.'),
});
