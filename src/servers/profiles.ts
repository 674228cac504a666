// Profiles, shaped like KubeSpawner's profile_list: a user option `profile` (a slug) selects one, its
// kubespawner_override traits replace the spawner's own for that server, and then the overrides of the choices made
// for its profile_options, in option order (profile-choices.ts).
import type { ProfileConfig, SpawnerConfig } from '../config/types.ts';
import { DomainError } from '../util/errors.ts';
import { applyOverrides, ConfigError } from '../config/index.ts';
import { choiceOverrides, selectChoices, type OptionSelection } from './profile-choices.ts';

/** A profile with every one of its options decided. */
export interface ProfileSelection {
  profile: ProfileConfig;
  options: OptionSelection[];
}

/** The profile a server's user options select, or the default one; null when there is no profile list. */
export function selectProfile(config: SpawnerConfig, options: Record<string, unknown>): ProfileConfig | null {
  const list = config.profile_list ?? [];
  if (list.length === 0) return null;
  let wanted = options.profile;
  if (Array.isArray(wanted)) wanted = wanted[0]; // options from a query string are lists
  if (wanted !== undefined && wanted !== null && typeof wanted !== 'string') throw new DomainError('invalid', 'The profile must be a string (a slug)');
  if (typeof wanted === 'string' && wanted !== '') {
    const p = list.find((x) => x.slug === wanted);
    if (!p) {
      throw new DomainError('invalid', `Unknown profile '${wanted}'. Valid profiles: ${list.map((x) => x.slug).join(', ')}`);
    }
    return p;
  }
  return list.find((x) => x.default) ?? list[0];
}

/** The profile and choices the user options make, checked: a bad one is a DomainError('invalid') saying what is wrong. */
export function selectUserOptions(config: SpawnerConfig, options: Record<string, unknown>): ProfileSelection | null {
  const profile = selectProfile(config, options);
  return profile && { profile, options: selectChoices(profile, options) };
}

/** Equal for two user options exactly when they select the same profile, choices and free text. */
export function selectionKey(selection: ProfileSelection | null): string {
  if (!selection) return '';
  return JSON.stringify([selection.profile.slug, ...selection.options.map((o) => [o.option, o.choice, o.unlisted])]);
}

/** The spawner's config with the selected profile's overrides, then its choices', merged as KubeSpawner merges them
 *  (src/config/overrides.ts) and checked against the spawner class's declared settings (`section`). Listed overrides
 *  were checked at start-up, so only a visitor's free text can be refused here, as a 400. */
export function effectiveSpawnerConfig(config: SpawnerConfig, options: Record<string, unknown>, section: string): SpawnerConfig {
  const selection = selectUserOptions(config, options);
  if (!selection) return config;
  const overrides = [selection.profile.kubespawner_override, ...choiceOverrides(selection.profile, selection.options)];
  try {
    return applyOverrides(config, overrides, section, `profile '${selection.profile.slug}'`);
  } catch (err) {
    if (err instanceof ConfigError) throw new DomainError('invalid', `Invalid options: ${err.message}`);
    throw err;
  }
}
