// The event storm (issue 13): N visitors arriving over T seconds (Poisson) at an ephemeral hub, each a scripted browser
// (a sample in real Chromium) that reaches a server, runs a cell over the kernel websocket and keeps it open through a
// soak, running a cell now and then; a tenth come back by the same link, a tenth arrive by an nbgitpuller link. At the
// end every visitor's kernel must still answer. The same storm runs against nodehub and JupyterHub 3.0 + CHP in one run;
// as many visitors as this machine holds get real jupyterhub-singleuser servers with real kernels (measured first),
// the rest the mock. Variants: warm pool, limits, the hub killed in the middle, the Kubernetes simulator with nodes
// joining late. Flags and figures: bench/README.md.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { NODEHUB_NODE } from './nodehub.ts';
import { cleanupAll, makeTempDir } from './lib/procs.ts';
import { launchChromium } from './storm/chromium.ts';
import { startKube, type KubeVariant } from './storm/kube.ts';
import { startMux } from './storm/mux.ts';
import { figures, render, type Figures } from './storm/report.ts';
import { runStorm, type StormRun } from './storm/run.ts';
import { chooseSplit, memAvailableMiB } from './storm/split.ts';
import { startStormJupyterhub, startStormNodehub, type HubPlan } from './storm/targets.ts';

