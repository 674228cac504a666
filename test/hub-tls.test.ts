// TLS on the public port as seed 004's apache did it (issue #15): JupyterHub.ssl_cert / ssl_key, client certificates
// from a site CA required (ssl_client_ca) and admitted by CN (ssl_client_allowed_cns) before any page; the hub's own
// plain-HTTP port (hub_port) for the API; certificates re-read on reload without dropping open connections. Real TLS
// clients: node's https/tls and ws, curl, and Chromium (playwright's clientCertificates).
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/config/index.ts';
import { startHub, type RunningHub } from '../src/hub/start.ts';
import { eventually, testConfig } from './support/hub.ts';
import { freePort } from './support/hub-process.ts';
import { hasOpenssl, makePki, type Pki } from './support/pki.ts';
import { CHROMIUM, CHROMIUM_ARGS } from './support/e2e.ts';

let dir: string;
let pki: Pki;
let hub: RunningHub;
let file: string;
let hubPort: number;
let base: string;
const token = randomBytes(16).toString('hex');
let settings: Record<string, Record<string, unknown>>;

/** The hub's API on its own plain-HTTP port. */
const api = (p: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${hubPort}/hub/api${p}`, { ...init, headers: { authorization: `token ${token}`, ...init.headers } });

/** A client certificate's TLS options, or none. */
function client(name: string | null): tls.ConnectionOptions {
  return {
    ca: readFileSync(pki.crt('site-ca')), servername: 'localhost',
    ...(name ? { cert: readFileSync(pki.crt(name)), key: readFileSync(pki.key(name)) } : {}),
  };
}

function get(path: string, name: string | null): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${base}${path}`, { ...client(name), agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The serial number of the certificate the hub presents to a new connection. */
function servedSerial(): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: '127.0.0.1', port: Number(new URL(base).port), ...client('alice') }, () => {
      const serial = sock.getPeerCertificate().serialNumber;
      sock.end();
      resolve(serial);
    });
    sock.on('error', reject);
  });
}

function curl(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--cacert', pki.crt('site-ca'), '-o', '-', '-w', '\n%{http_code}', ...args], (err, stdout) => {
      const lines = stdout.trimEnd().split('\n');
      resolve({ code: Number(lines.pop()), out: lines.join('\n') + (err && !stdout ? String(err) : '') });
    });
  });
}

async function openWs(name: string): Promise<WebSocket> {
  const ws = new WebSocket(`${base.replace('https', 'wss')}/user/alice/api/kernels/k1/channels`, client(name));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
  return ws;
}

function echo(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    ws.once('message', (d) => resolve(String(d)));
    ws.send(text);
  });
}

function writeConfig(): void {
  writeFileSync(file, JSON.stringify(settings));
}

