// Benchmark: a new visitor's wait, from submitting the first form to the notebook page, on nodehub with a warm pool of
// 2 servers, on nodehub without a pool (a cold spawn), and on Debian's JupyterHub 3.0 + CHP. Both nodehubs use the tmp
// authenticator behind the shared password, so their form is the password page; JupyterHub 3.0 has no shared password,
// so its equivalent step is the DummyAuthenticator login form (a fresh user name each round). All spawn the mock
// single-user server, or with `--server real` Debian's jupyterhub-singleuser with the classic notebook (as `npm start`
// runs it), whose tree page is reached through its OAuth round with the hub; then nodehub without a pool also runs
// with LocalProcessSpawner.preload off. After each pooled visit the pool must be back to 2 ready servers.
//
//   node_modules/.bin/node bench/pool.ts [--rounds N] [--server mock|real]
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { firstVisit, type FirstVisit } from './lib/first-visit.ts';
import { hubApi, stopServer } from './lib/hub-api.ts';
import { freePort } from './lib/ports.ts';
import { cleanupAll, makeTempDir, startProcess, waitForUrl } from './lib/procs.ts';
import { runRounds } from './lib/rounds.ts';
import { formatMs, formatRatio, summarize } from './lib/stats.ts';
import { markdownTable } from './lib/table.ts';
import { NODEHUB_CLI, NODEHUB_NODE, REPO_ROOT } from './nodehub.ts';
import { py, startReferenceHub, type RunningHub } from './reference.ts';

const MOCK = join(REPO_ROOT, 'test', 'support', 'mock-singleuser.mjs');
const SINGLEUSER = '/usr/bin/jupyterhub-singleuser';

/** What the hubs spawn. */
interface ServerKind {
  name: 'mock' | 'real';
  cmd: string[];
  environment: Record<string, string>;
  describe: string;
}

const KINDS: Record<ServerKind['name'], ServerKind> = {
  mock: { name: 'mock', cmd: [process.execPath, MOCK], environment: {}, describe: `\`${process.execPath} ${MOCK}\`` },
  real: {
    name: 'real',
    cmd: [SINGLEUSER],
    environment: { JUPYTERHUB_SINGLEUSER_APP: 'notebook.notebookapp.NotebookApp' },
    describe: `Debian's ${SINGLEUSER} with JUPYTERHUB_SINGLEUSER_APP=notebook.notebookapp.NotebookApp (the classic notebook, as npm start runs it)`,
  },
};
const PASSWORD = 'bench-event-password';
const POOL_SIZE = 2;
/** Issue 5's targets for a first visit: from the pool, and cold (a server spawned for the visit). */
const POOL_TARGET_MS = 150;
const COLD_TARGET_MS = 600;
const ROUND_BUDGET_MS = 120_000;
const REFILL_TIMEOUT_MS = 30_000;

interface System {
  label: string;
  start: () => Promise<RunningHub>;
  form: () => Record<string, string>;
  pooled: boolean;
  hub?: RunningHub;
  error?: string;
  samples: number[];
  refills: number[];
  pendingPages: number;
}

function parseOptions(): { rounds: number; kind: ServerKind } {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, server: { type: 'string', default: 'mock' } } });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 200) {
    throw new Error(`--rounds must be an integer from 1 to 200, got ${JSON.stringify(values.rounds)}`);
  }
  if (values.server !== 'mock' && values.server !== 'real') throw new Error(`--server must be mock or real, got ${JSON.stringify(values.server)}`);
  return { rounds, kind: KINDS[values.server] };
}

