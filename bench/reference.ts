// The reference side: Debian's JupyterHub 3.0 with the configurable-http-proxy it launches itself (Debian's
// node-configurable-http-proxy 4.5.3 under the system node), DummyAuthenticator and SimpleLocalProcessSpawner, all
// state in a fresh temp dir. As root, LocalProcessSpawner would setuid to a system user per hub user; the Simple
// variant runs servers as us with homes inside the temp dir.
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HubEndpoint } from './lib/hub-api.ts';
import { freePort } from './lib/ports.ts';
import { makeTempDir, startProcess, waitForUrl } from './lib/procs.ts';
import type { ManagedProcess } from './lib/procs.ts';

export const JUPYTERHUB_BIN = '/usr/bin/jupyterhub';
export const CHP_BIN = '/usr/bin/configurable-http-proxy';
/** Debian installs CHP's dependencies (commander, http-proxy, …) here, outside any node_modules tree (spec 9). */
export const DEBIAN_NODE_PATH = '/usr/share/nodejs';
/** The system node that Debian's CHP is meant to run under (the nodesource node 20 on this machine). */
export const SYSTEM_NODE = '/usr/bin/node';
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface HubOptions {
  /** Absolute path of the Node binary that runs the mock single-user server. */
  node: string;
  /** Absolute path of the mock single-user server script. */
  mock: string;
  startTimeoutMs?: number;
  /** Python lines appended to jupyterhub_config.py; later assignments win, so these override the defaults above. */
  jupyterhubConfig?: readonly string[];
  /** nodehub settings merged over its defaults section by section (JupyterHub Class.trait names). */
  nodehubConfig?: Record<string, Record<string, unknown>>;
  /** Path (under the public origin) whose first 200 ends start-up; default /hub/api. */
  readyPath?: string;
  /** Poll interval while waiting for start-up; default 50 ms. */
  pollMs?: number;
  /** More environment for the hub process (e.g. SLURM_CONF, PYTHONPATH). */
  env?: Record<string, string>;
}

export interface RunningHub extends HubEndpoint {
  /** Milliseconds from launching the process to the first 200 on readyPath (GET /hub/api) through the public port. */
  startupMs: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** Python string literal for a value we produced ourselves (paths, hex, names): JSON's escaping is valid Python. */
export const py = (value: string | number): string => (typeof value === 'number' ? String(value) : JSON.stringify(value));

export async function startReferenceHub(opts: HubOptions): Promise<RunningHub> {
  for (const bin of [JUPYTERHUB_BIN, CHP_BIN, SYSTEM_NODE]) {
    if (!existsSync(bin)) throw new Error(`reference hub needs ${bin}; install Debian's jupyterhub package`);
  }
  const dir = makeTempDir('jupyterhub');
  const [port, hubPort, proxyApiPort] = [await freePort(), await freePort(), await freePort()];
  const token = randomBytes(32).toString('hex');
  const config = [
    `c.JupyterHub.ip = '127.0.0.1'`,
    `c.JupyterHub.port = ${py(port)}`,
    `c.JupyterHub.hub_ip = '127.0.0.1'`,
    `c.JupyterHub.hub_port = ${py(hubPort)}`,
    `c.JupyterHub.db_url = ${py(`sqlite:///${join(dir, 'jupyterhub.sqlite')}`)}`,
    `c.JupyterHub.cookie_secret_file = ${py(join(dir, 'jupyterhub_cookie_secret'))}`,
    `c.JupyterHub.authenticator_class = 'jupyterhub.auth.DummyAuthenticator'`,
    `c.JupyterHub.spawner_class = 'jupyterhub.spawner.SimpleLocalProcessSpawner'`,
    // An admin service gets the admin role in 3.0, so its token may create users and start/stop their servers.
    `c.JupyterHub.services = [{'name': 'bench', 'api_token': ${py(token)}, 'admin': True}]`,
    `c.Spawner.cmd = [${py(opts.node)}, ${py(opts.mock)}]`,
    `c.SimpleLocalProcessSpawner.home_dir_template = ${py(join(dir, 'home', '{username}'))}`,
    // CHP's API port defaults to 8001; a free one keeps parallel runs (and other engineers' tests) apart.
    `c.ConfigurableHTTPProxy.api_url = ${py(`http://127.0.0.1:${proxyApiPort}`)}`,
    `c.ConfigurableHTTPProxy.auth_token = ${py(randomBytes(32).toString('hex'))}`,
    `c.ConfigurableHTTPProxy.command = [${py(SYSTEM_NODE)}, ${py(CHP_BIN)}]`,
    `c.ConfigurableHTTPProxy.pid_file = ${py(join(dir, 'jupyterhub-proxy.pid'))}`,
    ...(opts.jupyterhubConfig ?? []),
    '',
  ].join('\n');
  const configPath = join(dir, 'jupyterhub_config.py');
  writeFileSync(configPath, config);

  const t0 = performance.now();
  const proc = startProcess({
    name: 'jupyterhub',
    command: JUPYTERHUB_BIN,
    args: ['-f', configPath],
    cwd: dir,
    // JupyterHub hands its own environment to CHP, so NODE_PATH set here reaches the proxy.
    env: { PATH: SYSTEM_PATH, HOME: dir, LANG: 'C.UTF-8', NODE_PATH: DEBIAN_NODE_PATH, ...opts.env },
  });
  return whenUp('JupyterHub 3.0 + CHP', proc, `http://127.0.0.1:${port}`, token, t0, opts);
}

/** Waits for a hub process to answer (readyPath, default /hub/api) and describes it; stops it if it never does. */
export async function whenUp(name: string, proc: ManagedProcess, url: string, token: string, t0: number, opts: HubOptions): Promise<RunningHub> {
  try {
    await waitForUrl(`${url}${opts.readyPath ?? '/hub/api'}`, {
      process: proc,
      timeoutMs: opts.startTimeoutMs ?? 60_000,
      intervalMs: opts.pollMs,
      accept: (s) => s === 200,
    });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { name, url, token, startupMs: performance.now() - t0, process: proc, stop: () => proc.stop(15_000) };
}
