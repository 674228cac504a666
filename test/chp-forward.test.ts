// The public side of `nodehub proxy`: health check, default target, the configurable-http-proxy flags that change
// forwarding, error pages from --error-target / --error-path, TLS, and websockets, all over real sockets.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { startChpProxy } from '../src/proxy/chp/index.ts';
import type { ChpProxy, ChpProxyOptions } from '../src/proxy/chp/index.ts';
import { createLogger } from '../src/util/log.ts';
import { closeServer, deadPort, send, sendEcho, startEcho, startUpstream } from './proxy-support.ts';
import type { Upstream } from './proxy-support.ts';

const log = createLogger('test');
let echo: Upstream;
let dir: string;
const started: ChpProxy[] = [];

async function start(opts: ChpProxyOptions = {}): Promise<ChpProxy> {
  const proxy = await startChpProxy({ ip: '127.0.0.1', port: 0, apiIp: '127.0.0.1', apiPort: 0, log, ...opts });
  started.push(proxy);
  return proxy;
}

beforeAll(async () => {
  echo = await startEcho();
  dir = mkdtempSync(join(tmpdir(), 'nodehub-chp-'));
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await closeServer(echo.server);
  rmSync(dir, { recursive: true, force: true });
});

describe('health and default target', () => {
  it('/_chp_healthz answers 200 {"status":"OK"} with no routes at all; anything else is a 404', async () => {
    const proxy = await start();
    const health = await send(proxy.port, '/_chp_healthz');
    expect(health.status).toBe(200);
    expect(health.headers['content-type']).toBe('application/json');
    expect(JSON.parse(health.body)).toEqual({ status: 'OK' });
    const miss = await send(proxy.port, '/anything');
    expect(miss).toMatchObject({ status: 404, body: 'Not Found' });
  });

  it('--default-target routes / and forwards the original URL with X-Forwarded headers and Host kept', async () => {
    const proxy = await start({ defaultTarget: echo.url });
    expect(proxy.table.get('/')?.target).toBe(echo.url);
    const got = await sendEcho(proxy.port, '/some/path?q=1', { headers: { host: 'example.org:8443' } });
    expect(got.url).toBe('/some/path?q=1');
    expect(got.headers).toMatchObject({
      host: 'example.org:8443',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-port': '8443',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'example.org:8443',
    });
  });

  it('--no-x-forward, --custom-header, --no-include-prefix and --no-prepend-path change what the target sees', async () => {
    const proxy = await start({ xForward: false, customHeaders: { 'X-Team': 'a' }, includePrefix: false, prependPath: false });
    proxy.table.add('/pre/fix', `${echo.url}/base`);
    const got = await sendEcho(proxy.port, '/pre/fix/rest?x=1');
    expect(got.url).toBe('/rest?x=1');
    expect(got.headers['x-team']).toBe('a');
    expect(got.headers['x-forwarded-for']).toBeUndefined();

    const prepending = await start();
    prepending.table.add('/pre', `${echo.url}/base`);
    expect((await sendEcho(prepending.port, '/pre/x')).url).toBe('/base/pre/x');
  });

  it('--host-routing routes on the Host header (port ignored)', async () => {
    const proxy = await start({ hostRouting: true });
    proxy.table.add('/alice.example.org', echo.url);
    expect((await sendEcho(proxy.port, '/lab', { headers: { host: 'alice.example.org:8000' } })).url).toBe('/lab');
    expect((await send(proxy.port, '/lab', { headers: { host: 'bob.example.org' } })).status).toBe(404);
  });

  it('traffic through a route moves its last_activity as the API reports it', async () => {
    const proxy = await start();
    const route = proxy.table.add('/r', echo.url, {}, Date.now() - 3_600_000);
    const before = route.lastActivity;
    await sendEcho(proxy.port, '/r/x');
    const listed = await (await fetch(`http://127.0.0.1:${proxy.apiPort}/api/routes/r`)).json();
    expect(Date.parse(listed.last_activity)).toBeGreaterThan(before + 3_000_000);
  });
});

