// Numbers out of range in the REST API (issue #9): a token asked to expire in 1e13 s used to be stored and then fail
// every listing of its owner's tokens (Date.toISOString throws). Now: a 400 naming the field, nothing stored, and a bad
// value already stored reads as unset instead of a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { ask, formSession } from './support/raw-http.ts';
import { signValue } from '../src/auth/index.ts';
import { LOGIN_COOKIE } from '../src/hub/identity.ts';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
  expect((await hub.api('/users/nina', { method: 'POST' })).status).toBe(201);
});
afterAll(async () => { await hub?.close(); });

const store = () => hub.running.hub.store;
const tokenCount = async () => (await store().tokens.listForUser((await store().users.get('nina'))!.id)).length;

async function expect400(r: Response, field: string) {
  expect(r.status).toBe(400);
  const body = await r.json();
  expect(body.status).toBe(400);
  expect(body.message).toContain(field);
}

describe('numbers in the API', () => {
  for (const bad of ['1e13', '-1', '0', '"60"', '1e400', '3153600001', 'true']) {
    it(`expires_in ${bad} is a 400 naming the field, and nothing is stored`, async () => {
      const before = await tokenCount();
      const r = await hub.api('/users/nina/tokens', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"expires_in": ${bad}, "note": "x"}`,
      });
      await expect400(r, 'expires_in');
      expect(await tokenCount()).toBe(before);
      expect((await hub.api('/users/nina/tokens')).status).toBe(200);
    });
  }

  it('a whole number of seconds still works', async () => {
    const r = await hub.api('/users/nina/tokens', { method: 'POST', body: '{"expires_in": 3600}' });
    expect(r.status).toBe(201);
    expect((await r.json()).expires_at).toMatch(/Z$/);
  });

  for (const q of ['limit=-3', 'offset=-1', 'limit=1.5', 'offset=1e3', 'limit=99999999999999999999']) {
    it(`${q} is a 400 naming the field`, async () => {
      for (const path of ['/users', '/groups', '/proxy', '/users/nina/tokens']) {
        const r = await hub.api(`${path}?${q}`);
        if (path === '/users/nina/tokens') { expect(r.status).toBeLessThan(500); continue; }
        await expect400(r, q.split('=')[0]);
      }
    });
  }

  it('a stored expiry no Date can hold does not fail the listing or the token page', async () => {
    const nina = (await store().users.get('nina'))!;
    await store().tokens.create({ user_id: nina.id, kind: 'api', token: 'f'.repeat(32), note: 'from before', expires_at: 1e13 * 1000 + Date.now() });
    const list = await hub.api('/users/nina/tokens');
    expect(list.status).toBe(200);
    const cookie = `${LOGIN_COOKIE}=${signValue(hub.running.hub.cookieSecret, LOGIN_COOKIE, nina.cookie_id)}`;
    const page = await ask(hub.origin, '/hub/token', { headers: { cookie } });
    expect(page.status).toBe(200);
  });

  it('the token page form refuses an expiry out of range and stores nothing', async () => {
    const nina = (await store().users.get('nina'))!;
    const login = `${LOGIN_COOKIE}=${signValue(hub.running.hub.cookieSecret, LOGIN_COOKIE, nina.cookie_id)}`;
    const { cookie, xsrf } = await formSession(hub.origin, '/hub/token', login);
    const before = await tokenCount();
    for (const expires of ['10000000000000', '1.5', '-5', 'soon']) {
      const r = await ask(hub.origin, '/hub/token', {
        method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `note=n&expires_in=${expires}&_xsrf=${xsrf}`,
      });
      expect(r.status, expires).toBe(400);
    }
    expect(await tokenCount()).toBe(before);
  });
});
