// The settings every spawner shares (JupyterHub's Spawner class), with the profile list, declared once here.
import { configurable, field, setting, type FieldValues } from '../config/declare.ts';
import * as t from '../config/traits.ts';
import { profileOptions } from '../config/profile-options.ts';

/** KubeSpawner's slug rule in spirit: lower case, runs of other characters become one dash. */
export function slugify(displayName: string): string {
  return displayName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

export const profileFields = {
  display_name: field.required(t.string, 'Name shown on the spawn form.'),
  slug: field.optional(t.string, 'Stable identifier posted by the form (default: derived from display_name).'),
  description: field.withDefault(t.string, '', 'Text shown under the name.'),
  default: field.withDefault(t.bool, false, 'Pre-select this profile.'),
  pool_size: field.optional(t.int, 'Servers kept started in advance for this profile.'),
  kubespawner_override: field.withDefault(t.jsonObject, {}, 'Spawner traits this profile sets (any spawner).'),
  profile_options: field.optional(profileOptions, 'Choices within the profile: option -> {display_name, choices, unlisted_choice}, applied in order over the profile\'s override.'),
};

/** A profile after loading: `slug` is always filled (derived from display_name when not given). */
export type Profile = FieldValues<typeof profileFields> & { slug: string };

function finishProfiles(items: Record<string, unknown>[], path: string, where: string): void {
  items.forEach((item, i) => {
    if (item.slug === undefined) item.slug = slugify(String(item.display_name)) || `profile-${i}`;
  });
  t.uniqueBy('slug', 'profile slug')(items, path, where);
}

export const Spawner = configurable('Spawner', null, 'Settings for every spawner: command, environment, timeouts, limits, hooks and profiles.', {
  cmd: setting(t.command, ['jupyterhub-singleuser'], 'Command that starts the single-user server.'),
  args: setting(t.strings, [], 'Extra arguments for the single-user server.'),
  environment: setting(t.stringMap, {}, "Extra environment for the server; applied last, so it wins over the hub's own."),
  env_keep: setting(t.strings, ['PATH', 'PYTHONPATH', 'CONDA_ROOT', 'CONDA_DEFAULT_ENV', 'VIRTUAL_ENV', 'LANG', 'LC_ALL', 'JUPYTERHUB_SINGLEUSER_APP'], "Hub environment variables the server inherits."),
  notebook_dir: setting(t.string, '', 'Directory the server starts in ({username} is replaced).'),
  default_url: setting(t.string, '', 'Path the server opens first (e.g. /lab).'),
  start_timeout: setting(t.int, 60, 'Seconds to wait for the spawner to start the process.'),
  http_timeout: setting(t.int, 30, 'Seconds to wait for the started server to answer HTTP.'),
  poll_interval: setting(t.int, 30, 'Seconds between checks that a server is still running.'),
  debug: setting(t.bool, false, 'Run the single-user server with debug logging.'),
  disable_user_config: setting(t.bool, false, "Make the server ignore configuration files in the user's home."),
  oauth_client_allowed_scopes: setting(t.strings, [], "Extra scopes for tokens issued by the server's OAuth client."),
  ip: setting(t.string, '127.0.0.1', 'IP the single-user server listens on.'),
  port: setting(t.int, 0, 'Port the single-user server listens on; 0 picks a free one (local servers: below the ephemeral range, where kernels pick theirs).'),
  mem_limit: setting(t.nullable(t.bytes), null, 'Memory limit for a server, e.g. 1G (enforced where the spawner can).'),
  cpu_limit: setting(t.nullable(t.float), null, 'CPU cores a server may use (enforced where the spawner can).'),
  mem_guarantee: setting(t.nullable(t.bytes), null, 'Memory reserved for a server, e.g. 512M (where the spawner can reserve it).'),
  cpu_guarantee: setting(t.nullable(t.float), null, 'CPU cores reserved for a server (where the spawner can reserve them).'),
  pre_spawn_hook: setting(t.hook, null, 'Function called with the spawner before each start (a .mjs/.js config sets it).'),
  auth_state_hook: setting(t.hook, null, "Function called as auth_state_hook(spawner, auth_state) before each start, with the user's decrypted auth state (null without enable_auth_state); may set spawner.environment."),
  post_stop_hook: setting(t.hook, null, 'Function called with the spawner after each stop (a .mjs/.js config sets it).'),
  profile_list: setting(t.objects<typeof profileFields, Profile>('profile', profileFields, finishProfiles), [], 'Server profiles offered on the spawn form.'),
  pool_size: setting(t.int, 0, 'nodehub: servers kept started in advance for new users (0 disables the pool).'),
  pool_max_age: setting(t.int, 3600, 'nodehub: seconds a pooled server waits for a visitor before it is replaced by a fresh one.'),
});
