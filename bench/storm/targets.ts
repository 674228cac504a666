// The hubs a storm runs against, started the same way and given the same servers: a real jupyterhub-singleuser
// (classic notebook, real kernels) for `real` of the `visitors` users, spread evenly over the order of spawning (the
// first spawn, then one in every visitors/real), the mock mux for the others (decided in each hub's pre_spawn_hook and
// written to a file per user, so a server started again after a hub restart keeps its kind). Spread, not the first
// `real` to arrive: the split's CPU budget is for real starts over the whole arrival window, and 25 real servers
// booting in the first 3 s held the machine for the storm's first half minute while the line grew (bench/RESULTS.md).
//   - nodehub: the tmp authenticator behind the shared password page (the event link), LocalProcessSpawner (or the
//     Kubernetes spawner against the simulator), defaults otherwise; killable and restartable on the same database.
//   - JupyterHub 3.0 + configurable-http-proxy 5.3 (npm): DummyAuthenticator form, SimpleLocalProcessSpawner, defaults
//     otherwise (concurrent_spawn_limit 100, slow_spawn_timeout 10 s, start_timeout 60 s).
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODEHUB_CLI, NODEHUB_NODE } from '../nodehub.ts';
import { py, startReferenceHub, SYSTEM_NODE } from '../reference.ts';
import { NPM_CHP, SINGLEUSER } from '../hub/systems.ts';
import { freePort } from '../lib/ports.ts';
import { proxyPid } from '../lib/rss.ts';
import { makeTempDir, startProcess, waitForUrl, type ManagedProcess } from '../lib/procs.ts';

export const NOTEBOOK_APP = 'notebook.notebookapp.NotebookApp';
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface StormHub {
  name: string;
  origin: string;
  login: 'password' | 'dummy';
  password: string;
  token: string;
  dir: string;
  /** The hub's log (nodehub at WARN unless BENCH_LOG_LEVEL says otherwise; JupyterHub at its default INFO). */
  logPath: string;
  /** The hub's processes (JupyterHub's with its proxy), for CPU and RSS. */
  pids(): number[];
  /** SIGKILL the hub process alone (its servers live on, as after a crash). */
  kill(): void;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface HubPlan {
  /** How many users get a real server; the rest get `mockCmd`. */
  real: number;
  /** The storm's size, over which the real servers are spread. */
  visitors: number;
  mockCmd: string[];
  pool: number;
  limit: number;
  spawnLimit: number;
  /** nodehub only: spawn through KubeSpawner with these settings instead of LocalProcessSpawner. */
  kube?: Record<string, unknown>;
}

/** The per-user choice, shared by both hubs' hooks: slots/real/<name> or slots/mock/<name>. */
function slotsDir(dir: string): string {
  for (const k of ['real', 'mock']) mkdirSync(join(dir, 'slots', k), { recursive: true });
  return join(dir, 'slots');
}

export async function startStormNodehub(plan: HubPlan): Promise<StormHub> {
  const dir = makeTempDir('storm-nodehub');
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const password = 'storm-password';
  const slots = slotsDir(dir);
  const config = {
    JupyterHub: {
      ip: '127.0.0.1', port, db_url: `sqlite:///${join(dir, 'nodehub.sqlite')}`, cookie_secret_file: join(dir, 'cookie_secret'),
      authenticator_class: 'tmp', log_level: process.env.BENCH_LOG_LEVEL ?? 'WARN',
      services: [{ name: 'storm', api_token: token, admin: true }],
      ...(plan.limit ? { active_server_limit: plan.limit } : {}),
      ...(plan.spawnLimit ? { concurrent_spawn_limit: plan.spawnLimit } : {}),
      ...(plan.kube ? { spawner_class: 'kubernetes' } : {}),
    },
    IdleCuller: { enabled: false },
    Spawner: {
      cmd: [SINGLEUSER], environment: { JUPYTERHUB_SINGLEUSER_APP: NOTEBOOK_APP },
      ...(plan.pool ? { pool_size: plan.pool } : {}),
    },
    LocalProcessSpawner: { home_dir_template: join(dir, 'home', '{username}'), uid_range: null, allow_unisolated: true },
    ...(plan.kube ? { KubeSpawner: plan.kube } : {}),
  };
  // the hook: a .mjs config is the one place a function can be given (JupyterHub's pre_spawn_hook)
  const file = join(dir, 'nodehub.mjs');
  writeFileSync(file, `import fs from 'node:fs';
const config = ${JSON.stringify(config, null, 1)};
const SLOTS = ${JSON.stringify(slots)};
const REAL = ${plan.kube ? 0 : plan.real};
const VISITORS = ${plan.visitors};
const MOCK_CMD = ${JSON.stringify(plan.mockCmd)};
// counted once per hub process (a restarted hub counts again), not by listing both folders at every spawn
let counts = null;
config.Spawner.pre_spawn_hook = (spawner) => {
  const name = spawner.user.name;
  let kind = fs.existsSync(SLOTS + '/real/' + name) ? 'real' : fs.existsSync(SLOTS + '/mock/' + name) ? 'mock' : null;
  if (!kind) {
    counts ??= { real: fs.readdirSync(SLOTS + '/real').length, mock: fs.readdirSync(SLOTS + '/mock').length };
    const spawned = counts.real + counts.mock;
    kind = counts.real < REAL && counts.real * VISITORS <= spawned * REAL ? 'real' : 'mock';
    counts[kind]++;
    fs.writeFileSync(SLOTS + '/' + kind + '/' + name, '');
  }
  if (kind === 'mock') spawner.config.cmd = MOCK_CMD;
};
export default config;
`);
  let proc: ManagedProcess;
  const origin = `http://127.0.0.1:${port}`;
  const launch = async () => {
    proc = startProcess({
      name: 'nodehub', command: NODEHUB_NODE, args: [NODEHUB_CLI, '-f', file], cwd: dir,
      env: { PATH: SYSTEM_PATH, HOME: dir, LANG: 'C.UTF-8', NODEHUB_SHARED_PASSWORD: password, ...(process.env.BENCH_HUB_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_HUB_NODE_OPTIONS } : {}) },
    });
    await waitForUrl(`${origin}/hub/health`, { process: proc, timeoutMs: 60_000, accept: (s) => s === 200 });
  };
  await launch();
  return {
    name: plan.kube ? 'nodehub (KubeSpawner, simulator)' : 'nodehub', origin, login: 'password', password, token, dir, logPath: join(dir, 'nodehub.log'),
    pids: () => [proc.pid],
    kill: () => process.kill(proc.pid, 'SIGKILL'),
    restart: launch,
    stop: () => proc.stop(60_000),
  };
}

