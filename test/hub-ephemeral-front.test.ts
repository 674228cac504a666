// The ephemeral visitor's front door with the tmp authenticator: force_new_server on the front URL, tmplogin always
// minting a user, return visits by link keeping the user, and profiles chosen from the front URL, the spawn URL or a
// user-redirect (nbgitpuller) link, applied by the local spawner (cmd, args, environment, default_url).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, MOCK_SINGLEUSER, startTestHub, type TestHub } from './support/hub.ts';
import { FrontVisitor as Visitor, userIn } from './support/front-visitor.ts';

const profiles = [
  { display_name: 'Small', slug: 'small', default: true, kubespawner_override: { environment: { PROFILE: 'small' } } },
  {
    display_name: 'Big machine', slug: 'big',
    kubespawner_override: {
      cmd: [process.execPath, MOCK_SINGLEUSER, 'from-cmd'], args: ['--big'],
      environment: { PROFILE: 'big' }, default_url: '/tree/big',
    },
  },
];

function tmpHub(extra: Record<string, Record<string, unknown>> = {}): Promise<TestHub> {
  return startTestHub({
    JupyterHub: { authenticator_class: 'tmp' },
    Spawner: { profile_list: profiles, environment: { COMMON: 'yes' } },
    ...extra,
  });
}

async function serverView(v: Visitor, user: string): Promise<{ env: Record<string, string>; argv: string[] }> {
  const env = await (await v.get(`/user/${user}/env`)).json();
  const proc = await (await v.get(`/user/${user}/proc`)).json();
  // as root the spawner adds --allow-root (jupyter needs it); that is not the profile's doing
  return { env, argv: proc.argv.filter((a: string) => a !== '--allow-root') };
}

async function serverNames(hub: TestHub, user: string): Promise<string[] | null> {
  const r = await hub.api(`/users/${user}`);
  if (r.status === 404) return null;
  return Object.keys((await r.json()).servers ?? {});
}

async function readyUser(v: Visitor, path: string): Promise<string> {
  const { hops } = await v.follow(path, (url) => url.startsWith('/user/'));
  const user = userIn(hops.at(-1)!.location ?? hops.at(-1)!.url);
  expect(user).toBeTruthy();
  await eventually(async () => (await v.hub.api(`/users/${user}`).then((r) => r.json())).servers?.['']?.ready);
  return user!;
}

describe('TmpAuthenticator.force_new_server', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await tmpHub({ TmpAuthenticator: { force_new_server: true } });
  });
  afterAll(() => hub?.close());

  it('the front URL without next mints a fresh user and server and stops the old one', async () => {
    const v = new Visitor(hub);
    const first = await v.get('/hub/');
    expect(first.status).toBe(302);
    // straight to tmplogin with the spawn as next: never back to /hub/, which would mint users in a loop
    expect(first.headers.get('location')).toBe('/hub/tmplogin?next=%2Fhub%2Fspawn');
    const u1 = await readyUser(v, '/hub/');

    // <base> itself is the front URL too (it lands on /hub/)
    const u2 = await readyUser(v, '/');
    expect(u2).not.toBe(u1);
    await eventually(async () => (await serverNames(hub, u1))?.length === 0);
    expect(await serverNames(hub, u2)).toEqual(['']);
    // the old user is left for the culler, not deleted here
    expect((await hub.api(`/users/${u1}`)).status).toBe(200);

    // a link with next (here a user-redirect) keeps the user and the running server
    const { hops } = await v.follow('/hub/user-redirect/tree/notes?x=1', (url) => url.startsWith('/user/'));
    expect(hops.at(-1)!.location).toBe(`/user/${u2}/tree/notes?x=1`);
    const back = await v.follow(`/hub/?next=${encodeURIComponent(`/user/${u2}/tree/`)}`, (url) => url.startsWith('/user/'));
    expect(userIn(back.hops.at(-1)!.location!)).toBe(u2);
    expect(await serverNames(hub, u2)).toEqual(['']);
  });

  it('a brand-new visitor at the front URL gets a user without a detour through the login page', async () => {
    const v = new Visitor(hub);
    const { hops } = await v.follow('/hub/?profile=big', (url) => url.startsWith('/user/'));
    expect(hops.map((h) => h.url.split('?')[0])).toEqual(['/hub/', '/hub/tmplogin', '/hub/spawn']);
    expect(hops[1]!.url).toBe(`/hub/tmplogin?next=${encodeURIComponent('/hub/spawn?profile=big')}`);
    const user = userIn(hops.at(-1)!.location!)!;
    await eventually(async () => (await hub.api(`/users/${user}`).then((r) => r.json())).servers?.['']?.ready);
    expect((await serverView(v, user)).env.PROFILE).toBe('big');
  });
});

