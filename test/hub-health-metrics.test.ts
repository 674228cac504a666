// /hub/health and /hub/api/health (public, database-free, spec 8) and /hub/metrics (read:metrics, Prometheus text with
// counts that follow real spawns and stops), on a real hub with the mock single-user server. Also: the pages JupyterHub
// serves under /hub/api (metrics, OAuth authorize) answer errors with HTML pages, not API JSON.
import { formSession } from './support/raw-http.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startTestHub, type TestHub } from './support/hub.ts';
import { recordPgSql, recordSql } from './support/sql-recorder.ts';
import { hubDbUrl, loseHubDatabase, testOnPostgres } from './support/postgres.ts';
import pg from 'pg';

// Installed before the hub opens its store, so every statement the hub runs is seen.
const onPg = testOnPostgres();
const sql = onPg ? recordPgSql() : recordSql();
let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({
    JupyterHub: {
      load_roles: [{ name: 'prometheus', scopes: ['read:metrics'], users: ['prom'] }],
    },
  });
});
afterAll(async () => {
  await hub?.close();
  sql.restore();
});

const dbFile = () => join(hub.dir, 'nodehub.sqlite');
// The signal only keeps a broken hub from hanging the test.
const health = (path: string, init: RequestInit = {}) => fetch(`${hub.url}${path}`, { ...init, signal: AbortSignal.timeout(30_000) });

async function expectHealthy(): Promise<void> {
  for (const path of ['hub/health', 'hub/api/health']) {
    for (const method of ['GET', 'HEAD']) {
      const r = await health(path, { method });
      expect(r.status, `${method} ${path}`).toBe(200);
      expect(await r.text()).toBe('');
    }
  }
}

