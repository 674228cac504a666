// Cross-site request forgery against the hub's forms (issue #9). Each attack brings the victim's real cookies (pass
// cookie, login cookie, even the _xsrf cookie), as a browser would on a cross-site form POST, and must change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { ask, formPost, formSession } from './support/raw-http.ts';

const PASSWORD = 'xsrf event';
const EVIL = 'https://evil.example';
let hub: TestHub;
let victim: string; // Cookie header of a visitor who has the pass and a temporary user
let xsrf: string;

beforeAll(async () => {
  hub = await startTestHub({
    JupyterHub: { authenticator_class: 'tmp' },
    Spawner: { profile_list: [{ display_name: 'P', slug: 'p', default: true, profile_options: { size: { display_name: 'Size', choices: { s: { display_name: 'S', default: true }, l: { display_name: 'L' } } } } }] },
  }, { env: { NODEHUB_SHARED_PASSWORD: PASSWORD } });
  const pw = await formSession(hub.origin, '/hub/password');
  const pass = await ask(hub.origin, '/hub/password', formPost({ password: PASSWORD, _xsrf: pw.xsrf }, { cookie: pw.cookie }));
  expect(pass.status).toBe(302);
  let cookie = `${pw.cookie}; nodehub-shared-password=${pass.cookies['nodehub-shared-password']}`;
  const tmp = await ask(hub.origin, '/hub/tmplogin', { headers: { cookie } });
  expect(tmp.status).toBe(302);
  cookie += `; jupyterhub-hub-login=${tmp.cookies['jupyterhub-hub-login']}`;
  const form = await formSession(hub.origin, '/hub/token', cookie);
  victim = form.cookie;
  xsrf = form.xsrf;
});
afterAll(async () => { await hub?.close(); });

const store = () => hub.running.hub.store;
const me = async () => (await store().users.page({ offset: 0, limit: 10 })).items[0]!;
const tokens = async () => (await store().tokens.listForUser((await me()).id)).length;
const servers = () => [...hub.running.hub.servers.all()].length;

describe('form POSTs need the _xsrf token and a same-site origin', () => {
  it('the victim is one user with no server and no token', async () => {
    expect(await store().users.count()).toBe(1);
    expect(servers()).toBe(0);
    expect(await tokens()).toBe(0);
  });

  const attacks: Record<string, (path: string, fields: Record<string, string>) => Promise<number>> = {
    'evil Origin, right token': async (path, f) => (await ask(hub.origin, path, formPost({ ...f, _xsrf: xsrf }, { cookie: victim, origin: EVIL }))).status,
    'evil Referer, no Origin': async (path, f) => (await ask(hub.origin, path, formPost({ ...f, _xsrf: xsrf }, { cookie: victim, referer: `${EVIL}/x` }))).status,
    'Origin null': async (path, f) => (await ask(hub.origin, path, formPost({ ...f, _xsrf: xsrf }, { cookie: victim, origin: 'null' }))).status,
    'no _xsrf': async (path, f) => (await ask(hub.origin, path, formPost(f, { cookie: victim }))).status,
    'wrong _xsrf': async (path, f) => (await ask(hub.origin, path, formPost({ ...f, _xsrf: 'a'.repeat(40) }, { cookie: victim }))).status,
    'token without its cookie': async (path, f) => (await ask(hub.origin, path, formPost({ ...f, _xsrf: xsrf }, { cookie: victim.replace(/_xsrf=[^;]*/, '_xsrf=' + '0'.repeat(32)) }))).status,
  };
  for (const [what, attack] of Object.entries(attacks)) {
    it(`refuses ${what} on every form`, async () => {
      const users = await store().users.count();
      expect(await attack('/hub/spawn', { 'profile': 'p', 'profile-option-p--size': 'l' })).toBe(403);
      expect(await attack('/hub/token', { note: 'stolen' })).toBe(403);
      expect(await attack('/hub/login', { username: 'x', password: 'y' })).toBe(403);
      expect(await attack('/hub/password', { password: PASSWORD })).toBe(403);
      expect(servers()).toBe(0);
      expect(await tokens()).toBe(0);
      expect(await store().users.count()).toBe(users);
    });
  }

  it('accepts the X-XSRFToken header in place of the field', async () => {
    const r = await ask(hub.origin, '/hub/token', formPost({ note: 'via header' }, { cookie: victim, 'x-xsrftoken': xsrf, origin: hub.origin }));
    expect(r.status).toBe(200);
    expect(await tokens()).toBe(1);
  });

  it('the real form, posted from the page, still works', async () => {
    const r = await ask(hub.origin, '/hub/token', formPost({ note: 'mine', _xsrf: xsrf }, { cookie: victim, referer: `${hub.origin}/hub/token` }));
    expect(r.status).toBe(200);
    expect(await tokens()).toBe(2);
  });

  it("keeps the hub's _xsrf cookie to /hub/, away from the single-user servers' own _xsrf cookie", async () => {
    const r = await ask(hub.origin, '/hub/password');
    const line = [r.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('_xsrf='));
    expect(line).toMatch(/;\s*Path=\/hub\/(;|$)/i);
    expect(line).toMatch(/HttpOnly/i);
  });

  it('API requests authenticated by a token need no _xsrf', async () => {
    const r = await hub.api('/users/nobody-yet', { method: 'POST', headers: { origin: EVIL } });
    expect(r.status).toBe(201);
  });
});
