// Benchmark: from the REST request that starts a user's server to the hub reporting it ready, for Debian's JupyterHub
// 3.0 (+ configurable-http-proxy) and nodehub in the same run, plus the mock single-user server booting alone (the floor
// neither hub can beat). Rounds alternate the order of the systems so slow phases of a noisy machine hit both.
//
//   node_modules/.bin/node bench/spawn.ts [--rounds N]
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createUser, requestServer, stopServer, viaProxy, waitServerReady } from './lib/hub-api.ts';
import type { HubEndpoint } from './lib/hub-api.ts';
import { freePort } from './lib/ports.ts';
import { cleanupAll, makeTempDir, startProcess, waitForUrl } from './lib/procs.ts';
import { runRounds } from './lib/rounds.ts';
import { formatMs, formatRatio, summarize } from './lib/stats.ts';
import { markdownTable } from './lib/table.ts';
import { REPO_ROOT, startNodehub } from './nodehub.ts';
import { startReferenceHub } from './reference.ts';
import type { HubOptions, RunningHub } from './reference.ts';

const MOCK = join(REPO_ROOT, 'test', 'support', 'mock-singleuser.mjs');
/** Rounds stop once this much time has passed, whatever --rounds says, so a run stays within ~3 minutes. */
const ROUND_BUDGET_MS = 120_000;
const POLL_MS = 10;

interface System {
  label: string;
  start: (opts: HubOptions) => Promise<RunningHub>;
  hub?: RunningHub;
  error?: string;
  samples: number[];
  proxyStatuses: Set<number>;
}

function parseRounds(): number {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 200) {
    throw new Error(`--rounds must be an integer from 1 to 200, got ${JSON.stringify(values.rounds)}`);
  }
  return rounds;
}

/** One full cycle on a hub: create a fresh user, spawn, time until ready, check the proxy route, stop. */
async function spawnCycle(hub: HubEndpoint, name: string): Promise<{ ms: number; proxyStatus: number }> {
  await createUser(hub, name);
  const t0 = performance.now();
  await requestServer(hub, name);
  await waitServerReady(hub, name, POLL_MS);
  const ms = performance.now() - t0;
  const proxyStatus = await viaProxy(hub, name);
  if (proxyStatus >= 500) throw new Error(`GET /user/${name}/ through ${hub.name}'s proxy answered ${proxyStatus}`);
  await stopServer(hub, name);
  return { ms, proxyStatus };
}

/** The mock launched directly with the environment a hub would give it, timed until its prefix answers. */
async function mockAlone(dir: string, node: string): Promise<number> {
  const port = await freePort();
  const prefix = '/user/alone/';
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    JUPYTERHUB_USER: 'alone',
    JUPYTERHUB_API_TOKEN: randomBytes(16).toString('hex'),
    JUPYTERHUB_CLIENT_ID: 'jupyterhub-user-alone',
    JUPYTERHUB_API_URL: 'http://127.0.0.1:9/hub/api',
    JUPYTERHUB_SERVICE_PREFIX: prefix,
    JUPYTERHUB_SERVICE_URL: `http://127.0.0.1:${port}${prefix}`,
  };
  const t0 = performance.now();
  const proc = startProcess({ name: 'mock-alone', command: node, args: [MOCK], env, cwd: dir });
  try {
    await waitForUrl(`http://127.0.0.1:${port}${prefix}`, { process: proc, intervalMs: POLL_MS, timeoutMs: 15_000 });
    return performance.now() - t0;
  } finally {
    await proc.stop(5_000);
  }
}

function report(rounds: number, systems: System[], alone: number[], notes: string[]): string {
  const reference = systems[0]!.samples.length ? summarize(systems[0]!.samples).median : undefined;
  const rows: string[][] = [];
  const row = (label: string, samples: number[]) => {
    if (samples.length === 0) return rows.push([label, 'n/a', 'n/a', 'n/a', '0', 'n/a']);
    const s = summarize(samples);
    return rows.push([label, formatMs(s.median), formatMs(s.min), formatMs(s.max), String(s.n), formatRatio(s.median, reference)]);
  };
  for (const sys of systems) row(`${sys.label}: API request → ready`, sys.samples);
  row('mock single-user server alone: launch → answering', alone);
  const right = { align: 'right' as const };
  const table = markdownTable(
    ['system', { title: 'median', ...right }, { title: 'min', ...right }, { title: 'max', ...right }, { title: 'n', ...right },
      { title: 'ratio to JupyterHub', ...right }],
    rows,
  );
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  const head = `## Spawn to ready (${rounds} rounds requested, ${new Date().toISOString().slice(0, 16)}Z, ` +
    `Node ${process.version}, ${cpus().length} CPUs, load ${load})`;
  return [head, '', table, '', ...notes.map((n) => `- ${n}`)].join('\n');
}

async function main(): Promise<void> {
  const rounds = parseRounds();
  if (!existsSync(MOCK)) throw new Error(`the mock single-user server ${MOCK} is missing`);
  const opts: HubOptions = { node: process.execPath, mock: MOCK };
  const systems: System[] = [
    { label: 'JupyterHub 3.0 + CHP', start: startReferenceHub, samples: [], proxyStatuses: new Set() },
    { label: 'nodehub', start: startNodehub, samples: [], proxyStatuses: new Set() },
  ];
  const notes: string[] = [];
  const log = (msg: string) => process.stderr.write(`${msg}\n`);

  // Sequential start-up, so neither hub's boot competes with the other's; then one unmeasured cycle each to warm up.
  for (const sys of systems) {
    try {
      sys.hub = await sys.start(opts);
      log(`${sys.label} up in ${formatMs(sys.hub.startupMs)} at ${sys.hub.url}`);
      await spawnCycle(sys.hub, `warmup${randomBytes(3).toString('hex')}`);
    } catch (err) {
      sys.error = (err as Error).message;
      log(`${sys.label} unavailable: ${sys.error}`);
    }
  }
  const mockDir = makeTempDir('mock');
  const alone: number[] = [];
  await runRounds(systems, {
    rounds, budgetMs: ROUND_BUDGET_MS, notes, log,
    ready: (sys) => !!sys.hub,
    measure: async (sys, round) => {
      const { ms, proxyStatus } = await spawnCycle(sys.hub!, `r${round}x${randomBytes(3).toString('hex')}`);
      sys.samples.push(ms);
      sys.proxyStatuses.add(proxyStatus);
      return ms;
    },
    after: async () => {
      const ms = await mockAlone(mockDir, opts.node);
      alone.push(ms);
      return `, mock alone ${formatMs(ms)}`;
    },
  });

  for (const sys of systems) {
    if (sys.hub) notes.push(`${sys.label}: hub start-up ${formatMs(sys.hub.startupMs)} (one sample); ` +
      `GET /user/<name>/ through its proxy answered ${[...sys.proxyStatuses].join(', ') || 'never checked'}`);
    if (sys.error) notes.push(`${sys.label} failed: ${sys.error.split('\n')[0]}`);
  }
  notes.push(`both hubs spawn \`${opts.node} ${MOCK}\`; readiness polled every ${POLL_MS} ms; ` +
    'only ratios within one run are comparable');
  process.stdout.write(report(rounds, systems, alone, notes) + '\n');
  for (const sys of systems) {
    if (sys.error && sys.hub) process.stderr.write(`\n--- ${sys.label} log tail ---\n${sys.hub.process.logTail(20)}\n`);
  }
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench/spawn.ts: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
