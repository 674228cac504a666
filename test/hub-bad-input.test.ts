// Malformed input against a real hub: every request gets a clear 4xx (JSON on the API), never a 500, and the hub is
// still answering afterwards. Every response of this file is recorded and checked for 500s at the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { eventually, startTestHub, type TestHub } from './support/hub.ts';
import { login } from './hub-protocol-support.ts';
import { formSession } from './support/raw-http.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };
let hub: TestHub;
let cookie: string;
const seen: { what: string; status: number }[] = [];

beforeAll(async () => {
  hub = await startTestHub();
  expect((await hub.api('/users/bob', { method: 'POST' })).status).toBe(201);
  cookie = await login(hub, 'alice');
});
afterAll(async () => hub?.close());

/** An admin API call whose status is recorded. */
async function api(path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  const r = await hub.api(path, init);
  seen.push({ what: `${init.method ?? 'GET'} /hub/api${path}`, status: r.status });
  return r;
}

/** Any request on the hub's origin (redirects not followed), recorded. */
async function raw(path: string, init: RequestInit = {}): Promise<Response> {
  const r = await fetch(`${hub.origin}${path}`, { redirect: 'manual', ...init });
  seen.push({ what: `${init.method ?? 'GET'} ${path}`, status: r.status });
  return r;
}

