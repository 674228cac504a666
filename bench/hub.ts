// Benchmark: the hub side of nodehub against Debian's JupyterHub 3.0 with configurable-http-proxy 5.3 from npm, in one
// run on this machine: start-up with many users in the database, the users listing, many spawns at once (mock and real
// single-user servers), logins per second and memory. Prints one Markdown table (see bench/README.md).
//
//   node_modules/.bin/node bench/hub.ts [--quick]
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { cleanupAll } from './lib/procs.ts';
import { formatMs } from './lib/stats.ts';
import { Results } from './hub/report.ts';
import { startupPhase } from './hub/startup.ts';
import type { StartupPlan } from './hub/startup.ts';
import { LABELS, MOCK, NPM_CHP, SINGLEUSER } from './hub/systems.ts';
import { workPhase } from './hub/work.ts';
import type { WorkPlan } from './hub/work.ts';

interface Plan {
  startup: StartupPlan;
  work: WorkPlan;
  /** Whole-run watchdog: past this, every process is killed and the run ends without a table. */
  hardLimitMs: number;
}

const FULL: Plan = {
  startup: {
    sizes: [0, 1_000, 10_000, 100_000, 1_000_000],
    rounds: (system, n) => (system === 'nodehub' ? 5 : n >= 1_000_000 ? 1 : 3),
    startTimeoutMs: 45_000,
    listAt: [100_000, 1_000_000],
    warmCalls: 20,
  },
  work: { mockWaves: [50, 200], mockRounds: 2, mockBudgetMs: 90_000, realServers: 50, realBudgetMs: 90_000, loginWindowMs: 5_000 },
  hardLimitMs: Number(process.env.BENCH_HARD_LIMIT_MIN ?? 9) * 60_000,
};

const QUICK: Plan = {
  startup: {
    sizes: [0, 10_000, 100_000],
    rounds: (system, n) => (system === 'nodehub' ? 3 : n >= 100_000 ? 1 : 2),
    startTimeoutMs: 30_000,
    listAt: [100_000],
    warmCalls: 10,
  },
  work: { mockWaves: [50], mockRounds: 1, mockBudgetMs: 40_000, realServers: 10, realBudgetMs: 40_000, loginWindowMs: 2_000 },
  hardLimitMs: Number(process.env.BENCH_HARD_LIMIT_MIN ?? 3) * 60_000,
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  const plan = values.quick ? QUICK : FULL;
  for (const file of [MOCK, NPM_CHP, SINGLEUSER]) if (!existsSync(file)) throw new Error(`${file} is missing`);
  const t0 = performance.now();
  const log = (msg: string) => process.stderr.write(`[${(performance.now() / 1000).toFixed(0).padStart(3)} s] ${msg}\n`);
  setTimeout(() => {
    log(`the run passed its ${plan.hardLimitMs / 60_000} minute limit: stopping everything`);
    process.exit(2);
  }, plan.hardLimitMs).unref();

  const res = new Results();
  await startupPhase(res, plan.startup, log);
  await workPhase(res, plan.work, log);

  res.notes.push(
    'start-up: launch → first 200 on GET /hub/health through the public port (polled every 5 ms), on databases filled ' +
      'directly with users who once had a (now stopped) default server; JupyterHub and nodehub launches alternate',
    `spawns: all requests sent at once; a server counts as ready when its POST …/server answers 201 (slow_spawn_timeout ` +
      'is raised on both hubs, so that answer means ready and routed); concurrent_spawn_limit = 0 on both',
    'RSS: VmRSS from /proc of the hub process plus, for JupyterHub, its configurable-http-proxy (spawned servers excluded)',
    `ratios are nodehub ÷ JupyterHub (below 1 is better for times and memory, above 1 for logins/s); ${LABELS.jupyterhub} ` +
      `runs CHP under /usr/bin/node; run took ${formatMs(performance.now() - t0)}`,
  );
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  process.stdout.write(`## Hub${values.quick ? ' (--quick)' : ''} (${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ` +
    `${cpus().length} CPUs, load ${load})\n\n${res.render()}\n`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench/hub.ts: ${(err as Error).stack ?? (err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
