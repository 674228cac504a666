// The spawn form's fields as user_options, the way KubeSpawner's options_from_form reads them: `profile`, and the
// fields `profile-option-<slug>--<option>` of that profile only, become {profile, <option>: <choice>,
// "<option>--unlisted-choice": <text>}. Without JavaScript the browser sends a select and its text field together;
// the select decides which of the two counts.
import type { SpawnerConfig } from '../config/types.ts';
import { UNLISTED_CHOICE_VALUE, UNLISTED_SUFFIX } from '../config/profile-options.ts';

export const FORM_OPTION_PREFIX = 'profile-option-';

/** The form field name of an option of a profile (add UNLISTED_SUFFIX for its text field). */
export function optionFieldName(slug: string, option: string): string {
  return `${FORM_OPTION_PREFIX}${slug}--${option}`;
}

/** Whether the form has something to ask beyond the profile: then a bare spawn URL shows it (see spawn.ts). */
export function hasProfileOptions(config: SpawnerConfig): boolean {
  return (config.profile_list ?? []).some((p) => Object.keys(p.profile_options ?? {}).length > 0);
}

/**
 * user_options from submitted form fields (each a list of values). Without a profile list the fields are kept as
 * they are, as JupyterHub's own Spawner does. Fields that mean nothing here are reported through `ignored`.
 */
export function optionsFromForm(config: SpawnerConfig, form: Record<string, string[]>, ignored?: (keys: string[]) => void): Record<string, unknown> {
  if ((config.profile_list ?? []).length === 0) return form;
  const slug = form.profile?.[0];
  const out: Record<string, unknown> = {};
  const unused = Object.keys(form).filter((k) => k !== 'profile' && !k.startsWith(FORM_OPTION_PREFIX));
  if (slug) {
    out.profile = slug;
    const prefix = `${FORM_OPTION_PREFIX}${slug}--`;
    for (const [k, v] of Object.entries(form)) {
      if (k.startsWith(prefix) && v.length > 0) Object.defineProperty(out, k.slice(prefix.length), { value: v[0], enumerable: true, writable: true, configurable: true });
    }
    const profile = config.profile_list.find((p) => p.slug === slug);
    for (const option of Object.keys(profile?.profile_options ?? {})) {
      const textKey = option + UNLISTED_SUFFIX;
      const picked = out[option];
      if (picked === UNLISTED_CHOICE_VALUE && typeof out[textKey] === 'string' && out[textKey] !== '') delete out[option];
      else if (picked !== undefined && picked !== UNLISTED_CHOICE_VALUE) delete out[textKey];
    }
  }
  if (unused.length && ignored) ignored(unused.sort());
  return out;
}
