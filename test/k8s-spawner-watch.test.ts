// Watch trouble during starts (issue acceptance; Appendix A 8): with several servers starting at once, the informer's
// stream is closed, stalled, answered with 500 and with 410. Every start still ends ready exactly once, with exactly
// one pod per server and one create per start: no start lost, none duplicated, and no reconnect storm.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Simulator } from './k8s-sim/index.ts';
import type { TestHub } from './support/hub.ts';
import { IMAGE, NAMESPACE, readProgress, startK8sHub, startSim } from './support/k8s-hub.ts';

let sim: Simulator;
let hub: TestHub;
let dir: string;
let round = 0;

beforeAll(async () => {
  // slow pulls, so the faults land while the starts wait on the informer
  const s = await startSim({ images: { [IMAGE]: { pullMs: 600 } } });
  sim = s.sim;
  dir = s.dir;
  hub = await startK8sHub(s.kubeconfig, { KubeSpawner: { watch_timeout: 1, image_pull_policy: 'Always' } });
});

afterAll(async () => {
  await hub?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `n` servers at once, runs `fault` while they start, and checks each ended ready once with one pod. */
async function startDuring(n: number, fault: () => Promise<void> | void): Promise<void> {
  round++;
  const users = Array.from({ length: n }, (_, i) => `r${round}u${i}`);
  for (const u of users) expect((await hub.api(`/users/${u}`, { method: 'POST' })).status).toBe(201);
  const createsBefore = sim.stats().byVerb.create ?? 0;
  await Promise.all(users.map(async (u) => expect([201, 202]).toContain((await hub.api(`/users/${u}/server`, { method: 'POST' })).status)));
  const progress = Promise.all(users.map((u) => readProgress(hub, u)));
  await fault();
  const streams = await progress;
  for (const events of streams) {
    expect(events.filter((e) => e.ready)).toHaveLength(1);
    expect(events.some((e) => e.failed)).toBe(false);
  }
  expect((sim.stats().byVerb.create ?? 0) - createsBefore).toBe(n);
  for (const u of users) {
    const pods = sim.list('pods', NAMESPACE).filter((p) => p.metadata.labels?.['hub.jupyter.org/username'] === u);
    expect(pods).toHaveLength(1);
    const env = await (await fetch(`${hub.origin}/user/${u}/env`)).json();
    expect(env.JUPYTERHUB_USER).toBe(u);
  }
  await Promise.all(users.map((u) => hub.api(`/users/${u}/server`, { method: 'DELETE' })));
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const informer = async () => (await (await hub.api('/info')).json()).kubernetes.informer;

describe('watch trouble during starts', () => {
  it('streams closed by the server, again and again', async () => {
    await startDuring(3, async () => {
      for (let i = 0; i < 4; i++) {
        await pause(150);
        sim.faults.dropWatches();
      }
    });
  });

  it('a stalled stream (connection open, nothing sent) is detected and replaced', async () => {
    const before = (await informer()).restarts;
    await startDuring(3, async () => {
      await pause(100);
      sim.faults.stallWatches(true);
      await pause(1200);
      sim.faults.unstallWatches();
    });
    expect((await informer()).restarts).toBeGreaterThan(before);
  });

  it('the watch answering HTTP 500 for a while', async () => {
    await startDuring(3, async () => {
      await pause(100);
      sim.faults.fail({ status: 500, watch: true, ms: 800 });
      sim.faults.dropWatches();
    });
  });

  it('410 Gone as an ERROR event, as an HTTP status, and after compaction: relists', async () => {
    const before = (await informer()).lists;
    await startDuring(3, async () => {
      await pause(100);
      sim.faults.expireWatches();
      await pause(200);
      sim.faults.expireNextWatch(2, 'http');
      sim.faults.dropWatches();
      await pause(200);
      sim.faults.compact();
      sim.faults.dropWatches();
    });
    expect((await informer()).lists).toBeGreaterThan(before);
    expect(sim.stats().maxWatchRequestsPerSecond).toBeLessThan(25);
  });

  it('the informer reports itself healthy in /hub/api/info afterwards', async () => {
    const info = await informer();
    expect(info).toMatchObject({ synced: true, watching: true });
    expect(info.idleMs).toBeLessThan(5000);
  });
});
