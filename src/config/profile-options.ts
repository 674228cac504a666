// A profile's `profile_options` (KubeSpawner's shape): option -> {display_name, choices, unlisted_choice}. Checked
// and initialised here as KubeSpawner initialises its profile list (first choice default when none is,
// unlisted_choice.enabled false, "Other..."), so the spawner and the form read a finished structure.
import { ConfigError } from './errors.ts';
import { bool, checkFields, isPlainObject, jsonObject, mismatch, nullable, string } from './traits.ts';
import type { TraitType } from './traits.ts';
import { field } from './declare.ts';

/** One option of a profile after loading: at least one choice is `default` when there are any choices. */
export interface ProfileOptionConfig {
  display_name: string;
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

/** The select's value for the free-text choice, as in KubeSpawner's form; no listed choice may use it. */
export const UNLISTED_CHOICE_VALUE = 'unlisted-choice';
/** The user_options key of an option's free text is the option's key plus this. */
export const UNLISTED_SUFFIX = '--unlisted-choice';

/**
 * KubeSpawner's validation_regex is a Python pattern. The few Python-only spellings with a JavaScript twin are
 * translated; anything else JavaScript cannot read is a configuration error. The pattern must match the whole text,
 * as the form's `pattern` attribute does in the browser (Python's re.match would accept any text with a matching
 * beginning, so `^[a-z/]+` would let "repo/image; anything" through).
 */
export function compileChoiceRegex(source: string): RegExp {
  let flags = '';
  let body = source.replace(/^\(\?([aiLmsux]+)\)/, (_, f: string) => {
    if (f.includes('i')) flags += 'i';
    if (f.includes('s')) flags += 's';
    if (f.includes('m')) flags += 'm';
    return '';
  });
  body = body.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>').replace(/\\A/g, '^').replace(/\\Z/g, '$');
  return new RegExp(`^(?:${body})$`, flags);
}

const choiceFields = {
  display_name: field.optional(string, 'Name of the choice in the list (default: its key).'),
  default: field.withDefault(bool, false, 'Pre-select this choice (default: the first choice).'),
  kubespawner_override: field.withDefault(jsonObject, {}, 'Spawner traits this choice sets, over the profile\'s.'),
};

const unlistedFields = {
  enabled: field.withDefault(bool, false, 'Offer a free-text choice.'),
  display_name: field.withDefault(string, '', 'Label of the text field (default: the option\'s name).'),
  display_name_in_choices: field.withDefault(string, 'Other...', 'Name of the free-text choice in the list.'),
  validation_regex: field.optional(nullable(string), 'Pattern the whole text must match.'),
  validation_message: field.withDefault(string, '', 'What to tell a visitor whose text does not match.'),
  kubespawner_override: field.withDefault(jsonObject, {}, 'Spawner traits set from the text: {value} in any string is replaced by it.'),
};

const optionFields = {
  display_name: field.optional(string, 'Label of the option (default: its key).'),
  choices: field.withDefault(jsonObject, {}, 'Choice key -> {display_name, default, kubespawner_override}.'),
  unlisted_choice: field.optional(jsonObject, 'Free text: {enabled, display_name, display_name_in_choices, validation_regex, validation_message, kubespawner_override}.'),
};

function checkOption(key: string, value: unknown, at: string, where: string): ProfileOptionConfig {
  if (key === 'profile' || key.endsWith(UNLISTED_SUFFIX) || key === '') {
    throw new ConfigError(`${at}: "${key}" cannot be an option key; it would clash with the user option "profile" or an option's free text${where}`, at);
  }
  const option = checkFields(value, optionFields, at, where, 'a profile option mapping');
  const unlisted = checkFields(option.unlisted_choice ?? {}, unlistedFields, `${at}.unlisted_choice`, where, 'a mapping') as unknown as ProfileOptionConfig['unlisted_choice'];
  unlisted.validation_regex ??= null;
  if (unlisted.validation_regex !== null) {
    try {
      compileChoiceRegex(unlisted.validation_regex);
    } catch (err) {
      const path = `${at}.unlisted_choice.validation_regex`;
      throw new ConfigError(`${path}: ${JSON.stringify(unlisted.validation_regex)} is not a valid regular expression (${(err as Error).message})${where}`, path);
    }
  }
  const choices: ProfileOptionConfig['choices'] = {};
  let firstDefault: string | null = null;
  for (const [choiceKey, raw] of Object.entries(option.choices as Record<string, unknown>)) {
    const cat = `${at}.choices.${choiceKey}`;
    if (choiceKey === UNLISTED_CHOICE_VALUE && unlisted.enabled) {
      throw new ConfigError(`${cat}: "${UNLISTED_CHOICE_VALUE}" is the form's value for the free-text choice; name this choice otherwise${where}`, cat);
    }
    const choice = checkFields(raw, choiceFields, cat, where, 'a choice mapping') as unknown as ProfileOptionConfig['choices'][string];
    choice.display_name ??= choiceKey;
    if (choice.default) {
      if (firstDefault !== null) {
        throw new ConfigError(`${cat}.default: choices "${firstDefault}" and "${choiceKey}" are both the default${where}`, `${cat}.default`);
      }
      firstDefault = choiceKey;
    }
    choices[choiceKey] = choice;
  }
  const keys = Object.keys(choices);
  if (keys.length === 0 && !unlisted.enabled) {
    throw new ConfigError(`${at} has no choices and no enabled unlisted_choice, so there is nothing to choose${where}`, at);
  }
  if (keys.length > 0 && firstDefault === null) choices[keys[0]!]!.default = true;
  return { display_name: (option.display_name as string | undefined) ?? key, choices, unlisted_choice: unlisted };
}

export const profileOptions: TraitType<Record<string, ProfileOptionConfig>> & { doc: string } = {
  doc: 'dict of option objects',
  expected: 'a mapping of option keys to options',
  check(value, path, where) {
    if (!isPlainObject(value)) throw mismatch(path, 'a mapping of option keys to options', value, where);
    const out: Record<string, ProfileOptionConfig> = {};
    for (const [key, option] of Object.entries(value)) out[key] = checkOption(key, option, `${path}.${key}`, where);
    return out;
  },
};
