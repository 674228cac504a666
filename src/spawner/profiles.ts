// Profiles, shaped like KubeSpawner's profile_list: a user option `profile` (a slug) selects one, and its
// kubespawner_override traits replace the spawner's own for that server.
import type { ProfileConfig, SpawnerConfig } from '../config/types.ts';
import { HubError } from '../util/errors.ts';

/** The profile a server's user options select, or the default one; null when there is no profile list. */
export function selectProfile(config: SpawnerConfig, options: Record<string, unknown>): ProfileConfig | null {
  const list = config.profile_list ?? [];
  if (list.length === 0) return null;
  let wanted = options.profile;
  if (Array.isArray(wanted)) wanted = wanted[0]; // options from a query string are lists
  if (typeof wanted === 'string' && wanted !== '') {
    const p = list.find((x) => x.slug === wanted);
    if (!p) {
      throw new HubError(400, `Unknown profile '${wanted}'. Valid profiles: ${list.map((x) => x.slug).join(', ')}`);
    }
    return p;
  }
  return list.find((x) => x.default) ?? list[0];
}

/** The spawner's config with the selected profile's overrides, merged as KubeSpawner merges them: a mapping over a
 *  mapping (e.g. `environment`, `node_selector`) is merged recursively, so a profile adds keys without dropping the
 *  common ones, and a null value removes a key; any other value replaces the spawner's. */
export function effectiveSpawnerConfig(config: SpawnerConfig, options: Record<string, unknown>): SpawnerConfig {
  const profile = selectProfile(config, options);
  if (!profile) return config;
  const out: SpawnerConfig = { ...config };
  for (const [k, v] of Object.entries(profile.kubespawner_override)) {
    const base = config[k];
    out[k] = isMapping(v) && isMapping(base) ? recursiveUpdate(base, v) : v;
  }
  return out;
}

/** KubeSpawner's recursive_update, without touching `target`: nested mappings merge, null deletes. */
function recursiveUpdate(target: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete out[k];
    else if (isMapping(v)) out[k] = recursiveUpdate(isMapping(out[k]) ? out[k] : {}, v);
    else out[k] = v;
  }
  return out;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
