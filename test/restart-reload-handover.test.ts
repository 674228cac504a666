// Restarts nobody notices (docs/reload.md): a client holding a kernel websocket that sends a message every 100 ms, and
// a load generator sending HTTP through the hub, see no dropped websocket and no failed request across a SIGHUP reload
// (profile list, event password and pool size changed) and across an upgrade by handover from one nodehub process to a
// second one started with the same config. The hubs are real processes (`node src/cli.ts`) on a real sqlite file; the
// single-user server is the mock, whose kernel channel echoes.
import { afterAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import { eventually, testConfig } from './support/hub.ts';
import { NODE24, ROOT, freePort, killHard, startHubProcess, type HubProcess } from './support/hub-process.ts';

const hubs: HubProcess[] = [];
const serverPids = new Set<number>();
const dir = mkdtempSync(join(tmpdir(), 'nodehub-handover-'));

// As deploy/systemd/90-nodehub.conf sets it: a connection queued in the old listener as it closes moves to the new one
// (it affects only SO_REUSEPORT groups). Without it (not root) such a connection is reset, and the test may see it.
const MIGRATE = '/proc/sys/net/ipv4/tcp_migrate_req';
const migrateBefore = (() => {
  try {
    const was = readFileSync(MIGRATE, 'utf8').trim();
    writeFileSync(MIGRATE, '1');
    return was;
  } catch {
    return null;
  }
})();

afterAll(async () => {
  if (migrateBefore !== null) writeFileSync(MIGRATE, migrateBefore);
  for (const h of hubs) if (h.child.exitCode === null && h.child.signalCode === null) h.child.kill('SIGKILL');
  await Promise.all(hubs.map((h) => h.exited));
  for (const pid of serverPids) killHard(pid);
  rmSync(dir, { recursive: true, force: true });
});

/** A kernel channel through the hub that pings every 100 ms; every ping must come back and the socket stay open. */
function kernelClient(url: string) {
  const ws = new WebSocket(url);
  const state = { sent: 0, echoed: 0, droppedBy: null as string | null, closedByUs: false, missing: [] as number[] };
  let timer: NodeJS.Timeout | undefined;
  const pending = new Set<number>();
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  void opened.then(() => {
    timer = setInterval(() => {
      const n = state.sent++;
      pending.add(n);
      ws.send(JSON.stringify({ n }));
    }, 100);
  }, () => {});
  ws.on('message', (d) => {
    pending.delete((JSON.parse(String(d)) as { n: number }).n);
    state.echoed++;
  });
  ws.on('close', (code) => {
    clearInterval(timer);
    if (!state.closedByUs) state.droppedBy = `closed with ${code}`;
  });
  ws.on('error', (err) => (state.droppedBy = err.message));
  return {
    state,
    opened,
    /** Stops pinging, waits for the last echoes, then closes cleanly. */
    async finish(): Promise<void> {
      clearInterval(timer);
      await eventually(() => pending.size === 0);
      state.closedByUs = true;
      ws.close(1000);
      await new Promise((r) => ws.once('close', r));
    },
  };
}

/** HTTP through the hub from 4 workers: proxied pages and API calls on keep-alive connections, plus some on new ones. */
function loadGenerator(origin: string, token: string) {
  const stats = { ok: 0, failed: [] as string[] };
  let running = true;
  const fresh = (path: string) => new Promise<number>((resolve, reject) => {
    // agent: false, so this one opens a connection of its own (an accept in whichever process holds the port).
    const req = request(`${origin}${path}`, { agent: false, headers: { authorization: `token ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      const path = i % 2 ? '/user/alice/tree/' : '/hub/api/users/alice';
      try {
        const status = i % 5 === w % 5
          ? await fresh(path)
          : (await fetch(`${origin}${path}`, { headers: { authorization: `token ${token}` } }).then(async (r) => (await r.arrayBuffer(), r.status)));
        if (status === 200) stats.ok++;
        else stats.failed.push(`${path}: ${status}`);
      } catch (err) {
        stats.failed.push(`${path}: ${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? '')}`);
      }
    }
  };
  const done = Promise.all([0, 1, 2, 3].map(worker));
  return { stats, stop: async () => { running = false; await done; } };
}

const since = (h: HubProcess, from: number, text: string) => h.output().slice(from).includes(text);

it('a SIGHUP reload and an upgrade by handover drop no websocket and fail no request', async () => {
  const adminToken = randomBytes(16).toString('hex');
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const configFile = join(dir, 'nodehub.json');
  const pwFile = join(dir, 'event-password');
  writeFileSync(pwFile, 'first-password\n');
  const write = (profiles: string[], poolSize: number) => writeFileSync(configFile, JSON.stringify(testConfig(dir, adminToken, {
    JupyterHub: {
      port, pid_file: join(dir, 'nodehub.pid'), authenticator_class: 'tmp', log_level: 'info', reload_on_config_change: false,
    },
    IdleCuller: { enabled: false },
    Spawner: {
      pool_size: poolSize,
      profile_list: profiles.map((slug, i) => ({ slug, display_name: slug, default: i === 0 })),
    },
  })));
  write(['small'], 0);
  const env = { NODEHUB_SHARED_PASSWORD_FILE: pwFile };
  const a = await startHubProcess(configFile, origin, 20_000, env);
  hubs.push(a);
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${origin}/hub/api${path}`, { ...init, headers: { authorization: `token ${adminToken}`, ...init.headers } });
  const passes = async (password: string) => {
    const r = await fetch(`${origin}/hub/home`, {
      redirect: 'manual', headers: { authorization: `Basic ${Buffer.from(`x:${password}`).toString('base64')}` },
    });
    await r.arrayBuffer();
    return r.status !== 401 && r.status !== 403 && r.status !== 429;
  };
  // Pooled servers belong to users the hub made up: anyone with a ready server but alice and bob.
  const pooled = async () => {
    const users = await (await api('/users')).json() as { name: string; servers?: Record<string, { ready: boolean }> }[];
    return users.filter((u) => u.name !== 'alice' && u.name !== 'bob' && u.servers?.['']?.ready).length;
  };

  expect((await api('/users/alice', { method: 'POST' })).status).toBe(201);
  expect((await api('/users/alice/server', { method: 'POST', body: JSON.stringify({ profile: 'small' }) })).status).toBe(201);
  const before = await (await fetch(`${origin}/user/alice/proc`)).json() as { pid: number };
  serverPids.add(before.pid);
  expect((await api('/users/bob', { method: 'POST' })).status).toBe(201);
  expect((await api('/users/bob/server', { method: 'POST', body: JSON.stringify({ profile: 'large' }) })).status).toBe(400);
  expect(await passes('first-password')).toBe(true);

  const wsUrl = `ws://127.0.0.1:${port}/user/alice/api/kernels/k1/channels`;
  const kernel = kernelClient(wsUrl);
  await kernel.opened;
  const load = loadGenerator(origin, adminToken);
  await eventually(() => kernel.state.echoed > 5);

  // 1. Reload in place.
  write(['small', 'large'], 1);
  writeFileSync(pwFile, 'second-password\n');
  let mark = a.output().length;
  a.child.kill('SIGHUP');
  await eventually(() => since(a, mark, 'Config reloaded'));
  expect((await api('/users/bob/server', { method: 'POST', body: JSON.stringify({ profile: 'large' }) })).status).toBe(201);
  serverPids.add((await (await fetch(`${origin}/user/bob/proc`)).json() as { pid: number }).pid);
  expect(await passes('second-password')).toBe(true);
  expect(await passes('first-password')).toBe(false);
  await eventually(async () => (await pooled()) === 1, 20_000);

  // `nodehub reload` asks the running hub and says what happened.
  const cli = spawnSync(NODE24, ['src/cli.ts', 'reload', '-f', configFile], { cwd: ROOT, encoding: 'utf8' });
  expect(cli.stdout + cli.stderr).toContain('Reloaded');
  expect(cli.status).toBe(0);

  // A config that does not load is refused whole, with its key; the running one stays.
  writeFileSync(configFile, JSON.stringify({ JupyterHub: { concurrent_spawn_limit: 'many' } }));
  mark = a.output().length;
  a.child.kill('SIGHUP');
  await eventually(() => since(a, mark, 'Config reload refused'));
  expect(a.output().slice(mark)).toContain('JupyterHub.concurrent_spawn_limit');
  write(['small', 'large'], 1);

  // 2. Upgrade by handover: a second process with the same config takes over; the first drains and exits.
  const echoedBefore = kernel.state.echoed;
  const b = await startHubProcess(configFile, origin, 20_000, env);
  hubs.push(b);
  await eventually(() => b.output().includes('nodehub is running at'), 30_000);
  await eventually(() => a.output().includes('Released the hub'));
  // The old process still relays the websocket it holds.
  await eventually(() => kernel.state.echoed > echoedBefore + 10);
  const okAtHandover = load.stats.ok;
  await eventually(() => load.stats.ok > okAtHandover + 50);
  expect(a.child.exitCode).toBe(null);
  await kernel.finish();
  expect(await a.exited).toBe(0);
  // A new kernel connection lands in the new process, and the server it reaches is the same one.
  const kernel2 = kernelClient(wsUrl);
  await kernel2.opened;
  await eventually(() => kernel2.state.echoed > 5);
  await kernel2.finish();
  await load.stop();

  const after = await (await fetch(`${origin}/user/alice/proc`)).json() as { pid: number };
  expect(after.pid).toBe(before.pid);
  expect(readFileSync(join(dir, 'nodehub.pid'), 'utf8').trim()).toBe(String(b.child.pid));
  expect(kernel.state.droppedBy).toBe(null);
  expect(kernel2.state.droppedBy).toBe(null);
  expect(load.stats.failed).toEqual([]);
  const released = /released the hub in (\d+) ms/.exec(b.output())?.[1];
  const drained = /Drained in (\d+) ms/.exec(a.output())?.[1];
  const releasing = /Released the hub to the successor in (\d+) ms/.exec(a.output())?.[1];
  console.log(`handover: successor waited ${released} ms for the release (old side ${releasing} ms); `
    + `old process drained in ${drained} ms (until the held websocket closed); ${load.stats.ok} requests, `
    + `${kernel.state.echoed} + ${kernel2.state.echoed} websocket echoes`);

  b.child.kill('SIGTERM');
  expect(await b.exited).toBe(0);
}, 120_000);
