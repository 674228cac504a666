// What a visitor's user_options make of a profile's profile_options: precedence of the overrides, defaults, {value}
// substitution, the checks on free text, lists from a query string, and the form fields read as KubeSpawner reads them.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import type { SpawnerConfig } from '../src/config/index.ts';
import { effectiveSpawnerConfig, selectionKey, selectUserOptions } from '../src/servers/profiles.ts';
import { optionsFromForm } from '../src/servers/profile-form.ts';
import { DomainError, HubError } from '../src/util/errors.ts';
import { toHttpError } from '../src/hub/http-errors.ts';

let spawner: SpawnerConfig;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodehub-psel-'));
  const config = {
    Spawner: {
      environment: { COMMON: 'yes', LEVEL: 'config' },
      default_url: '/tree',
      profile_list: [
        { display_name: 'Plain', slug: 'plain' },
        {
          display_name: 'Demo', slug: 'demo', default: true,
          kubespawner_override: { environment: { LEVEL: 'profile', PROFILE: 'demo' }, default_url: '/lab', extra_pod_config: { base: 'yes' } },
          profile_options: {
            image: {
              display_name: 'Image',
              choices: {
                base: { display_name: 'Base', kubespawner_override: { image: 'jupyter/base-notebook:2024', environment: { LEVEL: 'image' } } },
                scipy: { display_name: 'SciPy', default: true, kubespawner_override: { image: 'jupyter/scipy-notebook:2024' } },
              },
              unlisted_choice: {
                enabled: true,
                display_name: 'Image name',
                validation_regex: '^jupyter/[a-z-]+:[a-z0-9.-]+$',
                validation_message: 'Must be jupyter/<name>:<tag>',
                kubespawner_override: { image: '{value}', environment: { CHOSEN: 'image {value}', '{value}_KEY': 'v' }, extra_pod_config: { list: ['{value}', 1] } },
              },
            },
            size: {
              display_name: 'Size',
              choices: {
                small: { kubespawner_override: { mem_limit: '1G', environment: { LEVEL: 'size' } } },
                large: { kubespawner_override: { mem_limit: '4G', environment: { COMMON: null } } },
              },
            },
            tag: {
              display_name: 'Tag',
              unlisted_choice: { enabled: true, kubespawner_override: { environment: { TAG: '{value}' }, extra_pod_config: { '{value}': { polluted: 'yes' } } } },
              choices: { stable: { kubespawner_override: { environment: { TAG: 'stable' } } } },
            },
          },
        },
        {
          display_name: 'Free only', slug: 'free',
          profile_options: { repo: { unlisted_choice: { enabled: true, kubespawner_override: { environment: { REPO: '{value}' } } } } },
        },
      ],
    },
  };
  writeFileSync(join(dir, 'c.json'), JSON.stringify(config));
  spawner = (await loadConfig({ file: join(dir, 'c.json'), env: {} })).spawner;
  rmSync(dir, { recursive: true, force: true });
});

const effective = (o: Record<string, unknown>) => effectiveSpawnerConfig(spawner, o, 'LocalProcessSpawner');

function rejection(o: Record<string, unknown>): HubError {
  try {
    effective(o);
  } catch (err) {
    // A domain error (bad user options), which the HTTP layer answers with 400.
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).kind).toBe('invalid');
    const http = toHttpError(err) as HubError;
    expect(http).toBeInstanceOf(HubError);
    expect(http.status).toBe(400);
    return http;
  }
  throw new Error(`accepted ${JSON.stringify(o)}`);
}

