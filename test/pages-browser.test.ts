// Drives the hub's pages in real headless Chromium against a tiny node http server on 127.0.0.1.
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './support/chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homePage, loginPage, queuePage, spawnPendingPage, styleCss, tokenPage } from '../src/hub/pages/index.ts';
import { EVIL, renderAll } from './pages-helpers.ts';

const BASE = '/jhub/';

interface Stream {
  send(event: object): void;
}

let browser: Browser;
let server: http.Server;
let origin = '';
const waiting = new Map<string, (s: Stream) => void>();
const hits = new Map<string, number>();
const deletes: { path: string; referer: string | undefined }[] = [];
let aliceServer: { url: string; ready: boolean; pending: string | null } | null = null;
let tokens = [{ id: 'a1', note: 'ci job', created: '2026-11-23T15:00:37.659914Z', last_activity: null, expires_at: null }];
const evilPages = renderAll(BASE, EVIL);

/** Resolves when the page under test opens its progress stream for `user`. */
function nextStream(user: string): Promise<Stream> {
  return new Promise((resolve) => waiting.set(user, resolve));
}

function count(path: string): number {
  const n = (hits.get(path) ?? 0) + 1;
  hits.set(path, n);
  return n;
}

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  const n = count(path);
  const send = (body: string, type = 'text/html; charset=utf-8', status = 200) => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };
  const progress = /^\/jhub\/hub\/api\/users\/([^/]+)\/server\/progress$/.exec(path);
  if (progress) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write('\n\n');
    waiting.get(progress[1]!)?.({ send: (event) => res.write(`data: ${JSON.stringify(event)}\n\n`) });
    return;
  }
  const pending = /^\/jhub\/hub\/spawn-pending\/([^/]+)$/.exec(path);
  if (pending) {
    const user = pending[1]!;
    // Like the hub: once the server is up, reloading the pending page redirects to it.
    if (user === 'carol' && n > 1) {
      res.writeHead(302, { location: '/jhub/user/carol/' });
      return void res.end();
    }
    return send(spawnPendingPage({
      base: BASE, user, progressUrl: `/jhub/hub/api/users/${user}/server/progress`,
      nextUrl: `/jhub/user/${user}/lab?x=1`, refreshSeconds: user === 'carol' ? 1 : 5,
    }));
  }
  if (req.method === 'DELETE') {
    deletes.push({ path, referer: req.headers.referer });
    if (path === '/jhub/hub/api/users/alice/server') aliceServer = null;
    if (path === '/jhub/hub/api/users/alice/tokens/a1') tokens = [];
    res.writeHead(204, { 'content-type': 'text/plain' });
    return void res.end();
  }
  if (path === '/jhub/hub/static/style.css') return send(styleCss, 'text/css; charset=utf-8');
  if (path.startsWith('/jhub/user/')) return send(`<!DOCTYPE html><title>lab</title><p>Server at ${path}</p>`);
  if (path === '/jhub/hub/login') {
    return send(loginPage({
      base: BASE, next: '/jhub/hub/', showPassword: true, loginService: '', username: 'alice',
      error: 'Invalid username or password', message: 'Welcome to the workshop hub.',
    }));
  }
  if (path === '/jhub/hub/home') return send(homePage({ base: BASE, user: 'alice', server: aliceServer }));
  if (path === '/jhub/hub/token') return send(tokenPage({ base: BASE, user: 'alice', tokens }));
  if (path === '/jhub/hub/queue') return send(queuePage({ base: BASE, position: 2, total: 4, retryAfterSeconds: 1 }));
  const evil = /^\/jhub\/hub\/evil\/(\w+)$/.exec(path);
  if (evil && evilPages[evil[1]!]) return send(evilPages[evil[1]!]!);
  send('not found', 'text/plain', 404);
}

async function fillRatio(page: Page): Promise<number> {
  return page.evaluate(() => {
    const track = document.querySelector('.progress')!.getBoundingClientRect().width;
    return document.querySelector('.progress-bar')!.getBoundingClientRect().width / track;
  });
}