describe('tmp authenticator without force_new_server (the default)', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await tmpHub();
  });
  afterAll(() => hub?.close());

  it('a returning visitor keeps their user and server; /hub/tmplogin always mints a new one', async () => {
    const v = new Visitor(hub);
    const u1 = await readyUser(v, '/hub/');
    const again = await v.get('/hub/');
    expect(again.headers.get('location')).toBe(`/user/${u1}/`);
    // /hub/login with the tmp authenticator: a logged-in visitor keeps the user, a new one goes to tmplogin with next
    expect((await v.get('/hub/login?next=%2Fhub%2Fhome')).headers.get('location')).toBe('/hub/home');
    const stranger = new Visitor(hub);
    expect((await stranger.get('/hub/login?next=%2Fhub%2Fhome')).headers.get('location')).toBe('/hub/tmplogin?next=%2Fhub%2Fhome');
    expect((await stranger.get('/hub/login')).headers.get('location')).toBe('/hub/tmplogin');

    const minted = await v.get('/hub/tmplogin?next=%2Fhub%2Fhome');
    expect(minted.headers.get('location')).toBe('/hub/home');
    const home = await v.get('/hub/home');
    expect(home.status).toBe(200);
    const html = await home.text();
    expect(html).not.toContain(u1);
    // without force_new_server the old server is left running (tmpauthenticator 1.0), for the culler
    expect(await serverNames(hub, u1)).toEqual(['']);
  });

  it('profiles: front URL, spawn URL and user-redirect link all reach the spawner', async () => {
    // front URL, brand-new visitor: the profile survives login and tmplogin
    const a = new Visitor(hub);
    const ua = await readyUser(a, '/hub/?profile=big');
    const big = await serverView(a, ua);
    expect(big.env).toMatchObject({ PROFILE: 'big', COMMON: 'yes', JUPYTERHUB_DEFAULT_URL: '/tree/big' });
    expect(big.argv).toEqual(['from-cmd', '--big']);
    expect((await hub.api(`/users/${ua}`).then((r) => r.json())).servers[''].user_options).toEqual({ profile: ['big'] });

    // the spawn URL
    const b = new Visitor(hub);
    await b.get('/hub/tmplogin');
    const spawned = await b.follow('/hub/spawn?profile=small', (u) => u.startsWith('/user/'));
    const ub = userIn(spawned.hops.at(-1)!.location!)!;
    await eventually(async () => (await hub.api(`/users/${ub}`).then((r) => r.json())).servers?.['']?.ready);
    const small = await serverView(b, ub);
    expect(small.env).toMatchObject({ PROFILE: 'small', COMMON: 'yes' });
    expect(small.env.JUPYTERHUB_DEFAULT_URL).toBeUndefined();
    expect(small.argv).toEqual([]);

    // an nbgitpuller link: the profile reaches the spawn options and the git-pull query is passed on whole
    const c = new Visitor(hub);
    const link = '/hub/user-redirect/git-pull?repo=https%3A%2F%2Fexample.org%2Fr.git&branch=main&urlpath=tree%2Fr%2Fa.ipynb&profile=big';
    const { hops } = await c.follow(link, (u) => u.startsWith('/user/'));
    const spawnHop = hops.find((h) => h.url.startsWith('/hub/spawn/'))!;
    const uc = userIn(spawnHop.url)!;
    const spawnQuery = new URLSearchParams(spawnHop.url.split('?')[1]);
    expect(spawnQuery.get('profile')).toBe('big');
    expect(spawnQuery.get('next')).toBe(`/user/${uc}/git-pull?repo=https%3A%2F%2Fexample.org%2Fr.git&branch=main&urlpath=tree%2Fr%2Fa.ipynb&profile=big`);
    expect(hops.at(-1)!.location).toContain(`/user/${uc}/git-pull?repo=https%3A%2F%2Fexample.org%2Fr.git&branch=main&urlpath=tree%2Fr%2Fa.ipynb`);
    await eventually(async () => (await hub.api(`/users/${uc}`).then((r) => r.json())).servers?.['']?.ready);
    expect((await serverView(c, uc)).env.PROFILE).toBe('big');
  });

  it('an unknown profile gets a 400 page listing the valid ones, from every entry point', async () => {
    for (const path of ['/hub/?profile=huge', '/hub/spawn?profile=huge', '/hub/user-redirect/git-pull?repo=x&profile=huge']) {
      const v = new Visitor(hub);
      const { last, hops } = await v.follow(path);
      expect(last.status, `${path} via ${hops.map((h) => h.url).join(' -> ')}`).toBe(400);
      const html = await last.text();
      expect(html).toContain('Unknown profile');
      expect(html).toContain('huge');
      for (const p of profiles) {
        expect(html).toContain(`value="${p.slug}"`);
        expect(html).toContain(p.display_name);
      }
      const user = hops.map((h) => userIn(h.url)).find(Boolean);
      if (user) expect(await serverNames(hub, user)).toEqual([]);
    }
  });
});
