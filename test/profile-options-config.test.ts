// Spawner.profile_list[].profile_options in the configuration: KubeSpawner's initialisation (first choice default,
// unlisted_choice filled in) and the exact error, with its key path, for each way the block can be wrong.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config/index.ts';
import { compileChoiceRegex } from '../src/config/profile-options.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nodehub-popts-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(profileOptions: unknown, name = 'nodehub.json'): string {
  const profile = { display_name: 'Demo', slug: 'demo', profile_options: profileOptions };
  writeFileSync(join(dir, name), JSON.stringify({ Spawner: { profile_list: [profile] } }));
  return name;
}

async function load(profileOptions: unknown) {
  const c = await loadConfig({ file: write(profileOptions), cwd: dir, env: {} });
  return c.spawner.profile_list[0]!.profile_options!;
}

async function failure(profileOptions: unknown): Promise<ConfigError> {
  const err = await loadConfig({ file: write(profileOptions), cwd: dir, env: {} }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

const at = 'Spawner.profile_list[0].profile_options';

describe('profile_options: a valid block is initialised as KubeSpawner does', () => {
  it('fills in defaults: first choice default, display names from keys, unlisted_choice disabled with "Other..."', async () => {
    const opts = await load({
      image: { choices: { base: { kubespawner_override: { image: 'jupyter/base-notebook:2024' } }, scipy: {} } },
      size: { display_name: 'Size', choices: { s: { display_name: 'Small' }, l: { display_name: 'Large', default: true } } },
    });
    expect(opts).toEqual({
      image: {
        display_name: 'image',
        choices: {
          base: { display_name: 'base', default: true, kubespawner_override: { image: 'jupyter/base-notebook:2024' } },
          scipy: { display_name: 'scipy', default: false, kubespawner_override: {} },
        },
        unlisted_choice: {
          enabled: false, display_name: '', display_name_in_choices: 'Other...', validation_regex: null,
          validation_message: '', kubespawner_override: {},
        },
      },
      size: {
        display_name: 'Size',
        choices: {
          s: { display_name: 'Small', default: false, kubespawner_override: {} },
          l: { display_name: 'Large', default: true, kubespawner_override: {} },
        },
        unlisted_choice: expect.objectContaining({ enabled: false }),
      },
    });
    // options keep their configured order: their overrides apply in it
    expect(Object.keys(opts)).toEqual(['image', 'size']);
  });

  it('an option may offer only free text', async () => {
    const opts = await load({
      image: { unlisted_choice: { enabled: true, display_name: 'Image', validation_regex: '^quay\\.io/.+$', kubespawner_override: { image: '{value}' } } },
    });
    expect(opts.image!.choices).toEqual({});
    expect(opts.image!.unlisted_choice).toEqual({
      enabled: true, display_name: 'Image', display_name_in_choices: 'Other...', validation_regex: '^quay\\.io/.+$',
      validation_message: '', kubespawner_override: { image: '{value}' },
    });
  });

  it('a profile without profile_options loads as before (no key added)', async () => {
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ Spawner: { profile_list: [{ display_name: 'A' }] } }));
    const c = await loadConfig({ file: 'p.json', cwd: dir, env: {} });
    expect(c.spawner.profile_list[0]).toEqual({ display_name: 'A', slug: 'a', description: '', default: false, kubespawner_override: {} });
  });
});

