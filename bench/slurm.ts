// Spawns through Slurm: N users' servers requested at once, each a batch job on a one-node Slurm cluster this script
// starts (test/support/slurm.ts), nodehub's SlurmSpawner against JupyterHub 3.0 (Debian) with batchspawner 1.3.0 run
// from its source. Both run the real jupyterhub-singleuser behind batchspawner's own batchspawner-singleuser (so the
// same job script, the same port report), with the same settings: the default SlurmSpawner script, sudo -E -u as
// exec_prefix, startup_poll_interval 0.5 s. Needs root, slurm-wlm, munge, sudo and batchspawner's git tag v1.3.0
// (BATCHSPAWNER_SRC: a directory holding its batchspawner/ package).
//
//   node_modules/.bin/node bench/slurm.ts --n 5 --rounds 2
//
// Per round and system: the spawn→ready time of each server (POST …/server until servers[""].ready, polled every
// 100 ms), the time until all are ready, the hub's CPU seconds over that span (JupyterHub: hub + CHP; the submit and
// query commands it runs are counted separately, as "commands"), and the hub's peak RSS.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSlurmCluster } from '../test/support/slurm.ts';
import { createUser, requestServer, stopServer, viaProxy, waitServerReady } from './lib/hub-api.ts';
import { cleanupAll } from './lib/procs.ts';
import { proxyPid, hubRssMiB } from './lib/rss.ts';
import { median } from './lib/stats.ts';
import { markdownTable } from './lib/table.ts';
import { startNodehub } from './nodehub.ts';
import { py, startReferenceHub, type RunningHub } from './reference.ts';

const { values: args } = parseArgs({ options: { n: { type: 'string', default: '5' }, rounds: { type: 'string', default: '2' } } });
const N = Number(args.n);
const ROUNDS = Number(args.rounds);
const SRC = process.env.BATCHSPAWNER_SRC ?? '/tmp/bs130';
if (!existsSync(join(SRC, 'batchspawner', 'singleuser.py'))) {
  throw new Error(`batchspawner's source is not at ${SRC}: git archive v1.3.0 batchspawner | tar -x -C ${SRC}`);
}

// A directory every job can read: the cluster, batchspawner's package and its batchspawner-singleuser.
const shared = mkdtempSync(join(tmpdir(), 'nodehub-bench-slurm-'));
chmodSync(shared, 0o755);
const pkg = join(shared, 'py');
mkdirSync(pkg);
execFileSync('cp', ['-r', join(SRC, 'batchspawner'), pkg]);
execFileSync('chmod', ['-R', 'a+rX', pkg]);
const wrapper = join(shared, 'batchspawner-singleuser');
// sudo drops PYTHONPATH (it is on sudo's list of variables to remove, -E or not), so the path is in the script
writeFileSync(wrapper, `#!/usr/bin/python3\nimport sys\nsys.path.insert(0, ${JSON.stringify(pkg)})\nfrom batchspawner.singleuser import main\nmain()\n`, { mode: 0o755 });
mkdirSync(join(shared, 'cluster'));
const cluster = await startSlurmCluster(join(shared, 'cluster'), 64);
const users = Array.from({ length: N }, (_, i) => `nhbench${i}`);
for (const u of users) {
  try {
    execFileSync('id', [u], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['-m', '-s', '/bin/bash', u]);
  }
}
const env = { SLURM_CONF: cluster.conf };
const keep = ['PATH', 'LANG', 'SLURM_CONF'];

const systems: Record<string, () => Promise<RunningHub>> = {
  nodehub: () => startNodehub({
    node: '', mock: '', env, startTimeoutMs: 60_000,
    nodehubConfig: {
      JupyterHub: { spawner_class: 'batchspawner.SlurmSpawner', log_level: 'WARN' },
      Spawner: { cmd: ['jupyterhub-singleuser'], env_keep: keep, http_timeout: 300, start_timeout: 600 },
      SlurmSpawner: { batchspawner_singleuser_cmd: wrapper, req_runtime: '01:00:00' },
    },
  }),
  'JupyterHub 3.0 + batchspawner 1.3.0': () => startReferenceHub({
    // the hub imports batchspawner; its jobs do not see this (env_keep leaves it out, and sudo would drop it)
    node: '', mock: '', env: { ...env, PYTHONPATH: pkg }, startTimeoutMs: 60_000,
    jupyterhubConfig: [
      'import batchspawner  # registers POST /hub/api/batchspawner',
      `c.JupyterHub.spawner_class = 'batchspawner.SlurmSpawner'`,
      `c.Spawner.cmd = ['jupyterhub-singleuser']`,
      `c.Spawner.env_keep = [${keep.map(py).join(', ')}]`,
      'c.Spawner.http_timeout = 300',
      'c.Spawner.start_timeout = 600',
      `c.SlurmSpawner.batchspawner_singleuser_cmd = ${py(wrapper)}`,
      `c.SlurmSpawner.req_runtime = '01:00:00'`,
      `c.JupyterHub.log_level = 'WARN'`,
    ],
  }),
};

