// User names that look like other names or cannot be written as UTF-8 (issue #9): control characters, format
// characters (bidi overrides, zero-width characters, BOM: Unicode category Cf) and unpaired surrogates are a 400 naming
// the rule wherever a name enters: creating users, renaming, group members, the login form.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { ask, formSession } from './support/raw-http.ts';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
  expect((await hub.api('/users/alice', { method: 'POST' })).status).toBe(201);
  expect((await hub.api('/groups/crew', { method: 'POST' })).status).toBe(201);
});
afterAll(async () => { await hub?.close(); });

// JSON text, as an attacker writes it: "\ud800" parses to a lone surrogate in JS.
const bad: Record<string, string> = {
  'bidi override': '"evil\\u202etxt"',
  'zero-width space': '"admin\\u200b"',
  'zero-width joiner': '"a\\u200db"',
  'left-to-right mark': '"a\\u200eb"',
  'word joiner': '"a\\u2060b"',
  'byte order mark': '"\\ufeffbob"',
  'soft hyphen': '"a\\u00adb"',
  'a control character': '"a\\u0007b"',
  'DEL': '"a\\u007fb"',
  'a C1 control': '"a\\u0085b"',
  'a lone high surrogate': '"a\\ud800b"',
  'a lone low surrogate': '"a\\udc00"',
  'U+FFFD': '"a\\ufffdb"',
};
const userCount = () => hub.running.hub.store.users.count();
const rule = /control characters|formatting characters|unpaired surrogates|U\+FFFD/;

async function refused(r: Response | { status: number; body: string }) {
  expect(r.status).toBe(400);
  const text = r instanceof Response ? await r.text() : r.body;
  expect(text).toMatch(rule);
}

describe('names with invisible or unwritable characters', () => {
  for (const [what, json] of Object.entries(bad)) {
    it(`refuses ${what} everywhere a name enters`, async () => {
      const before = await userCount();
      const post = (path: string, body: string, method = 'POST') =>
        hub.api(path, { method, headers: { 'content-type': 'application/json' }, body });
      await refused(await post('/users', `{"usernames": [${json}]}`));
      await refused(await post('/users/alice', `{"name": ${json}}`, 'PATCH'));
      await refused(await post('/groups/crew/users', `{"users": [${json}]}`));
      await refused(await post('/groups/crew2', `{"users": [${json}]}`));
      const name: string = JSON.parse(json);
      if (name.isWellFormed()) {
        await refused(await hub.api(`/users/${encodeURIComponent(name)}`, { method: 'POST' }));
        const f = await formSession(hub.origin, '/hub/login');
        const login = await ask(hub.origin, '/hub/login', {
          method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: f.cookie },
          body: `username=${encodeURIComponent(name)}&password=x&_xsrf=${f.xsrf}`,
        });
        await refused(login);
      }
      expect(await userCount()).toBe(before);
      expect(await hub.running.hub.store.users.get('alice')).toBeDefined();
    });
  }

  for (const path of ['/hub/api/users/a%ED%A0%80b', '/hub/api/users/a%FFb', '/hub/api/users/%C0%AF']) {
    it(`refuses percent-encoded invalid UTF-8 in the path (${path})`, async () => {
      const before = await userCount();
      const r = await ask(hub.origin, path, { method: 'POST', headers: { authorization: `token ${hub.adminToken}` } });
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body).status).toBe(400);
      expect(await userCount()).toBe(before);
    });
  }

  it('a login form name with invalid UTF-8 bytes is refused', async () => {
    const before = await userCount();
    const f = await formSession(hub.origin, '/hub/login');
    const r = await ask(hub.origin, '/hub/login', {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: f.cookie }, body: `username=a%ED%A0%80b&password=x&_xsrf=${f.xsrf}`,
    });
    await refused(r);
    expect(await userCount()).toBe(before);
  });

  it('still takes ordinary names, accents and scripts included', async () => {
    for (const name of ['zoë', 'مريم', '李雷', 'o\'brien']) {
      expect((await hub.api(`/users/${encodeURIComponent(name)}`, { method: 'POST' })).status, name).toBe(201);
    }
  });
});
