// API-level rules of the simulator (spec 6.1-6.6; Appendix A 10-12, 14): discovery, namespaces, label and field
// selectors on list and watch, paging, Status bodies for 400/401/403/404/409/422, generateName, patches.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator, HUB_RULES, type Simulator } from './k8s-sim/index.ts';
import { podManifest, SLEEPER, TestClient } from './k8s-sim/testing.ts';

const CM = '/api/v1/namespaces/default/configmaps';
const PODS = '/api/v1/namespaces/default/pods';
let sim: Simulator;
let k: TestClient;

beforeEach(async () => {
  sim = await createSimulator({ namespaces: ['default', 'jhub'], tokens: { 'hub-token': { user: 'system:serviceaccount:jhub:hub', rules: HUB_RULES } } });
  k = new TestClient(sim.url, sim.token);
});
afterEach(async () => {
  await sim.close();
});

const names = (r: { body: any }) => r.body.items.map((i: any) => i.metadata.name);

describe('discovery and namespaces', () => {
  it('serves /version, /api, /apis and namespaces; unknown paths are 404 Status', async () => {
    expect((await k.get('/version')).body).toMatchObject({ major: '1', minor: '32' });
    expect((await k.get('/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const core = (await k.get('/api/v1')).body;
    expect(core.resources.map((r: any) => r.name)).toEqual(expect.arrayContaining(['pods', 'events', 'pods/log', 'namespaces', 'persistentvolumeclaims']));
    expect((await k.get('/apis')).body.groups.map((g: any) => g.name)).toEqual(['apps']);
    expect((await k.get('/apis/apps/v1')).body.resources[0]).toMatchObject({ name: 'daemonsets', kind: 'DaemonSet', namespaced: true });
    const ns = await k.get('/api/v1/namespaces/jhub');
    expect(ns.body).toMatchObject({ kind: 'Namespace', status: { phase: 'Active' }, metadata: { name: 'jhub' } });
    expect((await k.get('/api/v1/namespaces/nope')).status).toBe(404);
    const unknown = await k.get('/api/v1/widgets');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'the server could not find the requested resource' });
    const wrongNs = await k.post('/api/v1/namespaces/ghost/pods', podManifest('p', SLEEPER));
    expect(wrongNs.body).toMatchObject({ code: 404, message: 'namespaces "ghost" not found' });
  });
});

describe('create rules', () => {
  it('rejects invalid pods with 422 Invalid and field causes', async () => {
    const badName = await k.post(PODS, podManifest('Bad_Name', SLEEPER));
    expect(badName.status).toBe(422);
    expect(badName.body).toMatchObject({ reason: 'Invalid', details: { name: 'Bad_Name', kind: 'Pod' } });
    expect(badName.body.message).toMatch(/^Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);

    const noContainers = await k.post(PODS, { metadata: { name: 'empty' }, spec: { containers: [] } });
    expect(noContainers.body.details.causes).toEqual([{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' }]);

    const m = podManifest('many', SLEEPER, { image: '' });
    m.spec.containers[0].resources = { requests: { memory: '2Gi' }, limits: { memory: '1Gi' } };
    m.spec.containers[0].volumeMounts = [{ name: 'shared', mountPath: '/home/jovyan/shared' }];
    const many = await k.post(PODS, m);
    expect(many.status).toBe(422);
    const fields = many.body.details.causes.map((c: any) => c.field);
    expect(fields).toEqual(expect.arrayContaining(['spec.containers[0].image', 'spec.containers[0].resources.requests', 'spec.containers[0].volumeMounts[0].name']));
    expect(many.body.message).toMatch(/^Pod "many" is invalid: \[/);
    expect(many.body.message).toContain('must be less than or equal to memory limit of 1Gi');

    const labels = podManifest('labels', SLEEPER, { labels: { 'hub.jupyter.org/username': 'not valid!' } });
    expect((await k.post(PODS, labels)).status).toBe(422);
  });

  it('generates names, applies service-account admission unless automount is off, and checks the namespace', async () => {
    const m = podManifest('', SLEEPER);
    delete m.metadata.name;
    m.metadata.generateName = 'jupyter-';
    delete m.spec.automountServiceAccountToken;
    const r = await k.post(PODS, m);
    expect(r.status).toBe(201);
    expect(r.body.metadata.name).toMatch(/^jupyter-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(r.body.spec.volumes[0].name).toMatch(/^kube-api-access-/);
    expect(r.body.spec.containers[0].volumeMounts[0]).toMatchObject({ readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' });
    const off = await k.post(PODS, podManifest('off', SLEEPER));
    expect(off.body.spec.volumes).toBeUndefined();
    expect(off.body.spec.tolerations.map((t: any) => t.key)).toEqual(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);
    const mismatch = podManifest('x', SLEEPER);
    mismatch.metadata.namespace = 'jhub';
    expect((await k.post(PODS, mismatch)).body).toMatchObject({ code: 400, reason: 'BadRequest', message: 'the namespace of the provided object does not match the namespace sent on the request' });
    expect((await k.request('POST', PODS, '{not json')).status).toBe(400);
  });

  it('rejects stale updates with 409 Conflict and forbids pod spec changes', async () => {
    const created = (await k.post(CM, { metadata: { name: 'c' }, data: { a: '1' } })).body;
    const ok = await k.put(`${CM}/c`, { ...created, data: { a: '2' } });
    expect(ok.status).toBe(200);
    const stale = await k.put(`${CM}/c`, { ...created, data: { a: '3' } });
    expect(stale.body).toMatchObject({ code: 409, reason: 'Conflict', message: 'Operation cannot be fulfilled on configmaps "c": the object has been modified; please apply your changes to the latest version and try again' });
    const jsonPatched = await k.patch(`${CM}/c`, [{ op: 'replace', path: '/data/a', value: '4' }], 'application/json-patch+json');
    expect(jsonPatched.body.data).toEqual({ a: '4' });

    await k.post(PODS, podManifest('p', SLEEPER));
    const labelled = await k.patch(`${PODS}/p`, { metadata: { labels: { extra: 'yes' } } }, 'application/strategic-merge-patch+json');
    expect(labelled.body.metadata.labels).toEqual({ extra: 'yes' });
    const spec = await k.patch(`${PODS}/p`, { spec: { restartPolicy: 'Never' } });
    expect(spec.status).toBe(422);
    expect(spec.body.message).toMatch(/pod updates may not change fields other than/);
  });
});

describe('selectors', () => {
  beforeEach(async () => {
    const labels: Array<[string, Record<string, string>]> = [
      ['a', { component: 'singleuser-server', user: 'alice' }],
      ['b', { component: 'singleuser-server', user: 'bob', tier: 'gpu' }],
      ['c', { component: 'hub' }],
      ['d', {}],
    ];
    for (const [name, l] of labels) await k.post(CM, { metadata: { name, labels: l } });
  });

  it('applies equality and set-based label selectors', async () => {
    const q = async (sel: string) => names(await k.get(`${CM}?labelSelector=${encodeURIComponent(sel)}`));
    expect(await q('component=singleuser-server')).toEqual(['a', 'b']);
    expect(await q('component==hub')).toEqual(['c']);
    expect(await q('component!=hub')).toEqual(['a', 'b', 'd']);
    expect(await q('user in (alice,carol)')).toEqual(['a']);
    expect(await q('user notin (alice)')).toEqual(['b', 'c', 'd']);
    expect(await q('tier')).toEqual(['b']);
    expect(await q('!tier,component')).toEqual(['a', 'c']);
    const bad = await k.get(`${CM}?labelSelector=${encodeURIComponent('a in b')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^unable to parse requirement/);
  });

  it('applies whitelisted field selectors and rejects others with 400', async () => {
    expect(names(await k.get(`${CM}?fieldSelector=metadata.name=c`))).toEqual(['c']);
    expect(names(await k.get(`${CM}?fieldSelector=metadata.name!=c,metadata.namespace=default`))).toEqual(['a', 'b', 'd']);
    const bad = await k.get(`${CM}?fieldSelector=spec.foo=bar`);
    expect(bad.body).toMatchObject({ code: 400, reason: 'BadRequest', message: 'field label not supported: spec.foo' });

    await k.post(PODS, podManifest('run', SLEEPER));
    sim.nodes.add({ name: 'node-2' });
    await sim.waitFor('pods', 'default', 'run', (p) => p?.status?.phase === 'Running');
    expect(names(await k.get(`${PODS}?fieldSelector=status.phase=Running`))).toEqual(['run']);
    expect(names(await k.get(`${PODS}?fieldSelector=status.phase=Pending`))).toEqual([]);
    const node = sim.get('pods', 'default', 'run')!.spec.nodeName;
    expect(names(await k.get(`/api/v1/pods?fieldSelector=spec.nodeName=${node}`))).toEqual(['run']);
    const ev = await k.get('/api/v1/namespaces/default/events?fieldSelector=involvedObject.kind=Pod,involvedObject.name=run');
    expect(ev.body.items.length).toBeGreaterThanOrEqual(5);
    expect((await k.get('/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=other')).body.items).toEqual([]);
  });

  it('turns objects entering and leaving a watch selector into ADDED and DELETED', async () => {
    const w = await k.watch(`${CM}?labelSelector=component%3Dsingleuser-server&resourceVersion=${sim.store.currentRv}`);
    await k.patch(`${CM}/c`, { metadata: { labels: { component: 'singleuser-server' } } });
    await k.patch(`${CM}/a`, { metadata: { labels: { component: 'hub' } } });
    await k.patch(`${CM}/b`, { data: { x: '1' } });
    await k.patch(`${CM}/d`, { data: { x: '1' } });
    await w.next((e) => e.object.metadata.name === 'b');
    expect(w.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED c', 'DELETED a', 'MODIFIED b']);
    w.close();
  });
});

describe('paging', () => {
  it('pages with limit/continue over one snapshot, with remainingItemCount', async () => {
    for (const n of ['p1', 'p2', 'p3', 'p4', 'p5']) await k.post(CM, { metadata: { name: n } });
    const first = await k.get(`${CM}?limit=2`);
    expect(names(first)).toEqual(['p1', 'p2']);
    expect(first.body.metadata.remainingItemCount).toBe(3);
    expect(first.body.items[0].kind).toBeUndefined();
    await k.post(CM, { metadata: { name: 'p0' } });
    await k.delete(`${CM}/p4`);
    const second = await k.get(`${CM}?limit=2&continue=${first.body.metadata.continue}`);
    expect(names(second)).toEqual(['p3', 'p4']);
    expect(second.body.metadata.resourceVersion).toBe(first.body.metadata.resourceVersion);
    const third = await k.get(`${CM}?limit=2&continue=${second.body.metadata.continue}`);
    expect(names(third)).toEqual(['p5']);
    expect(third.body.metadata.continue).toBeUndefined();
    const withSelector = await k.get(`${CM}?limit=1&labelSelector=!x`);
    expect(withSelector.body.metadata.remainingItemCount).toBeUndefined();
    expect(withSelector.body.metadata.continue).toBeTruthy();

    const conflicting = await k.get(`${CM}?limit=2&continue=${first.body.metadata.continue}&resourceVersion=5`);
    expect(conflicting.status).toBe(400);
    sim.faults.compact();
    const expired = await k.get(`${CM}?limit=2&continue=${first.body.metadata.continue}`);
    expect(expired.body).toMatchObject({ code: 410, reason: 'Expired' });
    expect((await k.get(`${CM}?continue=garbage`)).status).toBe(400);
  });

  it('honours resourceVersion rules of list and get', async () => {
    expect((await k.get(`${CM}?resourceVersionMatch=NotOlderThan`)).status).toBe(400);
    const future = await k.get(`${CM}?resourceVersion=${sim.store.currentRv + 100}&resourceVersionMatch=NotOlderThan`);
    expect(future.body).toMatchObject({ code: 504, reason: 'Timeout' });
    await k.post(CM, { metadata: { name: 'old' } });
    const rv = sim.store.currentRv;
    await k.post(CM, { metadata: { name: 'new' } });
    expect(names(await k.get(`${CM}?resourceVersion=${rv}&resourceVersionMatch=Exact`))).toEqual(['old']);
    expect(names(await k.get(`${CM}?resourceVersion=0`))).toEqual(['new', 'old']);
    expect(Number((await k.get(CM)).body.metadata.resourceVersion)).toBe(sim.store.currentRv);
  });
});

describe('authentication and RBAC', () => {
  it('answers 401 without a valid token and 403 outside the hub role, with the real message shape', async () => {
    const anon = new TestClient(sim.url, null);
    expect((await anon.get(PODS)).body).toMatchObject({ code: 401, reason: 'Unauthorized' });
    expect((await new TestClient(sim.url, 'wrong').get(PODS)).status).toBe(401);
    expect((await anon.get('/version')).status).toBe(200);

    const hub = new TestClient(sim.url, 'hub-token');
    expect((await hub.get('/api/v1/namespaces/jhub/pods')).status).toBe(200);
    expect((await hub.post('/api/v1/namespaces/jhub/pods', podManifest('p', SLEEPER))).status).toBe(201);
    const w = await hub.watch('/api/v1/namespaces/jhub/events');
    expect(w.status).toBe(200);
    w.close();
    const secrets = await hub.get('/api/v1/namespaces/jhub/secrets');
    expect(secrets.body).toMatchObject({
      code: 403,
      reason: 'Forbidden',
      message: 'secrets is forbidden: User "system:serviceaccount:jhub:hub" cannot list resource "secrets" in API group "" in the namespace "jhub"',
      details: { kind: 'secrets' },
    });
    const patch = await hub.patch('/api/v1/namespaces/jhub/pods/p', { metadata: { labels: { a: 'b' } } });
    expect(patch.body.message).toBe('pods "p" is forbidden: User "system:serviceaccount:jhub:hub" cannot patch resource "pods" in API group "" in the namespace "jhub"');
    const nodes = await hub.get('/api/v1/nodes');
    expect(nodes.body.message).toBe('nodes is forbidden: User "system:serviceaccount:jhub:hub" cannot list resource "nodes" in API group "" at the cluster scope');
    expect((await hub.get('/api/v1/namespaces/jhub/pods/p/log')).status).toBe(403);
  });
});
