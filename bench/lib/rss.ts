// Resident memory read from /proc, for "how much does the hub itself hold". JupyterHub's figure is the hub's Python
// process plus the configurable-http-proxy it launched (found through the proxy's pid file); nodehub's is its one process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningHub } from '../reference.ts';

/** VmRSS of one process in MiB; throws if the process is gone. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb[1]) / 1024;
}

/** The pid configurable-http-proxy wrote into the pid file reference.ts configures, or undefined without one. */
export function proxyPid(hub: RunningHub): number | undefined {
  try {
    const pid = Number(readFileSync(join(hub.process.cwd, 'jupyterhub-proxy.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Hub plus its proxy process when it has a separate one: what the whole system holds, spawned servers excluded. */
export function hubRssMiB(hub: RunningHub): number {
  const proxy = proxyPid(hub);
  return rssMiB(hub.process.pid) + (proxy === undefined ? 0 : rssMiB(proxy));
}
