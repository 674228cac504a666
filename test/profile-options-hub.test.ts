// profile_options through a real hub, local process spawner and the mock single-user server (which reports its
// environment): REST user_options reach the spawned process, bad ones are a 400 with nothing started; the spawn form
// shows the options, and a form POST with "Other..." and text (no JavaScript) spawns with the text substituted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestHub, type TestHub } from './support/hub.ts';
import { FrontVisitor as Visitor, userIn } from './support/front-visitor.ts';
import { formSession } from './support/raw-http.ts';

const profiles = [
  {
    display_name: 'Data <b>science</b>', slug: 'demo', default: true,
    kubespawner_override: { environment: { PROFILE: 'demo' } },
    profile_options: {
      image: {
        display_name: 'Image',
        choices: {
          base: { display_name: 'Base image', kubespawner_override: { environment: { IMAGE: 'jupyter/base-notebook:2024' } } },
          scipy: { display_name: 'SciPy "stack"', default: true, kubespawner_override: { environment: { IMAGE: 'jupyter/scipy-notebook:2024' } } },
        },
        unlisted_choice: {
          enabled: true, display_name: 'Your image', display_name_in_choices: 'Other image...',
          validation_regex: '^jupyter/[a-z-]+:[a-z0-9.-]+$', validation_message: 'Must be jupyter/<name>:<tag>',
          kubespawner_override: { environment: { IMAGE: '{value}', IMAGE_NOTE: 'typed: {value}' } },
        },
      },
    },
  },
  { display_name: 'Plain', slug: 'plain', kubespawner_override: { environment: { PROFILE: 'plain' } } },
];

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({ JupyterHub: { authenticator_class: 'tmp' }, Spawner: { profile_list: profiles } });
});
afterAll(() => hub?.close());

const json = { 'content-type': 'application/json' };

async function serverEnv(user: string): Promise<Record<string, string>> {
  await eventually(async () => (await hub.api(`/users/${user}`).then((r) => r.json())).servers?.['']?.ready, 20_000);
  return (await fetch(`${hub.origin}/user/${user}/env`)).json();
}

async function createUser(name: string): Promise<void> {
  expect((await hub.api(`/users/${name}`, { method: 'POST' })).status).toBe(201);
}

describe('REST: POST /hub/api/users/<name>/server with user_options', () => {
  it('the chosen choice reaches the server, and the options are stored as sent', async () => {
    await createUser('ann');
    const body = { profile: 'demo', image: 'base' };
    const r = await hub.api('/users/ann/server', { method: 'POST', headers: json, body: JSON.stringify(body) });
    expect([201, 202]).toContain(r.status);
    expect(await serverEnv('ann')).toMatchObject({ PROFILE: 'demo', IMAGE: 'jupyter/base-notebook:2024' });
    expect((await hub.api('/users/ann').then((x) => x.json())).servers[''].user_options).toEqual(body);
  });

  it('free text is substituted into the override', async () => {
    await createUser('bea');
    const r = await hub.api('/users/bea/server', { method: 'POST', headers: json, body: JSON.stringify({ profile: 'demo', 'image--unlisted-choice': 'jupyter/r-notebook:4.3' }) });
    expect([201, 202]).toContain(r.status);
    expect(await serverEnv('bea')).toMatchObject({ IMAGE: 'jupyter/r-notebook:4.3', IMAGE_NOTE: 'typed: jupyter/r-notebook:4.3' });
  });

  it.each([
    [{ profile: 'demo', image: 'gpu' }, "Unknown choice 'gpu' for option 'image' of profile 'demo'. Valid choices: base, scipy"],
    [{ profile: 'demo', 'image--unlisted-choice': 'evil.example/miner:1' }, "Invalid value for option 'image' of profile 'demo': Must be jupyter/<name>:<tag>"],
    [{ profile: 'plain', 'image--unlisted-choice': 'x' }, null],
    [{ profile: 'nope' }, "Unknown profile 'nope'. Valid profiles: demo, plain"],
  ])('%j: 400 JSON and nothing spawned', async (body, message) => {
    const name = `bad-${Math.random().toString(36).slice(2, 8)}`;
    await createUser(name);
    const r = await hub.api(`/users/${name}/server`, { method: 'POST', headers: json, body: JSON.stringify(body) });
    if (message === null) {
      // options for another profile's option are ignored, as KubeSpawner ignores them
      expect([201, 202]).toContain(r.status);
      expect((await serverEnv(name)).PROFILE).toBe('plain');
      return;
    }
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ status: 400, message });
    const model = await hub.api(`/users/${name}`).then((x) => x.json());
    expect(model.servers).toEqual({});
    expect(hub.running.hub.servers.get(name, '')).toBeUndefined();
  });
});

async function post(v: Visitor, path: string, fields: Record<string, string>): Promise<Response> {
  // The form's _xsrf field, as the page the visitor is on carries it.
  const { xsrf, cookie } = await formSession(hub.origin, '/hub/token', v.cookieHeader());
  return fetch(`${hub.origin}${path}`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, _xsrf: xsrf }).toString(),
  });
}

