// The resolved configuration. Keys are JupyterHub's own class and trait names, so a Zero-to-JupyterHub `hub.config`
// block reads the same here. `loadConfig` fills every trait with its default, so consumers never test for undefined
// except where a trait is genuinely optional.

export type Hook = (...args: any[]) => unknown;

export interface ServiceConfig {
  name: string;
  api_token?: string;
  admin: boolean;
  command: string[];
  url: string;
  environment: Record<string, string>;
  oauth_no_confirm: boolean;
  display: boolean;
  cwd?: string;
  // More JupyterHub 3.0 service fields. loadConfig always fills info ({}), oauth_client_allowed_scopes and oauth_roles
  // ([]); they are optional in the type only so that service objects written by hand (tests) stay short.
  /** Free-form data for the service model of the REST API. */
  info?: Record<string, unknown>;
  /** Unix user of a managed service. */
  user?: string;
  oauth_client_id?: string;
  oauth_redirect_uri?: string;
  oauth_client_allowed_scopes?: string[];
  /** Deprecated in JupyterHub 3.0 in favour of oauth_client_allowed_scopes; accepted so old configs load. */
  oauth_roles?: string[];
}

export interface RoleConfig {
  name: string;
  description?: string;
  scopes: string[];
  users: string[];
  groups: string[];
  services: string[];
}

export interface ProfileConfig {
  display_name: string;
  slug: string;
  description: string;
  default: boolean;
  pool_size?: number;
  /** Spawner traits this profile overrides (KubeSpawner's name, used for every spawner). */
  kubespawner_override: Record<string, unknown>;
  /** Further choices within the profile (KubeSpawner's profile_options), in the order their overrides apply. */
  profile_options?: Record<string, ProfileOptionConfig>;
}

export interface ProfileOptionConfig {
  display_name: string;
  /** At least one choice is `default` after loading when there are any choices. */
  choices: Record<string, ProfileChoiceConfig>;
  unlisted_choice: UnlistedChoiceConfig;
}

export interface ProfileChoiceConfig {
  display_name: string;
  default: boolean;
  kubespawner_override: Record<string, unknown>;
}

/** A free-text "Other..." choice; `{value}` in any string of its override becomes the visitor's text. */
export interface UnlistedChoiceConfig {
  enabled: boolean;
  display_name: string;
  display_name_in_choices: string;
  /** Checked against the whole text; null accepts any text without control characters. */
  validation_regex: string | null;
  validation_message: string;
  kubespawner_override: Record<string, unknown>;
}

export interface JupyterHubConfig {
  ip: string;
  port: number;
  /** Overrides ip, port and base_url when configured; after loading always the canonical `http(s)://ip:port/base/`. */
  bind_url: string;
  base_url: string; // always with leading and trailing slash after loading
  /** How spawned servers reach the hub API; derived from the listener when empty. */
  hub_connect_url: string;
  db_url: string;
  cookie_secret: string; // hex; empty means: read or create cookie_secret_file
  cookie_secret_file: string;
  cookie_max_age_days: number;
  services: ServiceConfig[];
  load_roles: RoleConfig[];
  /** token -> user name, JupyterHub's deprecated but still used way to seed tokens. */
  api_tokens: Record<string, string>;
  authenticator_class: string;
  spawner_class: string;
  default_url: string;
  concurrent_spawn_limit: number;
  active_server_limit: number;
  allow_named_servers: boolean;
  named_server_limit_per_user: number;
  shutdown_on_logout: boolean;
  cleanup_servers: boolean;
  last_activity_interval: number; // seconds
  ssl_key: string;
  ssl_cert: string;
  authenticate_prometheus: boolean;
  admin_access: boolean;
  redirect_to_server: boolean;
  api_page_default_limit: number;
  api_page_max_limit: number;
  user_redirect_limit: number;
  /** Seconds the spawn API and pages wait before answering "pending". */
  slow_spawn_timeout: number;
  template_vars: Record<string, unknown>;
  /** One of DEBUG, INFO, WARN, ERROR (Python's WARNING/CRITICAL and numeric levels are mapped onto these). */
  log_level: string;
  /** nodehub's own: 'text' (JupyterHub's line format) or 'json'. */
  log_style: 'text' | 'json';
}

