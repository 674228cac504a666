// PostgreSQL restarting under a running hub (an upgrade, a failover), on a PostgreSQL of the test's own so that it
// can be stopped: API calls made meanwhile either succeed (retried on a fresh connection) or get 503 JSON with
// Retry-After, never a 500; a page gets a 503 page; the readiness probe is 503 while the database is away; every
// token the API said it made is there afterwards; and the hub works again once PostgreSQL is back, without a restart.
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { startPostgres, type PgServer } from './support/postgres.ts';
import { eventually, startTestHub, type TestHub } from './support/hub.ts';
import { formSession } from './support/raw-http.ts';
import { openStore } from '../src/store/index.ts';

let server: PgServer;
let hub: TestHub;

beforeAll(async () => {
  server = startPostgres();
  const admin = new pg.Client({ host: server.dir, user: 'nodehub', database: 'postgres' });
  await admin.connect();
  await admin.query('CREATE DATABASE hub');
  await admin.end();
  hub = await startTestHub({ JupyterHub: { db_url: `postgresql://nodehub@/hub?host=${encodeURIComponent(server.dir)}` } });
});

afterAll(async () => {
  await hub?.close();
  server?.stop();
});

interface Call { what: string; status: number; body: string; retryAfter: string | null }

/** API calls one after another until stopped: reads, and writes whose result is checked afterwards. */
function client() {
  const calls: Call[] = [];
  const made: string[] = [];
  let running = true;
  const done = (async () => {
    for (let i = 0; running; i++) {
      const note = `call-${i}`;
      const [what, r] = i % 3 === 0
        ? ['POST token', await hub.api('/users/alice/tokens', { method: 'POST', body: JSON.stringify({ note }) })] as const
        : i % 3 === 1 ? ['GET users', await hub.api('/users')] as const : ['GET alice', await hub.api('/users/alice')] as const;
      const call = { what, status: r.status, body: await r.text(), retryAfter: r.headers.get('retry-after') };
      calls.push(call);
      if (what === 'POST token' && r.status === 201) made.push(note);
    }
  })();
  return {
    calls,
    made,
    since: (n: number) => calls.slice(n),
    async stop() {
      running = false;
      await done;
    },
  };
}

const ready = async () => (await fetch(`${hub.url}hub/health?ready`)).status;

it('API calls across a PostgreSQL restart succeed or get 503, never 500; the hub works again once it is back', async () => {
  expect((await hub.api('/users/alice', { method: 'POST' })).status).toBe(201);
  // a browser session, for the page a browser gets while the database is away
  const { cookie, xsrf } = await formSession(hub.origin, '/hub/login');
  const login = await fetch(`${hub.url}hub/login`, {
    method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'alice', password: 'pw', _xsrf: xsrf }),
  });
  expect(login.status).toBe(302);
  const session = [cookie, ...login.headers.getSetCookie().map((c) => c.split(';')[0])].join('; ');

  const c = client();
  await eventually(() => c.calls.length >= 6);

  // a quick restart: the sessions end (57P01), the calls in flight are run again on fresh connections
  let mark = c.calls.length;
  await server.halt();
  await server.resume();
  await eventually(() => c.since(mark).filter((x) => x.status === 200).length >= 3);

  // PostgreSQL stays away: the calls run out of retries and get 503 with Retry-After; the probe says not ready
  await server.halt();
  mark = c.calls.length;
  await eventually(() => c.since(mark).some((x) => x.status === 503), 30_000);
  const down = c.since(mark).find((x) => x.status === 503)!;
  expect(JSON.parse(down.body)).toEqual({ status: 503, message: 'database unavailable' });
  expect(Number(down.retryAfter)).toBeGreaterThan(0);
  expect(await ready()).toBe(503);
  const page = await fetch(`${hub.url}hub/home`, { headers: { cookie: session, accept: 'text/html' } });
  expect(page.status).toBe(503);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  expect(await page.text()).toContain('database unavailable');

  // back: the same hub serves again
  await server.resume();
  mark = c.calls.length;
  await eventually(() => c.since(mark).filter((x) => x.status === 200 || x.status === 201).length >= 6, 30_000);
  await c.stop();
  expect(await ready()).toBe(200);
  expect((await fetch(`${hub.url}hub/home`, { headers: { cookie: session } })).status).toBe(200);

  const unexpected = c.calls.filter((x) => ![200, 201, 503].includes(x.status));
  expect(unexpected).toEqual([]);
  expect(c.calls.filter((x) => x.status === 503).every((x) => x.retryAfter !== null)).toBe(true);
  // every token the API answered 201 for was written
  const tokens = (await (await hub.api('/users/alice/tokens')).json()) as { api_tokens: { note: string }[] };
  const notes = new Set(tokens.api_tokens.map((t) => t.note));
  expect(c.made.filter((n) => !notes.has(n))).toEqual([]);
});

it('a transaction whose session is ended midway runs again whole, once; a read on an ended connection is retried', async () => {
  const admin = new pg.Client({ host: server.dir, user: 'nodehub', database: 'postgres' });
  await admin.connect();
  await admin.query('CREATE DATABASE retry');
  const store = await openStore(`postgresql://nodehub@/retry?host=${encodeURIComponent(server.dir)}`);
  // as PostgreSQL's shutdown does to every session: FATAL 57P01
  const endSessions = () => admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'retry'");
  try {
    let runs = 0;
    await store.tx(async (s) => {
      runs++;
      await s.users.create('erin');
      if (runs === 1) await endSessions();
      await s.users.create('frank');
    });
    expect(runs).toBe(2);
    expect((await store.users.page({ offset: 0, limit: 10 })).items.map((u) => u.name).sort()).toEqual(['erin', 'frank']);
    await endSessions();
    expect((await store.users.get('erin'))?.name).toBe('erin');
  } finally {
    await store.close();
    await admin.end();
  }
});
