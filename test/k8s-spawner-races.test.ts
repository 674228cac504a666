// Watch orderings (issue #12 item 1): a server that exits while its spawn waits for it fails the spawn with its exit,
// whatever the order and grouping of the watch events. The simulator holds watch events back and writes them as one
// chunk, so the informer applies "Running" and the exit before the spawner's next wait subscribes. http_timeout and
// start_timeout are far past the test's own timeout: a spawn that misses the exit waits them out and fails the test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Simulator } from './k8s-sim/index.ts';
import { eventually, type TestHub } from './support/hub.ts';
import { NAMESPACE, startK8sHub, startSim } from './support/k8s-hub.ts';
import { loadConfig } from '../src/config/index.ts';
import { KubeSpawner } from '../src/spawner/kubernetes/spawner.ts';
import { closeCluster } from '../src/spawner/kubernetes/cluster.ts';
import { createLogger } from '../src/util/log.ts';
import type { ServerSpec } from '../src/spawner/types.ts';

const CRASH_IMAGE = 'nodehub-test/crash:1';
let sim: Simulator;
let hub: TestHub;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  // a crash loop's back-off far longer than the test: only the first exit can end these spawns in time
  const s = await startSim({ timing: { crashBackoffMs: 600_000, maxBackoffMs: 600_000 } });
  ({ sim, dir, kubeconfig } = s);
  hub = await startK8sHub(kubeconfig, {
    KubeSpawner: { start_timeout: 600, http_timeout: 600, events_enabled: true },
    Spawner: {
      profile_list: [
        // a server that never answers: only its exit can end the spawn
        { display_name: 'silent', slug: 'silent', kubespawner_override: { cmd: ['sleep', '600'] } },
        { display_name: 'crashy', slug: 'crashy', kubespawner_override: { image: CRASH_IMAGE } },
      ],
    },
  });
  sim.faults.crashImage(CRASH_IMAGE, 3);
});

afterAll(async () => {
  sim?.faults.releaseWatches();
  await hub?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Progress {
  events: Array<Record<string, any>>;
  /** resolves with the first event matching `pred` (already received ones count) */
  until(pred: (e: Record<string, any>) => boolean): Promise<Record<string, any>>;
  done: Promise<Record<string, any>>;
}

/** Starts `user`'s server with `profile` and follows its progress stream as it comes. */
async function spawn(user: string, profile: string): Promise<Progress> {
  expect((await hub.api(`/users/${user}`, { method: 'POST' })).status).toBe(201);
  const res = await hub.api(`/users/${user}/server`, { method: 'POST', body: JSON.stringify({ profile }), headers: { 'content-type': 'application/json' } });
  // 500 when the spawn has already failed within slow_spawn_timeout, as JupyterHub answers
  expect([201, 202, 500]).toContain(res.status);
  const stream = await hub.api(`/users/${user}/server/progress`);
  const events: Array<Record<string, any>> = [];
  const waiters = new Set<() => void>();
  const done = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (block.startsWith('data: ')) events.push(JSON.parse(block.slice(6)));
      }
      waiters.forEach((w) => w());
    }
    waiters.forEach((w) => w());
    return events.at(-1)!;
  })();
  return {
    events,
    done,
    until: (pred) => new Promise((resolve, reject) => {
      const check = () => {
        const found = events.find(pred);
        if (found) {
          waiters.delete(check);
          resolve(found);
        }
      };
      waiters.add(check);
      check();
      void done.then(() => {
        check();
        if (waiters.has(check)) reject(new Error(`progress ended without it: ${events.map((e) => e.message).join(' | ')}`));
      });
    }),
  };
}

const podName = (user: string) => `jupyter-${user}`;
const notebook = (user: string) => sim.get('pods', NAMESPACE, podName(user))?.status?.containerStatuses?.find((c: any) => c.name === 'notebook');
const running = (user: string) => notebook(user)?.state?.running !== undefined && sim.get('pods', NAMESPACE, podName(user))?.status?.phase === 'Running';
const waitingForServer = (e: Record<string, any>) => /^Pod is running; waiting for the server/.test(e.message);

async function expectFailedWithExit(p: Progress, exit: RegExp, user: string): Promise<void> {
  const last = await p.done;
  expect(last).toMatchObject({ failed: true });
  expect(last.message).toMatch(exit);
  expect(last.message).not.toMatch(/did not answer|did not start|timed? ?out/i);
  await eventually(async () => Object.keys((await (await hub.api(`/users/${user}`)).json()).servers).length === 0, 15_000);
  expect(sim.get('pods', NAMESPACE, podName(user))).toBeUndefined();
}