/** Sends a path byte for byte (fetch would re-encode a malformed one), returns status and body. */
function rawPath(path: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(hub.origin);
    const req = httpRequest({ host: hostname, port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        seen.push({ what: `GET ${path}`, status: res.statusCode ?? 0 });
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function expectJsonError(r: Response, status: number): Promise<string> {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  const body = await r.json();
  expect(body.status).toBe(status);
  expect(typeof body.message).toBe('string');
  return body.message;
}

const post = (path: string, body: string, method = 'POST', headers: Record<string, string> = JSON_HEADERS) =>
  api(path, { method, headers, body });

describe('bodies that are not what the endpoint takes', () => {
  it('answers broken JSON with 400', async () => {
    for (const body of ['{bad', '{"usernames": [', '\u0000', 'nul', '{"a":1}}']) {
      expect(await expectJsonError(await post('/users', body), 400)).toBe('Invalid JSON in request body');
    }
    await expectJsonError(await post('/users/bob/activity', '{"last_activity": '), 400);
    await expectJsonError(await post('/users/bob/tokens', '[}'), 400);
  });

  it('answers JSON of the wrong shape with 400', async () => {
    const cases: [string, string, string?][] = [
      ['/users', '[]'], ['/users', '"bob"'], ['/users', '42'], ['/users', 'true'],
      ['/users', '{"usernames": "bob"}'], ['/users', '{"usernames": {"0": "x"}}'], ['/users', '{"usernames": ["x"], "admin": "yes"}'],
      ['/users/bob', '{"admin": "true"}', 'PATCH'], ['/users/bob', '{"admin": 1}', 'PATCH'], ['/users/bob', '[]', 'PATCH'],
      ['/users/bob', '{"name": 5}', 'PATCH'], ['/users/bob', '{"nope": 1}', 'PATCH'], ['/users/zed', '{"admin": "no"}'],
      ['/users/bob', '{"groups": "g"}', 'PATCH'], ['/users/bob', '{"roles": [1]}', 'PATCH'], ['/users/bob', '{"auth_state": "s"}', 'PATCH'],
      ['/users/bob', '{"auth_state": []}', 'PATCH'], ['/users/bob/servers/a%2Fb', '{}'],
      ['/users/bob/server', '{"remove": true}', 'DELETE'],
      ['/users/bob/activity', '[]'], ['/users/bob/activity', '{}'], ['/users/bob/activity', '{"last_activity": 5}'],
      ['/users/bob/activity', '{"last_activity": "yesterday"}'], ['/users/bob/activity', '{"last_activity": "2999-01-01T00:00:00Z"}'],
      ['/users/bob/activity', '{"servers": []}'], ['/users/bob/activity', '{"servers": "x"}'],
      ['/users/bob/activity', '{"servers": {"": "x"}}'], ['/users/bob/activity', '{"servers": {"nosuch": {"last_activity": "2020-01-01"}}}'],
      ['/users/bob/tokens', '{"scopes": "read:users"}'], ['/users/bob/tokens', '{"scopes": [1]}'],
      ['/users/bob/tokens', '{"expires_in": "soon"}'], ['/users/bob/tokens', '{"expires_in": -5}'],
      ['/users/bob/tokens', '{"note": {}}'], ['/users/bob/tokens', '{"roles": "admin"}'], ['/users/bob/tokens', '{"roles": ["nosuch"]}'],
      ['/users/bob/tokens', '{"scopes": ["not-a-scope"]}'], ['/users/bob/tokens', '[1]'],
      ['/users/bob/server', '[1, 2]'], ['/users/bob/server', '"x"'], ['/users/bob/server', '7'],
      ['/groups', '{"groups": "g"}'], ['/groups', '{"groups": [1]}'], ['/groups', '{"groups": [""]}'], ['/groups', '[]'],
      ['/groups/g1', '{"users": "bob"}'], ['/groups/g1', '{"users": [null]}'], ['/groups/g1', '{"users": ["ghost"]}'],
      ['/shutdown', '{"servers": "yes"}'], ['/shutdown', '{"proxy": 1}'], ['/shutdown', '[]'],
      ['/proxy', '[]', 'PATCH'], ['/proxy', '', 'PATCH'], ['/proxy', '{"api_url": 5}', 'PATCH'], ['/proxy', '{"auth_token": {}}', 'PATCH'],
    ];
    for (const [path, body, method] of cases) {
      const r = await post(path, body, method);
      expect(r.status, `${method ?? 'POST'} ${path} ${body}`).toBe(400);
      await expectJsonError(r, 400);
    }
    // Nothing half-happened: the hub is still running and bob is unchanged.
    expect((await (await api('/users/bob')).json())).toMatchObject({ name: 'bob', admin: false, last_activity: null });
    expect((await api('/groups/g1')).status).toBe(404);
  });

  it('rejects invalid user names with 400 and creates none of the batch', async () => {
    for (const names of [[''], ['a/b'], [1], [null], [{}], [['x']], [true], ['ok-one', ''], ['   ']]) {
      const r = await post('/users', JSON.stringify({ usernames: names }));
      expect(r.status, JSON.stringify(names)).toBe(400);
      await expectJsonError(r, 400);
    }
    expect((await api('/users/ok-one')).status).toBe(404);
    await expectJsonError(await api('/users/a%2Fb', { method: 'POST' }), 400);
    await expectJsonError(await post('/users/bob', JSON.stringify({ name: '' }), 'PATCH'), 400);
    await expectJsonError(await post('/users/bob', JSON.stringify({ name: 'x/y' }), 'PATCH'), 400);
  });

  it('answers bodies over 1 MiB with 413 JSON, announced or chunked', async () => {
    const big = JSON.stringify({ usernames: ['x'], pad: 'x'.repeat(1024 * 1024 + 10) });
    const msg = await expectJsonError(await post('/users', big), 413);
    expect(msg).toMatch(/too large/);
    await expectJsonError(await post('/users/bob/activity', 'y'.repeat(2 * 1024 * 1024), 'POST', { 'content-type': 'text/plain' }), 413);
    const chunks = new ReadableStream({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(new TextEncoder().encode('z'.repeat(100 * 1024)));
        c.close();
      },
    });
    const chunked = await api('/users', { method: 'POST', headers: JSON_HEADERS, body: chunks, duplex: 'half' } as RequestInit);
    await expectJsonError(chunked, 413);
    // A huge login form is refused too (an HTML page there), without a crash.
    const form = await raw('/hub/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `username=${'u'.repeat(2 * 1024 * 1024)}` });
    expect(form.status).toBe(413);
  });

  it('reads the body as JSON whatever its content type, as JupyterHub does, and accepts JSON with parameters', async () => {
    // get_json_body reads the raw body: JSON sent as text, as a form (curl -d) or under any other type is JSON.
    for (const [i, type] of ['text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/jsonx'].entries()) {
      expect((await post('/users', `{"usernames": ["odd${i}"]}`, 'POST', { 'content-type': type })).status, type).toBe(201);
    }
    // A body that is not JSON is a 400, whatever it claims to be.
    await expectJsonError(await post('/users', 'usernames=t1', 'POST', { 'content-type': 'application/x-www-form-urlencoded' }), 400);
    await expectJsonError(await post('/users', 'usernames=t1', 'POST', { 'content-type': 'text/plain' }), 400);
    // A content type that does not even parse is refused as such.
    await expectJsonError(await post('/users', '{"usernames": ["t1"]}', 'POST', { 'content-type': ';;;' }), 415);
    const ok = await post('/users', '{"usernames": ["t1"]}', 'POST', { 'content-type': 'application/json; charset=utf-8' });
    expect(ok.status).toBe(201);
    const upper = await post('/users', '{"usernames": ["t2"]}', 'POST', { 'content-type': 'Application/JSON' });
    expect(upper.status).toBe(201);
  });

  it('answers an anonymous request with 403 before it reads a body that is not JSON', async () => {
    await expectJsonError(await api('/users', { method: 'POST', headers: JSON_HEADERS, body: '{not json', token: null }), 403);
  });
});

describe('names, paths and queries', () => {
  it('answers unknown users with 404 on every user endpoint', async () => {
    const cases: [string, string][] = [
      ['GET', '/users/ghost'], ['PATCH', '/users/ghost'], ['DELETE', '/users/ghost'], ['POST', '/users/ghost/server'],
      ['DELETE', '/users/ghost/server'], ['GET', '/users/ghost/server/progress'], ['POST', '/users/ghost/activity'],
      ['GET', '/users/ghost/tokens'], ['GET', '/users/ghost/tokens/a1'], ['DELETE', '/users/ghost/tokens/a1'],
      ['GET', '/users/bob/tokens/a99999'], ['GET', '/users/bob/tokens/zzz'], ['GET', '/users/bob/tokens/a1e9'],
      ['GET', '/groups/ghost'], ['DELETE', '/groups/ghost'], ['GET', '/services/ghost'],
    ];
    for (const [method, path] of cases) {
      const r = await api(path, { method, headers: JSON_HEADERS, body: method === 'GET' || method === 'DELETE' ? undefined : '{"last_activity": "2020-01-01T00:00:00Z"}' });
      expect(r.status, `${method} ${path}`).toBe(404);
      await expectJsonError(r, 404);
    }
  });

  it('answers unknown API paths and methods with 404 JSON', async () => {
    for (const [method, path] of [['GET', '/nope'], ['POST', '/users/bob/nope'], ['GET', '/users/bob/server/nope/deeper'], ['PUT', '/users'], ['GET', '/users/bob/servers/a/b/c']]) {
      await expectJsonError(await api(path, { method }), 404);
    }
  });

  it('survives malformed percent-encoding anywhere in the path or query', async () => {
    const paths = [
      '/hub/api/users/%E0%A4%A', '/hub/api/users/%ZZ', '/hub/api/users/%', '/hub/api/users/bob/servers/%C3%28',
      '/hub/api/groups/%FF', '/hub/api/users?name_filter=%ZZ', '/hub/api/users?state=%', '/hub/api/users?offset=%E0',
      '/hub/user/%ZZ/tree', '/hub/user/alice/%ZZ', '/hub/spawn/%ZZ', '/hub/spawn-pending/%E0%A4%A', '/hub/user-redirect/%ZZ',
      '/hub/login?next=%ZZ', '/hub/%ZZ', '/user/%ZZ/tree', '/user/%E0%A4%A/', '/%ZZ', '/hub/error/%ZZ',
    ];
    for (const path of paths) {
      const credentials: Record<string, string>[] = [{ authorization: `token ${hub.adminToken}` }, { cookie }];
      for (const headers of credentials) {
        const r = await rawPath(path, headers);
        expect(r.status, `${path} ${Object.keys(headers)[0]}`).toBeLessThan(500);
        // In the path it is a 400 (the query parser keeps such values verbatim, and they are then just odd values).
        if (!path.includes('?')) expect(r.status, path).toBe(400);
        if (path.startsWith('/hub/api/') && r.status >= 400) expect(JSON.parse(r.body).status, path).toBe(r.status);
      }
    }
  });

  it('answers well-formed but odd encodings in names with 404 or 400 JSON', async () => {
    for (const path of ['/hub/api/users/%00', '/hub/api/users/%2e', '/hub/api/users/a%20b', '/hub/api/users/%F0%9F%90%8D', '/hub/api/groups/%0d%0a']) {
      const r = await rawPath(path, { authorization: `token ${hub.adminToken}` });
      expect(r.status, path).toBe(404);
      expect(JSON.parse(r.body).status).toBe(404);
    }
    const traversal = await rawPath('/hub/api/users/..%2F..%2Fapi', { authorization: `token ${hub.adminToken}` });
    expect(traversal.status).toBe(404);
    // Dot segments (also percent-encoded, as WHATWG URLs treat them) resolve before routing, so they cannot smuggle a
    // request past a route: this one lands on the hub API, which still wants its own credentials.
    const dots = await rawPath('/user/bob/%2e%2e/%2e%2e/hub/api/users');
    expect(dots.status).toBe(403);
  });

  it('answers error-page paths that are not error codes with 404', async () => {
    for (const code of ['abc', '999', '200', '1e3', '4040']) expect((await raw(`/hub/error/${code}`)).status, code).toBe(404);
    // (not recorded: this 503 is the page asked for, not a failure)
    expect((await fetch(`${hub.origin}/hub/error/503`)).status).toBe(503);
  });

  it('answers repeated and out-of-range query arguments with 400, not a crash', async () => {
    for (const q of ['limit=-3', 'offset=-1', 'offset=abc', 'limit=1e400', 'offset=1.5', 'limit=0x10', 'limit=Infinity', 'offset=99999999999999999999']) {
      await expectJsonError(await api(`/users?${q}`), 400);
    }
    // A repeated argument counts with its last value, as tornado's get_argument reads it.
    const names = async (q: string) => (await (await api(`/users?${q}`)).json()).map((u: { name: string }) => u.name);
    expect(await names('state=ready&state=inactive')).toEqual(await names('state=inactive'));
    expect(await names('name_filter=zzz&name_filter=bo')).toEqual(['bob']);
    for (const q of ['include_stopped_servers=1&include_stopped_servers=0', 'offset=99999999', 'name_filter=']) {
      const r = await api(`/users?${q}`);
      expect(r.status, q).toBe(200);
    }
  });

  it('answers malformed Authorization headers as anonymous (403), never an error', async () => {
    for (const authorization of ['token', 'token  ', 'bearer a b', 'Basic', `token ${'x'.repeat(5000)}`, 'token \u00ff\u00fe']) {
      const r = await api('/users', { token: null, headers: { authorization } });
      expect(r.status, authorization).toBe(403);
    }
  });
});

describe('requests that are not proper HTTP', () => {
  /** Writes bytes on a fresh socket and returns the status line of whatever comes back before the close. */
  function sendRaw(data: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(new URL(hub.origin).port), '127.0.0.1', () => socket.write(data));
      let out = '';
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no close after ${JSON.stringify(data.slice(0, 40))}: ${out.slice(0, 80)}`));
      }, 5000);
      socket.on('data', (d) => (out += d));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(out.split('\r\n')[0]);
      });
    });
  }
  const ws = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';

  it.each([
    ['a garbage request line', 'GARBAGE\r\n\r\n', 400],
    ['a non-numeric Content-Length', 'POST /hub/api/users HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400],
    ['a broken chunked body', 'POST /hub/api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n', 400],
    ['no Host header', 'GET /hub/api HTTP/1.1\r\n\r\n', 400],
    ['an asterisk target', 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400],
    ['a websocket upgrade to a hub path', `GET /hub/api HTTP/1.1\r\nHost: x\r\n${ws}\r\n`, 404],
    ['a websocket upgrade to a stopped server', `GET /user/bob/api/kernels/k/channels HTTP/1.1\r\nHost: x\r\n${ws}\r\n`, 404],
    ['a websocket upgrade to a malformed path', `GET /user/%ZZ/ HTTP/1.1\r\nHost: x\r\n${ws}\r\n`, 400],
  ])('answers %s with a 4xx and closes', async (what, data, status) => {
    const line = await sendRaw(data);
    seen.push({ what: `raw ${what}`, status: Number(line.split(' ')[1]) });
    expect(line).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  });
});

describe('next on login and spawn pages stays on-site', () => {
  const evil = encodeURIComponent('https://evil.example/x');

  it('drops it from the login form of an anonymous visitor', async () => {
    const r = await raw(`/hub/login?next=${evil}`);
    expect(r.status).toBe(200);
    expect(await r.text()).not.toContain('evil.example');
  });

  it('does not follow it after a form login or for a logged-in visitor', async () => {
    const page = await formSession(hub.origin, '/hub/login');
    const form = await raw(`/hub/login?next=${evil}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: page.cookie },
      body: `username=dave&password=x&_xsrf=${page.xsrf}`,
    });
    expect(form.status).toBe(302);
    expect(form.headers.get('location')).toMatch(/^\/hub\//);
    const again = await raw(`/hub/login?next=${evil}`, { headers: { cookie } });
    expect(again.headers.get('location')).toMatch(/^\/(hub|user)\//);
  });

  it('does not follow it from the spawn page, whose server starts and leads on-site', async () => {
    const r = await raw(`/hub/spawn?next=${evil}`, { headers: { cookie } });
    expect([302, 303]).toContain(r.status);
    const where = r.headers.get('location') ?? '';
    expect(where).toMatch(/^\/(hub|user)\//);
    expect(decodeURIComponent(where)).not.toContain('evil.example');
    const pending = await raw(`/hub/spawn-pending/alice?next=${evil}`, { headers: { cookie } });
    expect(pending.status).toBeLessThan(500);
    if (pending.status === 200) expect(await pending.text()).not.toContain('evil.example');
    else expect(decodeURIComponent(pending.headers.get('location') ?? '')).not.toContain('evil.example');
    // the server started; stopping it while its spawn is still pending would be a 400, as in JupyterHub
    await eventually(async () => ((await (await api('/users/alice')).json()).servers['']?.pending ?? null) === null);
    expect((await api('/users/alice/server', { method: 'DELETE' })).status).toBeLessThan(300);
  });
});

describe('after all of it', () => {
  it('still answers GET /hub/api, and no request got a 500', async () => {
    const r = await api('', { token: null });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ version: '5.4.6' });
    expect(seen.length).toBeGreaterThan(100);
    expect(seen.filter((s) => s.status >= 500)).toEqual([]);
  });
});
