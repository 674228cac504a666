// The single sign-on login round trip (issue #14 acceptance): nodehub's GenericOAuthenticator beside JupyterHub 5.4.6
// with oauthenticator 17.4's, both run from source against the same OpenID provider (oidc-provider, started here as
// the tests start it). One round trip is what a browser does from "Sign in with …" until the hub has set its login
// cookie: GET /hub/oauth_login → the provider's /auth → its login form (GET, POST) → back to /hub/oauth_callback. The
// provider is the same process and code for both hubs, so the difference is the hubs'.
//
//   node_modules/.bin/node bench/oauth-login.ts [--latency 60] [--logins 300] [--concurrency 8]
// JupyterHub's side needs: Debian's jupyterhub, python3-jwt, python3-jsonschema, python3-ruamel.yaml (all Debian
// packages), the 5.4.6 source in $JH54_SRC (default /tmp/jh54, see ../shared/reference/run-jupyterhub-5.4.sh) and
// oauthenticator 17.4.0's source in $OAUTH_SRC (default /tmp/oauth174: `git archive 17.4.0 oauthenticator | tar -x`).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startOidc, type Oidc } from '../test/support/oidc.ts';
import { REPO_ROOT } from './nodehub.ts';
import { freePort } from '../test/support/hub-process.ts';

const { values: args } = parseArgs({ options: { latency: { type: 'string', default: '60' }, logins: { type: 'string', default: '300' }, concurrency: { type: 'string', default: '8' } } });
const JH54 = process.env.JH54_SRC ?? '/tmp/jh54';
const OAUTH = process.env.OAUTH_SRC ?? '/tmp/oauth174';
const RUN54 = resolve(REPO_ROOT, '../shared/reference/run-jupyterhub-5.4.sh');
const CHP = join(REPO_ROOT, 'node_modules', 'configurable-http-proxy', 'bin', 'configurable-http-proxy');

/** One browser: cookies by name (hub and provider are both on 127.0.0.1, whose cookies a browser shares across ports). */
/** Runs one round trip; resolves with the milliseconds spent waiting on the hub's answers (the rest is the provider's). */
async function roundTrip(hubUrl: string, user: string): Promise<number> {
  const jar = new Map<string, string>();
  const hubOrigin = new URL(hubUrl).origin;
  let hubMs = 0;
  let url = `${hubUrl}hub/oauth_login`;
  let method = 'GET';
  let body: string | undefined;
  for (let hop = 0; hop < 12; hop++) {
    const headers: Record<string, string> = {};
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const t0 = performance.now();
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0]!;
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i).trim(), pair.slice(i + 1));
    }
    const here = new URL(url);
    await res.arrayBuffer();
    if (here.origin === hubOrigin) hubMs += performance.now() - t0;
    if (here.pathname.endsWith('/hub/oauth_callback')) {
      if (res.status !== 302 || ![...jar.keys()].some((k) => k.startsWith('jupyterhub-hub-login'))) throw new Error(`callback answered ${res.status} without a login cookie`);
      return hubMs;
    }
    if (/^\/interaction\//.test(here.pathname) && method === 'GET') {
      method = 'POST';
      body = new URLSearchParams({ login: user }).toString();
      continue;
    }
    const loc = res.headers.get('location');
    if (!loc || res.status < 300 || res.status >= 400) throw new Error(`${method} ${url} answered ${res.status}`);
    url = new URL(loc, url).href;
    method = 'GET';
    body = undefined;
  }
  throw new Error('too many redirects');
}

interface Hub { url: string; child: ChildProcess; stop(): Promise<void> }