describe('profile_options: errors name the key path', () => {
  it('an unknown key, at every level, with the nearest known name', async () => {
    let err = await failure({ image: { choises: {} } });
    expect(err.message).toBe(`Unknown configuration key ${at}.image.choises (in nodehub.json); did you mean ${at}.image.choices?`);
    expect(err.key).toBe(`${at}.image.choises`);
    err = await failure({ image: { choices: { a: { kubespawner_overide: {} } } } });
    expect(err.message).toBe(`Unknown configuration key ${at}.image.choices.a.kubespawner_overide (in nodehub.json); did you mean ${at}.image.choices.a.kubespawner_override?`);
    err = await failure({ image: { choices: { a: {} }, unlisted_choice: { enable: true } } });
    expect(err.message).toBe(`Unknown configuration key ${at}.image.unlisted_choice.enable (in nodehub.json); did you mean ${at}.image.unlisted_choice.enabled?`);
  });

  it('a regex JavaScript cannot read', async () => {
    const err = await failure({ image: { unlisted_choice: { enabled: true, validation_regex: '^(jupyter/.+' } } });
    expect(err.key).toBe(`${at}.image.unlisted_choice.validation_regex`);
    expect(err.message).toMatch(new RegExp(`^${at.replace(/[[\].]/g, '\\$&')}\\.image\\.unlisted_choice\\.validation_regex: "\\^\\(jupyter/\\.\\+" is not a valid regular expression \\(.+\\) \\(in nodehub\\.json\\)$`));
  });

  it('two default choices', async () => {
    const err = await failure({ image: { choices: { a: { default: true }, b: {}, c: { default: true } } } });
    expect(err.message).toBe(`${at}.image.choices.c.default: choices "a" and "c" are both the default (in nodehub.json)`);
    expect(err.key).toBe(`${at}.image.choices.c.default`);
  });

  it('an option with neither choices nor an enabled unlisted_choice', async () => {
    expect((await failure({ image: { display_name: 'Image' } })).message).toBe(
      `${at}.image has no choices and no enabled unlisted_choice, so there is nothing to choose (in nodehub.json)`,
    );
    expect((await failure({ image: { unlisted_choice: { validation_regex: 'x' } } })).key).toBe(`${at}.image`);
  });

  it('wrong types', async () => {
    expect((await failure([])).message).toBe(`${at} must be a mapping of option keys to options, got [] (in nodehub.json)`);
    expect((await failure({ image: 'base' })).message).toBe(`${at}.image must be a profile option mapping, got "base" (in nodehub.json)`);
    expect((await failure({ image: { choices: { a: { default: 'yes' } } } })).message).toBe(
      `${at}.image.choices.a.default must be true or false, got "yes" (in nodehub.json)`,
    );
    expect((await failure({ image: { choices: { a: { kubespawner_override: ['x'] } } } })).message).toBe(
      `${at}.image.choices.a.kubespawner_override must be a mapping, got ["x"] (in nodehub.json)`,
    );
    expect((await failure({ image: { unlisted_choice: { enabled: true, validation_regex: 5 } } })).message).toBe(
      `${at}.image.unlisted_choice.validation_regex must be a string or null, got 5 (in nodehub.json)`,
    );
  });

  it('keys that would clash with user_options or the form', async () => {
    expect((await failure({ profile: { choices: { a: {} } } })).message).toBe(
      `${at}.profile: "profile" cannot be an option key; it would clash with the user option "profile" or an option's free text (in nodehub.json)`,
    );
    expect((await failure({ 'image--unlisted-choice': { choices: { a: {} } } })).key).toBe(`${at}.image--unlisted-choice`);
    expect((await failure({ image: { choices: { 'unlisted-choice': {} }, unlisted_choice: { enabled: true } } })).message).toBe(
      `${at}.image.choices.unlisted-choice: "unlisted-choice" is the form's value for the free-text choice; name this choice otherwise (in nodehub.json)`,
    );
    // harmless while free text is off
    expect(Object.keys((await load({ image: { choices: { 'unlisted-choice': {} } } })).image!.choices)).toEqual(['unlisted-choice']);
  });
});

describe('validation_regex', () => {
  it('must match the whole text, unlike Python re.match, and reads Python-only spellings', () => {
    const r = compileChoiceRegex('^[a-z]+/[a-z-]+');
    expect(r.test('jupyter/base-notebook')).toBe(true);
    expect(r.test('jupyter/base-notebook; echo pwned')).toBe(false);
    expect(compileChoiceRegex('a|b').test('ab')).toBe(false); // the alternation is grouped before anchoring
    expect(compileChoiceRegex('(?P<repo>[a-z]+):(?P=repo)').test('abc:abc')).toBe(true);
    expect(compileChoiceRegex('(?i)JUPYTER/.+').test('jupyter/x')).toBe(true);
    expect(compileChoiceRegex('\\Ajupyter/.+\\Z').test('jupyter/x')).toBe(true);
    expect(() => compileChoiceRegex('(?<=a')).toThrow(SyntaxError);
  });
});