describe('--error-target', () => {
  let errors: Upstream;
  const asked: string[] = [];
  beforeAll(async () => {
    errors = await startUpstream((req, res) => {
      asked.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'x-not-relayed': '1' });
      res.end(`<h1>page for ${req.url}</h1>`);
    });
  });
  afterAll(() => closeServer(errors.server));

  it('fetches <target>/<code>?url=<escaped url> and relays the page with the original status', async () => {
    const proxy = await start({ errorTarget: `${errors.url}/hub/error` });
    proxy.table.add('/dead', `http://127.0.0.1:${await deadPort()}`);
    asked.length = 0;
    const down = await send(proxy.port, '/dead/x?a=b&c=%20');
    expect(down.status).toBe(503);
    expect(down.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(down.headers['x-not-relayed']).toBeUndefined();
    expect(asked).toEqual([`/hub/error/503?url=${encodeURIComponent('/dead/x?a=b&c=%20').replace(/%20/g, '+')}`]);
    expect(down.body).toBe(`<h1>page for ${asked[0]}</h1>`);

    const missing = await send(proxy.port, '/nowhere');
    expect(missing.status).toBe(404);
    expect(asked[1]).toBe('/hub/error/404?url=%2Fnowhere');
  });

  it('falls back to plain status text when the error target is down', async () => {
    const proxy = await start({ errorTarget: `http://127.0.0.1:${await deadPort()}/` });
    expect(await send(proxy.port, '/nowhere')).toMatchObject({ status: 404, body: 'Not Found' });
  });
});

describe('--error-path', () => {
  it('serves <code>.html, else error.html, else plain text', async () => {
    writeFileSync(join(dir, '404.html'), '<p>no such page</p>');
    writeFileSync(join(dir, 'error.html'), '<p>something broke</p>');
    const proxy = await start({ errorPath: dir });
    proxy.table.add('/dead', `http://127.0.0.1:${await deadPort()}`);
    const missing = await send(proxy.port, '/nowhere');
    expect(missing).toMatchObject({ status: 404, body: '<p>no such page</p>' });
    expect(missing.headers['content-type']).toMatch(/^text\/html/);
    expect(await send(proxy.port, '/dead/')).toMatchObject({ status: 503, body: '<p>something broke</p>' });

    const bare = await start({ errorPath: join(dir, 'absent') });
    expect(await send(bare.port, '/nowhere')).toMatchObject({ status: 404, body: 'Not Found' });
  });
});

describe('TLS and websockets', () => {
  it('--ssl-key/--ssl-cert serve the public port over https (X-Forwarded-Proto https)', async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
      '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    const proxy = await start({ sslKey: key, sslCert: cert, defaultTarget: echo.url });
    const req = https.get({ host: '127.0.0.1', port: proxy.port, path: '/tls', rejectUnauthorized: false, agent: false });
    const [res] = await once(req, 'response');
    let body = '';
    for await (const chunk of res) body += chunk;
    expect(JSON.parse(body).headers).toMatchObject({ 'x-forwarded-proto': 'https', 'x-forwarded-port': String(proxy.port) });
  });

  it('a missing TLS file is a clear start-up error', async () => {
    await expect(startChpProxy({ ip: '127.0.0.1', port: 0, apiPort: 0, sslKey: join(dir, 'nope.pem'), sslCert: join(dir, 'nope.pem'), log }))
      .rejects.toThrow(/cannot read the TLS key .*nope\.pem: ENOENT/);
  });

  it('websockets are proxied through the public port', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    wss.on('connection', (ws, req) => ws.on('message', (m) => ws.send(`${req.url} ${m}`)));
    try {
      const proxy = await start();
      proxy.table.add('/user/a', `http://127.0.0.1:${(wss.address() as { port: number }).port}`);
      const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/user/a/api/kernels/1/channels`);
      await once(ws, 'open');
      ws.send('hi');
      const [reply] = await once(ws, 'message');
      expect(String(reply)).toBe('/user/a/api/kernels/1/channels hi');
      ws.close();
      await once(ws, 'close');
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    }
  });
});
