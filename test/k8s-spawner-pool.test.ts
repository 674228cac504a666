// The warm pool and the spawn queue are spawner-agnostic (issue item 8): with `spawner_class: kubernetes` a new tmp
// visitor gets a pod that was running before they came, the pool refills with new pods and is drained (pods deleted)
// at shutdown; at active_server_limit a second visitor waits in the queue and gets a pod once the first one's stops.
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Simulator } from './k8s-sim/index.ts';
import { eventually, type TestHub } from './support/hub.ts';
import { userOf, Visitor, type Visit } from './support/scripted-visitor.ts';
import { NAMESPACE, startK8sHub, startSim } from './support/k8s-hub.ts';

let sim: Simulator | null = null;
let hub: TestHub | null = null;
let dir = '';

afterEach(async () => {
  await hub?.close();
  await sim?.close();
  hub = null;
  sim = null;
  rmSync(dir, { recursive: true, force: true });
});

const serverPods = () => sim!.list('pods', NAMESPACE).filter((p) => p.metadata.labels?.component === 'singleuser-server' && !p.metadata.deletionTimestamp);
const podOfUser = (user: string) => serverPods().find((p) => p.metadata.annotations?.['hub.jupyter.org/username'] === user);

describe('pool and queue with pods', () => {
  it('hands a new visitor a pod that was already running, refills, and deletes pooled pods at shutdown', async () => {
    const s = await startSim();
    sim = s.sim;
    dir = s.dir;
    hub = await startK8sHub(s.kubeconfig, { JupyterHub: { authenticator_class: 'tmp' }, Spawner: { pool_size: 2 } });
    const pool = hub.running.hub.pool!;
    await eventually(() => pool.readyCounts()[''] === 2, 20_000);
    expect(serverPods()).toHaveLength(2);
    const waiting = pool.users();
    const podsBefore = new Map(waiting.map((u) => [u, podOfUser(u)!.metadata.uid]));

    const page = await new Visitor(hub.origin).go('/hub/');
    const user = userOf(page.url)!;
    expect(page.status).toBe(200);
    expect(page.url).toBe(`/user/${user}/tree/`);
    expect(waiting).toContain(user);
    expect(page.hops.some((h) => h.url.includes('spawn-pending'))).toBe(false);
    expect(podOfUser(user)!.metadata.uid).toBe(podsBefore.get(user)); // the very pod that waited

    await eventually(() => pool.readyCounts()[''] === 2, 20_000);
    expect(serverPods()).toHaveLength(3);
    const pooledNow = pool.users();
    await hub.close();
    hub = null;
    // the pooled pods go with their throw-away users; the visitor's too (cleanup_servers)
    for (const u of pooledNow) expect(podOfUser(u)).toBeUndefined();
    await eventually(() => serverPods().length === 0, 10_000);
  });

  it('queues a visitor at active_server_limit and starts their pod when a slot frees', async () => {
    const s = await startSim();
    sim = s.sim;
    dir = s.dir;
    hub = await startK8sHub(s.kubeconfig, { JupyterHub: { authenticator_class: 'tmp', active_server_limit: 1 } });
    const v1 = new Visitor(hub.origin);
    let first: Visit = await v1.go('/hub/');
    // A pod slower than the spawn page's wait (a loaded machine) leaves the visitor on the pending page for a while.
    for (const end = Date.now() + 20_000; /^\/hub\/spawn-pending\//.test(first.url) && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 100));
      first = await v1.go(first.url);
    }
    const firstUser = userOf(first.url)!;
    expect(first.url).toBe(`/user/${firstUser}/tree/`);

    const v2 = new Visitor(hub.origin);
    let page: Visit = await v2.go('/hub/');
    expect(page.url).toMatch(/^\/hub\/queue\//);
    const secondUser = decodeURIComponent(/^\/hub\/queue\/([^/?]+)/.exec(page.url)![1]!);
    expect(podOfUser(secondUser)).toBeUndefined();

    expect((await hub.api(`/users/${firstUser}/server`, { method: 'DELETE' })).status).toBeLessThan(300);
    const end = Date.now() + 20_000;
    while (/^\/hub\/(queue|spawn-pending)\//.test(page.url) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      page = await v2.go(page.url);
    }
    expect(page.url).toBe(`/user/${secondUser}/tree/`);
    expect(podOfUser(secondUser)).toBeDefined();
    expect(podOfUser(firstUser)).toBeUndefined();
  });
});
