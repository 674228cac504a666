// The spawner's supervised informer (src/spawner/kubernetes/reflector.ts) against the simulator, through the real
// @kubernetes/client-node: paged lists, selectors, and every way spec 6.10 says client-node's own informer stops or
// spins (stream end, stall, HTTP 500, 410 as event and as status, compaction, a list that fails, stop()).
// Appendix A cases 8, 10, 11, 12.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Simulator } from './k8s-sim/index.ts';
import { SLEEPER } from './k8s-sim/testing.ts';
import { connect, type KubeClient } from '../src/spawner/kubernetes/client.ts';
import { Reflector, type ChangeType } from '../src/spawner/kubernetes/reflector.ts';
import { createLogger, setLogLevel } from '../src/util/log.ts';
import { eventually } from './support/hub.ts';
import { NAMESPACE, startSim } from './support/k8s-hub.ts';

let sim: Simulator;
let dir: string;
let client: KubeClient;
let reflector: Reflector | null = null;
const changes: string[] = [];

beforeEach(async () => {
  setLogLevel('error');
  const s = await startSim();
  sim = s.sim;
  dir = s.dir;
  client = connect({ kubeconfig: s.kubeconfig, namespace: '' });
  changes.length = 0;
});

afterEach(async () => {
  await reflector?.stop();
  reflector = null;
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

function pod(name: string, labels: Record<string, string> = { component: 'singleuser-server' }) {
  return sim.create('pods', NAMESPACE, { metadata: { name, labels }, spec: { containers: [{ name: 'notebook', image: 'sim/sleeper:1', command: SLEEPER }] } });
}

function startReflector(opts: { pageSize?: number; watchTimeoutSeconds?: number; stallMs?: number; labelSelector?: string } = {}): Reflector {
  reflector = new Reflector({
    name: 'pods',
    client,
    path: `/api/v1/namespaces/${NAMESPACE}/pods`,
    list: (p) => client.core.listNamespacedPod({ namespace: NAMESPACE, ...p }),
    labelSelector: opts.labelSelector ?? 'component=singleuser-server',
    watchTimeoutSeconds: opts.watchTimeoutSeconds ?? 30,
    stallMs: opts.stallMs ?? 60_000,
    pageSize: opts.pageSize,
    maxBackoffMs: 400,
    log: createLogger('test'),
  });
  reflector.on('change', (type: ChangeType, obj: { metadata: { name: string } }) => changes.push(`${type} ${obj.metadata.name}`));
  reflector.start();
  return reflector;
}

const names = (r: Reflector) => r.list().map((p) => p.metadata!.name).sort();

describe('supervised informer', () => {
  it('lists in pages, marks itself synced only after the list, and follows label selectors in and out', async () => {
    for (let i = 0; i < 7; i++) pod(`p${i}`);
    pod('other', { component: 'image-puller' });
    const r = startReflector({ pageSize: 3 });
    expect(r.synced).toBe(false);
    await r.waitSynced(5000);
    expect(names(r)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    expect(sim.stats().byVerb.list).toBe(3); // 3 + 3 + 1
    await eventually(() => r.stats().watching);
    // leaving the selector is a DELETED, entering it an ADDED (the simulator's watch cache semantics)
    await patchLabels('p0', { component: 'something-else' });
    await patchLabels('other', { component: 'singleuser-server' });
    await eventually(() => changes.includes('DELETED p0') && changes.includes('ADDED other'), 5000);
    expect(r.get('p0')).toBeUndefined();
    expect(r.get('other')).toBeDefined();
  });

  it('an expired continue token (410 between pages) starts the list over', async () => {
    for (let i = 0; i < 5; i++) pod(`p${i}`);
    let lists = 0;
    sim.faults.fail({ status: 410, verb: 'list', match: () => ++lists === 2, message: 'The provided continue parameter is too old' });
    const r = startReflector({ pageSize: 2 });
    await r.waitSynced(5000);
    expect(names(r)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(r.stats().restarts).toBe(1);
  });

  it('recovers from a stream end, HTTP 500s on the watch, and a 410 (event or status) with a relist that reports deletions', async () => {
    pod('a');
    const r = startReflector();
    await r.waitSynced(5000);
    await eventually(() => sim.stats().openWatches === 1);

    sim.faults.dropWatches(); // clean end: resume from the last resourceVersion, no relist
    pod('b');
    await eventually(() => !!r.get('b'), 5000);
    expect(r.stats().lists).toBe(1);

    // client-node's informer stops for good on a 500; this one backs off and comes back
    sim.faults.fail({ status: 500, watch: true, count: 3 });
    sim.faults.dropWatches();
    pod('c');
    await eventually(() => !!r.get('c'), 5000);
    expect(r.stats().errors).toBeGreaterThanOrEqual(3);

    sim.faults.expireNextWatch(1, 'event');
    sim.faults.expireWatches();
    sim.delete('pods', NAMESPACE, 'a', { gracePeriodSeconds: 0 });
    await eventually(() => !r.get('a') && r.stats().lists >= 2, 5000);
    expect(changes).toContain('DELETED a');

    sim.faults.expireNextWatch(1, 'http');
    sim.faults.dropWatches();
    pod('d');
    await eventually(() => !!r.get('d') && r.stats().lists >= 3, 5000);

    sim.faults.compact(); // every remembered resourceVersion is now too old
    sim.faults.dropWatches();
    pod('e');
    await eventually(() => !!r.get('e'), 5000);
    expect(names(r)).toEqual(['b', 'c', 'd', 'e']);
    expect(sim.stats().maxWatchRequestsPerSecond).toBeLessThan(10);
  });

  it('restarts a stream that went silent (no events, no bookmarks) after stallMs', async () => {
    // A long server-side watch timeout: a stream the server ended by itself just as the stall began would be replaced
    // by a working one without the stall ever being noticed (seen on a loaded machine).
    const r = startReflector({ watchTimeoutSeconds: 30, stallMs: 1500 });
    await r.waitSynced(5000);
    // the stream must be open on the server's side too, or the stall misses it and a working stream replaces it
    await eventually(() => r.stats().watching && sim.faults.openWatches > 0);
    sim.faults.stallWatches(false); // the open stream goes silent; new ones work
    pod('late');
    await eventually(() => !!r.get('late'), 6000);
    expect(r.stats().lastError).toMatch(/no event or bookmark for 2 s/);
  });

  it('with watch_timeout ends, reconnects from where it was, without a reconnect storm', async () => {
    const r = startReflector({ watchTimeoutSeconds: 1, stallMs: 2500 });
    await r.waitSynced(5000);
    await new Promise((res) => setTimeout(res, 2500));
    pod('x');
    await eventually(() => !!r.get('x'), 3000);
    expect(r.stats().lists).toBe(1);
    expect(r.stats().watches).toBeGreaterThanOrEqual(2);
    expect(sim.stats().maxWatchRequestsPerSecond).toBeLessThan(5);
  });

  it('a list the API refuses (RBAC 403) is retried and reported, and stop() really stops', async () => {
    const denied = await startSim();
    try {
      denied.sim.addToken('no-pods', { user: 'system:serviceaccount:jhub:other', rules: [{ apiGroups: [''], resources: ['events'], verbs: ['list'] }] });
      const { writeFileSync } = await import('node:fs');
      writeFileSync(`${denied.dir}/other`, denied.sim.kubeconfigFor('no-pods', NAMESPACE).yaml);
      client = connect({ kubeconfig: `${denied.dir}/other`, namespace: '' });
      const r = startReflector();
      await expect(r.waitSynced(1500)).rejects.toThrow(/pods is forbidden: User "system:serviceaccount:jhub:other" cannot list resource "pods"/);
      await r.stop();
      // stop() does not wait for a list already sent (one that hangs must not hold it up); that one may still land.
      await new Promise((res) => setTimeout(res, 200));
      const after = denied.sim.stats().requests;
      // A loop still running would retry within its 400 ms back-off (jittered), so 700 ms of silence means stopped.
      await new Promise((res) => setTimeout(res, 700));
      expect(denied.sim.stats().requests).toBe(after);
      expect(denied.sim.stats().openWatches).toBe(0);
    } finally {
      await denied.sim.close();
      rmSync(denied.dir, { recursive: true, force: true });
    }
  });
});

async function patchLabels(name: string, labels: Record<string, string>): Promise<void> {
  const res = await fetch(`${sim.url}/api/v1/namespaces/${NAMESPACE}/pods/${name}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ metadata: { labels } }),
  });
  expect(res.status).toBe(200);
}