/** utime+stime and cutime+cstime of a process, in seconds. */
function cpu(pid: number): { own: number; children: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const tick = 100;
  return { own: (Number(f[11]) + Number(f[12])) / tick, children: (Number(f[13]) + Number(f[14])) / tick };
}

interface Round { latencies: number[]; all: number; cpu: number; commands: number; rss: number }

async function round(hub: RunningHub): Promise<Round> {
  const pids = [hub.process.pid, proxyPid(hub)].filter((p): p is number => p !== undefined);
  const before = pids.map(cpu);
  let rss = hubRssMiB(hub);
  const sampler = setInterval(() => {
    if (!hub.process.hasExited()) rss = Math.max(rss, hubRssMiB(hub));
  }, 200);
  const t0 = performance.now();
  let latencies: number[];
  try {
    latencies = await Promise.all(users.map(async (u) => {
      await requestServer(hub, u);
      await waitServerReady(hub, u, 100, 600_000);
      return performance.now() - t0;
    }));
  } catch (err) {
    console.error(`${hub.name}: ${(err as Error).message}\n${hub.process.logTail(30)}`);
    throw err;
  } finally {
    clearInterval(sampler);
  }
  const all = performance.now() - t0;
  const after = pids.map(cpu);
  for (const u of users) {
    const status = await viaProxy(hub, u);
    if (status >= 500) throw new Error(`${u}'s server answered ${status} through ${hub.name}'s proxy`);
  }
  await Promise.all(users.map((u) => stopServer(hub, u, 120_000)));
  const sum = (xs: { own: number; children: number }[], k: 'own' | 'children') => xs.reduce((a, x) => a + x[k], 0);
  return { latencies, all, cpu: sum(after, 'own') - sum(before, 'own'), commands: sum(after, 'children') - sum(before, 'children'), rss };
}

const results: Record<string, Round[]> = {};
try {
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? Object.keys(systems) : Object.keys(systems).reverse();
    for (const name of order) {
      const hub = await systems[name]!();
      try {
        for (const u of users) await createUser(hub, u);
        const res = await round(hub);
        (results[name] ??= []).push(res);
        console.error(`${name} round ${r + 1}: all ${N} ready in ${(res.all / 1000).toFixed(1)} s, hub CPU ${res.cpu.toFixed(2)} s, commands ${res.commands.toFixed(2)} s, peak RSS ${res.rss.toFixed(0)} MiB`);
      } finally {
        await hub.stop();
      }
    }
  }
} finally {
  await cluster.stop();
  await cleanupAll();
  for (const u of users) execFileSync('userdel', ['-r', u], { stdio: 'ignore' });
  rmSync(shared, { recursive: true, force: true });
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
console.log(`\n${N} concurrent Slurm spawns (real jupyterhub-singleuser), ${ROUNDS} rounds, medians (ranges):\n`);
console.log(markdownTable(['system', 'spawn→ready, median server', 'all ready', 'hub CPU', 'commands CPU', 'peak hub RSS'], Object.entries(results).map(([name, rs]) => {
  const range = (xs: number[], f: (x: number) => string) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
  return [
    name,
    range(rs.map((r) => median(r.latencies)), s),
    range(rs.map((r) => r.all), s),
    range(rs.map((r) => r.cpu * 1000), (x) => `${(x / 1000).toFixed(2)} s`),
    range(rs.map((r) => r.commands * 1000), (x) => `${(x / 1000).toFixed(2)} s`),
    range(rs.map((r) => r.rss), (x) => `${x.toFixed(0)} MiB`),
  ];
})));
