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
}

export interface JupyterHubConfig {
  ip: string;
  port: number;
  /** Overrides ip, port and base_url when set (as in JupyterHub). */
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
  log_level: string;
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
  pre_spawn_hook: Hook | null;
  post_stop_hook: Hook | null;
  profile_list: ProfileConfig[];
  pool_size: number;
  /** Traits of the selected spawner class that are not common Spawner traits (e.g. LocalProcessSpawner's). */
  [trait: string]: unknown;
}

export interface AuthenticatorConfig {
  allowed_users: string[];
  admin_users: string[];
  blocked_users: string[];
  auto_login: boolean;
  /** Traits of the selected authenticator class (e.g. DummyAuthenticator.password). */
  [trait: string]: unknown;
}

export interface HubConfig {
  hub: JupyterHubConfig;
  /** Spawner traits merged with the selected spawner class's own section (class section wins), as traitlets does. */
  spawner: SpawnerConfig;
  /** Authenticator traits merged with the selected authenticator class's section. */
  authenticator: AuthenticatorConfig;
  /** Every section as given (after validation), keyed by class name, for class-specific traits. */
  sections: Record<string, Record<string, unknown>>;
  /** Where the configuration came from (file path), for messages. */
  source: string | null;
}