export interface SpawnerConfig {
  cmd: string[];
  args: string[];
  environment: Record<string, string>;
  env_keep: string[];
  notebook_dir: string;
  default_url: string;
  start_timeout: number; // seconds
  http_timeout: number; // seconds
  poll_interval: number; // seconds
  debug: boolean;
  disable_user_config: boolean;
  oauth_client_allowed_scopes: string[];
  ip: string;
  port: number;
  mem_limit: string | number | null;
  cpu_limit: number | null;
  mem_guarantee: string | number | null;
  cpu_guarantee: number | null;
  pre_spawn_hook: Hook | null;
  post_stop_hook: Hook | null;
  profile_list: ProfileConfig[];
  pool_size: number;
  pool_max_age: number;
  /** Traits of the selected spawner class that are not common Spawner traits (e.g. LocalProcessSpawner's). */
  [trait: string]: unknown;
}

/** A KubeSpawner trait that takes a list, or a mapping whose values are used in key order (null drops an entry);
 *  `asList` from config/kube-traits.ts flattens it. */
export type ListOrDict<T> = T[] | Record<string, T | null>;

/** `config.spawner` when the spawner class is KubeSpawner. Kubernetes objects (volumes, tolerations, ...) are kept as
 *  written, in the API's camelCase, and checked only for their outer shape. */
export interface KubeSpawnerConfig extends SpawnerConfig {
  /** Empty means the hub's own namespace. */
  namespace: string;
  image: string;
  image_pull_policy: string;
  image_pull_secrets: { name: string }[];
  pod_name_template: string;
  node_selector: Record<string, string>;
  tolerations: ListOrDict<Record<string, unknown>>;
  node_affinity_required: ListOrDict<Record<string, unknown>>;
  node_affinity_preferred: ListOrDict<Record<string, unknown>>;
  pod_affinity_required: ListOrDict<Record<string, unknown>>;
  pod_affinity_preferred: ListOrDict<Record<string, unknown>>;
  pod_anti_affinity_required: ListOrDict<Record<string, unknown>>;
  pod_anti_affinity_preferred: ListOrDict<Record<string, unknown>>;
  /** Resource name -> quantity string. */
  extra_resource_guarantees: Record<string, string>;
  extra_resource_limits: Record<string, string>;
  uid: number | null;
  gid: number | null;
  fs_gid: number | null;
  supplemental_gids: number[];
  service_account: string | null;
  automount_service_account_token: boolean | null;
  extra_labels: Record<string, string>;
  extra_annotations: Record<string, string>;
  volumes: ListOrDict<Record<string, unknown>>;
  volume_mounts: ListOrDict<Record<string, unknown>>;
  init_containers: ListOrDict<Record<string, unknown>>;
  lifecycle_hooks: Record<string, unknown>;
}

export interface AuthenticatorConfig {
  allowed_users: string[];
  admin_users: string[];
  blocked_users: string[];
  auto_login: boolean;
  /** Traits of the selected authenticator class (e.g. DummyAuthenticator.password). */
  [trait: string]: unknown;
}

/** The `SharedPassword` section (read as `config.sections.SharedPassword`); the password itself is never configured here. */
export interface SharedPasswordConfig {
  event_name: string;
  message: string;
  allow_open_hub: boolean;
}

export interface HubConfig {
  hub: JupyterHubConfig;
  /** Spawner traits merged with the selected spawner class's own section (class section wins), as traitlets does. */
  spawner: SpawnerConfig;
  /** Authenticator traits merged with the selected authenticator class's section. */
  authenticator: AuthenticatorConfig;
  /** Every declared section keyed by class name, as an instance of that class would see it: defaults, then values
   *  given for its parent classes, then its own (so `sections.IdleCuller.timeout` is always set). `hub`, `spawner` and
   *  `authenticator` are the same objects as their entries here. */
  sections: Record<string, Record<string, unknown>>;
  /** Where the configuration came from (file path), for messages. */
  source: string | null;
}