describe.skipIf(!hasOpenssl)('the https listener with client certificates', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nodehub-tls-'));
    pki = makePki(dir);
    pki.ca('site-ca', 'JupyterHub Signing CA');
    pki.ca('other-ca', 'Someone Else CA');
    pki.issue('server', 'localhost', 'site-ca', { server: true });
    pki.issue('server2', 'localhost', 'site-ca', { server: true });
    pki.issue('alice', 'alice', 'site-ca');
    pki.issue('mallory', 'mallory', 'site-ca');
    pki.issue('alice-expired', 'alice', 'site-ca', { days: -1 });
    pki.issue('alice-foreign', 'alice', 'other-ca');
    copyFileSync(pki.crt('server'), join(dir, 'hub.crt'));
    copyFileSync(pki.key('server'), join(dir, 'hub.key'));
    chmodSync(join(dir, 'hub.key'), 0o600);
    hubPort = await freePort();
    settings = testConfig(dir, token, {
      JupyterHub: {
        log_level: 'error', ssl_cert: join(dir, 'hub.crt'), ssl_key: join(dir, 'hub.key'), ssl_client_ca: pki.crt('site-ca'),
        ssl_client_allowed_cns: ['alice'], hub_port: hubPort, reload_on_config_change: false,
      },
    });
    file = join(dir, 'nodehub.json');
    writeConfig();
    hub = await startHub(await loadConfig({ file, env: {} }), { env: {}, loadConfig: () => loadConfig({ file, env: {} }) });
    base = `https://127.0.0.1:${hub.port}`;
    expect(hub.url).toBe(`${base}/`);
    expect((await api('/users/alice', { method: 'POST' })).status).toBe(201);
    expect((await api('/users/alice/server', { method: 'POST' })).status).toBeLessThan(300);
    await eventually(async () => (await (await api('/users/alice')).json() as { servers: Record<string, { ready: boolean }> }).servers['']?.ready);
  }, 60_000);

  afterAll(async () => {
    await hub?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses, with a page saying why, a browser without a certificate, with a foreign, an expired, or a refused-CN one', async () => {
    const none = await get('/hub/login', null);
    expect(none.status).toBe(403);
    expect(none.type).toContain('text/html');
    expect(none.body).toContain('sent none');
    const foreign = await get('/hub/login', 'alice-foreign');
    expect([foreign.status, foreign.body.includes('not issued by this hub')]).toEqual([403, true]);
    const expired = await get('/hub/login', 'alice-expired');
    expect([expired.status, expired.body.includes('Your certificate has expired')]).toEqual([403, true]);
    const mallory = await get('/hub/login', 'mallory');
    expect([mallory.status, mallory.body.includes('CN &quot;mallory&quot;) is valid, but it is not admitted')]).toEqual([403, true]);
    // user servers too, and the API answers in JSON
    expect((await get('/user/alice/api/kernels', 'mallory')).status).toBe(403);
    const apiRefusal = await get('/hub/api/', null);
    expect(apiRefusal.type).toContain('application/json');
    expect(JSON.parse(apiRefusal.body)).toMatchObject({ status: 403 });
  });

  it('admits an admitted CN to the hub and, over https and wss, to a server', async () => {
    const login = await get('/hub/login', 'alice');
    expect(login.status).toBe(200);
    expect(login.body).toContain('name="username"');
    expect((await get('/hub/api/', 'alice')).status).toBe(200);
    const kernels = await get('/user/alice/api/kernels', 'alice');
    expect(kernels.status).toBe(200);
    const ws = await openWs('alice');
    expect(await echo(ws, 'ping through tls')).toBe('ping through tls');
    ws.close();
    await expect(openWs('mallory')).rejects.toThrow('upgrade refused: 403');
    await expect(openWs('alice-foreign')).rejects.toThrow('upgrade refused: 403');
  });

  it('serves only the hub on hub_port, in plain HTTP, and gives servers that address for the API', async () => {
    expect((await fetch(`http://127.0.0.1:${hubPort}/hub/api/`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${hubPort}/user/alice/api/kernels`)).status).toBe(404);
    const user = await (await api('/users/alice')).json() as { servers: Record<string, { url: string }> };
    expect(user.servers['']).toBeTruthy();
    const served = JSON.parse((await get('/user/alice/env', 'alice')).body) as Record<string, string>;
    expect(served.JUPYTERHUB_API_URL).toBe(`http://127.0.0.1:${hubPort}/hub/api`);
  });

  it.skipIf(!existsSync('/usr/bin/curl'))('curl: refused without a certificate and with a refused CN, admitted with an admitted one', async () => {
    const none = await curl([`${base}/hub/login`]);
    expect(none.code).toBe(403);
    expect(none.out).toContain('sent none');
    expect((await curl(['--cert', pki.crt('mallory'), '--key', pki.key('mallory'), `${base}/hub/login`])).code).toBe(403);
    expect((await curl(['--cert', pki.crt('alice-foreign'), '--key', pki.key('alice-foreign'), `${base}/hub/login`])).code).toBe(403);
    expect((await curl(['--cert', pki.crt('alice'), '--key', pki.key('alice'), `${base}/hub/login`])).code).toBe(200);
  });

  it.skipIf(!existsSync(CHROMIUM))('Chromium: a readable refusal without a certificate, the login page with an admitted one', { timeout: 60_000 }, async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const bare = await browser.newContext({ ignoreHTTPSErrors: true });
      const p1 = await bare.newPage();
      const r1 = await p1.goto(`${base}/hub/login`);
      expect(r1?.status()).toBe(403);
      expect(await p1.textContent('h1')).toBe('Access denied');
      expect(await p1.textContent('body')).toContain('sent none');
      for (const [name, status] of [['mallory', 403], ['alice', 200]] as const) {
        const ctx = await browser.newContext({
          ignoreHTTPSErrors: true, clientCertificates: [{ origin: base, certPath: pki.crt(name), keyPath: pki.key(name) }],
        });
        const page = await ctx.newPage();
        expect((await page.goto(`${base}/hub/login`))?.status()).toBe(status);
        if (status === 200) await page.waitForSelector('input[name="username"]');
        else expect(await page.textContent('body')).toContain('not admitted');
      }
    } finally {
      await browser.close();
    }
  });

  it('re-reads the certificate and the CN list on reload, keeps open connections, and keeps the old ones when the new ones do not load', async () => {
    const ws = await openWs('alice');
    const before = await servedSerial();
    copyFileSync(pki.crt('server2'), join(dir, 'hub.crt'));
    copyFileSync(pki.key('server2'), join(dir, 'hub.key'));
    settings.JupyterHub.ssl_client_allowed_cns = ['alice', 'mallory'];
    writeConfig();
    expect(await hub.reload()).toMatchObject({ ok: true, kept: [] });
    const after = await servedSerial();
    expect(after).not.toBe(before);
    expect(await echo(ws, 'still here')).toBe('still here');
    expect((await get('/hub/login', 'mallory')).status).toBe(200);

    // a certificate that does not parse, a key that is not the certificate's, a key others can read: refused, old kept
    writeFileSync(join(dir, 'hub.crt'), 'not a certificate\n');
    let r = await hub.reload();
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/^JupyterHub\.ssl_cert: .*hub\.crt holds no PEM certificate/);
    copyFileSync(pki.crt('server'), join(dir, 'hub.crt'));
    r = await hub.reload();
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/^JupyterHub\.ssl_key: .*hub\.key does not load with .*hub\.crt/);
    copyFileSync(pki.crt('server2'), join(dir, 'hub.crt'));
    chmodSync(join(dir, 'hub.key'), 0o644);
    r = await hub.reload();
    expect(r.error).toMatch(/^JupyterHub\.ssl_key: .*hub\.key has mode 0644; .*chmod 600/);
    chmodSync(join(dir, 'hub.key'), 0o600);
    copyFileSync(pki.crt('alice-expired'), join(dir, 'hub.crt'));
    r = await hub.reload();
    expect(r.error).toMatch(/^JupyterHub\.ssl_cert: .*hub\.crt expired on /);
    expect(await servedSerial()).toBe(after);
    expect(await echo(ws, 'and still')).toBe('and still');
    ws.close();
    copyFileSync(pki.crt('server2'), join(dir, 'hub.crt'));
  });

  it('refuses to start with a key file other users can read, naming the key', async () => {
    const d2 = mkdtempSync(join(tmpdir(), 'nodehub-tls2-'));
    try {
      copyFileSync(pki.key('server'), join(d2, 'k.pem'));
      chmodSync(join(d2, 'k.pem'), 0o644);
      const f2 = join(d2, 'nodehub.json');
      writeFileSync(f2, JSON.stringify(testConfig(d2, token, { JupyterHub: { ssl_cert: pki.crt('server'), ssl_key: join(d2, 'k.pem') } })));
      const err = await startHub(await loadConfig({ file: f2, env: {} }), { env: {} }).then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(/^JupyterHub\.ssl_key: .*k\.pem has mode 0644; a private key must not be readable or writable by other users/);
    } finally {
      rmSync(d2, { recursive: true, force: true });
    }
  });
});
