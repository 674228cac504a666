// The simulator's pod lifecycle with real processes: create -> schedule -> pull -> run on the pod's own loopback
// address, events in order, graceful and immediate deletion, finalizers, restart policies (spec 6.6-6.8, App. A 1-3).
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSimulator, type Simulator } from './k8s-sim/index.ts';
import { HTTP_SERVER, POD_IP_ENV, podManifest, SLEEPER, STUBBORN, TestClient } from './k8s-sim/testing.ts';

const PODS = '/api/v1/namespaces/default/pods';
let sim: Simulator;
let k: TestClient;

beforeEach(async () => {
  sim = await createSimulator();
  k = new TestClient(sim.url, sim.token);
});
afterEach(async () => {
  await sim.close();
});

const running = (name: string) => sim.waitFor('pods', 'default', name, (p) => p?.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready);
// A pod counts as running once its process exists, which can be before `sh` has run `trap "" TERM`; tests of the grace
// period wait until the kernel shows SIGTERM ignored (SigIgn bit 15), or a loaded machine lets SIGTERM end it at once.
async function runningStubborn(name: string): Promise<void> {
  await running(name);
  const pid = sim.processes().find((p) => p.pod === name)!.pid;
  await vi.waitFor(() => {
    const sigIgn = /^SigIgn:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
    expect(BigInt(`0x${sigIgn}`) & (1n << 14n)).not.toBe(0n);
  }, { timeout: 5000, interval: 10 });
}
const gone = (name: string, ms = 15_000) => sim.waitFor('pods', 'default', name, (p) => !p, ms);

async function reasons(pod: string): Promise<string[]> {
  const r = await k.get(`/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=${pod}`);
  return r.body.items.map((e: any) => e.reason);
}

