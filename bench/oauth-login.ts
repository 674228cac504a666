// The single sign-on login round trip (issue #14 acceptance): nodehub's GenericOAuthenticator beside Debian's
// JupyterHub 3.0 running oauthenticator 17.4.0 from its source (class path oauthenticator.generic.GenericOAuthenticator
// on both), and optionally JupyterHub 5.4.6 from source with the same oauthenticator, all against ONE OpenID provider
// (oidc-provider, in this process, as the tests start it) with the same settings. First table: the round trip in
// headless Chromium (oauth/chromium.ts), logins interleaved across the hubs so that the machine's load falls on all
// alike; second table: the HTTP-only round trip one at a time and logins/s at a concurrency (oauth/http.ts).
//
//   node_modules/.bin/node bench/oauth-login.ts [--chromium 25] [--warmup 5] [--latency 30] [--logins 120]
//       [--concurrency 8] [--hubs nodehub,jupyterhub30[,jupyterhub54]]
// JupyterHub 3.0 needs Debian's jupyterhub, python3-jwt, python3-jsonschema, python3-ruamel.yaml and oauthenticator
// 17.4.0's source in $OAUTH_SRC (default /tmp/oauth174: `git archive 17.4.0 oauthenticator | tar -x`); 5.4.6 also
// its source in $JH54_SRC (default /tmp/jh54, see ../shared/reference/run-jupyterhub-5.4.sh).
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { startOidc, type Oidc } from '../test/support/oidc.ts';
import { freePort } from './lib/ports.ts';
import { cleanupAll } from './lib/procs.ts';
import { formatMs, percentile } from './lib/stats.ts';
import { browserRoundTrip, launchBrowser, type BrowserLogin } from './oauth/chromium.ts';
import { httpRoundTrip } from './oauth/http.ts';
import { checkDebianImports, checkLogins, LABEL, missing, startHub, type HubKind, type OAuthHub } from './oauth/hubs.ts';

