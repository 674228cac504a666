// Every configuration trait nodehub knows, declared once: section (JupyterHub's class name), name, type, default and
// one line of help. The loader validates against it and `--generate-config` prints it, so the two cannot drift apart.
// Defaults follow JupyterHub 3.0 except where nodehub's ephemeral-hub purpose says otherwise (marked "nodehub:").
import { ConfigError } from './errors.ts';
import * as t from './traits.ts';
import * as k from './kube-traits.ts';
import type { FieldSpec, TraitType } from './traits.ts';
import { profileOptions } from './profile-options.ts';

export interface TraitSpec {
  section: string;
  name: string;
  type: TraitType;
  default: unknown;
  help: string;
}

export interface SectionSpec {
  name: string;
  /** Traits of the parent class apply here too, as with traitlets' class inheritance. */
  parent: string | null;
  help: string;
  /** Traits declared (or re-declared with another default) by this class itself. */
  own: Map<string, TraitSpec>;
}

type Decl = [type: TraitType, defaultValue: unknown, help: string];

export const sections = new Map<string, SectionSpec>();

function section(name: string, parent: string | null, help: string, traits: Record<string, Decl>): void {
  const own = new Map<string, TraitSpec>();
  for (const [trait, [type, def, traitHelp]] of Object.entries(traits)) {
    own.set(trait, { section: name, name: trait, type, default: def, help: traitHelp });
  }
  sections.set(name, { name, parent, help, own });
}

function uniqueBy(field: string, what: string) {
  return (items: Record<string, unknown>[], path: string, where: string) => {
    const seen = new Set<unknown>();
    items.forEach((item, i) => {
      if (seen.has(item[field])) {
        throw new ConfigError(`${path}[${i}].${field}: ${what} ${JSON.stringify(item[field])} is defined twice${where}`, `${path}[${i}].${field}`);
      }
      seen.add(item[field]);
    });
  };
}

const serviceFields: Record<string, FieldSpec> = {
  name: { type: t.string, required: true, help: 'Service name; it is served at /services/<name>/.' },
  api_token: { type: t.string, help: 'API token the service uses; the hub registers it for this service.' },
  admin: { type: t.bool, default: false, help: 'Deprecated in JupyterHub 2.0: give the service the admin role.' },
  command: { type: t.command, default: [], help: 'Command the hub runs and keeps alive as a managed service.' },
  url: { type: t.string, default: '', help: 'Where the service listens; the proxy routes /services/<name>/ there.' },
  environment: { type: t.stringMap, default: {}, help: 'Extra environment for a managed service.' },
  oauth_no_confirm: { type: t.bool, default: false, help: 'Skip the "Authorize access" page for this service.' },
  display: { type: t.bool, default: true, help: 'List the service on the home page.' },
  cwd: { type: t.string, help: 'Working directory of a managed service.' },
  info: { type: t.jsonObject, default: {}, help: 'Free-form data shown in the service model of the REST API.' },
  user: { type: t.string, help: 'Unix user a managed service runs as.' },
  oauth_client_id: { type: t.string, help: 'OAuth client id (default service-<name>).' },
  oauth_redirect_uri: { type: t.string, help: 'OAuth redirect URI (default <service prefix>oauth_callback).' },
  oauth_client_allowed_scopes: { type: t.strings, default: [], help: 'Scopes tokens issued to this client may carry.' },
  oauth_roles: { type: t.strings, default: [], help: 'Deprecated alias of oauth_client_allowed_scopes by role.' },
};

const roleFields: Record<string, FieldSpec> = {
  name: { type: t.string, required: true, help: 'Role name (admin, user, server, token are built in).' },
  description: { type: t.string, help: 'What the role is for.' },
  scopes: { type: t.strings, default: [], help: 'Scopes the role grants.' },
  users: { type: t.strings, default: [], help: 'Users given the role at start-up.' },
  groups: { type: t.strings, default: [], help: 'Groups given the role at start-up.' },
  services: { type: t.strings, default: [], help: 'Services given the role at start-up.' },
};

