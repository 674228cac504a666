// The systems the proxy benchmark puts side by side, each started the way it is used, all forwarding to the same kind
// of upstream (upstream.ts) under the same route prefixes:
//   direct   the client talks to the upstream itself (the ceiling);
//   relay    byte-relay.c: a C epoll loop copying bytes between each client and its own upstream connection, with no
//            parsing or routing (the floor of what any user-space proxy costs: the kernel's two extra loopback hops);
//   chp      configurable-http-proxy 5.3 from npm under Node 24, routes added through its REST API;
//   nodehub  `nodehub proxy` (src/proxy/chp: CHP's flags and REST API on the hub's RouteTable and forwarder);
//   hub      the whole nodehub process (bin/nodehub.mjs -f …). The hub has no route-adding API, so the upstreams are
//            declared as external services (`JupyterHub.services[].url`): the hub routes /services/<name> to them at
//            start-up with the same RouteTable.add the spawner uses for /user/<name>, and requests take the same
//            forwarder path.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './ports.ts';
import { startProcess, waitForUrl } from './procs.ts';
import type { ManagedProcess } from './procs.ts';
import { NODEHUB_CLI, NODEHUB_NODE, REPO_ROOT } from '../nodehub.ts';

export const CHP_BIN = join(REPO_ROOT, 'node_modules', 'configurable-http-proxy', 'bin', 'configurable-http-proxy');
const UPSTREAM = join(REPO_ROOT, 'bench', 'lib', 'upstream.ts');
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Route prefixes: the measured upstream, and the one that holds idle websockets. */
export const MAIN_PREFIX = '/services/up';
export const IDLE_PREFIX = '/services/idle';

export type SystemKey = 'direct' | 'relay' | 'chp' | 'nodehub' | 'hub';

export interface ProxySystem {
  key: SystemKey;
  label: string;
  /** Origin the load generator talks to; requests go to `${url}${MAIN_PREFIX}/small` etc. */
  url: string;
  /** The process whose RSS is reported (none for direct). */
  process?: ManagedProcess;
  /** CHP-style REST API (origin and token), when the system has one. */
  api?: { url: string; token: string };
  notes: string[];
}

export interface Upstream {
  url: string;
  process: ManagedProcess;
}