describe('pod lifecycle', () => {
  it('runs the container as a real process reachable at podIP:port, with ADDED/MODIFIED steps and events in order', async () => {
    const watch = await k.watch(PODS);
    const env = [POD_IP_ENV, { name: 'WHO', value: 'sim' }, { name: 'GREETING', value: 'hello-$(WHO)' }];
    const created = await k.post(PODS, podManifest('web', HTTP_SERVER, { ports: [8888], env }));
    expect(created.status).toBe(201);
    expect(created.body.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
    expect(created.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.body.spec).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', serviceAccountName: 'default' });
    expect(created.body.spec.containers[0]).toMatchObject({ imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' });

    const pod = (await running('web'))!;
    const ip = pod.status.podIP;
    expect(ip).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(ip).not.toBe('127.0.0.1');
    expect(pod.status.conditions.map((c: any) => `${c.type}=${c.status}`)).toEqual([
      'PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True',
    ]);
    // the server binds a moment after the process starts
    let text = '';
    for (let i = 0; i < 50 && !text; i++) {
      text = await fetch(`http://${ip}:8888/`).then((r) => r.text(), () => '');
      if (!text) await new Promise((r) => setTimeout(r, 50));
    }
    expect(text).toBe(`${ip} hello-sim`);

    await watch.next((e) => e.type === 'MODIFIED' && e.object.status.phase === 'Running');
    const kinds = watch.events.map((e) => e.type);
    expect(kinds[0]).toBe('ADDED');
    expect(kinds.slice(1).every((t) => t === 'MODIFIED')).toBe(true);
    const rvs = watch.events.map((e) => Number(e.object.metadata.resourceVersion));
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
    const phases = watch.events.map((e) => e.object.status.phase);
    expect(phases.indexOf('Running')).toBeGreaterThan(phases.lastIndexOf('Pending'));
    expect(watch.events.some((e) => e.object.spec.nodeName === 'node-1' && e.object.status.phase === 'Pending')).toBe(true);
    watch.close();
    expect(await reasons('web')).toEqual(['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']);
    expect(sim.nodes.cachedImages('node-1')).toContain('sim/notebook:1');
  });

  it('reports a cached image as already present and gives each pod its own address', async () => {
    await k.post(PODS, podManifest('a', SLEEPER));
    await running('a');
    await k.post(PODS, podManifest('b', SLEEPER));
    const b = (await running('b'))!;
    const a = sim.get('pods', 'default', 'a')!;
    expect(a.status.podIP).not.toBe(b.status.podIP);
    const events = (await k.get('/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=b,reason=Pulled')).body.items;
    expect(events[0].message).toBe('Container image "sim/notebook:1" already present on machine');
    expect(await reasons('b')).not.toContain('Pulling');
  });

  it('a service address brings a pod\'s connections to the backend from the pod\'s IP, anyone else\'s from 127.0.0.1', async () => {
    const seen: string[] = [];
    let test = '';
    const backend = http.createServer((req, res) => {
      if (req.headers['x-test']) test = req.socket.remoteAddress!;
      else seen.push(req.socket.remoteAddress!);
      res.end('ok');
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    try {
      const svc = await sim.service();
      svc.target = { host: '127.0.0.1', port: (backend.address() as AddressInfo).port };
      const fetchLoop = `setInterval(() => fetch('http://${svc.host}:${svc.port}/').then((r) => r.text(), () => {}), 50)`;
      await k.post(PODS, podManifest('client', [process.execPath, '-e', fetchLoop]));
      const pod = (await running('client'))!;
      await vi.waitFor(() => expect(seen).toContain(pod.status.podIP), { timeout: 10_000, interval: 20 });
      expect(await (await fetch(`http://${svc.host}:${svc.port}/`, { headers: { 'x-test': '1' } })).text()).toBe('ok');
      expect(test).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
      expect(new Set(seen)).toEqual(new Set([pod.status.podIP]));
    } finally {
      backend.closeAllConnections();
      await new Promise((r) => backend.close(r));
    }
  });

  it('kubelet events carry first/lastTimestamp and a fieldPath; the scheduler event carries eventTime only', async () => {
    await k.post(PODS, podManifest('t', SLEEPER));
    await running('t');
    const items = (await k.get('/api/v1/namespaces/default/events')).body.items;
    const scheduled = items.find((e: any) => e.reason === 'Scheduled');
    expect(scheduled).toMatchObject({ reportingComponent: 'default-scheduler', firstTimestamp: null, lastTimestamp: null, type: 'Normal' });
    expect(scheduled.eventTime).toMatch(/\.\d{6}Z$/);
    const started = items.find((e: any) => e.reason === 'Started');
    expect(started).toMatchObject({ source: { component: 'kubelet', host: 'node-1' }, eventTime: null, count: 1 });
    expect(started.involvedObject).toMatchObject({ kind: 'Pod', name: 't', namespace: 'default', fieldPath: 'spec.containers{notebook}' });
    expect(started.metadata.name).toMatch(/^t\.[0-9a-f]+$/);
  });

  it('ends with Succeeded or Failed under restartPolicy Never', async () => {
    await k.post(PODS, podManifest('ok', ['sh', '-c', 'exit 0'], { restartPolicy: 'Never' }));
    await k.post(PODS, podManifest('bad', ['sh', '-c', 'echo oops; exit 3'], { restartPolicy: 'Never' }));
    await sim.waitFor('pods', 'default', 'ok', (p) => p?.status?.phase === 'Succeeded');
    const bad = (await sim.waitFor('pods', 'default', 'bad', (p) => p?.status?.phase === 'Failed'))!;
    expect(bad.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(bad.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    expect((await k.get(`${PODS}/bad/log`)).body).toBe('oops\n');
  });
});

describe('create and delete', () => {
  it('answers 409 AlreadyExists for a taken name, also while the first pod is terminating', async () => {
    await k.post(PODS, podManifest('dup', STUBBORN, { grace: 2 }));
    await runningStubborn('dup');
    const again = await k.post(PODS, podManifest('dup', SLEEPER));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'AlreadyExists', code: 409, message: 'pods "dup" already exists', details: { name: 'dup', kind: 'pods' } });
    await k.delete(`${PODS}/dup`);
    const during = await k.post(PODS, podManifest('dup', SLEEPER));
    expect(during.status).toBe(409);
    expect(during.body.message).toBe('object is being deleted: pods "dup" already exists');
  });

  it('deletes gracefully: deletionTimestamp first, Killing, SIGKILL after the grace period, then DELETED', async () => {
    await k.post(PODS, podManifest('slow', STUBBORN));
    await runningStubborn('slow');
    const pid = sim.processes().find((p) => p.pod === 'slow')!.pid;
    const watch = await k.watch(`${PODS}?fieldSelector=metadata.name=slow&resourceVersion=${sim.store.currentRv}`);
    const started = Date.now();
    const del = await k.delete(`${PODS}/slow`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 1 });
    expect(del.status).toBe(200);
    expect(del.body.metadata.deletionGracePeriodSeconds).toBe(1);
    expect(del.body.metadata.deletionTimestamp).toMatch(/Z$/);
    const deleted = await watch.next((e) => e.type === 'DELETED', 15_000);
    // The grace period is the simulator's own timer under test: it was waited out (30 s would be the default).
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(watch.events[0]).toMatchObject({ type: 'MODIFIED' });
    expect(watch.events[0].object.metadata.deletionTimestamp).toBeTruthy();
    expect(deleted.object.status.containerStatuses[0].state.terminated.exitCode).toBe(137);
    expect(() => process.kill(pid, 0)).toThrow();
    watch.close();
    const events = (await k.get('/api/v1/namespaces/default/events?fieldSelector=reason=Killing')).body.items;
    expect(events[0].message).toBe('Stopping container notebook');
  });

  it('a process that honours SIGTERM ends the deletion early; grace 0 and unscheduled pods vanish at once', async () => {
    await k.post(PODS, podManifest('quick', SLEEPER));
    await running('quick');
    // Well before the default 30 s grace period: the process ended on SIGTERM.
    await k.delete(`${PODS}/quick`);
    await gone('quick', 15_000);

    await k.post(PODS, podManifest('now', STUBBORN));
    await running('now');
    const del = await k.delete(`${PODS}/now?gracePeriodSeconds=0`);
    expect(del.status).toBe(200);
    expect(sim.get('pods', 'default', 'now')).toBeUndefined();
    await vi.waitFor(() => expect(sim.processes().filter((p) => p.pod === 'now')).toEqual([]), { timeout: 10_000, interval: 20 });

    sim.faults.unschedulable('no-nodes');
    await k.post(PODS, podManifest('nowhere', SLEEPER));
    await k.delete(`${PODS}/nowhere`);
    expect(sim.get('pods', 'default', 'nowhere')).toBeUndefined();

    const missing = await k.delete(`${PODS}/nothing`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ reason: 'NotFound', message: 'pods "nothing" not found', details: { name: 'nothing', kind: 'pods' } });
  });

  it('keeps a pod with a finalizer until the finalizer is removed', async () => {
    const m = podManifest('fin', SLEEPER);
    m.metadata.finalizers = ['example.com/keep'];
    await k.post(PODS, m);
    await running('fin');
    await k.delete(`${PODS}/fin?gracePeriodSeconds=1`);
    const stopped = (await sim.waitFor('pods', 'default', 'fin', (p) => p?.metadata.deletionGracePeriodSeconds === 0))!;
    expect(stopped.metadata.deletionTimestamp).toBeTruthy();
    expect(stopped.status.phase).toMatch(/Succeeded|Failed/);
    const patched = await k.patch(`${PODS}/fin`, { metadata: { finalizers: null } });
    expect(patched.status).toBe(200);
    await gone('fin', 1000);
  });

  it('a second delete with a shorter grace period shortens the wait', async () => {
    await k.post(PODS, podManifest('long', STUBBORN));
    await runningStubborn('long');
    await k.delete(`${PODS}/long?gracePeriodSeconds=30`);
    await k.delete(`${PODS}/long?gracePeriodSeconds=1`);
    // Gone well inside the first delete's 30 s.
    await gone('long', 15_000);
  });

  it('restarts a container that exits (restartPolicy Always) and kills leftover children with the group', async () => {
    await k.post(PODS, podManifest('flaky', ['sh', '-c', 'sleep 60 & sleep 0.2; exit 2']));
    const p = (await sim.waitFor('pods', 'default', 'flaky', (o) => (o?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1))!;
    expect(p.status.containerStatuses[0].lastState.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
    expect(p.status.phase).toBe('Running');
  });
});

describe('separate launchers (benches)', () => {
  it('each node starts its pods from a launcher process of its own, not from the API server', async () => {
    const s = await createSimulator({ separateLauncher: true, nodes: [{ name: 'node-a' }, { name: 'node-b' }] });
    try {
      const c = new TestClient(s.url, s.token);
      for (const node of ['node-a', 'node-b']) {
        expect((await c.post(PODS, podManifest(`on-${node}`, SLEEPER, { spec: { nodeName: node } }))).status).toBe(201);
      }
      const parents = new Set<number>();
      for (const node of ['node-a', 'node-b']) {
        await s.waitFor('pods', 'default', `on-${node}`, (p) => p?.status?.phase === 'Running');
        const pid = await vi.waitFor(() => s.processes().find((p) => p.pod === `on-${node}`)!.pid, { timeout: 5000 });
        parents.add(Number(/^PPid:\s*(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]));
      }
      expect(parents.size).toBe(2);
      expect(parents.has(process.pid)).toBe(false);
    } finally {
      await s.close();
    }
  });
});
