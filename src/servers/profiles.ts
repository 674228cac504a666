// Profiles, shaped like KubeSpawner's profile_list: a user option `profile` (a slug) selects one, its
// kubespawner_override traits replace the spawner's own for that server, and then the overrides of the choices made
// for its profile_options, in option order (profile-choices.ts).
import type { ProfileConfig, SpawnerConfig } from '../config/types.ts';
import { DomainError } from '../util/errors.ts';
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

/** The spawner's config with the selected profile's overrides, merged as KubeSpawner merges them: a mapping over a
 *  mapping (e.g. `environment`, `node_selector`) is merged recursively, so a profile adds keys without dropping the
 *  common ones, and a null value removes a key; any other value replaces the spawner's. */
export function effectiveSpawnerConfig(config: SpawnerConfig, options: Record<string, unknown>): SpawnerConfig {
  const selection = selectUserOptions(config, options);
  if (!selection) return config;
  return applyOverrides(config, [selection.profile.kubespawner_override, ...choiceOverrides(selection.profile, selection.options)]);
}

/** `config` with each override applied over the previous result, in order. */
export function applyOverrides(config: SpawnerConfig, overrides: Record<string, unknown>[]): SpawnerConfig {
  return overrides.reduce(applyOverride, config);
}

function applyOverride(config: SpawnerConfig, override: Record<string, unknown>): SpawnerConfig {
  const out: SpawnerConfig = { ...config };
  for (const [k, v] of Object.entries(override)) {
    const base = config[k];
    setOwn(out, k, isMapping(v) && isMapping(base) ? recursiveUpdate(base, v) : v);
  }
  return out;
}

/** KubeSpawner's recursive_update, without touching `target`: nested mappings merge, null deletes. */
function recursiveUpdate(target: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete out[k];
    else if (isMapping(v)) setOwn(out, k, recursiveUpdate(isMapping(out[k]) && Object.hasOwn(out, k) ? out[k] : {}, v));
    else setOwn(out, k, v);
  }
  return out;
}

// Keys can come from a visitor's free text ({value} in a mapping key), so "__proto__" must stay a plain key.
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
