// A profile's profile_options on the spawn form, with the field names of KubeSpawner's form: per option a select
// `profile-option-<slug>--<option>` and, when free text is allowed, a text field named as the select plus
// `--unlisted-choice`. No script: CSS shows the text field only while "Other..." is selected (where the browser has
// :has()), and the server reads the select to know which of the two counts.
import type { ProfileOptionConfig } from '../../config/types.ts';
import { UNLISTED_CHOICE_VALUE, UNLISTED_SUFFIX } from '../../config/profile-options.ts';
import { optionFieldName } from '../../servers/index.ts';
import { html, raw, type SafeHtml } from './escape.ts';

/** What the visitor sent last time, to show it again after an error: user_options or form fields. */
export type Submitted = Record<string, unknown>;

function first(v: unknown): string | null {
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'string' && x !== '' ? x : null;
}

function submittedValue(submitted: Submitted, slug: string, key: string): string | null {
  const form = optionFieldName(slug, key);
  return first(Object.hasOwn(submitted, key) ? submitted[key] : submitted[form]);
}

function optionBlock(slug: string, key: string, option: ProfileOptionConfig, submitted: Submitted | null): SafeHtml {
  const name = optionFieldName(slug, key);
  const unlisted = option.unlisted_choice;
  const ownText = submitted ? submittedValue(submitted, slug, key + UNLISTED_SUFFIX) : null;
  let picked = submitted ? submittedValue(submitted, slug, key) : null;
  if (ownText !== null && unlisted.enabled) picked = UNLISTED_CHOICE_VALUE;
  const valid = picked !== null && (Object.hasOwn(option.choices, picked) || (picked === UNLISTED_CHOICE_VALUE && unlisted.enabled));
  const selected = valid ? picked : Object.keys(option.choices).find((c) => option.choices[c]!.default) ?? UNLISTED_CHOICE_VALUE;
  const items = Object.entries(option.choices).map(([c, choice]) =>
    html`<option value="${c}"${c === selected ? html` selected` : ''}>${choice.display_name}</option>`);
  if (unlisted.enabled) {
    items.push(html`<option value="${UNLISTED_CHOICE_VALUE}"${selected === UNLISTED_CHOICE_VALUE ? html` selected` : ''}>${unlisted.display_name_in_choices}</option>`);
  }
  const hint = unlisted.validation_message ? html`<span class="hint">${unlisted.validation_message}</span>` : '';
  const own = unlisted.enabled
    ? html`<div class="unlisted">
        <label for="${name}${UNLISTED_SUFFIX}">${unlisted.display_name || option.display_name}</label>
        <input type="text" id="${name}${UNLISTED_SUFFIX}" name="${name}${UNLISTED_SUFFIX}" value="${ownText ?? ''}" autocomplete="off" spellcheck="false">
        ${hint}
      </div>`
    : '';
  return html`<div class="profile-option">
      <label for="${name}">${option.display_name}</label>
      <select id="${name}" name="${name}">${items}</select>
      ${own}
    </div>`;
}

/** The options of one profile, or nothing when it has none. */
export function profileOptionsBlock(slug: string, options: Record<string, ProfileOptionConfig> | undefined, submitted: Submitted | null): SafeHtml | '' {
  const entries = Object.entries(options ?? {});
  if (entries.length === 0) return '';
  return html`<div class="profile-options">${entries.map(([key, option]) => optionBlock(slug, key, option, submitted))}</div>`;
}

/** Inline style for the page head: only the selected profile's options, the text field only with "Other...". */
export const profileOptionsStyle = raw(`<style>
.profile-options { margin: -.25rem 0 .75rem 2.2rem; display: grid; gap: .6rem; }
.profile-option > label, .profile-option .unlisted > label { display: block; font-weight: 600; margin-bottom: .2rem; }
.profile-option .unlisted { margin-top: .4rem; }
.profile-option .hint { display: block; color: var(--muted); font-size: .9em; }
.profile:not(:has(input[name="profile"]:checked)) .profile-options { display: none; }
.profile-option:has(select option[value="${UNLISTED_CHOICE_VALUE}"]:not(:checked)) .unlisted { display: none; }
</style>`);
