// The two systems of the hub benchmark and the settings they share. Both are started by reference.ts / nodehub.ts;
// this file only adds what the hub benchmark needs on top: a given database file, the spawn command, limits raised so
// neither hub refuses or queues a spawn, and a slow_spawn_timeout longer than any budget so a spawn request is answered
// when its server is ready (lib/hub-load.ts relies on that).
import { join } from 'node:path';
import { startNodehub, REPO_ROOT } from '../nodehub.ts';
import { py, startReferenceHub, SYSTEM_NODE } from '../reference.ts';
import type { RunningHub } from '../reference.ts';

export type SystemKey = 'jupyterhub' | 'nodehub';
export const SYSTEMS: readonly SystemKey[] = ['jupyterhub', 'nodehub'];
export const LABELS: Record<SystemKey, string> = { jupyterhub: 'JupyterHub 3.0 + CHP 5.3', nodehub: 'nodehub' };

export const MOCK = join(REPO_ROOT, 'test', 'support', 'mock-singleuser.mjs');
/** configurable-http-proxy 5.3 from npm (the issue's reference proxy), run by the system node as JupyterHub would. */
export const NPM_CHP = join(REPO_ROOT, 'node_modules', 'configurable-http-proxy', 'bin', 'configurable-http-proxy');
export const SINGLEUSER = '/usr/bin/jupyterhub-singleuser';
/** Seconds a spawn may take on either hub before it counts as failed; above every budget of the benchmark. */
const SPAWN_SECONDS = 300;

export interface Variant {
  /** sqlite file to use instead of a fresh one in the hub's temp dir. */
  dbFile?: string;
  /** Spawner.cmd; default the mock single-user server under this Node. */
  cmd?: readonly string[];
  /** nodehub only: the tmp authenticator instead of the dummy one. */
  tmp?: boolean;
  /** nodehub only: more settings, section by section (e.g. LocalProcessSpawner.preload). */
  nodehub?: Record<string, Record<string, unknown>>;
  startTimeoutMs?: number;
}

export function startSystem(system: SystemKey, v: Variant = {}): Promise<RunningHub> {
  const cmd = v.cmd ?? [process.execPath, MOCK];
  const common = { node: process.execPath, mock: MOCK, readyPath: '/hub/health', pollMs: 5, startTimeoutMs: v.startTimeoutMs };
  if (system === 'jupyterhub') {
    if (v.tmp) throw new Error('the tmp authenticator is not installed for JupyterHub');
    return startReferenceHub({
      ...common,
      jupyterhubConfig: [
        `c.ConfigurableHTTPProxy.command = [${py(SYSTEM_NODE)}, ${py(NPM_CHP)}]`,
        ...(v.dbFile ? [`c.JupyterHub.db_url = ${py(`sqlite:///${v.dbFile}`)}`] : []),
        `c.Spawner.cmd = [${cmd.map(py).join(', ')}]`,
        // As root, jupyter refuses to run without it; nodehub adds it itself.
        ...(cmd[0] === SINGLEUSER && process.getuid?.() === 0 ? [`c.Spawner.args = ['--allow-root']`] : []),
        'c.JupyterHub.concurrent_spawn_limit = 0',
        'c.JupyterHub.active_server_limit = 0',
        `c.JupyterHub.slow_spawn_timeout = ${SPAWN_SECONDS}`,
        `c.Spawner.start_timeout = ${SPAWN_SECONDS}`,
        `c.Spawner.http_timeout = ${SPAWN_SECONDS}`,
      ],
    });
  }
  return startNodehub({
    ...common,
    nodehubConfig: {
      JupyterHub: {
        ...(v.dbFile ? { db_url: `sqlite:///${v.dbFile}` } : {}),
        ...(v.tmp ? { authenticator_class: 'tmp' } : {}),
        concurrent_spawn_limit: 0,
        active_server_limit: 0,
        slow_spawn_timeout: SPAWN_SECONDS,
      },
      Spawner: { cmd: [...cmd], start_timeout: SPAWN_SECONDS, http_timeout: SPAWN_SECONDS },
      ...v.nodehub,
    },
  });
}
