// /hub/logo and the favicon (issue #11): public, cacheable, JupyterHub's own images unless JupyterHub.logo_file names
// another, and reachable through the event-password gate (the single-user page and the password page load them).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { ask } from './support/raw-http.ts';
import { ConfigError } from '../src/config/errors.ts';

const PNG = new URL('../src/hub/static/jupyterhub-80.png', import.meta.url);
const ICO = new URL('../src/hub/static/favicon.ico', import.meta.url);
const hubs: TestHub[] = [];
afterAll(async () => { await Promise.all(hubs.map((h) => h.close())); });

async function bytes(origin: string, path: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${origin}${path}`, { headers, redirect: 'manual' });
  return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
}

describe('the logo and favicon', () => {
  let hub: TestHub;
  beforeAll(async () => { hub = await startTestHub(); hubs.push(hub); });

  it("serves JupyterHub's logo at /hub/logo without a login, cacheable and revalidated by ETag", async () => {
    const r = await bytes(hub.origin, '/hub/logo');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/png');
    expect(r.body.equals(readFileSync(PNG))).toBe(true);
    expect(r.headers.get('cache-control')).toBe('public, max-age=3600');
    const etag = r.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const again = await bytes(hub.origin, '/hub/logo', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('serves the favicon at /hub/favicon.ico and /hub/static/favicon.ico, and sends /favicon.ico there', async () => {
    for (const p of ['/hub/favicon.ico', '/hub/static/favicon.ico']) {
      const r = await bytes(hub.origin, p);
      expect(r.status, p).toBe(200);
      expect(r.headers.get('content-type')).toBe('image/x-icon');
      expect(r.body.equals(readFileSync(ICO))).toBe(true);
    }
    const stray = await bytes(hub.origin, '/favicon.ico');
    expect(stray.status).toBe(302);
    expect(stray.headers.get('location')).toBe('/hub/favicon.ico');
  });
});

describe('JupyterHub.logo_file', () => {
  it('serves the configured file with its image type', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>';
    const dir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'nodehub-logo-'));
    const file = join(dir, 'event.svg');
    writeFileSync(file, svg);
    const hub = await startTestHub({ JupyterHub: { logo_file: file } });
    hubs.push(hub);
    const r = await bytes(hub.origin, '/hub/logo');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/svg+xml');
    expect(r.body.toString()).toBe(svg);
  });

  it('stops start-up with the config key when the file is missing or not an image', async () => {
    for (const logo_file of ['/nonexistent/logo.png', '/etc/hostname']) {
      const err = await startTestHub({ JupyterHub: { logo_file } }).then((h) => { hubs.push(h); return null; }, (e: unknown) => e);
      expect(err, logo_file).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe('JupyterHub.logo_file');
    }
  });
});

describe('behind the event password', () => {
  it('lets the logo and favicon through without the password, and nothing else', async () => {
    const hub = await startTestHub({ JupyterHub: { authenticator_class: 'tmp' } }, { env: { NODEHUB_SHARED_PASSWORD: 'open sesame please' } });
    hubs.push(hub);
    for (const p of ['/hub/logo', '/hub/favicon.ico', '/hub/static/favicon.ico']) expect((await ask(hub.origin, p)).status, p).toBe(200);
    expect((await ask(hub.origin, '/favicon.ico')).headers.location).toBe('/hub/favicon.ico');
    expect((await ask(hub.origin, '/hub/home')).headers.location).toMatch(/^\/hub\/password\?next=/);
  });
});
