// The hub's log as it really goes out on stderr: JupyterHub's line format, the JSON format with
// JupyterHub.log_style = 'json', one access line per hub request with secrets scrubbed, and none per proxied request.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scrubHeaders, scrubUrl } from '../src/hub/access-log.ts';
import { startTestHub, type TestHub } from './support/hub.ts';

let logged = '';
let restoreStderr: () => void;
beforeAll(() => {
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    logged += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stderr.write;
  restoreStderr = () => { process.stderr.write = original; };
});
afterAll(() => restoreStderr?.());

let hub: TestHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

/** Sends a request carrying a token in the query, in the Authorization header and in a cookie. */
async function secretRequest(h: TestHub, path: string): Promise<number> {
  const r = await fetch(`${h.origin}/hub/api${path}${path.includes('?') ? '&' : '?'}token=secret123&_xsrf=secret789&keep=visible`, {
    headers: { authorization: `token ${h.adminToken}`, cookie: 'jupyterhub-hub-login=secret000' },
  });
  await r.arrayBuffer();
  return r.status;
}

describe('the text log', () => {
  it("writes JupyterHub's line shape and an access line per hub request, with every secret scrubbed", async () => {
    logged = '';
    hub = await startTestHub({ JupyterHub: { log_level: 'debug' } });
    expect(await secretRequest(hub, '/users')).toBe(200);
    expect(await secretRequest(hub, '/users/nobody-here')).toBe(404);
    const r = await fetch(`${hub.origin}/hub/api/users?code=secret321`, { headers: { authorization: 'token secret456' } });
    expect(r.status).toBe(403);

    const line = logged.split('\n').find((l) => l.includes(' GET /hub/api/users?token='));
    expect(line).toMatch(/^\[I \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} nodehub access\] 200 GET \/hub\/api\/users\?token=\[secret\]&_xsrf=\[secret\]&keep=visible \(admin-svc@127\.0\.0\.1\) \d+\.\d\dms$/);
    expect(logged).toMatch(/\n\[W [^\]]+ nodehub access\] 404 GET \/hub\/api\/users\/nobody-here\?token=\[secret\]/);
    expect(logged).toMatch(/\[W [^\]]+\] 403 GET \/hub\/api\/users\?code=\[secret\] \(@127\.0\.0\.1\)/);
    expect(logged).toMatch(/\[I [^\]]+ nodehub hub\] nodehub is running at /);
    for (const secret of ['secret123', 'secret456', 'secret789', 'secret000', 'secret321', hub.adminToken]) {
      expect(logged).not.toContain(secret);
    }
  });

  it('does not log requests the proxy forwards to a single-user server', async () => {
    hub = await startTestHub({ JupyterHub: { log_level: 'debug' } });
    expect((await hub.api('/users/alice', { method: 'POST' })).status).toBe(201);
    expect((await hub.api('/users/alice/server', { method: 'POST' })).status).toBe(201);
    logged = '';
    const env = await fetch(`${hub.origin}/user/alice/env?token=secret123`);
    expect(env.status).toBe(200);
    await env.arrayBuffer();
    // A hub request after it, so the log has caught up with both.
    expect((await hub.api('/users/alice')).status).toBe(200);
    expect(logged).toContain('200 GET /hub/api/users/alice (admin-svc@');
    expect(logged).not.toContain('/user/alice/env');
    expect(logged).not.toContain('secret123');
  });
});

describe("JupyterHub.log_style = 'json'", () => {
  it('writes one JSON object a line, access lines included, with secrets scrubbed', async () => {
    logged = '';
    hub = await startTestHub({ JupyterHub: { log_level: 'info', log_style: 'json' } });
    expect(await secretRequest(hub, '/users')).toBe(200);
    await hub.close();
    hub = undefined;
    const lines = logged.split('\n').filter((l) => l.startsWith('{'));
    const records = lines.map((l) => JSON.parse(l) as { level: string; time: string; name: string; msg: string });
    expect(records.length).toBeGreaterThan(1);
    const access = records.find((r) => r.name === 'nodehub.access');
    expect(access).toMatchObject({ level: 'info' });
    expect(access!.msg).toMatch(/^200 GET \/hub\/api\/users\?token=\[secret\]&_xsrf=\[secret\]&keep=visible \(admin-svc@127\.0\.0\.1\) /);
    expect(Date.parse(access!.time)).not.toBeNaN();
    expect(records.some((r) => r.name === 'nodehub' && r.msg.startsWith('nodehub is running at '))).toBe(true);
    expect(logged).not.toContain('secret123');
    expect(logged).not.toContain('secret000');
  });

  it('is refused at start-up with the exact key when it is neither text nor json', async () => {
    await expect(startTestHub({ JupyterHub: { log_style: 'xml' } })).rejects.toThrow(/JupyterHub\.log_style must be one of 'text', 'json'/);
  });
});

describe('scrubbing', () => {
  it('replaces secret-looking query values and token path tails, keeping everything else', () => {
    expect(scrubUrl('/hub/api/users?offset=2&token=abc&access_token=d&client_secret=e&password=f&code=g&state=h&_xsrf=i&next=%2Fhub%2F'))
      .toBe('/hub/api/users?offset=2&token=[secret]&access_token=[secret]&client_secret=[secret]&password=[secret]&code=[secret]&state=[secret]&_xsrf=[secret]&next=%2Fhub%2F');
    expect(scrubUrl('/hub/api/authorizations/token/abcdef?x=1')).toBe('/hub/api/authorizations/token/[secret]?x=1');
    expect(scrubUrl('/hub/api/users?%E0%A4%A=secret&Token=s2&flag')).toBe('/hub/api/users?%E0%A4%A=[secret]&Token=[secret]&flag');
    expect(scrubUrl('/hub/home')).toBe('/hub/home');
  });

  it('replaces the credentials of the Authorization and Cookie headers, keeping the scheme', () => {
    expect(scrubHeaders({ authorization: 'token secret456', cookie: 'jupyterhub-hub-login=secret000', host: 'h' }))
      .toEqual({ authorization: 'token [secret]', cookie: '[secret]', host: 'h' });
    expect(scrubHeaders({ authorization: 'secret456' })).toEqual({ authorization: '[secret]' });
  });
});
