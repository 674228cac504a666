// The environment of a spawned single-user server (spec 1.2). The server gets only this: nothing from the hub's own
// environment leaks in except the `env_keep` names, because the hub's env may hold secrets (tokens, cookie secret).
import type { ServerSpec, SpawnerConfig } from './types.ts';
import { urlEscapePath } from '../util/url.ts';

/** JupyterHub's default `Spawner.env_keep`, used when the config does not say. */
export const DEFAULT_ENV_KEEP: readonly string[] = [
  'PATH',
  'PYTHONPATH',
  'CONDA_ROOT',
  'CONDA_DEFAULT_ENV',
  'VIRTUAL_ENV',
  'LANG',
  'LC_ALL',
  'JUPYTERHUB_SINGLEUSER_APP',
];

export interface UserEnv {
  user: string;
  home: string;
  shell: string;
  /** c.JupyterHub.admin_access: adds JUPYTERHUB_ADMIN_ACCESS=1 (spec 1.2). */
  adminAccess?: boolean;
}

/** Expands `{username}`, `{servername}` and `{base_url}`; other braces stay as written (no Python format errors). */
export function expandTemplate(template: string, spec: Pick<ServerSpec, 'user' | 'serverName' | 'prefix'>): string {
  const values: Record<string, string> = {
    username: spec.user.name,
    servername: spec.serverName,
    base_url: spec.prefix,
  };
  return template.replace(/\{(username|servername|base_url)\}/g, (_, key: string) => values[key]!);
}

/**
 * Builds the server's environment. `serviceUrl` is where the server must listen: either its origin
 * (`http://127.0.0.1:40123`, the prefix is appended) or the full JUPYTERHUB_SERVICE_URL.
 * Order follows JupyterHub: env_keep first, the hub's variables over it, USER/HOME/SHELL, then `environment` last so an
 * admin can override anything.
 */
export function buildServerEnv(
  spec: ServerSpec,
  config: SpawnerConfig,
  serviceUrl: string,
  extra: UserEnv,
): Record<string, string> {
  const env: Record<string, string> = {};
  const keep = Array.isArray(config.env_keep) ? config.env_keep : DEFAULT_ENV_KEEP;
  for (const key of keep) {
    const value = process.env[key];
    if (typeof value === 'string') env[key] = value;
  }

  env.JUPYTERHUB_API_TOKEN = spec.apiToken;
  env.JPY_API_TOKEN = spec.apiToken;
  if (extra.adminAccess) env.JUPYTERHUB_ADMIN_ACCESS = '1';
  env.JUPYTERHUB_CLIENT_ID = spec.oauthClientId;
  env.JUPYTERHUB_HOST = '';
  env.JUPYTERHUB_OAUTH_CALLBACK_URL = spec.oauthCallbackUrl;
  const scopes = JSON.stringify(spec.oauthAccessScopes);
  env.JUPYTERHUB_OAUTH_SCOPES = scopes;
  env.JUPYTERHUB_OAUTH_ACCESS_SCOPES = scopes;
  env.JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES = JSON.stringify(
    Array.isArray(config.oauth_client_allowed_scopes) ? config.oauth_client_allowed_scopes : [],
  );
  env.JUPYTERHUB_USER = spec.user.name;
  env.JUPYTERHUB_SERVER_NAME = spec.serverName;
  env.JUPYTERHUB_API_URL = spec.hubApiUrl;
  env.JUPYTERHUB_ACTIVITY_URL = `${spec.hubApiUrl.replace(/\/+$/, '')}/users/${urlEscapePath(spec.user.name)}/activity`;
  env.JUPYTERHUB_BASE_URL = spec.baseUrl;
  env.JUPYTERHUB_SERVICE_PREFIX = spec.prefix;
  env.JUPYTERHUB_SERVICE_URL = withPrefix(serviceUrl, spec.prefix);

  const mem = byteSpec(config.mem_limit);
  if (mem) env.MEM_LIMIT = mem;
  if (typeof config.cpu_limit === 'number' && config.cpu_limit) env.CPU_LIMIT = pythonFloat(config.cpu_limit);
  if (typeof config.notebook_dir === 'string' && config.notebook_dir) {
    env.JUPYTERHUB_ROOT_DIR = expandTemplate(config.notebook_dir, spec);
  }
  if (typeof config.default_url === 'string' && config.default_url) {
    env.JUPYTERHUB_DEFAULT_URL = expandTemplate(config.default_url, spec);
  }
  if (config.debug) env.JUPYTERHUB_DEBUG = '1';
  if (config.disable_user_config) env.JUPYTERHUB_DISABLE_USER_CONFIG = '1';

  env.USER = extra.user;
  env.HOME = extra.home;
  env.SHELL = extra.shell;

  const overrides = config.environment && typeof config.environment === 'object' ? config.environment : {};
  for (const [key, value] of Object.entries(overrides as Record<string, unknown>)) {
    if (value === null || value === undefined) continue;
    const raw = typeof value === 'function' ? (value as (s: ServerSpec) => unknown)(spec) : value;
    env[key] = typeof raw === 'string' ? expandTemplate(raw, spec) : String(raw);
  }
  return env;
}

function withPrefix(serviceUrl: string, prefix: string): string {
  const url = new URL(serviceUrl);
  if (url.pathname === '/' || url.pathname === '') url.pathname = prefix;
  return url.toString();
}

const units: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** JupyterHub's ByteSpecification: `2G` means 2·1024³ bytes and the env carries the byte count. */
function byteSpec(value: unknown): string | null {
  if (typeof value === 'number') return value ? String(Math.trunc(value)) : null;
  if (typeof value !== 'string' || !value) return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT])?\s*$/i.exec(value);
  if (!m) return value;
  const bytes = Math.trunc(Number(m[1]) * (m[2] ? units[m[2].toUpperCase()]! : 1));
  return bytes ? String(bytes) : null;
}

/** `str(float)` in Python: whole numbers keep a `.0`, as JupyterHub writes CPU_LIMIT. */
function pythonFloat(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}