async function visitorAtForm(): Promise<{ v: Visitor; user: string; page: string }> {
  const v = new Visitor(hub);
  const { hops, last } = await v.follow('/hub/');
  expect(hops.at(-1)!.url).toBe('/hub/spawn');
  expect(last.status).toBe(200);
  const page = await last.text();
  const name = /Signed in as <strong>([^<]+)<\/strong>/.exec(page)?.[1];
  expect(name).toBeTruthy();
  return { v, user: name!, page };
}

describe('the spawn form', () => {
  it('a bare spawn URL shows the options with KubeSpawner field names, everything from config escaped', async () => {
    const { page } = await visitorAtForm();
    expect(page).toContain('<input type="radio" id="profile-0" name="profile" value="demo" checked>');
    expect(page).toContain('<strong>Data &lt;b&gt;science&lt;/b&gt;</strong>');
    expect(page).toContain('<select id="profile-option-demo--image" name="profile-option-demo--image">');
    expect(page).toContain('<option value="base">Base image</option>');
    expect(page).toContain('<option value="scipy" selected>SciPy &quot;stack&quot;</option>');
    expect(page).toContain('<option value="unlisted-choice">Other image...</option>');
    expect(page).toContain('<label for="profile-option-demo--image--unlisted-choice">Your image</label>');
    expect(page).toMatch(/<input type="text" id="profile-option-demo--image--unlisted-choice" name="profile-option-demo--image--unlisted-choice" value=""/);
    expect(page).toContain('Must be jupyter/&lt;name&gt;:&lt;tag&gt;');
    expect(page).not.toContain('<script');
  });

  it('"Other..." with text, posted without JavaScript (select and text both sent), spawns with the text', async () => {
    const { v, user } = await visitorAtForm();
    const r = await post(v, '/hub/spawn', {
      profile: 'demo', 'profile-option-demo--image': 'unlisted-choice',
      'profile-option-demo--image--unlisted-choice': 'jupyter/julia-notebook:1.9', 'profile-option-plain--x': 'ignored',
    });
    expect(r.status).toBe(302);
    expect(userIn(r.headers.get('location')!)).toBe(user);
    expect(await serverEnv(user)).toMatchObject({ PROFILE: 'demo', IMAGE: 'jupyter/julia-notebook:1.9' });
    expect((await hub.api(`/users/${user}`).then((x) => x.json())).servers[''].user_options).toEqual({
      profile: 'demo', 'image--unlisted-choice': 'jupyter/julia-notebook:1.9',
    });

    // stopped and back at the form: the last picks are selected again
    expect((await hub.api(`/users/${user}/server`, { method: 'DELETE' })).status).toBe(204);
    const again = await v.get('/hub/spawn');
    expect(again.status).toBe(200);
    const page = await again.text();
    expect(page).toContain('<option value="unlisted-choice" selected>Other image...</option>');
    expect(page).toContain('value="jupyter/julia-notebook:1.9"');
  });

  it('a listed choice posted with leftover text uses the choice', async () => {
    const { v, user } = await visitorAtForm();
    const r = await post(v, '/hub/spawn', {
      profile: 'demo', 'profile-option-demo--image': 'base', 'profile-option-demo--image--unlisted-choice': 'jupyter/typed-then:changed',
    });
    expect(r.status).toBe(302);
    expect((await serverEnv(user)).IMAGE).toBe('jupyter/base-notebook:2024');
  });

  it('text that fails the regex: the form again, with the message and the text kept, nothing spawned', async () => {
    const { v, user } = await visitorAtForm();
    const r = await post(v, '/hub/spawn', {
      profile: 'demo', 'profile-option-demo--image': 'unlisted-choice', 'profile-option-demo--image--unlisted-choice': 'evil/"><script>x',
    });
    expect(r.status).toBe(400);
    const page = await r.text();
    expect(page).toContain("Invalid value for option &#39;image&#39; of profile &#39;demo&#39;: Must be jupyter/&lt;name&gt;:&lt;tag&gt;");
    expect(page).toContain('value="evil/&quot;&gt;&lt;script&gt;x"');
    expect(page).toContain('<option value="unlisted-choice" selected>Other image...</option>');
    expect(page).not.toContain('<script>');
    expect(hub.running.hub.servers.get(user, '')).toBeUndefined();
  });

  it('the query string starts at once: ?profile=demo&image=base', async () => {
    const v = new Visitor(hub);
    const { hops } = await v.follow('/hub/spawn?profile=demo&image=base', (l) => l.startsWith('/user/'));
    const user = userIn(hops.at(-1)!.location!)!;
    expect((await serverEnv(user)).IMAGE).toBe('jupyter/base-notebook:2024');
    // stored as JupyterHub stores query options: lists
    expect((await hub.api(`/users/${user}`).then((x) => x.json())).servers[''].user_options).toEqual({ profile: ['demo'], image: ['base'] });
  });

  it('a bad query choice shows the form with the error instead of spawning', async () => {
    const v = new Visitor(hub);
    const { last } = await v.follow('/hub/spawn?profile=demo&image=nope');
    expect(last.status).toBe(400);
    expect(await last.text()).toContain('Unknown choice &#39;nope&#39; for option &#39;image&#39; of profile &#39;demo&#39;');
  });
});
