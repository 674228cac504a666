// The REST API of `nodehub proxy` (spec 6.1) on real sockets: auth, route CRUD, inactive_since and the error answers
// JupyterHub and other configurable-http-proxy clients branch on.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChpProxy } from '../src/proxy/chp/index.ts';
import type { ChpProxy } from '../src/proxy/chp/index.ts';
import { createLogger } from '../src/util/log.ts';

const TOKEN = 'secret-token-1234';
const log = createLogger('test');
let proxy: ChpProxy;
let api: string;

interface Reply {
  status: number;
  text: string;
  headers: Headers;
}

async function call(method: string, path: string, opts: { body?: string; auth?: string | null } = {}): Promise<Reply> {
  const auth = opts.auth === undefined ? `token ${TOKEN}` : opts.auth;
  const res = await fetch(`${api}${path}`, {
    method,
    headers: auth === null ? {} : { Authorization: auth },
    body: opts.body,
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** A request sent as written: fetch would resolve '..' in the path before sending it. */
function rawStatus(port: number, method: string, path: string, body?: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { authorization: `token ${TOKEN}` } }, (r) => {
      r.resume();
      resolve(r.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = (r: Reply): Record<string, Record<string, unknown>> => JSON.parse(r.text);
const post = (path: string, data: unknown): Promise<Reply> => call('POST', `/api/routes${path}`, { body: JSON.stringify(data) });

beforeAll(async () => {
  proxy = await startChpProxy({ ip: '127.0.0.1', port: 0, apiIp: '127.0.0.1', apiPort: 0, authToken: TOKEN, log });
  api = `http://127.0.0.1:${proxy.apiPort}`;
});

afterAll(async () => {
  await proxy.close();
});

describe('auth', () => {
  it.each([
    ['no header', null],
    ['a wrong token', 'token nope'],
    ['the token as a bearer', `Bearer ${TOKEN}`],
    ['a longer token', `token ${TOKEN}x`],
  ])('%s -> 403 with an empty body', async (_what, auth) => {
    for (const [method, path] of [['GET', '/api/routes'], ['POST', '/api/routes/x'], ['DELETE', '/api/routes/x']]) {
      const r = await call(method, path, { auth, body: method === 'POST' ? '{"target":"http://127.0.0.1:1"}' : undefined });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.text).toBe('');
    }
    expect(proxy.table.get('/x')).toBeUndefined();
  });

  it('finds "token <value>" anywhere in the header, as configurable-http-proxy does', async () => {
    expect((await call('GET', '/api/routes', { auth: `token ${TOKEN}` })).status).toBe(200);
    expect((await call('GET', '/api/routes', { auth: `Something token   ${TOKEN}` })).status).toBe(200);
  });

  it('is open, with every method working, when no token is configured', async () => {
    const open = await startChpProxy({ ip: '127.0.0.1', port: 0, apiIp: '127.0.0.1', apiPort: 0, log });
    try {
      const res = await fetch(`http://127.0.0.1:${open.apiPort}/api/routes/a`, {
        method: 'POST',
        body: '{"target":"http://127.0.0.1:9"}',
      });
      expect(res.status).toBe(201);
      expect(open.table.get('/a')?.target).toBe('http://127.0.0.1:9');
    } finally {
      await open.close();
    }
  });
});

describe('routes', () => {
  it('POST stores the target and extra keys verbatim; GET shows them with last_activity; DELETE removes', async () => {
    const before = Date.now();
    const data = { target: 'http://127.0.0.1:4242', user: 'alice', server_name: '', jupyterhub: true, n: { a: [1] } };
    const created = await post('/user/alice/', data);
    expect(created.status).toBe(201);
    expect(created.text).toBe('');

    const one = await call('GET', '/api/routes/user/alice');
    expect(one.status).toBe(200);
    expect(one.headers.get('content-type')).toBe('application/json');
    const route = JSON.parse(one.text);
    expect(route).toEqual({ ...data, last_activity: expect.any(String) });
    expect(Date.parse(route.last_activity)).toBeGreaterThanOrEqual(before - 1);
    expect(route.last_activity).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const all = json(await call('GET', '/api/routes'));
    expect(all['/user/alice']).toEqual(route);

    expect((await call('DELETE', '/api/routes/user/alice/')).status).toBe(204);
    expect(await call('GET', '/api/routes/user/alice')).toMatchObject({ status: 404, text: '' });
    expect(await call('DELETE', '/api/routes/user/alice')).toMatchObject({ status: 404, text: '' });
    expect(json(await call('GET', '/api/routes'))['/user/alice']).toBeUndefined();
  });

  it('re-POSTing a route replaces its data and target', async () => {
    await post('/r', { target: 'http://127.0.0.1:1', old: true });
    await post('/r', { target: 'http://127.0.0.1:2', new: true });
    expect(JSON.parse((await call('GET', '/api/routes/r')).text)).toEqual({
      target: 'http://127.0.0.1:2',
      new: true,
      last_activity: expect.any(String),
    });
    await call('DELETE', '/api/routes/r');
  });

  it('keys are percent-decoded once and normalised; POST with no path is the root route', async () => {
    expect((await post('/a%20b/c%2Fd/', { target: 'http://127.0.0.1:3' })).status).toBe(201);
    expect(Object.keys(json(await call('GET', '/api/routes')))).toContain('/a b/c/d');
    expect((await call('GET', '/api/routes/a b/c/d')).status).toBe(200);
    expect((await call('DELETE', '/api/routes/a%20b/c/d')).status).toBe(204);

    expect((await post('', { target: 'http://127.0.0.1:5', hub: true })).status).toBe(201);
    expect(json(await call('GET', '/api/routes'))['/']).toMatchObject({ target: 'http://127.0.0.1:5', hub: true });
    expect((await call('DELETE', '/api/routes')).status).toBe(204);
    expect(proxy.table.size).toBe(0);
  });

  it('a client-supplied last_activity is not stored over the real one', async () => {
    await post('/t', { target: 'http://127.0.0.1:1', last_activity: '2000-01-01T00:00:00.000Z' });
    const route = JSON.parse((await call('GET', '/api/routes/t')).text);
    expect(Date.parse(route.last_activity)).toBeGreaterThan(Date.parse('2020-01-01'));
    await call('DELETE', '/api/routes/t');
  });
});

describe('inactive_since', () => {
  it.each(['inactive_since', 'inactiveSince'])('?%s keeps only routes idle since then', async (param) => {
    const now = Date.now();
    proxy.table.add('/old', 'http://127.0.0.1:1', {}, now - 60_000);
    proxy.table.add('/new', 'http://127.0.0.1:1', {}, now);
    const since = new Date(now - 30_000).toISOString();
    const idle = json(await call('GET', `/api/routes?${param}=${encodeURIComponent(since)}`));
    expect(Object.keys(idle)).toEqual(['/old']);
    expect(Object.keys(json(await call('GET', `/api/routes?${param}=`))).sort()).toEqual(['/new', '/old']);
    proxy.table.remove('/old');
    proxy.table.remove('/new');
  });

  it('a bad date is a 400 with the reason', async () => {
    const r = await call('GET', '/api/routes?inactive_since=yesterday-ish');
    expect(r.status).toBe(400);
    expect(r.text).toBe("Invalid datestamp 'yesterday-ish' must be ISO8601.");
  });
});

describe('errors', () => {
  it.each([
    ['no target', '{"user":"x"}', "Must specify 'target' as string"],
    ['a numeric target', '{"target":8000}', "Must specify 'target' as string"],
    ['a JSON array', '[1]', "Must specify 'target' as string"],
    ['null', 'null', "Must specify 'target' as string"],
    ['invalid JSON', '{"target":', 'Body not valid JSON'],
    ['an empty body', '', 'Body not valid JSON'],
    ['a target that is no URL', '{"target":"nowhere"}', 'invalid route target'],
    ['a non-http target', '{"target":"ftp://127.0.0.1/"}', 'protocol must be http or https'],
  ])('POST with %s -> 400', async (_what, body, message) => {
    const r = await call('POST', '/api/routes/bad', { body });
    expect(r.status).toBe(400);
    expect(r.text).toContain(message);
    expect(proxy.table.get('/bad')).toBeUndefined();
  });

  it('a malformed escape in a route path is a 400, not a hang', async () => {
    const r = await call('POST', '/api/routes/a%zz', { body: '{"target":"http://127.0.0.1:1"}' });
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/malformed percent-encoding/);
    expect((await call('GET', '/api/routes/a%zz')).status).toBe(400);
    expect(await rawStatus(proxy.apiPort, 'DELETE', '/api/routes/a/..')).toBe(400);
  });

  it('other methods are 405 and other paths 404, before auth', async () => {
    for (const method of ['PUT', 'PATCH']) {
      const r = await call(method, '/api/routes/x', { auth: null });
      expect(r.status).toBe(405);
      expect(r.text).toBe('Method not supported');
    }
    for (const path of ['/', '/api', '/api/route', '/api/routesx', '/_chp_healthz']) {
      expect((await call('GET', path)).status, path).toBe(404);
    }
  });

  it('a body over the limit is refused with 413', async () => {
    const r = await call('POST', '/api/routes/big', { body: JSON.stringify({ target: 'http://127.0.0.1:1', x: 'y'.repeat(1.1 * 2 ** 20) }) });
    expect(r.status).toBe(413);
    expect(proxy.table.get('/big')).toBeUndefined();
  });
});

describe('host routing', () => {
  it('records the host of a host-prefixed route in its data, as configurable-http-proxy does', async () => {
    const hosted = await startChpProxy({
      ip: '127.0.0.1', port: 0, apiIp: '127.0.0.1', apiPort: 0, hostRouting: true, authToken: TOKEN, log,
    });
    try {
      const res = await rawStatus(hosted.apiPort, 'POST', '/api/routes/alice.example.org/lab', '{"target":"http://127.0.0.1:1"}');
      expect(res).toBe(201);
      expect(hosted.table.get('/alice.example.org/lab')?.data).toEqual({ host: 'alice.example.org' });
    } finally {
      await hosted.close();
    }
  });
});
