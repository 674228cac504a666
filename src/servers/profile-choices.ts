// A profile's profile_options as a visitor's user_options pick them (KubeSpawner's load_user_options): for each
// option a listed choice, or free text ("Other...") that is checked before it can reach a server's settings.
import type { ProfileConfig, ProfileOptionConfig } from '../config/types.ts';
import { compileChoiceRegex, UNLISTED_CHOICE_VALUE, UNLISTED_SUFFIX } from '../config/profile-options.ts';
import { DomainError } from '../util/errors.ts';
import { optionFieldName } from './profile-form.ts';

/** What one option ended up as: a listed choice, or the visitor's own text. */
export interface OptionSelection {
  option: string;
  choice: string | null;
  unlisted: string | null;
}

/** Longer than any image reference or tag a registry accepts; a bound on what the regex has to read. */
const MAX_UNLISTED_LENGTH = 1024;

// Newlines and NULs in free text could split a log line or an env file, and NUL makes the OS refuse the exec.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** An option's value as user_options carry it: KubeSpawner's key, or the form field's name from a query string. */
function rawValue(options: Record<string, unknown>, slug: string, key: string): unknown {
  const v = Object.hasOwn(options, key) ? options[key] : options[optionFieldName(slug, key)];
  return Array.isArray(v) ? v[0] : v; // options from a query string are lists
}

function text(options: Record<string, unknown>, slug: string, key: string, label: string): string | null {
  const v = rawValue(options, slug, key);
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') throw new DomainError('invalid', `${label} must be a string`);
  return v;
}

function checkUnlisted(option: ProfileOptionConfig, value: string, where: string): void {
  const bad = (why: string) => new DomainError('invalid', `Invalid value for ${where}: ${why}`);
  if (CONTROL.test(value)) throw bad('control characters (such as a newline) are not allowed');
  if (value.length > MAX_UNLISTED_LENGTH) throw bad(`longer than ${MAX_UNLISTED_LENGTH} characters`);
  const regex = option.unlisted_choice.validation_regex;
  if (regex !== null && !compileChoiceRegex(regex).test(value)) {
    throw bad(option.unlisted_choice.validation_message || `it must match ${regex}`);
  }
}

function selectOne(profile: ProfileConfig, key: string, option: ProfileOptionConfig, options: Record<string, unknown>): OptionSelection {
  const where = `option '${key}' of profile '${profile.slug}'`;
  const own = text(options, profile.slug, key + UNLISTED_SUFFIX, `Option '${key}${UNLISTED_SUFFIX}'`);
  const choice = text(options, profile.slug, key, `Option '${key}'`);
  const enabled = option.unlisted_choice.enabled;
  // Free text wins over a listed choice sent with it, as in KubeSpawner.
  if (own !== null) {
    if (!enabled) throw new DomainError('invalid', `Option '${key}' of profile '${profile.slug}' takes no value of your own (${key}${UNLISTED_SUFFIX})`);
    checkUnlisted(option, own, where);
    return { option: key, choice: null, unlisted: own };
  }
  if (choice !== null) {
    if (choice === UNLISTED_CHOICE_VALUE && enabled) throw new DomainError('invalid', `Enter a value for ${where}`);
    if (!Object.hasOwn(option.choices, choice)) {
      const valid = Object.keys(option.choices);
      throw new DomainError('invalid', `Unknown choice '${choice}' for ${where}.${valid.length ? ` Valid choices: ${valid.join(', ')}` : ''}`);
    }
    return { option: key, choice, unlisted: null };
  }
  const fallback = Object.keys(option.choices).find((c) => option.choices[c]!.default);
  if (fallback === undefined) throw new DomainError('invalid', `Option '${key}' of profile '${profile.slug}' has no default choice; give a value of your own (${key}${UNLISTED_SUFFIX})`);
  return { option: key, choice: fallback, unlisted: null };
}

/** Every option of the profile, in its configured order, as the user options select it (defaults for the rest). */
export function selectChoices(profile: ProfileConfig, options: Record<string, unknown>): OptionSelection[] {
  return Object.entries(profile.profile_options ?? {}).map(([key, option]) => selectOne(profile, key, option, options));
}

/** The overrides the selections apply, in order; free text replaces `{value}` in every string below the trait names. */
export function choiceOverrides(profile: ProfileConfig, selections: OptionSelection[]): Record<string, unknown>[] {
  return selections.map((s) => {
    const option = profile.profile_options![s.option]!;
    if (s.unlisted === null) return option.choices[s.choice!]!.kubespawner_override;
    const override = option.unlisted_choice.kubespawner_override;
    return Object.fromEntries(Object.entries(override).map(([trait, v]) => [trait, withValue(v, s.unlisted!)]));
  });
}

/** Replaces `{value}` in strings, list items, mapping keys and values; other braces stay for the spawner's templates. */
export function withValue(v: unknown, value: string): unknown {
  if (typeof v === 'string') return v.split('{value}').join(value);
  if (Array.isArray(v)) return v.map((x) => withValue(x, value));
  if (typeof v === 'object' && v !== null) {
    // fromEntries defines own keys, so a key that becomes "__proto__" is data, not a prototype.
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [withValue(k, value) as string, withValue(x, value)]));
  }
  return v;
}
