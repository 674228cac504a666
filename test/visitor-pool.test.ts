// The warm pool (Spawner.pool_size): new tmp visitors are handed servers that were ready before they came, the pool
// refills in the background within the limits, never hands a server out twice, replaces servers past pool_max_age,
// and leaves no process or pool user behind at shutdown.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/index.ts';
import { hubDbUrl } from './support/postgres.ts';
import { eventually, MOCK_SINGLEUSER, startTestHub, type TestHub } from './support/hub.ts';
import { sleep, userOf, Visitor } from './support/scripted-visitor.ts';

let hub: TestHub | null = null;
afterEach(async () => {
  await hub?.close();
  hub = null;
});

function poolHub(spawner: Record<string, unknown>, extra: Record<string, Record<string, unknown>> = {}, opts = {}) {
  return startTestHub({ JupyterHub: { authenticator_class: 'tmp', ...extra.JupyterHub }, Spawner: spawner }, opts);
}

const pool = (h: TestHub) => h.running.hub.pool!;
const readyPool = (h: TestHub, n: number, profile = '') => eventually(() => pool(h).readyCounts()[profile] === n, 20_000);
const pidOf = (h: TestHub, user: string) => h.running.hub.servers.get(user, '')?.spawner?.getState().pid as number | undefined;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function metric(h: TestHub, series: string): Promise<number | undefined> {
  const body = await (await h.api('/metrics')).text();
  const line = body.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('warm pool', () => {
  it('hands a new visitor a server that was ready before the visit, then refills', async () => {
    hub = await poolHub({ pool_size: 2 });
    await readyPool(hub, 2);
    const waiting = pool(hub).users();
    expect(waiting).toHaveLength(2);
    const startedBefore = new Map(waiting.map((u) => [u, hub!.running.hub.servers.get(u, '')!]));
    for (const a of startedBefore.values()) expect(a.phase).toBe('ready');

    const visitStart = Date.now();
    const page = await new Visitor(hub.origin).go('/hub/');
    const user = userOf(page.url)!;
    expect(page.status).toBe(200);
    expect(page.url).toBe(`/user/${user}/tree/`);
    expect(waiting).toContain(user);
    // No spawn happened for this visit: no pending page, and the server is the very one that was waiting.
    expect(page.hops.some((h) => h.url.includes('spawn-pending'))).toBe(false);
    const active = hub.running.hub.servers.get(user, '')!;
    expect(active).toBe(startedBefore.get(user));
    expect(active.started).toBeLessThan(visitStart);
    expect(active.pooled).toBe(false);

    // Refilled to 2 with fresh users; the visitor's server is theirs now, not the pool's.
    await readyPool(hub, 2);
    expect(pool(hub).users()).not.toContain(user);
    expect(pool(hub).isPooled(user)).toBe(false);
    expect(await metric(hub, 'nodehub_pool_hits_total{profile=""}')).toBe(1);
    expect(await metric(hub, 'nodehub_pool_size{profile=""}')).toBe(2);
  });

  it('never hands the same server to two visitors arriving together', async () => {
    hub = await poolHub({ pool_size: 2 });
    await readyPool(hub, 2);
    const waiting = pool(hub).users();
    const pages = await Promise.all(Array.from({ length: 6 }, () => new Visitor(hub!.origin).arrive('/hub/')));
    const users = pages.map((p) => userOf(p.url));
    for (const p of pages) expect(p.status, p.hops.map((h) => `${h.status} ${h.url}`).join(' -> ')).toBe(200);
    expect(new Set(users).size).toBe(6);
    const fromPool = users.filter((u) => waiting.includes(u!));
    expect(fromPool).toHaveLength(2);
    expect(await metric(hub, 'nodehub_pool_hits_total{profile=""}')).toBe(2);
    expect(await metric(hub, 'nodehub_pool_misses_total{profile=""}')).toBe(4);
    for (const u of users) expect(pool(hub).isPooled(u!)).toBe(false);
  });

  it('matches the profile asked for, and pools only the default profile unless a profile sets its own pool_size', async () => {
    const profiles = [
      { display_name: 'Small', slug: 'small', default: true, kubespawner_override: { environment: { PROFILE: 'small' } } },
      { display_name: 'Big', slug: 'big', pool_size: 1, kubespawner_override: { environment: { PROFILE: 'big' } } },
      { display_name: 'Other', slug: 'other', kubespawner_override: {} },
    ];
    hub = await poolHub({ pool_size: 1, profile_list: profiles });
    await readyPool(hub, 1, 'small');
    await readyPool(hub, 1, 'big');
    expect(pool(hub).readyCounts()).toEqual({ small: 1, big: 1 });
    const store = hub.running.hub.store;
    const profileOf = async (u: string) => ((await store.servers.get((await store.users.get(u))!.id, ''))!.user_options as { profile?: string[] }).profile?.[0];
    let bigUser: string | undefined;
    for (const u of pool(hub).users()) if ((await profileOf(u)) === 'big') bigUser = u;
    expect(bigUser).toBeTruthy();

    const v = new Visitor(hub.origin);
    const page = await v.go(`/hub/tmplogin?next=${encodeURIComponent('/hub/spawn?profile=big')}`);
    expect(page.status).toBe(200);
    const user = userOf(page.url)!;
    expect(user).toBe(bigUser);
    expect(JSON.parse((await v.go(`/user/${user}/env`)).body).PROFILE).toBe('big');
    expect(await metric(hub, 'nodehub_pool_hits_total{profile="big"}')).toBe(1);
  });

  it('refills only while all servers stay under active_server_limit', async () => {
    hub = await poolHub({ pool_size: 2 }, { JupyterHub: { active_server_limit: 3 } });
    await readyPool(hub, 2);
    const a = await new Visitor(hub.origin).go('/hub/');
    expect(a.status).toBe(200);
    await readyPool(hub, 2); // 1 visitor + 2 pooled = 3: allowed
    const b = await new Visitor(hub.origin).go('/hub/');
    expect(b.status).toBe(200);
    // 2 visitors + 1 pooled = the limit: a refill would take the last slot from visitors.
    await sleep(600);
    expect(pool(hub).users()).toHaveLength(1);
    expect(hub.running.hub.servers.size).toBe(3);
  });

  it('replaces pooled servers older than pool_max_age, deleting their users and stopping their processes', async () => {
    hub = await poolHub({ pool_size: 2, pool_max_age: 2 });
    await readyPool(hub, 2);
    const first = pool(hub).users();
    const pids = first.map((u) => pidOf(hub!, u)!);
    for (const pid of pids) expect(alive(pid)).toBe(true);
    await eventually(() => pool(hub!).users().every((u) => !first.includes(u)) && pool(hub!).readyCounts()[''] === 2, 20_000);
    await eventually(() => pids.every((pid) => !alive(pid)), 10_000);
    for (const u of first) expect(await hub.running.hub.store.users.get(u)).toBeUndefined();
  });

  it('shutdown stops every pooled server and deletes the pool users, keeping visitors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nodehub-pool-'));
    try {
      hub = await poolHub({ pool_size: 2 }, {}, { dir });
      await readyPool(hub, 2);
      const page = await new Visitor(hub.origin).go('/hub/');
      const visitor = userOf(page.url)!;
      await readyPool(hub, 2);
      const users = [...pool(hub).users(), visitor];
      const pids = users.map((u) => pidOf(hub!, u)).filter((p): p is number => typeof p === 'number');
      expect(pids.length).toBe(3);
      const pooledUsers = pool(hub).users();
      await hub.close();
      hub = null;
      for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
      const store = await openStore(hubDbUrl(dir));
      const names = (await store.users.page({ offset: 0, limit: 100 })).items.map((u) => u.name);
      await store.close();
      expect(names).toContain(visitor);
      for (const u of pooledUsers) expect(names).not.toContain(u);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a pool spawn that is still starting at shutdown is stopped too', async () => {
    hub = await poolHub({ pool_size: 2, cmd: [process.execPath, MOCK_SINGLEUSER], environment: { MOCK_DELAY_MS: '3000' } });
    await eventually(() => pool(hub!).users().every((u) => pidOf(hub!, u) !== undefined) && pool(hub!).users().length === 2);
    const pids = pool(hub).users().map((u) => pidOf(hub!, u)!);
    expect(pool(hub).readyCounts()['']).toBe(0);
    await hub.close();
    hub = null;
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
