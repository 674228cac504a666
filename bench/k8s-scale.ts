// Benchmark: the hub's CPU and memory against a big Kubernetes namespace (issue #12 item 6). The hub runs as its own
// process (so /proc shows its own CPU time and RSS) against the API simulator, once with a small namespace (50 user
// pods, 500 events) and once with a big one (5,000 user pods, 50,000 events); in each, it is measured at rest and
// while 200 servers start at once. The namespace's pods are Pending on a node that does not exist (no processes);
// the 200 servers are real processes (python3's http.server, the smallest thing that answers HTTP).
// test/k8s-scale.test.ts asserts what the hub caches; this measures what it costs.
//
//   node_modules/.bin/node bench/k8s-scale.ts [--burst 200] [--rest-seconds 10] [--sizes 50:500,5000:50000] [--api-timeout 3]
// A start that fails is counted and its reason printed (the hub logs at warn, BENCH_LOG_LEVEL to change).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startHubProcess, type HubProcess } from '../test/support/hub-process.ts';
import { testConfig } from '../test/support/hub.ts';
import { kubeSection, NAMESPACE, startSim } from '../test/support/k8s-hub.ts';
import type { Simulator } from '../test/k8s-sim/index.ts';

const { values } = parseArgs({ options: {
  burst: { type: 'string', default: '200' }, 'rest-seconds': { type: 'string', default: '10' }, sizes: { type: 'string', default: '50:500,5000:50000' },
  // KubeSpawner's k8s_api_request_timeout (3 s): the simulator shares the machine's cores with the hub and the burst's
  // servers, so on a loaded machine its answers can take longer than a real API server's
  'api-timeout': { type: 'string', default: '3' },
} });
const BURST = Number(values.burst);
const REST_S = Number(values['rest-seconds']);
const TICK = 100; // USER_HZ on Linux

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK; // utime + stime
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function seed(sim: Simulator, pods: number, events: number): void {
  for (let i = 0; i < pods; i++) {
    sim.create('pods', NAMESPACE, {
      metadata: { name: `jupyter-old-${i}`, labels: { component: 'singleuser-server', app: 'jupyterhub', 'app.kubernetes.io/instance': 'another-hub' } },
      spec: { nodeName: 'gone-node', containers: [{ name: 'notebook', image: 'sim/x:1', command: ['sleep', '1'] }] },
    });
  }
  for (let i = 0; i < events; i++) {
    const pod = `jupyter-old-${i % Math.max(1, pods)}`;
    sim.create('events', NAMESPACE, {
      metadata: { name: `${pod}.${i.toString(16)}` },
      involvedObject: { kind: 'Pod', namespace: NAMESPACE, name: pod, apiVersion: 'v1' },
      reason: 'Pulled', message: `Container image "sim/x:1" already present on machine (${i})`, type: 'Normal', count: 1, source: { component: 'kubelet' },
    });
  }
}

interface Row { ready: number; label: string; restCpuPct: number; restRss: number; burstCpuS: number; burstPeakRss: number; burstWallS: number; afterRss: number }