async function tokenFor(user: string): Promise<string> {
  const r = await hub.api(`/users/${user}/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(r.status).toBe(201);
  return (await r.json()).token;
}

/** The value of one series (exact name and labels as Prometheus text prints them). */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(token = hub.adminToken): Promise<string> {
  const r = await fetch(`${hub.url}hub/metrics`, { headers: { authorization: `token ${token}` } });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return r.text();
}

describe('metrics', () => {
  it('need read:metrics: 403 without it, 200 with a token whose role grants only that', async () => {
    for (const path of ['hub/metrics', 'hub/api/metrics']) {
      const anon = await fetch(`${hub.url}${path}`);
      expect(anon.status).toBe(403);
      expect(anon.headers.get('content-type')).toMatch(/^text\/html/);
    }
    expect((await hub.api('/users/nometrics', { method: 'POST' })).status).toBe(201);
    const plain = await tokenFor('nometrics');
    expect((await fetch(`${hub.url}hub/metrics`, { headers: { authorization: `token ${plain}` } })).status).toBe(403);
    const prom = await tokenFor('prom');
    expect(await scrape(prom)).toMatch(/^jupyterhub_total_users \d+$/m);
    expect((await hub.api('/users', { token: prom })).status).toBe(403);
  });

  it('count users, running servers and spawns as they happen', async () => {
    const users = (await (await hub.api('/users')).json()) as unknown[];
    let body = await scrape();
    expect(sample(body, 'jupyterhub_total_users')).toBe(users.length);
    expect(sample(body, 'jupyterhub_running_servers')).toBe(0);
    expect(sample(body, 'jupyterhub_server_spawn_duration_seconds_count{status="success"}')).toBe(0);

    for (const name of ['m1', 'm2']) {
      expect((await hub.api(`/users/${name}`, { method: 'POST' })).status).toBe(201);
      expect((await hub.api(`/users/${name}/server`, { method: 'POST' })).status).toBe(201);
    }
    body = await scrape();
    expect(sample(body, 'jupyterhub_total_users')).toBe(users.length + 2);
    expect(sample(body, 'jupyterhub_running_servers')).toBe(2);
    expect(sample(body, 'jupyterhub_server_spawn_duration_seconds_count{status="success"}')).toBe(2);
    expect(sample(body, 'jupyterhub_server_spawn_duration_seconds_bucket{le="+Inf",status="success"}')).toBe(2);
    // The mock starts in well under the smallest bucket.
    expect(sample(body, 'jupyterhub_server_spawn_duration_seconds_bucket{le="2.5",status="success"}')).toBe(2);
    expect(sample(body, 'jupyterhub_server_spawn_duration_seconds_count{status="failure"}')).toBe(0);

    // A second start of a running server is refused and not counted as a spawn.
    expect((await hub.api('/users/m1/server', { method: 'POST' })).status).toBe(400);
    expect((await hub.api('/users/m1/server', { method: 'DELETE' })).status).toBe(204);
    body = await scrape();
    expect(sample(body, 'jupyterhub_running_servers')).toBe(1);
    expect(sample(body, 'jupyterhub_server_stop_seconds_count{status="success"}')).toBe(1);
    expect(sample(body, 'jupyterhub_server_spawn_duration_seconds_count{status="success"}')).toBe(2);
    expect((await hub.api('/users/m2/server', { method: 'DELETE' })).status).toBe(204);
    expect(sample(await scrape(), 'jupyterhub_running_servers')).toBe(0);
  });
});

describe('pages under /hub/api', () => {
  it('show errors as HTML pages, as JupyterHub does', async () => {
    const form = await formSession(hub.origin, `${new URL(hub.url).pathname}hub/login`);
    const login = await fetch(`${hub.url}hub/login`, {
      method: 'POST', redirect: 'manual', headers: { cookie: form.cookie },
      body: new URLSearchParams({ username: 'browser', password: 'x', _xsrf: form.xsrf }),
    });
    expect(login.status).toBe(302);
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const r = await fetch(`${hub.url}hub/api/oauth2/authorize?client_id=no-such-client&response_type=code`, { headers: { cookie } });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await r.text()).toContain('Invalid OAuth client');
    // The real API next door still answers JSON.
    const api = await fetch(`${hub.url}hub/api/users`);
    expect(api.status).toBe(403);
    expect(api.headers.get('content-type')).toMatch(/^application\/json/);
  });
});

describe('health', () => {
  it('answers 200 with an empty text/html body and needs no credentials', async () => {
    await expectHealthy();
    const r = await health('hub/health');
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.headers.get('x-jupyterhub-version')).toBe('5.4.6');
    // A bad credential is not looked at either.
    expect((await health('hub/api/health', { headers: { authorization: 'token not-a-token' } })).status).toBe(200);
  });

  it('stays 200 while another process holds the database write lock', async () => {
    if (onPg) {
      // the tables a request's look-ups read, locked against reads too by another session
      const other = new pg.Client(hubDbUrl(hub.dir));
      await other.connect();
      try {
        await other.query('BEGIN');
        await other.query('LOCK TABLE users, servers, api_tokens, oauth_clients IN ACCESS EXCLUSIVE MODE');
        sql.take();
        await expectHealthy();
        expect(sql.take()).toEqual([]);
      } finally {
        await other.query('ROLLBACK');
        await other.end();
      }
      return;
    }
    const other = new Database(dbFile(), { timeout: 0 });
    try {
      other.exec('BEGIN EXCLUSIVE');
      // The lock is real: a second writer gives up at once.
      const third = new Database(dbFile(), { timeout: 0 });
      try {
        expect(() => third.exec('BEGIN IMMEDIATE')).toThrow(/locked|busy/i);
      } finally {
        third.close();
      }
      sql.take();
      await expectHealthy();
      // No statement ran for them, so none waited on the lock (sqlite's 5 s busy wait).
      expect(sql.take()).toEqual([]);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });

  it('stays 200 when every use of the store fails', async () => {
    const hubState = hub.running.hub;
    const store = hubState.store;
    hubState.store = new Proxy(store, {
      get() {
        throw new Error('the store was touched');
      },
    });
    try {
      await expectHealthy();
      // The poisoned store does break everything that needs the database.
      expect((await hub.api('/users')).status).toBe(500);
    } finally {
      hubState.store = store;
    }
    expect((await hub.api('/users')).status).toBe(200);
  });

  it('stays 200 after the database is lost (its file deleted, or its PostgreSQL database dropped)', async () => {
    await loseHubDatabase(hub.dir);
    if (!onPg) expect(existsSync(dbFile())).toBe(false);
    await expectHealthy();
  });
});