const { values: flags } = parseArgs({
  options: {
    visitors: { type: 'string', default: '1000' },
    over: { type: 'string', default: '120' },
    soak: { type: 'string', default: '600' },
    'soak-cell-every': { type: 'string', default: '60' },
    systems: { type: 'string', default: 'nodehub,jupyterhub' },
    pool: { type: 'string', default: '0' },
    limit: { type: 'string', default: '0' },
    'spawn-limit': { type: 'string', default: '0' },
    'kill-at': { type: 'string', default: '0' },
    real: { type: 'string', default: 'auto' },
    'max-real': { type: 'string', default: '100' },
    'mem-share': { type: 'string', default: '0.5' },
    'cpu-share': { type: 'string', default: '0.25' },
    chromium: { type: 'string', default: '20' },
    'chromium-nice': { type: 'string', default: '0' },
    deadline: { type: 'string', default: '300' },
    kube: { type: 'boolean', default: false },
    'nodes-join-at': { type: 'string', default: '60' },
    'kube-nodes': { type: 'string', default: '4' },
  },
});
const N = Number(flags.visitors);
const OVER_S = Number(flags.over);
const SOAK_S = Number(flags.soak);
const CHROMIUM = Math.min(Number(flags.chromium), N);
const systems = flags.kube ? ['nodehub'] : flags.systems.split(',').map((x) => x.trim());
const log = (m: string) => process.stderr.write(`[storm ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

// Every server, browser and hub is ours to end: a watchdog for time and for the machine's memory.
const hardLimitMs = systems.length * (OVER_S + SOAK_S + Number(flags.deadline) + 600) * 1000;
setTimeout(() => { log(`past the run's ${hardLimitMs / 60_000} minute limit: stopping everything`); void cleanupAll().then(() => process.exit(2)); }, hardLimitMs).unref();
const memFloorMiB = Math.max(1024, memAvailableMiB() * 0.1);
setInterval(() => {
  if (memAvailableMiB() < memFloorMiB) {
    log(`MemAvailable fell below ${memFloorMiB.toFixed(0)} MiB: stopping everything before the machine runs out`);
    void cleanupAll().then(() => process.exit(3));
  }
}, 1000).unref();

async function main(): Promise<void> {
  const load0 = (await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ');
  const work = makeTempDir('storm');
  // a local repository for the nbgitpuller links (real servers clone it; the mock ignores it)
  const repo = join(work, 'storm-repo');
  mkdirSync(repo);
  writeFileSync(join(repo, 'README.md'), '# storm\n');
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=storm', '-c', 'user.email=storm@localhost', '-c', 'init.defaultBranch=main', ...args], { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'storm');

  const split = flags.kube ? null : await chooseSplit({
    visitors: N, overS: OVER_S, maxReal: Number(flags['max-real']), memShare: Number(flags['mem-share']), cpuShare: Number(flags['cpu-share']),
    // hubs, the mux, Chromium's sample and the visitors' own process
    reserveMiB: 1500 + CHROMIUM * 120, fixed: flags.real === 'auto' ? undefined : Number(flags.real),
  });
  const real = split?.real ?? 0;
  if (split) log(`real servers: ${real} of ${N}; ${split.why}`);
  // memory for the whole run, checked before anything starts: real servers, the mock servers' shells, Chromium
  const needMiB = real * (split?.calibration.pssMiB ?? 0) + (N - real) * 1.5 + CHROMIUM * 120 + 1500;
  if (needMiB > memAvailableMiB() * 0.8) throw new Error(`the run would need ~${needMiB.toFixed(0)} MiB, more than 80 % of MemAvailable (${memAvailableMiB().toFixed(0)} MiB): lower --real or --visitors`);

  const mux = await startMux(work, NODEHUB_NODE);
  let browser: Browser | null = null;
  let kube: KubeVariant | null = null;
  const done: Array<{ run: StormRun; fig: Figures }> = [];
  try {
    if (CHROMIUM) browser = await launchChromium(work, Number(flags['chromium-nice']));
    for (const system of systems) {
      if (flags.kube) kube = await startKube(NODEHUB_NODE, mux.command, Number(flags['kube-nodes']), Math.ceil((2 * N) / Number(flags['kube-nodes'])));
      const plan: HubPlan = {
        real, visitors: N, mockCmd: mux.command, pool: Number(flags.pool), limit: Number(flags.limit), spawnLimit: Number(flags['spawn-limit']),
        ...(kube ? { kube: kube.settings } : {}),
      };
      log(`starting ${system}`);
      const hub = system === 'jupyterhub' ? await startStormJupyterhub(plan) : await startStormNodehub(plan);
      try {
        const run = await runStorm(hub, {
          visitors: N, overMs: OVER_S * 1000, soakMs: SOAK_S * 1000, soakCellEveryMs: Number(flags['soak-cell-every']) * 1000,
          killAtMs: system === 'nodehub' ? Number(flags['kill-at']) * 1000 : 0, deadlineMs: Number(flags.deadline) * 1000,
          chromium: CHROMIUM, browser, nbgitpullerRepo: `file://${repo}`,
          onStart: () => void kube?.joinAfter(Number(flags['nodes-join-at']) * 1000),
        });
        done.push({ run, fig: figures(run, kube?.joinedAt ?? null) });
        // every visitor's record, for reading one run closely (kept with BENCH_KEEP_TMP=1)
        writeFileSync(join(work, `visitors-${system}.json`), JSON.stringify({ start: run.start, chromium: [...run.chromiumIds], results: run.results }));
      } finally {
        log(`stopping ${system}`);
        await hub.stop();
        await kube?.close();
        kube = null;
      }
    }
  } finally {
    await browser?.close().catch(() => {});
    await mux.process.stop();
  }
  const variant = [
    `${N} visitors over ${OVER_S} s, soak ${SOAK_S} s (a cell from ~30 % every ${flags['soak-cell-every']} s)`,
    `${CHROMIUM} in Chromium`, flags.kube ? `KubeSpawner on the simulator (its own process), ${flags['kube-nodes']} nodes joining ${flags['nodes-join-at']} s after the start (TriggeredScaleUp at once)` : `${real} real servers`,
    Number(flags.pool) ? `pool ${flags.pool}` : 'no pool', Number(flags.limit) ? `active_server_limit ${flags.limit}` : '',
    Number(flags['spawn-limit']) ? `concurrent_spawn_limit ${flags['spawn-limit']}` : '', Number(flags['kill-at']) ? `nodehub SIGKILLed at ${flags['kill-at']} s, restarted 2 s later` : '',
  ].filter(Boolean).join(', ');
  process.stdout.write(`\n## Storm (${new Date().toISOString().slice(0, 16)}Z, ${cpus().length} CPUs, load at start ${load0}): ${variant}\n\n`);
  if (split) process.stdout.write(`Split: ${real} real, ${N - real} mock; ${split.why}.\n\n`);
  process.stdout.write(`${render(done)}\n`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench/storm.ts: ${(err as Error).stack ?? (err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
process.exit();
