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

export function effectiveSpawnerConfig(config: SpawnerConfig, options: Record<string, unknown>): SpawnerConfig {
  const profile = selectProfile(config, options);
  if (!profile) return config;
  return { ...config, ...profile.kubespawner_override };
}