/** nodehub from its CLI with the tmp authenticator, the shared password in its environment and `pool_size`. */
async function startVisitorNodehub(label: string, poolSize: number, kind: ServerKind, preload = true): Promise<RunningHub> {
  const dir = makeTempDir('nodehub-pool');
  const port = await freePort();
  const token = randomBytes(32).toString('hex');
  const config = {
    JupyterHub: {
      ip: '127.0.0.1', port, db_url: `sqlite:///${join(dir, 'nodehub.sqlite')}`, authenticator_class: 'tmp',
      services: [{ name: 'bench', api_token: token, admin: true }],
    },
    Spawner: { cmd: kind.cmd, environment: kind.environment, pool_size: poolSize },
    LocalProcessSpawner: { home_dir_template: join(dir, 'home', '{username}'), preload, uid_range: null, allow_unisolated: true },
  };
  const configPath = join(dir, 'nodehub.yaml');
  writeFileSync(configPath, stringify(config));
  const t0 = performance.now();
  const proc = startProcess({
    name: 'nodehub', command: NODEHUB_NODE, args: [NODEHUB_CLI, '-f', configPath], cwd: dir,
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8', NODEHUB_SHARED_PASSWORD: PASSWORD },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForUrl(`${url}/hub/health`, { process: proc, timeoutMs: 60_000, accept: (s) => s === 200 });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { name: label, url, token, startupMs: performance.now() - t0, process: proc, stop: () => proc.stop(15_000) };
}

/** A Prometheus sample of the hub's /hub/api/metrics (0 when the series is absent). */
async function metric(hub: RunningHub, series: string): Promise<number> {
  const res = await hubApi(hub, 'GET', '/metrics');
  if (res.status !== 200) throw new Error(`GET /hub/api/metrics answered ${res.status}`);
  const line = String(res.body).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

const POOL_READY = 'nodehub_pool_size{profile=""}';
const POOL_HITS = 'nodehub_pool_hits_total{profile=""}';

/** Milliseconds until the pool holds POOL_SIZE ready servers again. */
async function waitRefilled(hub: RunningHub): Promise<number> {
  const t0 = performance.now();
  while ((await metric(hub, POOL_READY)) < POOL_SIZE) {
    if (performance.now() - t0 > REFILL_TIMEOUT_MS) throw new Error(`the pool did not refill to ${POOL_SIZE} within ${REFILL_TIMEOUT_MS} ms`);
    await sleep(10);
  }
  return performance.now() - t0;
}

/** One visitor on one system; the visitor's server is stopped afterwards so rounds do not pile up processes. */
async function round(sys: System): Promise<FirstVisit> {
  const hub = sys.hub!;
  const hitsBefore = sys.pooled ? await metric(hub, POOL_HITS) : 0;
  const visit = await firstVisit({
    origin: hub.url, entry: '/hub/', form: sys.form(), isNotebook: (p) => /^\/user\/[^/]+\/tree\/?$/.test(p),
  });
  if (sys.pooled) {
    if ((await metric(hub, POOL_HITS)) !== hitsBefore + 1) throw new Error(`the visit missed the pool: ${visit.hops.join(' -> ')}`);
    sys.refills.push(await waitRefilled(hub));
  }
  await stopServer(hub, visit.user);
  return visit;
}

function report(rounds: number, kind: ServerKind, systems: System[], notes: string[]): string {
  const ref = systems.find((s) => s.label.startsWith('JupyterHub'));
  const base = ref?.samples.length ? summarize(ref.samples).median : undefined;
  const right = { align: 'right' as const };
  const rows = systems.map((sys) => {
    if (!sys.samples.length) return [sys.label, 'n/a', 'n/a', 'n/a', '0', 'n/a'];
    const s = summarize(sys.samples);
    return [sys.label, formatMs(s.median), formatMs(s.min), formatMs(s.max), String(s.n), formatRatio(s.median, base)];
  });
  const table = markdownTable(
    ['system: form submitted → notebook page', { title: 'median', ...right }, { title: 'min', ...right },
      { title: 'max', ...right }, { title: 'n', ...right }, { title: 'ratio to JupyterHub', ...right }],
    rows,
  );
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  const head = `## New visitor to notebook page, ${kind.name === 'real' ? 'real jupyter-server' : 'mock server'} (${rounds} rounds requested, ${new Date().toISOString().slice(0, 16)}Z, ` +
    `Node ${process.version}, ${cpus().length} CPUs, load ${load})`;
  return [head, '', table, '', ...notes.map((n) => `- ${n}`)].join('\n');
}

/** Debian's JupyterHub spawning the same command, with the same environment. */
function startJupyterhub(kind: ServerKind): Promise<RunningHub> {
  const lines = kind.name === 'mock' ? [] : [
    `c.Spawner.cmd = [${kind.cmd.map(py).join(', ')}]`,
    `c.Spawner.environment = ${JSON.stringify(kind.environment)}`,
    // As root, jupyter refuses to run without it; nodehub adds it itself.
    ...(process.getuid?.() === 0 ? [`c.Spawner.args = ['--allow-root']`] : []),
  ];
  return startReferenceHub({ node: process.execPath, mock: MOCK, jupyterhubConfig: lines });
}

async function main(): Promise<void> {
  const { rounds, kind } = parseOptions();
  for (const file of [MOCK, ...(kind.name === 'real' ? [SINGLEUSER] : [])]) if (!existsSync(file)) throw new Error(`${file} is missing`);
  const password = () => ({ password: PASSWORD });
  const systems: System[] = [
    {
      label: 'JupyterHub 3.0 + CHP (login form, no pool)', pooled: false,
      start: () => startJupyterhub(kind),
      form: () => ({ username: `v${randomBytes(4).toString('hex')}`, password: 'x' }),
    },
    { label: `nodehub, pool of ${POOL_SIZE} (password form)`, pooled: true, start: () => startVisitorNodehub('nodehub pool', POOL_SIZE, kind), form: password },
    { label: 'nodehub, no pool (password form)', pooled: false, start: () => startVisitorNodehub('nodehub cold', 0, kind), form: password },
    ...(kind.name === 'real' ? [{
      label: 'nodehub, no pool, preload off (password form)', pooled: false,
      start: () => startVisitorNodehub('nodehub cold plain', 0, kind, false), form: password,
    }] : []),
  ].map((s) => ({ ...s, samples: [], refills: [], pendingPages: 0 }));
  const notes: string[] = [];
  const log = (msg: string) => process.stderr.write(`${msg}\n`);

  for (const sys of systems) {
    try {
      sys.hub = await sys.start();
      if (sys.pooled) await waitRefilled(sys.hub);
      log(`${sys.label} up in ${formatMs(sys.hub.startupMs)} at ${sys.hub.url}`);
      await round(sys); // warm-up, not counted
    } catch (err) {
      sys.error = (err as Error).message;
      log(`${sys.label} unavailable: ${sys.error}`);
    }
  }
  await runRounds(systems, {
    rounds, budgetMs: ROUND_BUDGET_MS, notes, log,
    ready: (sys) => !!sys.hub,
    measure: async (sys) => {
      const visit = await round(sys);
      sys.samples.push(visit.ms);
      if (visit.sawPending) sys.pendingPages++;
      return visit.ms;
    },
  });

  const pool = systems.find((s) => s.pooled)!;
  const cold = systems.find((s) => s.label === 'nodehub, no pool (password form)')!;
  for (const [sys, target, what] of [[pool, POOL_TARGET_MS, 'from the pool'], [cold, COLD_TARGET_MS, 'cold']] as const) {
    if (!sys.samples.length) continue;
    const m = summarize(sys.samples).median;
    notes.push(`target for a first visit ${what}: median ≤ ${target} ms: ${m <= target ? 'met' : 'NOT met'} (${formatMs(m)})`);
  }
  if (pool.refills.length) {
    notes.push(`the pool was back to ${POOL_SIZE} ready servers after every visit (${pool.refills.length} of ${pool.refills.length}, the warm-up included); ` +
      `refill median ${formatMs(summarize(pool.refills).median)}, max ${formatMs(summarize(pool.refills).max)}`);
  }
  for (const sys of systems) {
    if (sys.pendingPages) notes.push(`${sys.label}: the spawn-pending page was shown in ${sys.pendingPages} rounds (timed to the ready event and the reload)`);
    if (sys.hub) notes.push(`${sys.label}: hub start-up ${formatMs(sys.hub.startupMs)} (one sample)`);
    if (sys.error) notes.push(`${sys.label} failed: ${sys.error.split('\n')[0]}`);
  }
  notes.push('JupyterHub 3.0 has no shared password: its step is the DummyAuthenticator login POST, which creates the user as ' +
    "nodehub's tmp login does; the clock runs from that POST (or nodehub's POST /hub/password) to the 200 of /user/<name>/tree/, " +
    'redirects followed by a scripted client; each visitor\'s server is stopped after its round (not timed)');
  notes.push(`all systems spawn ${kind.describe}; only ratios within one run are comparable`);
  if (kind.name === 'real') {
    notes.push('a real visit ends after the server\'s OAuth round with the hub (server → /hub/api/oauth2/authorize → ' +
      'oauth_callback → tree); "no pool" is cold for the server, not for the hub: a warm-up visit ran first on every system ' +
      '(nodehub\'s fork server for preloading started then)');
  }
  process.stdout.write(report(rounds, kind, systems, notes) + '\n');
  for (const sys of systems) {
    if (sys.error && sys.hub) process.stderr.write(`\n--- ${sys.label} log tail ---\n${sys.hub.process.logTail(20)}\n`);
  }
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench/pool.ts: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
