// Watch semantics and watch/API faults (spec 6.2, 6.4; Appendix A 8): replay from a resourceVersion, synthetic ADDED,
// 410 for compacted versions (ERROR event and HTTP), timeoutSeconds, bookmarks, drops, stalls, outages.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from './k8s-sim/index.ts';
import { TestClient } from './k8s-sim/testing.ts';

const CM = '/api/v1/namespaces/default/configmaps';
let sim: Simulator;
let k: TestClient;

beforeEach(async () => {
  sim = await createSimulator({ timing: { bookmarkMs: 100 } });
  k = new TestClient(sim.url, sim.token);
});
afterEach(async () => {
  await sim.close();
});

const cm = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels }, data: { v: name } });

describe('watch', () => {
  it('from a list resourceVersion replays only later changes; without one it starts with synthetic ADDED', async () => {
    await k.post(CM, cm('a'));
    const list = await k.get(CM);
    const rv = list.body.metadata.resourceVersion;
    await k.post(CM, cm('b'));
    await k.patch(`${CM}/a`, { data: { v: 'changed' } });
    await k.delete(`${CM}/b`);

    const replay = await k.watch(`${CM}?resourceVersion=${rv}`);
    await replay.next((e) => e.type === 'DELETED');
    expect(replay.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED b', 'MODIFIED a', 'DELETED b']);
    const deleted = replay.events[2].object;
    expect(deleted).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1' });
    expect(Number(deleted.metadata.resourceVersion)).toBe(sim.store.currentRv);
    replay.close();

    const fresh = await k.watch(CM);
    await fresh.next((e) => e.type === 'ADDED');
    expect(fresh.events.map((e) => `${e.type} ${e.object.metadata.name} ${e.object.data.v}`)).toEqual(['ADDED a changed']);
    await k.post(CM, cm('c'));
    await fresh.next((e) => e.object.metadata?.name === 'c');
    fresh.close();
  });

  it('answers a compacted resourceVersion with an ERROR 410 event and ends the stream', async () => {
    await k.post(CM, cm('a'));
    const rv = (await k.get(CM)).body.metadata.resourceVersion;
    await k.post(CM, cm('b'));
    sim.faults.compact();
    const w = await k.watch(`${CM}?resourceVersion=${rv}`);
    expect(w.status).toBe(200);
    await w.ended;
    expect(w.events).toHaveLength(1);
    expect(w.events[0].type).toBe('ERROR');
    expect(w.events[0].object).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 });
    expect(w.events[0].object.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
    // an Exact list of a compacted version is gone too
    const exact = await k.get(`${CM}?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    expect(exact.status).toBe(410);
  });

  it('keeps a bounded history: old versions expire on their own', async () => {
    await sim.close();
    sim = await createSimulator({ historyLimit: 5 });
    k = new TestClient(sim.url, sim.token);
    const rv = sim.store.currentRv;
    for (let i = 0; i < 8; i++) await k.post(CM, cm(`x${i}`));
    const w = await k.watch(`${CM}?resourceVersion=${rv}`);
    await w.ended;
    expect(w.events[0]).toMatchObject({ type: 'ERROR', object: { code: 410 } });
  });

  it('ends the stream cleanly after timeoutSeconds', async () => {
    const t = Date.now();
    const w = await k.watch(`${CM}?timeoutSeconds=1`);
    await w.ended;
    // The stream's own timer: it ended no earlier than asked (and ended at all, or the test times out).
    expect(Date.now() - t).toBeGreaterThanOrEqual(950);
  });

  it('sends BOOKMARKs only when asked, and the initial-events-end bookmark with sendInitialEvents', async () => {
    await k.post(CM, cm('a'));
    const plain = await k.watch(`${CM}?resourceVersion=${sim.store.currentRv}`);
    const marked = await k.watch(`${CM}?resourceVersion=${sim.store.currentRv}&allowWatchBookmarks=true`);
    const bookmark = await marked.next((e) => e.type === 'BOOKMARK', 2000);
    expect(bookmark.object).toEqual({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: String(sim.store.currentRv) } });
    expect(plain.events).toEqual([]);
    plain.close();
    marked.close();

    const initial = await k.watch(`${CM}?sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`);
    const end = await initial.next((e) => e.type === 'BOOKMARK');
    expect(initial.events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'a' } } });
    expect(end.object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    initial.close();
  });
});

describe('watches by field selector', () => {
  it("a watch of one object's name sees that object's changes, entering and leaving, and no other object's", async () => {
    const PODS = '/api/v1/namespaces/default/pods';
    const EVENTS = '/api/v1/namespaces/default/events';
    const pod = (name: string) => ({ metadata: { name }, spec: { nodeName: 'nowhere', containers: [{ name: 'c', image: 'busybox:1' }] } });
    const event = (name: string, about: string) => ({ metadata: { name }, involvedObject: { kind: 'Pod', name: about, namespace: 'default' }, reason: 'Test', message: name });
    const onA = await k.watch(`${EVENTS}?fieldSelector=${encodeURIComponent('involvedObject.kind=Pod,involvedObject.name=a')}`);
    const notA = await k.watch(`${EVENTS}?fieldSelector=${encodeURIComponent('involvedObject.name!=a')}`);
    const podA = await k.watch(`${PODS}?fieldSelector=${encodeURIComponent('metadata.name=a')}`);
    await k.post(PODS, pod('a'));
    await k.post(PODS, pod('b'));
    for (const [n, about] of [['e1', 'a'], ['e2', 'b'], ['e3', 'a']]) await k.post(EVENTS, event(n, about));
    await k.patch(`${EVENTS}/e3`, { involvedObject: { kind: 'Pod', name: 'b', namespace: 'default' } });
    await k.delete(`${PODS}/a`);
    await onA.next((e) => e.type === 'DELETED');
    await podA.next((e) => e.type === 'DELETED');
    await notA.next((e) => e.object.metadata.name === 'e3' && e.type === 'ADDED');
    expect(onA.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED e1', 'ADDED e3', 'DELETED e3']);
    expect(notA.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED e2', 'ADDED e3']);
    expect(podA.events.map((e) => e.type)).toEqual(['ADDED', ...podA.events.slice(1, -1).map(() => 'MODIFIED'), 'DELETED']);
    expect(podA.events.every((e) => e.object.metadata.name === 'a')).toBe(true);
    for (const w of [onA, notA, podA]) w.close();
  });

  it('a write reaches only the listeners of its kind, and of its object when they name one', () => {
    const seen: string[] = [];
    const name = (o: { metadata: { name?: string } }) => o.metadata.name;
    sim.store.subscribe((c) => seen.push(`pods ${name(c.object)}`), { resource: 'pods' });
    sim.store.subscribe((c) => seen.push(`cm x ${name(c.object)}`), { resource: 'configmaps', field: { label: 'metadata.name', value: 'x', read: (o) => name(o) } });
    sim.store.create('configmaps', { metadata: { name: 'x', namespace: 'default' }, data: {} });
    sim.store.create('configmaps', { metadata: { name: 'y', namespace: 'default' }, data: {} });
    expect(seen).toEqual(['cm x x']);
  });
});

describe('a burst of pending pods', () => {
  it('is placed a slice at a time: a watcher sees the first bindings before the last pod is placed', async () => {
    await sim.close();
    sim = await createSimulator({ timing: { scheduleSliceMs: 0 } }); // one pod per turn: a machine of any speed
    k = new TestClient(sim.url, sim.token);
    const n = 100;
    for (let i = 0; i < n; i++) {
      sim.create('pods', 'default', { metadata: { name: `p${i}` }, spec: { nodeSelector: { pool: 'late' }, containers: [{ name: 'c', image: 'pause:1' }] } });
    }
    const w = await k.watch(`/api/v1/namespaces/default/pods?resourceVersion=${sim.store.currentRv}`);
    sim.nodes.label('node-1', { pool: 'late' }); // the node now fits every one of them (a node joining, for the scheduler)
    await w.next((e) => !!e.object.spec?.nodeName, 10_000);
    const placed = sim.list('pods', 'default').filter((p) => p.spec?.nodeName).length;
    expect(placed).toBeGreaterThan(0);
    expect(placed).toBeLessThan(n);
    await eventuallyAll(() => sim.list('pods', 'default').every((p) => p.spec?.nodeName));
    w.close();
  });
});

async function eventuallyAll(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('not within the time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('watch and API faults', () => {
  it('dropWatches ends every stream; a client resuming from its last resourceVersion loses nothing', async () => {
    const w = await k.watch(`${CM}?resourceVersion=${sim.store.currentRv}`);
    await k.post(CM, cm('a'));
    const a = await w.next((e) => e.object.metadata?.name === 'a');
    expect(sim.faults.dropWatches()).toBe(1);
    await w.ended;
    await k.post(CM, cm('b'));
    const resumed = await k.watch(`${CM}?resourceVersion=${a.object.metadata.resourceVersion}`);
    await resumed.next((e) => e.object.metadata?.name === 'b');
    expect(resumed.events.map((e) => e.object.metadata.name)).toEqual(['b']);
    resumed.close();
  });

  it('stallWatches keeps connections open but silent; unstall lets new watches work', async () => {
    const w = await k.watch(`${CM}?resourceVersion=${sim.store.currentRv}&allowWatchBookmarks=true`);
    sim.faults.stallWatches();
    await k.post(CM, cm('a'));
    const fresh = await k.watch(`${CM}?resourceVersion=0`);
    await new Promise((r) => setTimeout(r, 300));
    expect(w.events).toEqual([]);
    expect(fresh.events).toEqual([]);
    expect(sim.stats().openWatches).toBe(2);
    sim.faults.unstallWatches();
    const after = await k.watch(`${CM}?resourceVersion=0`);
    await after.next((e) => e.object.metadata?.name === 'a');
    expect(w.events).toEqual([]);
    [w, fresh, after].forEach((x) => x.close());
  });

  it('expireNextWatch answers 410 as an ERROR event or as HTTP; expireWatches ends open streams with 410', async () => {
    sim.faults.expireNextWatch(1, 'event');
    const a = await k.watch(CM);
    await a.ended;
    expect(a.events).toEqual([{ type: 'ERROR', object: expect.objectContaining({ code: 410, reason: 'Expired' }) }]);

    sim.faults.expireNextWatch(1, 'http');
    const b = await k.watch(CM);
    expect(b.status).toBe(410);
    expect(b.events[0].object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    const c = await k.watch(CM);
    expect(c.status).toBe(200);
    expect(sim.faults.expireWatches()).toBe(1);
    await c.ended;
    expect(c.events.at(-1)).toMatchObject({ type: 'ERROR', object: { code: 410 } });
  });

  it('fail() breaks matching requests with a Status body; outage answers 503 until it ends', async () => {
    sim.faults.fail({ status: 500, watch: true });
    const w = await k.watch(CM);
    expect(w.status).toBe(500);
    expect(w.events[0].object).toMatchObject({ kind: 'Status', code: 500, reason: 'InternalError' });
    expect((await k.get(CM)).status).toBe(200);

    const open = await k.watch(CM);
    sim.faults.outage({ ms: 300 });
    await open.ended;
    const during = await k.get(CM);
    expect(during.status).toBe(503);
    expect(during.body).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    expect(during.headers.get('retry-after')).toBe('1');
    // The outage ends by itself: polled until it has.
    for (const deadline = Date.now() + 10_000; (await k.get(CM)).status !== 200;) {
      if (Date.now() > deadline) throw new Error('the 300 ms outage did not end');
      await new Promise((r) => setTimeout(r, 25));
    }

    sim.faults.outage({ status: 500 });
    expect((await k.get('/version')).status).toBe(500);
    sim.faults.endOutage();
    expect((await k.get('/version')).status).toBe(200);
  });

  it('counts watch requests per second, so reconnect storms are visible', async () => {
    for (let i = 0; i < 5; i++) {
      const w = await k.watch(`${CM}?timeoutSeconds=0`);
      await w.ended;
    }
    const s = sim.stats();
    expect(s.watchRequests).toBe(5);
    expect(s.maxWatchRequestsPerSecond).toBeGreaterThanOrEqual(3);
    expect(s.openWatches).toBe(0);
  });
});
