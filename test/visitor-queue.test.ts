// The fair queue: at active_server_limit a browser visitor waits on a page showing their place instead of getting a
// 429, and the lifecycle starts the head of the line whenever a slot frees. The REST API keeps JupyterHub's 429.
import { afterEach, describe, expect, it } from 'vitest';
import { SpawnQueue } from '../src/servers/queue.ts';
import { eventually, startTestHub, type TestHub } from './support/hub.ts';
import { sleep, userOf, Visitor, type Visit } from './support/scripted-visitor.ts';

const ref = (name: string, id = 1) => ({ id, name, admin: false });

describe('SpawnQueue', () => {
  it('is first come, first served, and keeps a place for whoever asks again', () => {
    const q = new SpawnQueue();
    q.enqueue(ref('a'), '', undefined);
    q.enqueue(ref('b'), '', { profile: ['big'] });
    q.enqueue(ref('c'), 'named', undefined);
    expect(q.enqueue(ref('a'), '', undefined).user.name).toBe('a');
    expect(q.place('a', '')).toEqual({ position: 1, total: 3 });
    expect(q.place('c', 'named')).toEqual({ position: 3, total: 3 });
    expect(q.place('c', '')).toBeNull();
    expect(q.peek()!.user.name).toBe('a');
    q.remove('a', '');
    expect(q.peek()!.options).toEqual({ profile: ['big'] });
    expect(q.place('c', 'named')).toEqual({ position: 2, total: 2 });
  });

  it('drops a place whose page stopped asking', () => {
    let now = 0;
    const q = new SpawnQueue({ idleMs: 60_000, now: () => now });
    q.enqueue(ref('gone'), '', undefined);
    q.enqueue(ref('here'), '', undefined);
    now = 50_000;
    expect(q.place('here', '')).toEqual({ position: 2, total: 2 });
    now = 61_000;
    expect(q.length).toBe(1);
    expect(q.has('gone', '')).toBe(false);
    expect(q.place('here', '')).toEqual({ position: 1, total: 1 });
  });
});

let hub: TestHub | null = null;
afterEach(async () => {
  await hub?.close();
  hub = null;
});

function limitedHub(limit: number, delayMs: number) {
  return startTestHub({
    JupyterHub: { authenticator_class: 'tmp', active_server_limit: limit },
    Spawner: { environment: { MOCK_DELAY_MS: String(delayMs) } },
  });
}

/** Follows a visitor through queue and spawn-pending pages (reloading them as the pages do) until a final page. */
async function untilServer(v: Visitor, first: Visit, seen: Visit[]): Promise<Visit> {
  let page = first;
  seen.push(page);
  while (page.status === 200 && /^\/hub\/(queue|spawn-pending)\//.test(page.url)) {
    await sleep(100);
    page = await v.go(page.url);
    seen.push(page);
  }
  return page;
}

describe('spawn queue', () => {
  it('lines visitors up at the limit and moves the line when a server stops; the API still answers 429', async () => {
    hub = await limitedHub(1, 0);
    const a = new Visitor(hub.origin);
    // a slow start (a loaded machine) lands on the pending page first: follow it as the page's script does
    const pa = await untilServer(a, await a.go('/hub/'), []);
    const ua = userOf(pa.url)!;
    expect(pa.status).toBe(200);

    const b = new Visitor(hub.origin);
    const pb = await b.go('/hub/');
    expect(pb.status).toBe(200);
    expect(pb.url).toMatch(/^\/hub\/queue\/[0-9a-f-]{36}\?next=/);
    expect(pb.body).toContain('number 1');
    const ub = decodeURIComponent(pb.url.split('/')[3].split('?')[0]);
    const c = new Visitor(hub.origin);
    const pc = await c.go('/hub/');
    expect(pc.body).toContain('number 2 of 2');
    expect(hub.running.hub.servers.queue.length).toBe(2);
    expect((await (await hub.api('/metrics')).text())).toMatch(/^nodehub_spawn_queue_length 2$/m);

    // An API client is not queued: JupyterHub's 429 with Retry-After.
    const created = await hub.api('/users/scripted', { method: 'POST' });
    expect(created.status).toBe(201);
    const refused = await hub.api('/users/scripted/server', { method: 'POST' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect(hub.running.hub.servers.queue.length).toBe(2);

    // A visitor in line who opens their server URL is sent back to their place.
    const own = await b.go(`/user/${ub}/tree/`);
    expect(own.url).toMatch(/^\/hub\/queue\//);

    expect((await hub.api(`/users/${ua}/server`, { method: 'DELETE' })).status).toBe(204);
    // the hub begins the head's spawn itself the moment the place frees, before b's page asks again
    await eventually(() => hub!.running.hub.servers.get(ub, ''));
    const reached = await untilServer(b, await b.go(pb.url), []);
    expect(reached.status).toBe(200);
    expect(userOf(reached.url)).toBe(ub);
    // c moved up to the head of the line.
    expect((await c.go(pc.url)).body).toContain('number 1 of 1');
  });

  it('50 visitors at once with active_server_limit 10: every one reaches a working server, none sees an error', { timeout: 120_000 }, async () => {
    hub = await limitedHub(10, 150);
    const limit = 10;
    let maxActive = 0;
    const sampler = setInterval(() => (maxActive = Math.max(maxActive, hub!.running.hub.servers.size)), 5);
    const results = await Promise.all(Array.from({ length: 50 }, async () => {
      const v = new Visitor(hub!.origin);
      const seen: Visit[] = [];
      const page = await untilServer(v, await v.go('/hub/'), seen);
      const user = userOf(page.url);
      // The server really answers, through the hub's proxy.
      const env = user ? JSON.parse((await v.go(`/user/${user}/env`)).body) : null;
      if (user) expect((await hub!.api(`/users/${user}/server`, { method: 'DELETE' })).status).toBe(204);
      return { page, seen, user, env };
    })).finally(() => clearInterval(sampler));

    const users = new Set(results.map((r) => r.user));
    expect(users.size).toBe(50);
    for (const r of results) {
      const hops = r.seen.flatMap((p) => p.hops);
      expect(hops.filter((h) => h.status >= 400), hops.map((h) => `${h.status} ${h.url}`).join('\n')).toEqual([]);
      expect(r.page.status).toBe(200);
      expect(r.page.url).toBe(`/user/${r.user}/tree/`);
      expect(r.env.JUPYTERHUB_USER).toBe(r.user);
    }
    const queued = results.filter((r) => r.seen.some((p) => p.hops.some((h) => h.url.startsWith('/hub/queue/'))));
    expect(queued.length).toBeGreaterThanOrEqual(50 - limit);
    for (const r of queued) {
      const queuePages = r.seen.filter((p) => p.url.startsWith('/hub/queue/'));
      expect(queuePages.length).toBeGreaterThan(0);
      expect(queuePages[0].body).toMatch(/You are number \d+ of \d+ people waiting/);
    }
    expect(maxActive).toBe(limit);
    await eventually(() => hub!.running.hub.servers.size === 0);
    expect(hub.running.hub.servers.queue.length).toBe(0);
  });
});