describe('selection and precedence', () => {
  it('no options: the default profile with each option at its default choice', () => {
    const c = effective({});
    expect(c.image).toBe('jupyter/scipy-notebook:2024');
    expect(c.mem_limit).toBe('1G');
    // config < profile < choices in option order (size comes after image and wins LEVEL)
    expect(c.environment).toEqual({ COMMON: 'yes', LEVEL: 'size', PROFILE: 'demo', TAG: 'stable' });
    expect(c.default_url).toBe('/lab');
  });

  it('chosen values apply in option order over the profile, and null removes a key', () => {
    const c = effective({ profile: 'demo', image: 'base', size: 'large' });
    expect(c.image).toBe('jupyter/base-notebook:2024');
    expect(c.mem_limit).toBe('4G');
    expect(c.environment).toEqual({ LEVEL: 'image', PROFILE: 'demo', TAG: 'stable' });
    // the config object itself is untouched
    expect(spawner.environment).toEqual({ COMMON: 'yes', LEVEL: 'config' });
  });

  it('a profile without options is the profile override alone', () => {
    const c = effective({ profile: 'plain', image: 'base' });
    expect(c.image).toBeUndefined();
    expect(c.environment).toEqual({ COMMON: 'yes', LEVEL: 'config' });
  });

  it('values from a query string arrive as lists, and the form field names work there too', () => {
    expect(effective({ profile: ['demo'], image: ['base', 'scipy'], size: ['large'] }).image).toBe('jupyter/base-notebook:2024');
    expect(effective({ profile: ['demo'], 'profile-option-demo--image': ['base'] }).image).toBe('jupyter/base-notebook:2024');
    expect(effective({ profile: ['demo'], 'image--unlisted-choice': ['jupyter/r-notebook:1.0'] }).image).toBe('jupyter/r-notebook:1.0');
    expect(effective({ profile: ['demo'], image: [] }).image).toBe('jupyter/scipy-notebook:2024');
  });
});

