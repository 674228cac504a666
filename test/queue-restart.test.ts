// A hub SIGKILLed while visitors wait: the restarted hub keeps everyone's place in the spawn queue, in arrival order
// (the places are in the database), and starts again the spawn the dead hub had under way, ahead of the line.
import { afterAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SpawnQueue } from '../src/servers/queue.ts';
import { openStore } from '../src/store/index.ts';
import { hubDbUrl } from './support/postgres.ts';
import { eventually, testConfig } from './support/hub.ts';
import { freePort, startHubProcess, type HubProcess } from './support/hub-process.ts';
import { userOf, Visitor } from './support/scripted-visitor.ts';

const hubs: HubProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const h of hubs) if (h.child.exitCode === null && h.child.signalCode === null) h.child.kill('SIGTERM');
  await Promise.all(hubs.map((h) => h.exited));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

it('a stored line comes back in arrival order, with interrupted spawns ahead of it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodehub-queue-'));
  dirs.push(dir);
  const store = await openStore(hubDbUrl(dir));
  const [a, b, c, d] = (await Promise.all(['a', 'b', 'c', 'd'].map((n) => store.users.create(n)))).map((u) => ({ id: u.id, name: u.name, admin: false }));
  const first = new SpawnQueue({ persist: store.spawnQueue });
  first.enqueue(b!, '', undefined);
  first.enqueue(c!, '', { profile: ['big'] });
  first.enqueue(d!, '', undefined);
  first.remove('d', '');
  await first.flushed();
  const second = new SpawnQueue({ persist: store.spawnQueue });
  expect(await second.restore([{ user: a!, serverName: '', options: { x: 1 } }])).toBe(3);
  expect([second.peek()!.user.name, second.place('b', ''), second.place('c', '')]).toEqual(['a', { position: 2, total: 3 }, { position: 3, total: 3 }]);
  // the rewritten stored line has the same order, options included
  expect((await store.spawnQueue.list()).map((e) => [e.user.name, e.options])).toEqual([['a', { x: 1 }], ['b', undefined], ['c', { profile: ['big'] }]]);
  // a deleted user's place goes with them
  await store.users.delete(b!.id);
  expect((await store.spawnQueue.list()).map((e) => e.user.name)).toEqual(['a', 'c']);
  await store.close();
});

it('a SIGKILLed hub keeps queue order and the pending spawn across the restart', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodehub-queue-'));
  dirs.push(dir);
  const adminToken = randomBytes(16).toString('hex');
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const configFile = join(dir, 'nodehub.json');
  writeFileSync(configFile, JSON.stringify(testConfig(dir, adminToken, {
    JupyterHub: { port, authenticator_class: 'tmp', active_server_limit: 1 },
    // slow enough that the first visitor's spawn is still under way when the hub is killed
    Spawner: { environment: { MOCK_DELAY_MS: '4000' } },
  })));
  const api = (path: string, method = 'GET') => fetch(`${origin}/hub/api${path}`, { method, headers: { authorization: `token ${adminToken}` } });
  const model = async (user: string) => (await (await api(`/users/${user}`)).json()).servers[''] as { ready: boolean; pending: string | null; pid?: number } | undefined;

  let hub = await startHubProcess(configFile, origin);
  hubs.push(hub);
  const a = new Visitor(origin);
  const pa = await a.go('/hub/');
  expect(pa.url).toMatch(/^\/hub\/spawn-pending\//);
  const ua = decodeURIComponent(pa.url.split('/')[3]!.split('?')[0]!);
  const b = new Visitor(origin);
  const pb = await b.go('/hub/');
  expect(pb.body).toContain('number 1 of 1');
  const c = new Visitor(origin);
  const pc = await c.go('/hub/');
  expect(pc.body).toContain('number 2 of 2');
  expect((await model(ua))?.pending).toBe('spawn');

  hub.child.kill('SIGKILL');
  await hub.exited;
  hub = await startHubProcess(configFile, origin);
  hubs.push(hub);

  // The last in line asks first: they must still be behind b, and a's spawn runs again.
  expect((await c.go(pc.url)).body).toContain('number 2 of 2');
  expect((await b.go(pb.url)).body).toContain('number 1 of 2');
  await eventually(async () => (await model(ua))?.ready === true, 30_000);
  const reachedA = await a.go(pa.url);
  expect(userOf(reachedA.url)).toBe(ua);
  expect(reachedA.status).toBe(200);

  // The slot frees: b is served, c still waits.
  expect((await api(`/users/${ua}/server`, 'DELETE')).status).toBe(204);
  const ub = decodeURIComponent(pb.url.split('/')[3]!.split('?')[0]!);
  const uc = decodeURIComponent(pc.url.split('/')[3]!.split('?')[0]!);
  await eventually(async () => (await b.go(pb.url), (await model(ub))?.ready === true), 30_000);
  expect((await c.go(pc.url)).body).toContain('number 1 of 1');
  expect((await model(uc))).toBeUndefined();
  expect((await api(`/users/${ub}/server`, 'DELETE')).status).toBe(204);
  await eventually(async () => (await c.go(pc.url), (await model(uc))?.ready === true), 30_000);
});
