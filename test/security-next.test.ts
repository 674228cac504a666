// `next` with characters a Location header cannot carry (issue #9): never a bare 500, always a redirect whose target is
// percent-encoded or dropped, and every error answer keeps the hub's security headers and sends no stack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { ask, basicAuth, formSession } from './support/raw-http.ts';

const PASSWORD = 'pw for next';
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub({ JupyterHub: { authenticator_class: 'tmp' } }, { env: { NODEHUB_SHARED_PASSWORD: PASSWORD } });
});
afterAll(async () => { await hub?.close(); });

const auth = { authorization: basicAuth('a', PASSWORD) };
const nexts = ['/%C4%80', '/%E2%80%AE', '/%F0%9F%98%80x', '/%ED%A0%80', '/a%20b/%FF'];

describe('next beyond Latin-1', () => {
  for (const page of ['/hub/login', '/hub/tmplogin', '/hub/password']) {
    for (const next of nexts) {
      it(`${page}?next=${next} redirects with an ASCII Location, or drops next`, async () => {
        const r = await ask(hub.origin, `${page}?next=${next}`, { headers: auth });
        expect(r.status, r.body).toBeLessThan(500);
        expect(r.headers['content-security-policy']).toBeTruthy();
        expect(r.headers['x-jupyterhub-version']).toBeTruthy();
        const loc = r.headers.location;
        if (typeof loc === 'string') expect(loc).toMatch(/^[\x21-\x7e]*$/);
        if (next === '/%C4%80' && page !== '/hub/password') expect(decodeURIComponent(String(loc))).toContain('Ā');
      });
    }
  }

  it('the password form posted with next beyond Latin-1 redirects to it percent-encoded', async () => {
    const f = await formSession(hub.origin, '/hub/password');
    const r = await ask(hub.origin, '/hub/password?next=/%C4%80', {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: f.cookie },
      body: `password=${encodeURIComponent(PASSWORD)}&_xsrf=${f.xsrf}`,
    });
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('/%C4%80');
  });
});

describe('unexpected errors', () => {
  it('keep the security headers and send no stack, on the API and on pages', async () => {
    const users = hub.running.hub.store.users;
    const original = users.page;
    users.page = () => { throw new Error('boom at /secret/path.ts:12'); };
    try {
      const r = await ask(hub.origin, '/hub/api/users', { headers: { authorization: `token ${hub.adminToken}` } });
      expect(r.status).toBe(500);
      expect(JSON.parse(r.body)).toEqual({ status: 500, message: 'Internal server error' });
      expect(r.headers['content-security-policy']).toContain("frame-ancestors 'self'");
      expect(r.headers['x-jupyterhub-version']).toBe('5.4.6');
      expect(r.body).not.toContain('/secret/path');
    } finally {
      users.page = original;
    }
  });
});