describe('free text (unlisted_choice)', () => {
  it('replaces {value} in every string below the trait names, nested keys and list items too', () => {
    const c = effective({ profile: 'demo', 'image--unlisted-choice': 'jupyter/r-notebook:2024-01' });
    expect(c.image).toBe('jupyter/r-notebook:2024-01');
    expect(c.environment).toEqual({
      COMMON: 'yes', LEVEL: 'size', PROFILE: 'demo', TAG: 'stable',
      CHOSEN: 'image jupyter/r-notebook:2024-01', 'jupyter/r-notebook:2024-01_KEY': 'v',
    });
    expect(c.extra_pod_config).toEqual({ base: 'yes', list: ['jupyter/r-notebook:2024-01', 1] });
  });

  it('wins over a listed choice sent with it; "unlisted-choice" as the choice needs text', () => {
    expect(effective({ profile: 'demo', image: 'base', 'image--unlisted-choice': 'jupyter/x:1' }).image).toBe('jupyter/x:1');
    expect(effective({ profile: 'demo', image: 'unlisted-choice', 'image--unlisted-choice': 'jupyter/x:1' }).image).toBe('jupyter/x:1');
    expect(rejection({ profile: 'demo', image: 'unlisted-choice' }).message).toBe("Enter a value for option 'image' of profile 'demo'");
    expect(rejection({ profile: 'demo', image: 'unlisted-choice', 'image--unlisted-choice': '' }).message).toBe("Enter a value for option 'image' of profile 'demo'");
  });

  it('is checked against the whole regex, with the validation_message', () => {
    for (const bad of ['quay.io/evil:1', 'jupyter/x:1 --privileged', 'jupyter/X:1', 'xjupyter/a:1']) {
      expect(rejection({ profile: 'demo', 'image--unlisted-choice': bad }).message).toBe(
        "Invalid value for option 'image' of profile 'demo': Must be jupyter/<name>:<tag>",
      );
    }
  });

  it('without a regex any text goes, but never control characters or more than 1024 characters', () => {
    expect(effective({ profile: 'demo', 'tag--unlisted-choice': 'any thing {username} $HOME' }).environment).toMatchObject({ TAG: 'any thing {username} $HOME' });
    expect(rejection({ profile: 'demo', 'tag--unlisted-choice': 'a\nEVIL=1' }).message).toBe(
      "Invalid value for option 'tag' of profile 'demo': control characters (such as a newline) are not allowed",
    );
    expect(rejection({ profile: 'demo', 'tag--unlisted-choice': 'a\u0000' }).status).toBe(400);
    expect(effective({ profile: 'demo', 'tag--unlisted-choice': 'x'.repeat(1024) }).environment).toMatchObject({ TAG: 'x'.repeat(1024) });
    expect(rejection({ profile: 'demo', 'tag--unlisted-choice': 'x'.repeat(1025) }).message).toBe(
      "Invalid value for option 'tag' of profile 'demo': longer than 1024 characters",
    );
  });

  it('a key that becomes "__proto__" stays a plain key, merged or not', () => {
    const c = effective({ profile: 'demo', 'tag--unlisted-choice': '__proto__' });
    const labels = c.extra_pod_config as Record<string, unknown>;
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
    expect(Object.keys(labels)).toEqual(['base', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(labels, '__proto__')!.value).toEqual({ polluted: 'yes' });
    expect((labels as { polluted?: string }).polluted).toBeUndefined();
    expect(({} as { polluted?: string }).polluted).toBeUndefined();
  });
});

describe('bad options are a 400 with a clear message', () => {
  it.each([
    [{ profile: 'nope' }, "Unknown profile 'nope'. Valid profiles: plain, demo, free"],
    [{ profile: 5 }, 'The profile must be a string (a slug)'],
    [{ profile: 'demo', image: 'gpu' }, "Unknown choice 'gpu' for option 'image' of profile 'demo'. Valid choices: base, scipy"],
    [{ profile: 'demo', size: 'unlisted-choice' }, "Unknown choice 'unlisted-choice' for option 'size' of profile 'demo'. Valid choices: small, large"],
    [{ profile: 'demo', 'size--unlisted-choice': '8G' }, "Option 'size' of profile 'demo' takes no value of your own (size--unlisted-choice)"],
    [{ profile: 'demo', image: { x: 1 } }, "Option 'image' must be a string"],
    [{ profile: 'free' }, "Option 'repo' of profile 'free' has no default choice; give a value of your own (repo--unlisted-choice)"],
    [{ profile: 'demo', image: 'toString' }, "Unknown choice 'toString' for option 'image' of profile 'demo'. Valid choices: base, scipy"],
  ])('%j', (options, message) => {
    expect(rejection(options).message).toBe(message);
  });

  it('options of other profiles and unknown keys are ignored, as KubeSpawner ignores them', () => {
    expect(effective({ profile: 'plain', 'repo--unlisted-choice': 'x', garbage: 1 }).environment).toEqual({ COMMON: 'yes', LEVEL: 'config' });
    expect(effective({ profile: 'free', 'repo--unlisted-choice': 'https://github.com/a/b' }).environment).toMatchObject({ REPO: 'https://github.com/a/b' });
  });
});

describe('selectionKey: equal exactly when the effective choices are', () => {
  const key = (o: Record<string, unknown>) => selectionKey(selectUserOptions(spawner, o));
  it('defaults spelled out or left out are the same; another choice or text is not', () => {
    expect(key({})).toBe(key({ profile: 'demo' }));
    expect(key({ profile: ['demo'], image: ['scipy'] })).toBe(key({ profile: 'demo' }));
    expect(key({ profile: 'demo', image: 'base' })).not.toBe(key({ profile: 'demo' }));
    expect(key({ profile: 'demo', 'tag--unlisted-choice': 'stable' })).not.toBe(key({ profile: 'demo' }));
    expect(key({ profile: 'plain' })).not.toBe(key({}));
  });
});

describe('optionsFromForm (KubeSpawner options_from_form)', () => {
  const form = (fields: Record<string, string[]>, ignored?: (k: string[]) => void) => optionsFromForm(spawner, fields, ignored);

  it("keeps only the chosen profile's fields, as user_options strings", () => {
    const seen: string[][] = [];
    expect(form({
      profile: ['demo'], 'profile-option-demo--image': ['base'], 'profile-option-demo--size': ['large'],
      'profile-option-plain--image': ['x'], junk: ['1'], next: ['/x'],
    }, (k) => seen.push(k))).toEqual({ profile: 'demo', image: 'base', size: 'large' });
    expect(seen).toEqual([['junk', 'next']]);
  });

  it('without JavaScript both select and text arrive: the select decides which counts', () => {
    const base = { profile: ['demo'], 'profile-option-demo--image--unlisted-choice': ['jupyter/r-notebook:1'] };
    expect(form({ ...base, 'profile-option-demo--image': ['unlisted-choice'] })).toEqual({ profile: 'demo', 'image--unlisted-choice': 'jupyter/r-notebook:1' });
    expect(form({ ...base, 'profile-option-demo--image': ['base'] })).toEqual({ profile: 'demo', image: 'base' });
    // "Other..." with an empty text field stays an "Other..." pick, which selection refuses
    const empty = form({ profile: ['demo'], 'profile-option-demo--image': ['unlisted-choice'], 'profile-option-demo--image--unlisted-choice': [''] });
    expect(() => effective(empty)).toThrow("Enter a value for option 'image' of profile 'demo'");
  });

  it('no profile chosen: empty user_options (the default profile); no profile list: the fields unchanged', () => {
    expect(form({ 'profile-option-demo--image': ['base'] })).toEqual({});
    expect(optionsFromForm({ ...spawner, profile_list: [] }, { a: ['1', '2'] })).toEqual({ a: ['1', '2'] });
  });
});
