// The README's promise: `npm start` in the repository gives a newcomer a hub on port 8000 whose front page leads, through
// the tmp authenticator, to a working notebook. Runs the real command (npm, the set-up script, the hub, a real
// jupyterhub-singleuser) with only the database, the cookie secret and the port moved (a temp dir, a free port: 8000
// may be taken on a shared machine); that the port is 8000 without configuration is checked on the defaults.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import { listenAddress } from '../src/hub/listen.ts';
import { ROOT, freePort, killHard, pidAlive } from './support/hub-process.ts';
import { eventually } from './support/hub.ts';

/** Follows redirects the way a browser does, keeping cookies (by name; paths do not matter for this walk). */
class Browser {
  readonly cookies = new Map<string, string>();
  readonly hops: string[] = [];

  async get(url: string): Promise<{ url: string; status: number; body: string }> {
    for (let i = 0; i < 30; i++) {
      const r = await fetch(url, {
        redirect: 'manual',
        headers: { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
        signal: AbortSignal.timeout(30_000),
      });
      for (const c of r.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair.indexOf('=');
        const [name, value] = [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
        if (!value || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.cookies.delete(name);
        else this.cookies.set(name, value);
      }
      const path = new URL(url).pathname;
      this.hops.push(`${r.status} ${path}`);
      const location = r.headers.get('location');
      if (r.status >= 300 && r.status < 400 && location) {
        url = new URL(location, url).href;
        continue;
      }
      return { url, status: r.status, body: await r.text() };
    }
    throw new Error(`too many redirects:\n${this.hops.join('\n')}`);
  }
}

let dir: string | undefined;
let npm: ChildProcess | undefined;
let out = '';

/** Servers the hub said it started: `[pid, working directory]`. */
function startedServers(): [number, string][] {
  return [...out.matchAll(/Started server process (\d+) .* \(log: (\S+)\/\.nodehub-server\.log\)/g)].map((m) => [Number(m[1]), m[2]]);
}

// Also after a failed assertion: the hub runs in npm's process group and its servers in their own sessions.
afterAll(async () => {
  if (npm?.pid && npm.exitCode === null && npm.signalCode === null) {
    try {
      process.kill(-npm.pid, 'SIGINT');
    } catch {
      // already gone
    }
    await Promise.race([new Promise((r) => npm!.once('exit', r)), new Promise((r) => setTimeout(r, 15_000))]);
    killHard(npm.pid);
  }
  for (const [pid, home] of startedServers()) {
    killHard(pid);
    rmSync(home, { recursive: true, force: true });
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the README run command', () => {
  it('listens on 127.0.0.1:8000 when nothing is configured', async () => {
    expect(listenAddress(await loadConfig({ file: null, env: {} }))).toEqual({ host: '127.0.0.1', port: 8000 });
  });

  it('npm start serves a hub that takes a newcomer to a working notebook', { timeout: 120_000 }, async (ctx) => {
    // `npm start` runs the set-up first, which reinstalls node_modules when the lock file is newer: never under a
    // running test suite.
    const lock = join(ROOT, 'node_modules/.package-lock.json');
    if (!existsSync(lock) || statSync(join(ROOT, 'package-lock.json')).mtimeMs > statSync(lock).mtimeMs) {
      return ctx.skip('node_modules is older than package-lock.json; run `npm ci` (or `npm test`) first');
    }
    dir = mkdtempSync(join(tmpdir(), 'nodehub-readme-'));
    const config = join(dir, 'nodehub.yaml');
    const port = await freePort();
    writeFileSync(config, `JupyterHub:\n  db_url: sqlite:///${join(dir, 'nodehub.sqlite')}\n  cookie_secret_file: ${join(dir, 'cookie_secret')}\n  port: ${port}\n`);
    const rootBefore = readdirSync(ROOT);

    // A newcomer's shell: none of the npm variables of the npm that runs these tests, no notebook app chosen.
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^npm_/i.test(k)) env[k] = v;
    delete env.JUPYTERHUB_SINGLEUSER_APP;
    env.NODEHUB_CONFIG = config;
    // Its own process group, so the whole of npm, sh and the hub can be signalled together as a terminal would.
    const child = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    npm = child;
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<number | string>((r) => child.once('exit', (code, sig) => r(code ?? sig ?? -1)));
    let ended = false;
    void exited.then(() => (ended = true));

    const running = await eventually(() => {
      if (ended) throw new Error(`npm start ended early:\n${out}`);
      return new RegExp(`nodehub is running at (http://\\S+:${port}/)`).exec(out);
    }, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${out}`);
    });
    const url = running![1];

    const api = await fetch(`${url}hub/api`);
    expect(api.status).toBe(200);
    expect(await api.json()).toEqual({ version: '5.4.6' });

    // The front page: login → tmplogin (a fresh user) → spawn → the server's OAuth dance → the notebook's tree page.
    // A slow spawn shows the pending page first; a browser would wait on it, so do the same.
    const browser = new Browser();
    let page = await browser.get(url);
    const end = Date.now() + 60_000;
    while (page.status === 200 && /\/hub\/spawn(-pending)?\//.test(new URL(page.url).pathname) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 500));
      page = await browser.get(page.url);
    }
    const trail = browser.hops.join('\n');
    expect(trail).toMatch(/^302 \/hub\/tmplogin$/m);
    expect(new URL(page.url).pathname, trail).toMatch(/^\/user\/[0-9a-f-]{36}\/tree\/?$/);
    expect(page.status, trail).toBe(200);
    // The classic notebook's file browser, which the start script selects (spec 9: without it /tree/ is a 404).
    expect(page.body).toMatch(/<title>Home Page - Select or create a notebook<\/title>/);

    const servers = startedServers();
    expect(servers, out).toHaveLength(1);
    const [[serverPid, home]] = servers;
    expect(pidAlive(serverPid)).toBe(true);
    expect(existsSync(home)).toBe(true);

    // Ctrl-C: the whole group gets SIGINT; the hub stops the notebook server and removes its directory.
    process.kill(-child.pid!, 'SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    expect(ended, out).toBe(true);
    expect(pidAlive(serverPid)).toBe(false);
    expect(existsSync(home)).toBe(false);
    // Nothing was left behind in the repository (database and secret went to the temp dir).
    // (Other files may come and go in a shared work tree, so only the hub's own kinds are looked for.)
    const added = readdirSync(ROOT).filter((f) => !rootBefore.includes(f));
    expect(added.filter((f) => /sqlite|cookie_secret/.test(f))).toEqual([]);
  });
});