async function waitUp(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const end = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hub exited: ${log()}`);
    try {
      const r = await fetch(`${url}hub/login`);
      if (r.status === 200) return;
    } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`hub did not answer: ${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function launch(command: string, argv: string[], env: Record<string, string>, cwd: string): { child: ChildProcess; log: () => string } {
  let out = '';
  const child = spawn(command, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (out = (out + d).slice(-4000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-4000)));
  return { child, log: () => out };
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
}

function oauthSettings(issuer: string, hubUrl: string): Record<string, unknown> {
  return {
    client_id: 'hub', client_secret: 'hub-secret', oauth_callback_url: `${hubUrl}hub/oauth_callback`,
    authorize_url: `${issuer}/auth`, token_url: `${issuer}/token`, userdata_url: `${issuer}/me`,
    scope: ['openid', 'profile', 'groups'], username_claim: 'preferred_username', login_service: 'Keycloak',
  };
}

async function startNodehubHub(dir: string, port: number, issuer: string): Promise<Hub> {
  const url = `http://127.0.0.1:${port}/`;
  const config = join(dir, 'nodehub.json');
  writeFileSync(config, JSON.stringify({
    JupyterHub: { ip: '127.0.0.1', port, db_url: `sqlite:///${join(dir, 'nodehub.sqlite')}`, cookie_secret_file: join(dir, 'cookie_secret'),
      authenticator_class: 'generic-oauth', log_level: 'warn' },
    Authenticator: { allow_all: true },
    GenericOAuthenticator: oauthSettings(issuer, url),
  }));
  const { child, log } = launch(process.execPath, [join(REPO_ROOT, 'bin', 'nodehub.mjs'), '-f', config], {}, dir);
  await waitUp(url, child, log);
  return { url, child, stop: stopper(child) };
}

async function startJupyterHub(dir: string, port: number, issuer: string): Promise<Hub> {
  const url = `http://127.0.0.1:${port}/`;
  const o = oauthSettings(issuer, url);
  const py = (v: unknown) => JSON.stringify(v).replace(/\btrue\b/g, 'True').replace(/\bfalse\b/g, 'False');
  writeFileSync(join(dir, 'jupyterhub_config.py'), [
    `c.JupyterHub.ip = '127.0.0.1'`, `c.JupyterHub.port = ${port}`, `c.JupyterHub.hub_port = ${await freePort()}`,
    `c.JupyterHub.db_url = 'sqlite:///${join(dir, 'jupyterhub.sqlite')}'`, `c.JupyterHub.cookie_secret_file = '${join(dir, 'cookie_secret')}'`,
    `c.JupyterHub.data_files_path = '${JH54}/share/jupyterhub'`, `c.JupyterHub.log_level = 'WARN'`,
    `c.ConfigurableHTTPProxy.command = ['${CHP}']`, `c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:${await freePort()}'`,
    `c.JupyterHub.authenticator_class = 'oauthenticator.generic.GenericOAuthenticator'`, `c.Authenticator.allow_all = True`,
    ...Object.entries(o).map(([k, v]) => `c.GenericOAuthenticator.${k} = ${py(v)}`),
  ].join('\n'));
  const { child, log } = launch('/bin/bash', [RUN54, '-f', join(dir, 'jupyterhub_config.py')], { JH54_SRC: JH54, PYTHONPATH: OAUTH }, dir);
  await waitUp(url, child, log);
  return { url, child, stop: stopper(child) };
}

async function measure(name: string, start: (dir: string, port: number, issuer: string) => Promise<Hub>) {
  const dir = mkdtempSync(join(tmpdir(), `bench-oauth-${name}-`));
  const port = await freePort();
  const latencyN = Number(args.latency);
  const loginsN = Number(args.logins);
  const users = Object.fromEntries([...Array(latencyN + loginsN + 10).keys()].map((i) => [`u${i}`, { groups: ['jupyter-users'] }]));
  const oidc: Oidc = await startOidc(users, `http://127.0.0.1:${port}/hub/oauth_callback`, `http://127.0.0.1:${port}/hub/login`);
  const hub = await start(dir, port, oidc.issuer);
  try {
    for (let i = 0; i < 10; i++) await roundTrip(hub.url, `u${latencyN + loginsN + i}`); // warm-up
    const times: number[] = [];
    const hubTimes: number[] = [];
    for (let i = 0; i < latencyN; i++) {
      const t0 = performance.now();
      hubTimes.push(await roundTrip(hub.url, `u${i}`));
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    hubTimes.sort((a, b) => a - b);
    let next = 0;
    const t0 = performance.now();
    await Promise.all([...Array(Number(args.concurrency))].map(async () => {
      while (next < loginsN) await roundTrip(hub.url, `u${latencyN + next++}`);
    }));
    const seconds = (performance.now() - t0) / 1000;
    return { name, p50: times[Math.floor(times.length / 2)]!, p90: times[Math.floor(times.length * 0.9)]!, hubP50: hubTimes[Math.floor(hubTimes.length / 2)]!, perSecond: loginsN / seconds };
  } finally {
    await hub.stop();
    await oidc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [await measure('nodehub', startNodehubHub)];
if ([JH54, OAUTH, RUN54, CHP].every(existsSync)) results.push(await measure('JupyterHub 5.4.6 + oauthenticator 17.4', startJupyterHub));
else console.log(`JupyterHub side skipped: needs ${[JH54, OAUTH, RUN54, CHP].filter((p) => !existsSync(p)).join(', ')}`);
console.log(`| hub | round trip p50 | p90 | of which the hub's answers, p50 | logins/s (${args.concurrency} at once, ${args.logins} logins) |\n| --- | --: | --: | --: | --: |`);
for (const r of results) console.log(`| ${r.name} | ${r.p50.toFixed(1)} ms | ${r.p90.toFixed(1)} ms | ${r.hubP50.toFixed(1)} ms | ${r.perSecond.toFixed(1)} |`);
