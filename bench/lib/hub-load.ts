// Load a benchmark puts on a hub through its public port: many spawns at once, stopping them all, and logins for a
// fixed window. Identical requests go to both systems; only the login URL differs (a form POST for DummyAuthenticator,
// a GET of /hub/tmplogin for the tmp authenticator).
import { setTimeout as sleep } from 'node:timers/promises';
import { hubApi } from './hub-api.ts';
import type { HubEndpoint } from './hub-api.ts';

export interface SpawnWave {
  /** Milliseconds from sending the requests to the first and to the last ready server; NaN when none was ready. */
  firstMs: number;
  /** Half of the servers were ready by then (NaN unless all became ready). */
  medianMs: number;
  allMs: number;
  ready: number;
  failed: number;
  /** First failure, for the notes under the table. */
  error?: string;
}

const enc = encodeURIComponent;

/** Creates the users with one POST /hub/api/users, as an admin would in bulk. */
export async function createUsers(hub: HubEndpoint, names: readonly string[]): Promise<void> {
  const reply = await hubApi(hub, 'POST', '/users', { usernames: names });
  if (reply.status !== 201) throw new Error(`create ${names.length} users on ${hub.name}: HTTP ${reply.status}`);
}

/**
 * Sends every spawn request at once and times each server to ready. Both hubs are configured with a slow_spawn_timeout
 * longer than the budget, so a request is answered 201 exactly when its server answered the readiness check and its
 * route exists: no polling load on the hub while it works. A 202 (still pending) is followed by polling that user.
 */
export async function spawnWave(hub: HubEndpoint, names: readonly string[], budgetMs: number): Promise<SpawnWave> {
  const t0 = performance.now();
  const readyAt: number[] = [];
  const errors: string[] = [];
  await Promise.all(names.map(async (name) => {
    try {
      const res = await fetch(`${hub.url}/hub/api/users/${enc(name)}/server`, {
        method: 'POST',
        headers: { Authorization: `token ${hub.token}` },
        signal: AbortSignal.timeout(budgetMs),
      });
      const text = await res.text();
      if (res.status === 202) await pollReady(hub, name, t0 + budgetMs);
      else if (res.status !== 201) throw new Error(`HTTP ${res.status} ${text.slice(0, 200)}`);
      readyAt.push(performance.now() - t0);
    } catch (err) {
      errors.push(`${name}: ${(err as Error).message}`);
    }
  }));
  readyAt.sort((a, b) => a - b);
  return {
    firstMs: readyAt[0] ?? NaN,
    medianMs: readyAt.length === names.length ? readyAt[(readyAt.length - 1) >> 1]! : NaN,
    allMs: errors.length === 0 ? readyAt[readyAt.length - 1] ?? NaN : NaN,
    ready: readyAt.length,
    failed: errors.length,
    error: errors[0],
  };
}

async function pollReady(hub: HubEndpoint, name: string, deadline: number): Promise<void> {
  while (performance.now() < deadline) {
    const reply = await hubApi(hub, 'GET', `/users/${enc(name)}`);
    const servers = (reply.body as { servers?: Record<string, { ready?: boolean }> } | null)?.servers ?? {};
    if (servers['']?.ready) return;
    if (servers[''] === undefined) throw new Error('server vanished while pending (spawn failed?)');
    await sleep(100);
  }
  throw new Error('not ready within the budget');
}

/** Stops every server of these users and waits until the hub lists no active user; returns the milliseconds. */
export async function stopWave(hub: HubEndpoint, names: readonly string[], budgetMs = 60_000): Promise<number> {
  const t0 = performance.now();
  await Promise.all(names.map((name) => hubApi(hub, 'DELETE', `/users/${enc(name)}/server`)));
  for (;;) {
    const reply = await hubApi(hub, 'GET', '/users?state=active&limit=200');
    if (Array.isArray(reply.body) && reply.body.length === 0) return performance.now() - t0;
    if (performance.now() - t0 > budgetMs) throw new Error(`${hub.name}: servers still active after ${budgetMs} ms`);
    await sleep(200);
  }
}

export interface LoginRate {
  perSecond: number;
  logins: number;
  /** Median milliseconds of one login request. */
  medianMs: number;
  failed: number;
  error?: string;
}

export type LoginKind = 'form' | 'tmplogin';

/**
 * `workers` clients log in back to back for `windowMs`. 'form' posts a new user name to /hub/login (any name, any
 * password: DummyAuthenticator); 'tmplogin' GETs /hub/tmplogin without a cookie, which mints a new user each time.
 * A login counts when it answers the 302 that carries the login cookie; redirects are not followed, so nothing spawns.
 */
export async function loginRate(hub: HubEndpoint, kind: LoginKind, windowMs: number, workers = 8): Promise<LoginRate> {
  const times: number[] = [];
  const errors: string[] = [];
  const t0 = performance.now();
  let seq = 0;
  const worker = async () => {
    // Each worker is one browser: it opens the login form once for its _xsrf field and cookie (nodehub checks them;
    // a hub without them ignores both), and every POST carries them back.
    let xsrf = '';
    let cookie = '';
    if (kind === 'form') {
      const page = await fetch(`${hub.url}/hub/login`, { signal: AbortSignal.timeout(10_000) });
      xsrf = /name="_xsrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
      cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).filter((c) => c.startsWith('_xsrf=')).join('; ');
    }
    while (performance.now() - t0 < windowMs && errors.length < 20) {
      const name = `login${seq++}x${process.pid}`;
      const t = performance.now();
      try {
        const res = kind === 'form'
          ? await fetch(`${hub.url}/hub/login`, {
            method: 'POST',
            redirect: 'manual',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(cookie ? { Cookie: cookie } : {}) },
            body: `username=${enc(name)}&password=bench${xsrf ? `&_xsrf=${enc(xsrf)}` : ''}`,
            signal: AbortSignal.timeout(10_000),
          })
          : await fetch(`${hub.url}/hub/tmplogin`, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        if (res.status !== 302 || !res.headers.get('set-cookie')) throw new Error(`HTTP ${res.status} without a login cookie`);
        times.push(performance.now() - t);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  const elapsed = performance.now() - t0;
  times.sort((a, b) => a - b);
  return {
    perSecond: (times.length / elapsed) * 1000,
    logins: times.length,
    medianMs: times.length ? times[times.length >> 1]! : NaN,
    failed: errors.length,
    error: errors[0],
  };
}