/** argv that runs `command` with the soft open-file limit raised to the hard one (10,000 websockets need it). */
function withFileLimit(command: string, args: readonly string[]): { command: string; args: string[] } {
  return { command: '/bin/bash', args: ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', command, ...args] };
}

function start(name: string, dir: string, command: string, args: string[], env: Record<string, string> = {}): ManagedProcess {
  return startProcess({ name, cwd: dir, env: { PATH: SYSTEM_PATH, HOME: dir, LANG: 'C.UTF-8', ...env }, ...withFileLimit(command, args) });
}

export async function startUpstream(dir: string, name: string): Promise<Upstream> {
  const port = await freePort();
  const proc = start(name, dir, NODEHUB_NODE, [UPSTREAM, String(port)]);
  const url = `http://127.0.0.1:${port}`;
  await waitForUrl(`${url}${MAIN_PREFIX}/small`, { process: proc, accept: (s) => s === 200, intervalMs: 20 });
  return { url, process: proc };
}

async function addRoute(api: { url: string; token: string }, prefix: string, target: string): Promise<void> {
  const res = await fetch(`${api.url}/api/routes${prefix}`, {
    method: 'POST',
    headers: { authorization: `token ${api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ target }),
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`POST ${api.url}/api/routes${prefix}: HTTP ${res.status}`);
}

/** A proxy with CHP's command line: listen flags, REST API with a token, the two routes added by REST. */
async function startChpLike(key: SystemKey, label: string, dir: string, command: string, args: string[],
  upstream: Upstream, idle: Upstream, timeoutMs: number): Promise<ProxySystem> {
  const [port, apiPort] = [await freePort(), await freePort()];
  const token = randomBytes(24).toString('hex');
  const flags = ['--ip', '127.0.0.1', '--port', String(port), '--api-ip', '127.0.0.1', '--api-port', String(apiPort),
    '--log-level', 'warn'];
  const proc = start(key, dir, command, [...args, ...flags], { CONFIGPROXY_AUTH_TOKEN: token });
  const api = { url: `http://127.0.0.1:${apiPort}`, token };
  try {
    await waitForUrl(`${api.url}/api/routes`, { process: proc, accept: (s) => s === 403 || s === 200, timeoutMs });
    await addRoute(api, MAIN_PREFIX, upstream.url);
    await addRoute(api, IDLE_PREFIX, idle.url);
  } catch (err) {
    await proc.stop(2_000);
    throw err;
  }
  return { key, label, url: `http://127.0.0.1:${port}`, process: proc, api, notes: [] };
}

export function direct(upstream: Upstream): ProxySystem {
  return { key: 'direct', label: 'direct', url: upstream.url, notes: [] };
}

/** byte-relay.c compiled into `dir` with the machine's C compiler (cc), listening in front of `upstream`. */
export async function startByteRelay(dir: string, upstream: Upstream): Promise<ProxySystem> {
  const bin = join(dir, 'byte-relay');
  try {
    execFileSync('cc', ['-O2', '-o', bin, join(REPO_ROOT, 'bench', 'lib', 'byte-relay.c')], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`cannot build bench/lib/byte-relay.c with cc: ${(err as Error).message.split('\n')[0]}`);
  }
  const port = await freePort();
  const proc = start('relay', dir, bin, [String(port), new URL(upstream.url).port]);
  const url = `http://127.0.0.1:${port}`;
  await waitForUrl(`${url}${MAIN_PREFIX}/small`, { process: proc, accept: (s) => s === 200, intervalMs: 20 });
  return { key: 'relay', label: 'C byte relay', url, process: proc, notes: [] };
}

export function startChp(dir: string, upstream: Upstream, idle: Upstream): Promise<ProxySystem> {
  const version = (JSON.parse(readFileSync(join(CHP_BIN, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  return startChpLike('chp', `CHP ${version}`, dir, NODEHUB_NODE, [CHP_BIN], upstream, idle, 20_000);
}

export function startNodehubProxy(dir: string, upstream: Upstream, idle: Upstream): Promise<ProxySystem> {
  return startChpLike('nodehub', 'nodehub proxy', dir, NODEHUB_NODE, [NODEHUB_CLI, 'proxy'], upstream, idle, 20_000);
}

export async function startHub(dir: string, upstream: Upstream, idle: Upstream): Promise<ProxySystem> {
  if (!existsSync(NODEHUB_CLI)) throw new Error(`${NODEHUB_CLI} is missing`);
  const port = await freePort();
  const config = {
    JupyterHub: {
      ip: '127.0.0.1',
      port,
      db_url: `sqlite:///${join(dir, 'hub.sqlite')}`,
      authenticator_class: 'dummy',
      log_level: 'WARN',
      services: [{ name: MAIN_PREFIX.split('/')[2], url: upstream.url }, { name: IDLE_PREFIX.split('/')[2], url: idle.url }],
    },
  };
  const configPath = join(dir, 'hub.yaml');
  writeFileSync(configPath, stringify(config));
  const proc = start('hub', dir, NODEHUB_NODE, [NODEHUB_CLI, '-f', configPath]);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForUrl(`${url}/hub/api`, { process: proc, accept: (s) => s === 200, timeoutMs: 60_000 });
  } catch (err) {
    await proc.stop(2_000);
    throw err;
  }
  return { key: 'hub', label: 'nodehub hub', url, process: proc, notes: [] };
}

/** Resident set size of a process in bytes, from /proc; NaN once it is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time a process has used so far, all its threads (GC helpers included), in nanoseconds; NaN once it is gone. */
export function cpuNs(pid: number): number {
  try {
    let total = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ', 1)[0]);
    }
    return total;
  } catch {
    return NaN;
  }
}

/** Open file descriptors a process may hold (the soft limit our children raise to). */
export function fileLimit(): number {
  const m = /^Max open files\s+\d+\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m ? Number(m[1]) : 1024;
}