describe('a server that exits while its spawn waits for it', () => {
  it('"Running" and the exit in one watch read', async () => {
    sim.faults.holdWatches();
    const p = await spawn('one-read', 'silent');
    await sim.waitFor('pods', NAMESPACE, podName('one-read'), () => running('one-read'));
    sim.faults.crash(NAMESPACE, podName('one-read'), { exitCode: 3 });
    await sim.waitFor('pods', NAMESPACE, podName('one-read'), () => (notebook('one-read')?.restartCount ?? 0) > 0 || !!notebook('one-read')?.state?.terminated);
    expect(sim.faults.releaseWatches()).toBeGreaterThan(0);
    await expectFailedWithExit(p, /^Spawn failed: The server exited with code 3 \(Error\)/, 'one-read');
  });

  it('"Running" alone, then the exit (and the restart) in a later read', async () => {
    const p = await spawn('later-read', 'silent');
    await p.until(waitingForServer);
    sim.faults.holdWatches();
    sim.faults.crash(NAMESPACE, podName('later-read'), { exitCode: 3 });
    await sim.waitFor('pods', NAMESPACE, podName('later-read'), () => (notebook('later-read')?.restartCount ?? 0) > 0 && running('later-read'));
    sim.faults.releaseWatches();
    await expectFailedWithExit(p, /^Spawn failed: The server exited with code 3 \(Error\)/, 'later-read');
  });

  it('"Running" alone, then the exit alone', async () => {
    const p = await spawn('apart', 'silent');
    await p.until(waitingForServer);
    sim.faults.crash(NAMESPACE, podName('apart'), { exitCode: 3 });
    await expectFailedWithExit(p, /^Spawn failed: The server exited with code 3 \(Error\)/, 'apart');
  });

  it('an exit with code 0 in the same read as "Running" (no restart follows)', async () => {
    sim.faults.holdWatches();
    const p = await spawn('zero', 'silent');
    await sim.waitFor('pods', NAMESPACE, podName('zero'), () => running('zero'));
    sim.faults.crash(NAMESPACE, podName('zero'), { exitCode: 0, reason: 'Completed' });
    await sim.waitFor('pods', NAMESPACE, podName('zero'), (pod) => pod?.status?.phase === 'Succeeded');
    sim.faults.releaseWatches();
    await expectFailedWithExit(p, /^Spawn failed: The server exited/, 'zero');
  });

  it('a server crashing at once: the whole start, crash and restart in one read', async () => {
    sim.faults.holdWatches();
    const p = await spawn('crash-all', 'crashy');
    await sim.waitFor('pods', NAMESPACE, podName('crash-all'), () => notebook('crash-all')?.state?.waiting?.reason === 'CrashLoopBackOff');
    sim.faults.releaseWatches();
    await expectFailedWithExit(p, /^Spawn failed: The server (exited with code 3|container keeps crashing \(exit code 3)/, 'crash-all');
  });

  it('a server crashing at once, events delivered as they come', async () => {
    const p = await spawn('crash-live', 'crashy');
    await expectFailedWithExit(p, /^Spawn failed: The server (exited with code 3|container keeps crashing \(exit code 3)/, 'crash-live');
  });
});

describe('the exit watch of a running server', () => {
  it('reports a pod that is already gone when the spawner is made after the informer listed', async () => {
    const config = await loadConfig({ file: null, env: {}, overrides: {
      'JupyterHub.spawner_class': 'kubernetes', 'KubeSpawner.kubeconfig': kubeconfig, 'KubeSpawner.namespace': NAMESPACE,
      'KubeSpawner.prepuller_enabled': 'false',
    } });
    const spec = (name: string): ServerSpec => ({
      user: { id: 1, name, admin: false }, serverName: '', prefix: `/user/${name}/`, apiToken: 't', hubApiUrl: 'http://hub/hub/api', baseUrl: '/',
      oauthClientId: `jupyterhub-user-${name}`, oauthCallbackUrl: `/user/${name}/oauth_callback`, oauthAccessScopes: [], userOptions: {},
    });
    const exits: string[] = [];
    const make = (name: string) => new KubeSpawner({ spec: spec(name), config: config.spawner, hubConfig: config, state: { pod_name: `jupyter-${name}`, pod_uid: 'gone' },
      log: createLogger('test'), onExit: (why) => exits.push(`${name}: ${why}`) });
    try {
      // the first spawner makes the cluster and its informer; the second comes after the list (no change will follow)
      make('first');
      const { existingCluster } = await import('../src/spawner/kubernetes/cluster.ts');
      await existingCluster(config)!.ready(10_000);
      await eventually(() => exits.length === 1);
      make('second');
      await eventually(() => exits.length === 2, 2000);
      expect(exits[1]).toBe('second: Pod jupyter-second is gone');
    } finally {
      await closeCluster(config);
    }
  });
});