describe.skipIf(!existsSync(CHROMIUM))('hub pages in a browser', () => {
  beforeAll(async () => {
    server = http.createServer(handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('moves the progress bar and goes to nextUrl when the server is ready', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    const streamOpened = nextStream('alice');
    await page.goto(`${origin}/jhub/hub/spawn-pending/alice`);
    const stream = await streamOpened;
    stream.send({ progress: 0, message: 'Server requested' });
    await page.waitForFunction(() => document.querySelectorAll('#progress-log li').length === 1);
    expect(await fillRatio(page)).toBe(0);

    stream.send({ progress: 50, message: 'Spawning server...' });
    await page.waitForFunction(() => document.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow') === '50');
    await page.waitForFunction(() => {
      const r = document.querySelector('.progress-bar')!.getBoundingClientRect().width /
        document.querySelector('.progress')!.getBoundingClientRect().width;
      return Math.abs(r - 0.5) < 0.01; // after the CSS transition
    });
    expect(await page.textContent('#progress-status')).toBe('Spawning server...');
    await page.evaluate(() => document.querySelector('details')!.setAttribute('open', ''));
    await page.screenshot({ path: '/tmp/nodehub-spawn-pending.png', fullPage: true });

    stream.send({
      progress: 100, ready: true, message: 'Server ready at /jhub/user/alice/',
      html_message: 'Server ready at <a href="/jhub/user/alice/">/jhub/user/alice/</a>', url: '/jhub/user/alice/',
    });
    await page.waitForURL(`${origin}/jhub/user/alice/lab?x=1`);
    expect(await page.title()).toBe('lab');
    await page.close();
  });

  it('shows a failure message and a try-again link when the spawn fails', async () => {
    const page = await browser.newPage();
    const streamOpened = nextStream('bob');
    await page.goto(`${origin}/jhub/hub/spawn-pending/bob`);
    const stream = await streamOpened;
    expect(await page.isVisible('#progress-failed')).toBe(false);
    stream.send({ progress: 20, message: '<img src=x onerror="window.__pwned=3">' });
    stream.send({
      progress: 100, failed: true, message: 'Spawn failed: out of <memory>',
      html_message: 'Spawn failed: <b>out of memory</b>',
    });
    await page.waitForSelector('#progress-failed', { state: 'visible' });
    expect(await page.textContent('#progress-failed-message')).toBe('Spawn failed: out of <memory>');
    expect(await page.getAttribute('#progress-failed a', 'href')).toBe('/jhub/hub/spawn/bob');
    expect(await page.textContent('#progress-failed a')).toBe('Try again');
    // message goes in as text, html_message as markup
    expect(await page.locator('#progress-log li').first().textContent()).toBe('<img src=x onerror="window.__pwned=3">');
    expect(await page.locator('#progress-log li b').textContent()).toBe('out of memory');
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.getAttribute('.progress', 'class')).toContain('failed');
    expect(page.url()).toBe(`${origin}/jhub/hub/spawn-pending/bob`);
    await page.close();
  });

  it('still reaches the server without JavaScript, by refreshing', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${origin}/jhub/hub/spawn-pending/carol`);
    await page.waitForURL(`${origin}/jhub/user/carol/`, { timeout: 10_000 });
    await context.close();
  });

  it('stops my server from the home page with a same-origin fetch', async () => {
    aliceServer = { url: '/jhub/user/alice/', ready: true, pending: null };
    const page = await browser.newPage();
    await page.goto(`${origin}/jhub/hub/home`);
    expect(await page.textContent('#server-state')).toBe('running');
    await page.click('button:has-text("Stop my server")');
    await page.waitForFunction(() => document.querySelector('#server-state')?.textContent === 'not running');
    const stop = deletes.find((d) => d.path === '/jhub/hub/api/users/alice/server');
    expect(stop?.referer).toBe(`${origin}/jhub/hub/home`);
    expect(await page.getAttribute('a:has-text("Start my server")', 'href')).toBe('/jhub/hub/spawn/alice');
    await page.close();
  });

  it('revokes a token from the token page', async () => {
    const page = await browser.newPage();
    await page.goto(`${origin}/jhub/hub/token`);
    expect(await page.locator('tbody tr').count()).toBe(1);
    await page.click('button:has-text("Revoke")');
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 0);
    expect(await page.textContent('#token-status')).toBe('Token revoked.');
    expect(deletes.some((d) => d.path === '/jhub/hub/api/users/alice/tokens/a1')).toBe(true);
    await page.close();
  });

  it('queue page checks again by itself', async () => {
    const page = await browser.newPage();
    const before = hits.get('/jhub/hub/queue') ?? 0;
    await page.goto(`${origin}/jhub/hub/queue`);
    await expect.poll(() => hits.get('/jhub/hub/queue') ?? 0, { timeout: 8_000 }).toBeGreaterThanOrEqual(before + 2);
    await page.close();
  });

  it('runs none of a hostile value on any page, and shows it as text', async () => {
    const page = await browser.newPage();
    for (const name of Object.keys(evilPages)) {
      await page.goto(`${origin}/jhub/hub/evil/${name}`);
      expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned), name).toBeUndefined();
      if (name === 'queue') continue;
      // Visible text, form values and link targets read back exactly as given.
      const shown = await page.evaluate(() => [
        document.body.innerText,
        ...[...document.querySelectorAll('input')].map((i) => i.value),
        ...[...document.querySelectorAll('[href]')].map((a) => a.getAttribute('href')),
      ].join(' '));
      expect(shown, name).toContain(`Mallory"'><script>`);
    }
    await page.close();
  });

  it('renders a clean login page with visible keyboard focus (screenshots in /tmp)', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    await page.goto(`${origin}/jhub/hub/login`);
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(245, 246, 248)');
    await page.screenshot({ path: '/tmp/nodehub-login.png', fullPage: true });
    await page.locator('#password').focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Sign in');
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).toBe('solid');
    await page.setViewportSize({ width: 360, height: 640 });
    await page.screenshot({ path: '/tmp/nodehub-login-mobile.png', fullPage: true });
    // Nothing overflows sideways on a phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.close();
  });
});