export async function startStormJupyterhub(plan: HubPlan): Promise<StormHub> {
  if (plan.kube) throw new Error('the Kubernetes variant runs on nodehub only (the simulator has no KubeSpawner 3.0 here)');
  const node = NODEHUB_NODE;
  const slots = slotsDir(makeTempDir('storm-jupyterhub-slots'));
  const hub = await startReferenceHub({
    node, mock: '', readyPath: '/hub/health', startTimeoutMs: 60_000,
    jupyterhubConfig: [
      `c.ConfigurableHTTPProxy.command = [${py(SYSTEM_NODE)}, ${py(NPM_CHP)}]`,
      `c.Spawner.cmd = [${py(SINGLEUSER)}]`,
      `c.Spawner.environment = {'JUPYTERHUB_SINGLEUSER_APP': ${py(NOTEBOOK_APP)}}`,
      ...(process.getuid?.() === 0 ? [`c.Spawner.args = ['--allow-root']`] : []),
      ...(plan.limit ? [`c.JupyterHub.active_server_limit = ${plan.limit}`] : []),
      ...(plan.spawnLimit ? [`c.JupyterHub.concurrent_spawn_limit = ${plan.spawnLimit}`] : []),
      'import os',
      `SLOTS, REAL, VISITORS, MOCK_CMD = ${py(slots)}, ${plan.real}, ${plan.visitors}, ${JSON.stringify(plan.mockCmd)}`,
      "counts = {'real': 0, 'mock': 0}",
      'def storm_hook(spawner):',
      '    name = spawner.user.name',
      "    kind = 'real' if os.path.exists(f'{SLOTS}/real/{name}') else 'mock' if os.path.exists(f'{SLOTS}/mock/{name}') else None",
      '    if kind is None:',
      "        real, mock = counts['real'], counts['mock']",
      "        kind = 'real' if real < REAL and real * VISITORS <= (real + mock) * REAL else 'mock'",
      '        counts[kind] += 1',
      "        open(f'{SLOTS}/{kind}/{name}', 'w').close()",
      "    if kind == 'mock':",
      '        spawner.cmd = MOCK_CMD',
      'c.Spawner.pre_spawn_hook = storm_hook',
    ],
  });
  return {
    name: 'JupyterHub 3.0 + CHP 5.3', origin: hub.url, login: 'dummy', password: 'storm', token: hub.token, dir: hub.process.cwd, logPath: hub.process.logPath,
    pids: () => [hub.process.pid, ...(proxyPid(hub) ? [proxyPid(hub)!] : [])],
    kill: () => { throw new Error('the killed-hub variant runs on nodehub only'); },
    restart: async () => { throw new Error('not restartable'); },
    stop: () => hub.process.stop(60_000),
  };
}