async function run(label: string, pods: number, events: number): Promise<Row> {
  const s = await startSim({
    historyLimit: 2000,
    // a /16 of its own: a /24 runs out with 200 pods plus whatever other simulators on this machine hold
    podSubnet: `127.${randomInt(100, 250)}`,
    separateLauncher: true,
    nodes: [{ name: 'node-1', allocatable: { cpu: '1000', memory: '4000Gi', pods: '1000' } }],
  });
  const dir = mkdtempSync(join(tmpdir(), 'nodehub-bench-k8s-'));
  let hub: HubProcess | null = null;
  // an interrupted run still kills the hub and every pod process
  const onSignal = () => void (async () => {
    hub?.child.kill('SIGKILL');
    await s.sim.close();
    process.exit(130);
  })();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    seed(s.sim, pods, events);
    const adminToken = randomBytes(16).toString('hex');
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const config = join(dir, 'nodehub.json');
    writeFileSync(config, JSON.stringify(testConfig(dir, adminToken, {
      JupyterHub: { port, spawner_class: 'kubernetes', slow_spawn_timeout: 0, concurrent_spawn_limit: 0, log_level: process.env.BENCH_LOG_LEVEL ?? 'warn' },
      KubeSpawner: kubeSection(s.kubeconfig, {
        cmd: ['/usr/bin/python3', '-m', 'http.server', '8888', '--bind', '$(POD_IP)'], start_timeout: 300, http_timeout: 300,
        mem_guarantee: '10M', cpu_guarantee: 0.01, k8s_api_request_timeout: Number(values['api-timeout']),
        k8s_api_request_retry_timeout: Math.max(30, 4 * Number(values['api-timeout'])), ...(process.env.BENCH_NO_EVENTS ? { events_enabled: false } : {}),
      }),
    })));
    hub = await startHubProcess(config, origin, 60_000);
    const pid = hub.child.pid!;
    // on a loaded machine a connection can be reset; the measurement must not die of it
    const api = async (path: string, init: RequestInit = {}): Promise<Response> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await fetch(`${origin}/hub/api${path}`, { ...init, headers: { authorization: `token ${adminToken}` } });
        } catch (err) {
          if (attempt >= 5) throw err;
          await sleep(1000);
        }
      }
    };
    // let the informer list and settle
    await sleep(3000);
    const c0 = cpuSeconds(pid);
    await sleep(REST_S * 1000);
    const restCpuPct = ((cpuSeconds(pid) - c0) / REST_S) * 100;
    const restRss = rssMiB(pid);

    const users = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
    await api('/users', { method: 'POST', body: JSON.stringify({ usernames: users }) });
    let peak = rssMiB(pid);
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 200);
    const b0 = cpuSeconds(pid);
    // the simulator runs in this process: a stalled event loop here is a slow API server for the hub
    const lag = monitorEventLoopDelay({ resolution: 20 });
    lag.enable();
    const t0 = Date.now();
    const posts = await Promise.all(users.map(async (u) => {
      const r = await api(`/users/${u}/server`, { method: 'POST' });
      return r.ok ? String(r.status) : `${r.status} ${await r.text()}`;
    }));
    const answers = new Map<string, number>();
    for (const a of posts) answers.set(a, (answers.get(a) ?? 0) + 1);
    console.log(`${label}: POST /users/:name/server answered`, Object.fromEntries(answers));
    let ready = 0;
    for (;;) {
      const list = await (await api('/users?limit=1000')).json() as Array<{ pending: string | null; server: string | null }>;
      ready = list.filter((u) => u.server !== null && !u.pending).length;
      // done when nothing is pending any more (a failed start leaves neither a server nor a pending spawn)
      if (list.every((u) => !u.pending) && Date.now() - t0 > 2000) break;
      if (Date.now() - t0 > 600_000) throw new Error(`only ${ready} of ${BURST} servers became ready`);
      await sleep(500);
    }
    const burstWallS = (Date.now() - t0) / 1000;
    lag.disable();
    console.log(`${label}: simulator event loop delay during the burst: p50 ${(lag.percentile(50) / 1e6).toFixed(0)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms, max ${(lag.max / 1e6).toFixed(0)} ms; API requests`, s.sim.stats().byVerb);
    // why starts failed, grouped (pod and user names made generic)
    const reasons = new Map<string, number>();
    if (process.env.BENCH_HUB_LOG) writeFileSync(process.env.BENCH_HUB_LOG, hub.output());
    for (const m of hub.output().matchAll(/(?:Spawn of .+? failed|server stopped unexpectedly): (.*)/g)) {
      const why = m[1]!.replace(/burst-\d+/g, 'burst-N').replace(/\d+(\.\d+)?/g, 'N');
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
    }
    for (const [why, n] of reasons) console.log(`${label}: ${n} failed: ${why}`);
    const burstCpuS = cpuSeconds(pid) - b0;
    clearInterval(sampler);
    await Promise.all(users.map((u) => api(`/users/${u}/server`, { method: 'DELETE' })));
    await sleep(3000);
    return { label, restCpuPct, restRss, burstCpuS, burstPeakRss: peak, burstWallS, afterRss: rssMiB(pid), ready };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    hub?.child.kill('SIGKILL');
    await hub?.exited;
    await s.sim.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(s.dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const size of values.sizes!.split(',')) {
  const [pods, events] = size.split(':').map(Number) as [number, number];
  const row = await run(`${pods.toLocaleString('en')} user pods, ${events.toLocaleString('en')} events`, pods, events);
  rows.push(row);
  console.log('row', JSON.stringify(row)); // at once: a later size that fails keeps this one
}
const f = (n: number, d = 1) => n.toFixed(d);
console.log(`\n| namespace | CPU at rest | RSS at rest | ${BURST} starts: ready | hub CPU | wall | peak RSS | RSS after |`);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(`| ${r.label} | ${f(r.restCpuPct)} % | ${f(r.restRss, 0)} MiB | ${r.ready} | ${f(r.burstCpuS)} s | ${f(r.burstWallS)} s | ${f(r.burstPeakRss, 0)} MiB | ${f(r.afterRss, 0)} MiB |`);
}
process.exit(0);
