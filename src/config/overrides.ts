// Profile overrides (a profile's kubespawner_override, a profile option's choices, and an unlisted choice once the
// visitor's text is in) set spawner settings, so they are checked against the same declarations as the config file:
// a bad value is refused with its full path at start-up, or (free text) when the visitor picks it.
import { nearest, unknownKey } from './errors.ts';
import { sections, traitsOf } from './schema.ts';
import type { SpawnerConfig } from './types.ts';

/** `config` with each override merged over the previous result, in order, and every overridden setting re-checked
 *  by its declared type (which also normalises it, e.g. a one-word command becomes a list). */
export function applyOverrides(config: SpawnerConfig, overrides: Record<string, unknown>[], section: string, at = 'kubespawner_override', where = ''): SpawnerConfig {
  return overrides.reduce<SpawnerConfig>((out, override) => checked(mergeOverride(out, override), Object.keys(override), section, at, where), config);
}

/** KubeSpawner's merge: a mapping over a mapping (e.g. `environment`, `node_selector`) merges recursively, so a
 *  profile adds keys without dropping the common ones, and a null value removes a key; any other value replaces. */
export function mergeOverride(config: SpawnerConfig, override: Record<string, unknown>): SpawnerConfig {
  const out: SpawnerConfig = { ...config };
  for (const [k, v] of Object.entries(override)) {
    const base = config[k];
    setOwn(out, k, isMapping(v) && isMapping(base) ? recursiveUpdate(base, v) : v);
  }
  return out;
}

function checked(config: SpawnerConfig, keys: string[], section: string, at: string, where: string): SpawnerConfig {
  const own = traitsOf(section);
  for (const key of keys) {
    const path = `${at}.${key}`;
    // A setting of another spawner class (a KubeSpawner `image` in a profile list tried with the local spawner) is
    // still checked by its type, and then ignored by this spawner.
    const spec = own.get(key) ?? otherSpawnerTrait(key);
    if (!spec) throw unknownKey(path, where, nearestTrait(key, own.keys(), at));
    setOwn(config, key, spec.type.check(config[key], path, where));
  }
  return config;
}

function otherSpawnerTrait(key: string) {
  for (const s of sections.values()) if (s.parent === 'Spawner' && s.own.has(key)) return s.own.get(key)!;
  return undefined;
}

function nearestTrait(key: string, known: Iterable<string>, at: string): string | null {
  const near = nearest(key, known);
  return near && `${at}.${near}`;
}

/** Every listed override of every profile, checked at start-up; free text ({value}) is checked when it is picked. */
export function checkProfileOverrides(spawner: SpawnerConfig, section: string, at: string, where: string): void {
  spawner.profile_list.forEach((profile, i) => {
    const p = `${at}[${i}]`;
    const base = applyOverrides(spawner, [profile.kubespawner_override], section, `${p}.kubespawner_override`, where);
    for (const [key, option] of Object.entries(profile.profile_options ?? {})) {
      for (const [choice, c] of Object.entries(option.choices)) {
        applyOverrides(base, [c.kubespawner_override], section, `${p}.profile_options.${key}.choices.${choice}.kubespawner_override`, where);
      }
    }
  });
}

/** Spawner settings a profile override names that the selected class does not declare, for a start-up warning. */
export function foreignOverrideKeys(spawner: SpawnerConfig, section: string): string[] {
  const own = traitsOf(section);
  const keys = new Set<string>();
  const visit = (o: Record<string, unknown>) => Object.keys(o).forEach((k) => own.has(k) || keys.add(k));
  for (const p of spawner.profile_list) {
    visit(p.kubespawner_override);
    for (const option of Object.values(p.profile_options ?? {})) {
      Object.values(option.choices).forEach((c) => visit(c.kubespawner_override));
      visit(option.unlisted_choice.kubespawner_override);
    }
  }
  return [...keys];
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