const { values: args } = parseArgs({ options: {
  chromium: { type: 'string', default: '25' }, warmup: { type: 'string', default: '5' },
  latency: { type: 'string', default: '30' }, logins: { type: 'string', default: '120' }, concurrency: { type: 'string', default: '8' },
  hubs: { type: 'string', default: 'nodehub,jupyterhub30' },
} });
const N_BROWSER = Number(args.chromium);
const N_WARM = Number(args.warmup);
const N_LATENCY = Number(args.latency);
const N_LOGINS = Number(args.logins);
const CONCURRENCY = Number(args.concurrency);
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const log = (msg: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const kinds: HubKind[] = [];
for (const k of args.hubs.split(',') as HubKind[]) {
  if (!(k in LABEL)) throw new Error(`--hubs: unknown hub ${k} (nodehub, jupyterhub30, jupyterhub54)`);
  const lack = missing(k);
  if (lack.length) log(`${LABEL[k]} skipped: needs ${lack.join(', ')}`);
  else kinds.push(k);
}

/** Users are made up as the run goes: each login is a new hub user, in the group allowed_groups names. */
const users: Record<string, { groups: string[] }> = {};
let serial = 0;
const newUser = (kind: HubKind) => {
  const name = `${kind}-u${serial++}`;
  users[name] = { groups: ['jupyter-users'] };
  return name;
};

interface Row { kind: HubKind; check: string; browser: BrowserLogin[]; http: number[]; httpHub: number[]; perSecond: number; load: string[] }

async function main(): Promise<void> {
  const started = new Date();
  const ports = new Map<HubKind, number>();
  for (const k of kinds) ports.set(k, await freePort());
  const urls = kinds.map((k) => `http://127.0.0.1:${ports.get(k)}/hub/`);
  const oidc: Oidc = await startOidc(users, urls.map((u) => `${u}oauth_callback`), urls.map((u) => `${u}login`));
  const hubs: OAuthHub[] = [];
  let browser: Browser | undefined;
  try {
    for (const k of kinds) {
      log(`starting ${LABEL[k]}`);
      hubs.push(await startHub(k, ports.get(k)!, oidc.issuer));
    }
    const rows = new Map<HubKind, Row>(kinds.map((k) => [k, { kind: k, check: '', browser: [], http: [], httpHub: [], perSecond: NaN, load: [] }]));
    for (const hub of hubs) {
      // Two untimed logins first: an admin (admin_groups) and a member, checked through the REST API.
      const admin = `${hub.kind}-admin`;
      users[admin] = { groups: ['jupyter-users', 'hub-admins'] };
      await httpRoundTrip(hub.url, admin);
      const member = newUser(hub.kind);
      await httpRoundTrip(hub.url, member);
      rows.get(hub.kind)!.check = await checkLogins(hub, admin, member);
    }
    browser = await launchBrowser();
    log(`Chromium: ${N_WARM} warm-up and ${N_BROWSER} measured logins per hub, interleaved (load ${load()})`);
    for (let i = 0; i < N_WARM + N_BROWSER; i++) {
      for (const hub of hubs) {
        const r = await browserRoundTrip(browser, hub.url, newUser(hub.kind));
        if (i >= N_WARM) rows.get(hub.kind)!.browser.push(r);
      }
    }
    for (const row of rows.values()) row.load.push(load());
    for (const hub of hubs) {
      const row = rows.get(hub.kind)!;
      if (!N_LATENCY && !N_LOGINS) break;
      log(`HTTP client: ${LABEL[hub.kind]} (load ${load()})`);
      for (let i = 0; i < 5; i++) await httpRoundTrip(hub.url, newUser(hub.kind));
      for (let i = 0; i < N_LATENCY; i++) {
        const t0 = performance.now();
        row.httpHub.push(await httpRoundTrip(hub.url, newUser(hub.kind)));
        row.http.push(performance.now() - t0);
      }
      const names = [...Array(N_LOGINS)].map(() => newUser(hub.kind));
      const t0 = performance.now();
      await Promise.all([...Array(CONCURRENCY)].map(async () => {
        for (let name = names.pop(); name; name = names.pop()) await httpRoundTrip(hub.url, name);
      }));
      row.perSecond = N_LOGINS / ((performance.now() - t0) / 1000);
      row.load.push(load());
    }
    print(started, [...rows.values()]);
  } finally {
    await browser?.close();
    for (const hub of hubs) await hub.stop();
    await oidc.close();
  }
}

function print(started: Date, rows: Row[]): void {
  const p = (xs: number[], q: number) => (xs.length ? formatMs(percentile(xs, q)) : 'n/a');
  const out: string[] = [];
  out.push(`### Run of ${started.toISOString().slice(0, 16)}Z (Node ${process.version}, ${cpus().length} CPUs, load at the start ${startLoad})`, '');
  out.push(`Chromium, ${N_BROWSER} logins per hub after ${N_WARM} warm-ups, a fresh context each, hubs interleaved:`, '');
  out.push('| hub | round trip p50 | p90 | max | under 1 s (p90) | login page p50 | click → provider form p50 | submit → /hub/home p50 | wall with Playwright\'s actions p50 / p90 |');
  out.push('| --- | --: | --: | --: | --- | --: | --: | --: | --: |');
  for (const r of rows) {
    const col = (f: (b: BrowserLogin) => number) => r.browser.map(f);
    const total = col((b) => b.total);
    out.push(`| ${LABEL[r.kind]} | ${p(total, 50)} | ${p(total, 90)} | ${p(total, 100)} | ${total.length && percentile(total, 90) < 1000 ? 'yes' : 'no'} | ` +
      `${p(col((b) => b.loginPage), 50)} | ${p(col((b) => b.toProvider), 50)} | ${p(col((b) => b.back), 50)} | ${p(col((b) => b.wall), 50)} / ${p(col((b) => b.wall), 90)} |`);
  }
  if (N_LATENCY || N_LOGINS) {
    out.push('', `HTTP client (no pages' assets), /hub/oauth_login → the callback's login cookie; ${N_LATENCY} one at a time, then ${N_LOGINS} logins ${CONCURRENCY} at once:`, '');
    out.push('| hub | round trip p50 | p90 | the hub\'s answers p50 | logins/s | load after |', '| --- | --: | --: | --: | --: | --- |');
    for (const r of rows) out.push(`| ${LABEL[r.kind]} | ${p(r.http, 50)} | ${p(r.http, 90)} | ${p(r.httpHub, 50)} | ${r.perSecond.toFixed(1)} | ${r.load.at(-1)} |`);
  }
  out.push('', ...rows.map((r) => `- ${LABEL[r.kind]}: ${r.check}`));
  if (rows.some((r) => r.kind === 'jupyterhub30')) out.push(`- JupyterHub 3.0's Python: ${checkDebianImports()}`);
  out.push('', `load after the Chromium logins: ${rows[0]?.load[0] ?? 'n/a'}; run took ${formatMs(Date.now() - started.getTime())}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

const startLoad = load();
try {
  await main();
} catch (err) {
  process.stderr.write(`bench/oauth-login.ts: ${(err as Error).stack ?? (err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
