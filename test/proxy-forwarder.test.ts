import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { closeServer, deadPort, send, sendEcho, startEcho, startProxy, startUpstream } from './proxy-support.ts';
import type { Proxy, Upstream } from './proxy-support.ts';
import type { ForwarderOptions, LocalTarget } from '../src/proxy/index.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

async function proxy(opts: ForwarderOptions = {}): Promise<Proxy> {
  const p = await startProxy(opts);
  cleanup.push(() => p.close());
  return p;
}
async function upstream(u: Promise<Upstream>): Promise<Upstream> {
  const up = await u;
  cleanup.push(() => closeServer(up.server));
  return up;
}

describe('forwarding headers', () => {
  it('keeps Host and adds all four X-Forwarded headers', async () => {
    const up = await upstream(startEcho());
    const p = await proxy();
    p.table.add('/user/alice/', up.url);
    const echo = await sendEcho(p.port, '/user/alice/api', { headers: { host: 'example.org:8443' } });
    expect(echo.headers.host).toBe('example.org:8443');
    expect(echo.headers['x-forwarded-host']).toBe('example.org:8443');
    expect(echo.headers['x-forwarded-port']).toBe('8443');
    expect(echo.headers['x-forwarded-proto']).toBe('http');
    expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('appends to X-Forwarded-For/-Proto set by an outer proxy and keeps its X-Forwarded-Host', async () => {
    const up = await upstream(startEcho());
    const p = await proxy();
    p.table.add('/', up.url);
    const echo = await sendEcho(p.port, '/hub/', {
      headers: {
        host: 'hub.example',
        'x-forwarded-for': '10.0.0.7',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'outer.example',
      },
    });
    expect(echo.headers['x-forwarded-for']).toBe('10.0.0.7,127.0.0.1');
    expect(echo.headers['x-forwarded-proto']).toBe('https,http');
    expect(echo.headers['x-forwarded-host']).toBe('outer.example');
    expect(echo.headers['x-forwarded-port']).toBe('80'); // no port in Host, plain HTTP
  });

  it('adds no X-Forwarded headers when xForward is off, and adds custom headers', async () => {
    const up = await upstream(startEcho());
    const p = await proxy({ xForward: false, customHeaders: { 'X-Extra': 'yes' } });
    p.table.add('/', up.url);
    const echo = await sendEcho(p.port, '/');
    expect(Object.keys(echo.headers).filter((h) => h.startsWith('x-forwarded'))).toEqual([]);
    expect(echo.headers['x-extra']).toBe('yes');
  });

  it('lets a custom header replace the client one, and gives a request without Host the target host', async () => {
    const up = await upstream(startEcho());
    const p = await proxy({ customHeaders: { 'X-Extra': 'ours', 'X-Forwarded-Proto': 'https' } });
    p.table.add('/', up.url);
    const echo = await sendEcho(p.port, '/', { headers: { 'x-extra': 'theirs', 'x-forwarded-proto': 'ws' } });
    expect(echo.headers['x-extra']).toBe('ours');
    expect(echo.headers['x-forwarded-proto']).toBe('https,http'); // the custom value, then ours appended

    // HTTP/1.0 allows no Host at all: the upstream then sees the target's host, as node's client would send it.
    const sock = net.connect(p.port, '127.0.0.1');
    sock.write('GET /raw HTTP/1.0\r\n\r\n'); // HTTP/1.0: the server closes after answering
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    await once(sock, 'close');
    const text = Buffer.concat(chunks).toString();
    const raw = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> };
    expect(raw.headers.host).toBe(new URL(up.url).host);
    expect(raw.headers['x-forwarded-host']).toBeUndefined();
  });

  it('drops hop-by-hop headers both ways but keeps repeated Set-Cookie headers', async () => {
    const up = await upstream(
      startUpstream((req, res) => {
        res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
        res.setHeader('x-seen', String(req.headers['x-private'] ?? 'absent'));
        res.setHeader('keep-alive', 'timeout=99');
        res.end('ok');
      }),
    );
    const p = await proxy();
    p.table.add('/', up.url);
    const reply = await send(p.port, '/', { headers: { connection: 'keep-alive, x-private', 'x-private': 'secret' } });
    expect(reply.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(reply.headers['x-seen']).toBe('absent');
    expect(reply.headers['keep-alive']).not.toBe('timeout=99');
  });
});

describe('forwarded URL', () => {
  it('forwards the normalised path with the original query string', async () => {
    const up = await upstream(startEcho());
    const p = await proxy();
    p.table.add('/user/alice', up.url);
    const echo = await sendEcho(p.port, '/user/alice//lab/./tree/x/..?token=a%2Fb&x');
    expect(echo.url).toBe('/user/alice/lab/tree/?token=a%2Fb&x');
  });

  it('routes /user/a/../b/ to b and never through a', async () => {
    const a = await upstream(startEcho('a'));
    const b = await upstream(startEcho('b'));
    const p = await proxy();
    p.table.add('/user/a', a.url);
    p.table.add('/user/b', b.url);
    for (const path of ['/user/a/../b/api', '/user/a/%2e%2e/b/api', '/user/a/%2E%2E/b/api', '/user/a/x/../../b/api']) {
      const echo = await sendEcho(p.port, path);
      expect({ path, name: echo.name, url: echo.url }).toEqual({ path, name: 'b', url: '/user/b/api' });
    }
    // An encoded slash stays inside a's route and reaches a's server as sent.
    const echo = await sendEcho(p.port, '/user/a/..%2Fb/api');
    expect([echo.name, echo.url]).toEqual(['a', '/user/a/..%2Fb/api']);
    expect(a.connections.total).toBe(1);
  });

  it('answers 400 for malformed percent-encoding without crashing', async () => {
    const up = await upstream(startEcho());
    const p = await proxy();
    p.table.add('/', up.url);
    expect((await send(p.port, '/user/%E0%A4%A/lab')).status).toBe(400);
    expect((await send(p.port, '/user/%zz')).status).toBe(400);
    expect(up.connections.total).toBe(0);
    expect((await send(p.port, '/still/alive')).status).toBe(200);
  });

  it('strips the prefix with includePrefix: false and prepends the target path', async () => {
    const up = await upstream(startEcho());
    const p = await proxy({ includePrefix: false });
    p.table.add('/services/announce', `${up.url}/base/`);
    expect((await sendEcho(p.port, '/services/announce/latest?x=1')).url).toBe('/base/latest?x=1');
    expect((await sendEcho(p.port, '/services/announce')).url).toBe('/base/');
  });

  it('routes by Host first with hostRouting and forwards the path without the host', async () => {
    const up = await upstream(startEcho('alice'));
    const hub = await upstream(startEcho('hub'));
    const p = await proxy({ hostRouting: true });
    p.table.add('/alice.hub.test/', up.url);
    p.table.add('/hub.test/', hub.url);
    const echo = await sendEcho(p.port, '/lab?x', { headers: { host: 'alice.hub.test:8000' } });
    expect([echo.name, echo.url]).toEqual(['alice', '/lab?x']);
    expect((await sendEcho(p.port, '/hub/', { headers: { host: 'hub.test' } })).name).toBe('hub');
    expect((await send(p.port, '/x', { headers: { host: 'other.test' } })).status).toBe(404);
  });
});

describe('bodies', () => {
  it('streams a POST body: the upstream sees the first chunk before the client has finished', async () => {
    let firstChunk!: () => void;
    const gotFirst = new Promise<void>((r) => (firstChunk = r));
    const up = await upstream(
      startUpstream((req, res) => {
        let total = 0;
        req.once('data', () => firstChunk());
        req.on('data', (c: Buffer) => (total += c.length));
        req.on('end', () => res.end(`${req.method} ${total}`));
      }),
    );
    const p = await proxy();
    p.table.add('/', up.url);
    const req = http.request({ port: p.port, host: '127.0.0.1', path: '/upload', method: 'POST', agent: false });
    req.write(Buffer.alloc(64 * 1024, 1));
    await gotFirst; // the proxy did not wait for the whole body
    req.end(Buffer.alloc(1024 * 1024, 2));
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    let body = '';
    for await (const c of res) body += String(c);
    expect(body).toBe(`POST ${64 * 1024 + 1024 * 1024}`);
  });
});

describe('errors', () => {
  it('answers 404 when no route matches, through onError', async () => {
    const seen: unknown[] = [];
    const p = await proxy({
      onError: (status, req, res, route) => {
        seen.push([status, req.url, route]);
        res.writeHead(status, { 'content-type': 'text/html' });
        res.end(`<h1>${status}</h1>`);
      },
    });
    p.table.add('/user/alice', 'http://127.0.0.1:1');
    const reply = await send(p.port, '/user/bob/');
    expect([reply.status, reply.body]).toEqual([404, '<h1>404</h1>']);
    expect(seen).toEqual([[404, '/user/bob/', undefined]]);
  });

  it('answers 503 in plain text when the target refuses connections', async () => {
    const p = await proxy();
    const route = p.table.add('/user/alice', `http://127.0.0.1:${await deadPort()}`);
    const reply = await send(p.port, '/user/alice/lab');
    expect([reply.status, reply.body]).toEqual([503, 'Service Unavailable']);
    expect(reply.headers['content-type']).toMatch(/text\/plain/);
    expect(route.prefix).toBe('/user/alice');
  });

  it('passes the route to onError for 503 so the hub can render "your server is down"', async () => {
    let got: string | undefined;
    const p = await proxy({
      onError: (status, _req, res, route) => {
        got = `${status} ${route?.prefix}`;
        res.writeHead(status);
        res.end();
      },
    });
    p.table.add('/user/alice', `http://127.0.0.1:${await deadPort()}`);
    expect((await send(p.port, '/user/alice/')).status).toBe(503);
    expect(got).toBe('503 /user/alice');
  });

  it('falls back to plain text when onError throws', async () => {
    const p = await proxy({
      onError: () => {
        throw new Error('renderer broken');
      },
    });
    const reply = await send(p.port, '/nowhere');
    expect([reply.status, reply.body]).toEqual([404, 'Not Found']);
  });

  it('answers 503 when the upstream does not answer within proxyTimeout', async () => {
    const held: ServerResponse[] = [];
    const up = await upstream(startUpstream((_req, res) => void held.push(res)));
    const p = await proxy({ proxyTimeout: 150 });
    p.table.add('/', up.url);
    const reply = await send(p.port, '/slow');
    expect(reply.status).toBe(503);
    expect(held.length).toBe(1);
    if (!held[0].destroyed) await once(held[0], 'close'); // and the upstream request was abandoned
  });
});

describe('local targets and activity', () => {
  it('serves a local target in-process with the normalised URL and X-Forwarded headers', async () => {
    const calls: string[] = [];
    const hub: LocalTarget = {
      request(req, res) {
        calls.push(`${req.url} ${req.headers['x-forwarded-proto']} ${req.headers.host}`);
        res.end('from the hub');
      },
    };
    const hubUrl = `http://127.0.0.1:${await deadPort()}`; // nothing listens: a socket would fail
    const p = await proxy({ localTargets: new Map([[hubUrl, hub]]) });
    p.table.add('/', hubUrl, { hub: true });
    const reply = await send(p.port, '/user/x/../../hub/home?a=1', { headers: { host: 'hub.example' } });
    expect([reply.status, reply.body]).toEqual([200, 'from the hub']);
    expect(calls).toEqual(['/hub/home?a=1 http hub.example']);
  });

  it('updates lastActivity on requests through a route, not on others', async () => {
    const up = await upstream(startEcho());
    const p = await proxy();
    const alice = p.table.add('/user/alice', up.url, {}, 0);
    const bob = p.table.add('/user/bob', up.url, {}, 0);
    await sendEcho(p.port, '/user/alice/api/status');
    expect(alice.lastActivity).toBeGreaterThan(0);
    expect(bob.lastActivity).toBe(0);
  });

  it('resends a bodiless GET once when a pooled connection was closed by the upstream', async () => {
    // The upstream drops every connection on its second request: what a server closing an idle keep-alive socket
    // looks like to the proxy when it reuses that socket at the same moment.
    const served = new WeakMap<object, number>();
    const up = await upstream(
      startUpstream((req, res) => {
        const n = (served.get(req.socket) ?? 0) + 1;
        served.set(req.socket, n);
        if (n > 1) req.socket.destroy();
        else res.end(`${req.method} ok`);
      }),
    );
    const p = await proxy();
    p.table.add('/', up.url);
    expect((await send(p.port, '/one')).body).toBe('GET ok');
    expect((await send(p.port, '/two')).body).toBe('GET ok');
    expect(up.connections.total).toBe(2);
    // A POST may have had side effects, so it is not resent.
    expect((await send(p.port, '/three', { method: 'POST', body: 'x' })).status).toBe(503);
  });
});