/** KubeSpawner's slug rule in spirit: lower case, runs of other characters become one dash. */
export function slugify(displayName: string): string {
  return displayName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

const profileFields: Record<string, FieldSpec> = {
  display_name: { type: t.string, required: true, help: 'Name shown on the spawn form.' },
  slug: { type: t.string, help: 'Stable identifier posted by the form (default: derived from display_name).' },
  description: { type: t.string, default: '', help: 'Text shown under the name.' },
  default: { type: t.bool, default: false, help: 'Pre-select this profile.' },
  pool_size: { type: t.int, help: 'Servers kept started in advance for this profile.' },
  kubespawner_override: { type: t.jsonObject, default: {}, help: 'Spawner traits this profile sets (any spawner).' },
  profile_options: { type: profileOptions, help: 'Choices within the profile: option -> {display_name, choices, unlisted_choice}, applied in order over the profile\'s override.' },
};

function finishProfiles(items: Record<string, unknown>[], path: string, where: string): void {
  items.forEach((item, i) => {
    if (item.slug === undefined) item.slug = slugify(String(item.display_name)) || `profile-${i}`;
  });
  uniqueBy('slug', 'profile slug')(items, path, where);
}

section('JupyterHub', null, 'The hub itself: where it listens, its database, cookies, services, roles and limits.', {
  ip: [t.string, '127.0.0.1', 'IP the hub and proxy listen on. nodehub listens on loopback by default (JupyterHub: all interfaces) because its default hub has no accounts; set \'\' or 0.0.0.0 to listen on every interface.'],
  port: [t.int, 8000, 'Public port the hub listens on.'],
  bind_url: [t.string, '', 'Full public URL to listen on (e.g. http://:8000/prefix/); overrides ip, port and base_url.'],
  base_url: [t.string, '/', 'URL prefix of the whole hub; always normalised to start and end with a slash.'],
  hub_connect_url: [t.string, '', 'URL spawned servers use to reach the hub API; derived from the listener when empty.'],
  db_url: [t.string, 'sqlite:///nodehub.sqlite', 'nodehub: database URL, sqlite:///<path to file>.'],
  cookie_secret: [t.hex, '', 'Hex secret that signs cookies; empty means JPY_COOKIE_SECRET, then cookie_secret_file.'],
  cookie_secret_file: [t.string, 'nodehub_cookie_secret', 'nodehub: file holding the cookie secret; created when missing.'],
  cookie_max_age_days: [t.float, 14, 'Days a login cookie stays valid.'],
  services: [t.objects('service', serviceFields, uniqueBy('name', 'service')), [], 'Services: external or hub-managed programs with API access.'],
  load_roles: [t.objects('role', roleFields, uniqueBy('name', 'role')), [], 'Roles to create or update at start-up.'],
  api_tokens: [t.stringMap, {}, 'Pending deprecation: map of API token to user name, created at start-up.'],
  authenticator_class: [t.string, 'tmp', 'nodehub: authenticator (tmp, dummy, null, or a class name such as jupyterhub.auth.DummyAuthenticator).'],
  spawner_class: [t.string, 'localprocess', 'Spawner (localprocess, kubernetes, or a class name such as kubespawner.KubeSpawner).'],
  default_url: [t.string, '', 'Where users land when they visit the hub root; empty means their server or the spawn page.'],
  concurrent_spawn_limit: [t.int, 100, 'Most servers starting at once; 0 means no limit.'],
  active_server_limit: [t.int, 0, 'Most servers running (or starting) at once; 0 means no limit.'],
  allow_named_servers: [t.bool, false, 'Let users run named servers besides their default one.'],
  named_server_limit_per_user: [t.int, 0, 'Most named servers per user; 0 means no limit.'],
  shutdown_on_logout: [t.bool, false, "Stop a user's servers when they log out."],
  cleanup_servers: [t.bool, true, 'Stop user servers when the hub shuts down.'],
  last_activity_interval: [t.int, 300, 'Seconds between writes of collected activity to the database.'],
  ssl_key: [t.string, '', 'Path to the TLS key for the public listener.'],
  ssl_cert: [t.string, '', 'Path to the TLS certificate for the public listener (turns on https).'],
  authenticate_prometheus: [t.bool, true, 'Require a token with read:metrics for /hub/metrics.'],
  admin_access: [t.bool, false, "Deprecated in JupyterHub 2.0: let admins reach users' servers."],
  redirect_to_server: [t.bool, true, "Send users to their running server instead of the hub's home page."],
  api_page_default_limit: [t.int, 50, 'Items per page of a paginated API answer when no limit is asked for.'],
  api_page_max_limit: [t.int, 200, 'Largest page size the API hands out.'],
  user_redirect_limit: [t.int, 4, 'Redirect loops through a stopped server before the hub shows an error.'],
  slow_spawn_timeout: [t.float, 10, 'Seconds the spawn API and pages wait before answering "pending".'],
  template_vars: [t.jsonObject, {}, 'Extra variables for the HTML page templates.'],
  log_level: [t.logLevel, 'INFO', 'Log level: DEBUG, INFO, WARN, ERROR (Python names and numbers accepted).'],
  log_style: [t.oneOf('text', 'json'), 'text', "nodehub: log lines as 'text' (JupyterHub's line format) or 'json' (one JSON object a line); JupyterHub's own log_format is not read."],
});

section('Spawner', null, 'Settings for every spawner: command, environment, timeouts, limits, hooks and profiles.', {
  cmd: [t.command, ['jupyterhub-singleuser'], 'Command that starts the single-user server.'],
  args: [t.strings, [], 'Extra arguments for the single-user server.'],
  environment: [t.stringMap, {}, "Extra environment for the server; applied last, so it wins over the hub's own."],
  env_keep: [t.strings, ['PATH', 'PYTHONPATH', 'CONDA_ROOT', 'CONDA_DEFAULT_ENV', 'VIRTUAL_ENV', 'LANG', 'LC_ALL', 'JUPYTERHUB_SINGLEUSER_APP'], "Hub environment variables the server inherits."],
  notebook_dir: [t.string, '', 'Directory the server starts in ({username} is replaced).'],
  default_url: [t.string, '', 'Path the server opens first (e.g. /lab).'],
  start_timeout: [t.int, 60, 'Seconds to wait for the spawner to start the process.'],
  http_timeout: [t.int, 30, 'Seconds to wait for the started server to answer HTTP.'],
  poll_interval: [t.int, 30, 'Seconds between checks that a server is still running.'],
  debug: [t.bool, false, 'Run the single-user server with debug logging.'],
  disable_user_config: [t.bool, false, "Make the server ignore configuration files in the user's home."],
  oauth_client_allowed_scopes: [t.strings, [], "Extra scopes for tokens issued by the server's OAuth client."],
  ip: [t.string, '127.0.0.1', 'IP the single-user server listens on.'],
  port: [t.int, 0, 'Port the single-user server listens on; 0 picks a free one.'],
  mem_limit: [t.nullable(t.bytes), null, 'Memory limit for a server, e.g. 1G (enforced where the spawner can).'],
  cpu_limit: [t.nullable(t.float), null, 'CPU cores a server may use (enforced where the spawner can).'],
  mem_guarantee: [t.nullable(t.bytes), null, 'Memory reserved for a server, e.g. 512M (where the spawner can reserve it).'],
  cpu_guarantee: [t.nullable(t.float), null, 'CPU cores reserved for a server (where the spawner can reserve them).'],
  pre_spawn_hook: [t.hook, null, 'Function called with the spawner before each start (a .mjs/.js config sets it).'],
  post_stop_hook: [t.hook, null, 'Function called with the spawner after each stop (a .mjs/.js config sets it).'],
  profile_list: [t.objects('profile', profileFields, finishProfiles), [], 'Server profiles offered on the spawn form.'],
  pool_size: [t.int, 0, 'nodehub: servers kept started in advance for new users (0 disables the pool).'],
  pool_max_age: [t.int, 3600, 'nodehub: seconds a pooled server waits for a visitor before it is replaced by a fresh one.'],
});

section('LocalProcessSpawner', 'Spawner', 'Runs each server as a local process.', {
  home_dir_template: [t.string, '/tmp/nodehub-{username}', 'nodehub: home directory made for each user ({username} is replaced).'],
  remove_home_dir: [t.bool, true, 'nodehub: delete the home directory when the user is deleted.'],
  interrupt_timeout: [t.int, 10, 'Seconds to wait after SIGINT before sending SIGTERM.'],
  term_timeout: [t.int, 5, 'Seconds to wait after SIGTERM before sending SIGKILL.'],
  kill_timeout: [t.int, 5, 'Seconds to wait after SIGKILL before giving up.'],
  uid_range: [t.nullable(t.intPair('first and last uid')), null, 'nodehub: as root, run each user\'s servers under a uid of their own from this range (gid = uid, no passwd entry needed; uid 0 not allowed), in their home_dir_template directory handed to that uid with mode 0700 (every directory above it must be searchable by others, e.g. under /tmp). null, or a hub not running as root, runs servers as the hub\'s user.'],
  preload: [t.bool, true, 'nodehub: start the default jupyterhub-singleuser through a fork server that imported its Python modules once (one per app flavour, started on the first spawn), so a server needs ~30 ms of CPU to boot instead of ~0.5 s; any other Spawner.cmd, or a fork server that cannot start, spawns as usual.'],
});

// Trait names, shapes and defaults are KubeSpawner's, so a Zero-to-JupyterHub `hub.config.KubeSpawner` block and a
// profile's kubespawner_override read the same here. There is no `storage` trait: z2jh's `storage.type: none` simply
// means no PVC volume, which is what nodehub's spawner does unless `volumes` says otherwise.
section('KubeSpawner', 'Spawner', 'Runs each server as a Kubernetes pod.', {
  ip: [t.string, '0.0.0.0', 'IP the single-user server listens on inside its pod (KubeSpawner: all interfaces, so the hub can reach it).'],
  port: [t.int, 8888, 'Port the single-user server listens on inside its pod, the container port named notebook-port.'],
  env_keep: [t.strings, [], "Hub environment variables passed to the pods: none by default, a pod's image has its own environment."],
  namespace: [t.string, '', "Namespace the pods are created in; empty means the hub's own (POD_NAMESPACE, else the service account's namespace, else default)."],
  image: [t.string, 'quay.io/jupyterhub/singleuser:latest', 'Container image of the single-user server.'],
  image_pull_policy: [t.string, 'IfNotPresent', 'Kubernetes image pull policy.'],
  image_pull_secrets: [k.imagePullSecrets, [], 'Secrets (names or {name} objects) for pulling the image from a private registry.'],
  pod_name_template: [t.string, 'jupyter-{user_server}', 'Pod name ({username}, {servername}, {user_server} = username or username--servername, made safe).'],
  node_selector: [t.stringMap, {}, 'Node labels a pod must match.'],
  tolerations: [k.objectsListOrDict('Toleration'), [], 'Tolerations of the pods.'],
  node_affinity_required: [k.objectsListOrDict('NodeSelectorTerm'), [], 'Node affinity terms a node must match.'],
  node_affinity_preferred: [k.objectsListOrDict('PreferredSchedulingTerm'), [], 'Node affinity terms preferred.'],
  pod_affinity_required: [k.objectsListOrDict('PodAffinityTerm'), [], 'Pods a pod must run near.'],
  pod_affinity_preferred: [k.objectsListOrDict('WeightedPodAffinityTerm'), [], 'Pods a pod prefers to run near.'],
  pod_anti_affinity_required: [k.objectsListOrDict('PodAffinityTerm'), [], 'Pods a pod must not run near.'],
  pod_anti_affinity_preferred: [k.objectsListOrDict('WeightedPodAffinityTerm'), [], 'Pods a pod prefers not to run near.'],
  extra_resource_guarantees: [k.quantities, {}, 'More resource requests, e.g. {"nvidia.com/gpu": "1"}.'],
  extra_resource_limits: [k.quantities, {}, 'More resource limits, e.g. {"nvidia.com/gpu": "1"}.'],
  uid: [t.nullable(t.int), null, "User id the notebook container runs as (runAsUser); null keeps the image's."],
  gid: [t.nullable(t.int), null, "Group id the notebook container runs as (runAsGroup); null keeps the image's."],
  fs_gid: [t.nullable(t.int), null, "Group that owns the pod's volumes (pod fsGroup)."],
  supplemental_gids: [k.ints, [], 'Extra groups of the pod (supplementalGroups).'],
  service_account: [t.nullable(t.string), null, 'Service account of the pods.'],
  automount_service_account_token: [t.nullable(t.bool), null, 'Mount API credentials in the pods; null means only when service_account is set.'],
  extra_labels: [t.stringMap, {}, 'Extra labels on each pod.'],
  extra_annotations: [t.stringMap, {}, 'Extra annotations on each pod.'],
  volumes: [k.objectsListOrDict('Volume'), [], 'Volumes of each pod (e.g. an existing claim, read-only); none by default, so no storage.'],
  volume_mounts: [k.objectsListOrDict('VolumeMount'), [], 'Where the volumes are mounted in the notebook container.'],
  init_containers: [k.objectsListOrDict('Container'), [], 'Init containers run before the notebook container (their images are pre-pulled too).'],
  lifecycle_hooks: [t.jsonObject, {}, 'postStart/preStop hooks of the notebook container (a Kubernetes Lifecycle).'],
  // The spawner's own settings (src/spawner/kubernetes/), KubeSpawner's names where it has them.
  environment: [t.jsonObject, {}, 'Extra environment of the pods: strings ({username} etc. expanded) or Kubernetes EnvVar objects such as {valueFrom: {fieldRef: {fieldPath: status.podIP}}}.'],
  slug_scheme: [t.string, 'safe', "How user and server names become Kubernetes names: 'safe' (KubeSpawner 7) or the legacy 'escape'."],
  common_labels: [t.stringMap, { 'app.kubernetes.io/name': 'jupyterhub', 'app.kubernetes.io/managed-by': 'nodehub', app: 'jupyterhub', heritage: 'jupyterhub' }, 'Labels on every pod (z2jh sets app, release, chart and heritage here).'],
  component_label: [t.string, 'singleuser-server', 'Value of the component labels of user pods.'],
  hub_instance: [t.string, '', "nodehub: names this hub's pods (label app.kubernetes.io/instance) so that its informer and orphan sweep never touch another hub's pods in the namespace; empty means common_labels' release, else 'nodehub'."],
  extra_containers: [k.objectsListOrDict('Container'), [], 'More containers in each pod, after the notebook container.'],
  extra_container_config: [t.jsonObject, {}, 'Fields set on the notebook container as given (camelCase), replacing generated ones.'],
  extra_pod_config: [t.jsonObject, {}, 'Fields set on the pod spec as given (camelCase), replacing generated ones.'],
  working_dir: [t.nullable(t.string), null, 'Working directory of the notebook container ({username} expanded).'],
  scheduler_name: [t.nullable(t.string), null, 'Scheduler of the pods (e.g. z2jh\'s user scheduler).'],
  priority_class_name: [t.nullable(t.string), null, 'PriorityClass of the pods.'],
  pod_connect_ip: [t.nullable(t.string), null, "Host the hub connects to instead of the pod's IP ({username} etc. expanded)."],
  privileged: [t.bool, false, 'Run the notebook container privileged.'],
  allow_privilege_escalation: [t.nullable(t.bool), false, 'allowPrivilegeEscalation of the notebook container; null leaves it unset.'],
  container_security_context: [t.jsonObject, {}, 'securityContext fields of the notebook container (camelCase), over uid/gid/privileged.'],
  pod_security_context: [t.jsonObject, {}, 'securityContext fields of the pod (camelCase), over fs_gid/supplemental_gids.'],
  delete_grace_period: [t.int, 1, 'Seconds a stopped pod may take to terminate.'],
  delete_stopped_pods: [t.bool, true, 'Delete a pod whose server exited.'],
  events_enabled: [t.bool, true, "Show the pod's Kubernetes events in the progress bar while it starts."],
  k8s_api_request_timeout: [t.int, 3, 'Seconds one request to create or delete a pod may take.'],
  k8s_api_request_retry_timeout: [t.int, 30, 'Seconds to keep retrying a failed create or delete (and to wait for the first pod list).'],
  kubeconfig: [t.string, '', 'nodehub: kubeconfig file to connect with; empty means $KUBECONFIG, else the service account of the hub\'s pod (in-cluster).'],
  unschedulable_timeout: [t.float, 5, 'nodehub: seconds a pod may stay unschedulable (no node fits, no autoscaler scale-up announced) before its start fails with the reason.'],
  watch_timeout: [t.int, 60, 'nodehub: seconds after which the API server ends each watch (the informer resumes from where it was); a watch silent for 1.5 times this is restarted.'],
  prepuller_enabled: [t.bool, true, 'nodehub: keep DaemonSets that pre-pull every configured image (default and profiles) on the nodes that may run it.'],
  prepuller_pause_image: [t.string, 'registry.k8s.io/pause:3.10', "nodehub: the pre-puller pods' main container once the images are pulled."],
  prepuller_scheduling_wait: [t.int, 10, "nodehub: seconds the pre-puller counts as ready only when every eligible node has the images; after that, every node that could schedule a puller pod (z2jh's podSchedulingWaitDuration; -1 waits forever)."],
  prepuller_extra_images: [t.strings, [], 'nodehub: more images to pre-pull with the default image.'],
});

section('Authenticator', null, 'Settings for every authenticator: who may log in and who is admin.', {
  allowed_users: [t.names, [], 'Users allowed to log in; empty allows everyone the authenticator accepts.'],
  admin_users: [t.names, [], 'Users given the admin role.'],
  blocked_users: [t.names, [], 'Users never allowed to log in.'],
  auto_login: [t.bool, false, 'Skip the login page and start the login at once.'],
});

section('DummyAuthenticator', 'Authenticator', 'Any user name logs in (for testing), optionally with one shared password.', {
  password: [t.string, '', 'Password every user must give; empty accepts any password.'],
});

section('TmpAuthenticator', 'Authenticator', 'Every visitor gets a new temporary user, no login page.', {
  force_new_server: [t.bool, false, "A visit to the hub's front URL without `next` (and any visit to /hub/tmplogin) gives a fresh user and server and stops the browser's old server; links with `next` (nbgitpuller) keep the user. Off, as in tmpauthenticator 0.6: a return visit keeps the user and server."],
});

section('NullAuthenticator', 'Authenticator', 'No logins at all; only API tokens reach the hub.', {
  auto_login: [t.bool, true, 'No login page to show, so there is nothing to click.'],
});

section('IdleCuller', null, "nodehub's built-in jupyterhub-idle-culler: stops idle servers and deletes idle users.", {
  enabled: [t.nullable(t.bool), null, 'nodehub: run the built-in culler. null (default) runs it with the tmp authenticator, whose users are throw-away, and not otherwise; true or false decides for any authenticator. Leave it off when jupyterhub-idle-culler runs as a service.'],
  timeout: [t.int, 600, 'Seconds a server may be idle (no proxied traffic and no reported activity) before it is stopped; with cull_users, also how long a user without a running server is kept. Must be positive.'],
  cull_every: [t.int, 0, 'Seconds between culling rounds; 0 means timeout / 2.'],
  max_age: [t.int, 0, 'Seconds a server may run at all, idle or not; 0 means no limit.'],
  cull_users: [t.nullable(t.bool), null, 'Delete non-admin users who have no running server and were last active more than timeout ago (their activity stays counted by jupyterhub_active_users). null (default) means true with the tmp authenticator, false otherwise.'],
});

section('SharedPassword', null, "nodehub: the event's shared password page. The password itself comes only from NODEHUB_SHARED_PASSWORD or NODEHUB_SHARED_PASSWORD_FILE.", {
  event_name: [t.string, '', 'Name of the event, the heading of the password page.'],
  message: [t.string, '', 'A note from the organisers shown on the password page.'],
  allow_open_hub: [t.bool, false, 'Start even when listening beyond loopback with the tmp authenticator and no shared password.'],
});

const ignored = 'Ignored: nodehub has the proxy built in; accepted so Zero-to-JupyterHub configs load unchanged.';
section('ConfigurableHTTPProxy', null, 'The separate proxy of JupyterHub; nodehub proxies in process, so these are ignored.', {
  should_start: [t.bool, true, ignored],
  api_url: [t.string, '', ignored],
  auth_token: [t.string, '', ignored],
});

/** All traits a section accepts: inherited ones first, then its own (which may re-declare a default). */
export function traitsOf(name: string): Map<string, TraitSpec> {
  const spec = sections.get(name);
  if (!spec) throw new Error(`no configuration section ${name}`);
  const inherited = spec.parent ? traitsOf(spec.parent) : new Map<string, TraitSpec>();
  for (const [trait, decl] of spec.own) inherited.set(trait, decl);
  return inherited;
}

/** The chain of classes from the root down to `name`, the order in which their values apply. */
export function lineage(name: string): string[] {
  const spec = sections.get(name);
  if (!spec) return [];
  return [...(spec.parent ? lineage(spec.parent) : []), name];
}
