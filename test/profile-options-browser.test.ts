// The spawn form's profile_options in Chromium with JavaScript off: a profile's options show only while it is
// selected, the "Other..." text field only while "Other..." is picked, and submitting typed text starts a server with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { startTestHub, type TestHub } from './support/hub.ts';
import { CHROMIUM, launchChromium } from './support/e2e.ts';

const profiles = [
  {
    display_name: 'Demo', slug: 'demo', default: true,
    profile_options: {
      image: {
        display_name: 'Image',
        choices: { scipy: { display_name: 'SciPy', kubespawner_override: { environment: { IMAGE: 'scipy' } } } },
        unlisted_choice: {
          enabled: true, display_name: 'Image name', validation_regex: '^jupyter/[a-z-]+:[0-9.]+$',
          kubespawner_override: { environment: { IMAGE: '{value}' } },
        },
      },
    },
  },
  {
    display_name: 'Other profile', slug: 'other',
    profile_options: { size: { display_name: 'Size', choices: { s: { display_name: 'Small' } } } },
  },
];

let hub: TestHub;
let browser: Browser;

describe.skipIf(!existsSync(CHROMIUM))('spawn form in a browser without JavaScript', () => {
  beforeAll(async () => {
    hub = await startTestHub({ JupyterHub: { authenticator_class: 'tmp' }, Spawner: { profile_list: profiles } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  it('shows fields as the picks change and starts the server with the typed image', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${hub.origin}/hub/`);
    expect(new URL(page.url()).pathname).toBe('/hub/spawn');
    const text = page.locator('#profile-option-demo--image--unlisted-choice');
    const otherSize = page.locator('#profile-option-other--size');

    expect(await text.isVisible()).toBe(false);
    expect(await otherSize.isVisible()).toBe(false);
    await page.check('#profile-1');
    expect(await otherSize.isVisible()).toBe(true);
    expect(await page.locator('#profile-option-demo--image').isVisible()).toBe(false);
    await page.check('#profile-0');

    await page.selectOption('#profile-option-demo--image', 'unlisted-choice');
    expect(await text.isVisible()).toBe(true);
    await text.fill('jupyter/julia-notebook:1.9');
    await Promise.all([page.waitForURL(/\/user\/[^/]+\//, { timeout: 20_000 }), page.click('button[type=submit]')]);
    const user = /\/user\/([^/]+)\//.exec(page.url())![1]!;
    await page.goto(`${hub.origin}/user/${user}/env`);
    expect(JSON.parse((await page.locator('body').textContent())!).IMAGE).toBe('jupyter/julia-notebook:1.9');
    await context.close();
  });
});
