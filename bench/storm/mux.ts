// Starts bench/storm/mux.mjs and builds the relay that stands for each mock server (see mux.mjs).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../nodehub.ts';
import { freePort } from '../lib/ports.ts';
import { startProcess, waitForUrl, type ManagedProcess } from '../lib/procs.ts';

const MUX = new URL('./mux.mjs', import.meta.url).pathname;

export interface Mux {
  process: ManagedProcess;
  /** Spawner.cmd for a mock server: the relay on the server's address, to the mux. */
  command: string[];
  count(): Promise<number>;
}

export async function startMux(dir: string, node: string): Promise<Mux> {
  const relay = join(dir, 'byte-relay');
  execFileSync('cc', ['-O2', '-o', relay, join(REPO_ROOT, 'bench', 'lib', 'byte-relay.c')], { stdio: 'pipe' });
  const port = await freePort();
  const proc = startProcess({ name: 'mux', command: node, args: [MUX, String(port)], cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  await waitForUrl(`http://127.0.0.1:${port}/count`, { process: proc, accept: (s) => s === 200 });
  // host and port from the URL the hub gives (http://<ip>:<port>/); extra args such as --allow-root land in $0…, unused
  const script = `u=\${JUPYTERHUB_SERVICE_URL#*://}; u=\${u%%/*}; exec ${relay} "\${u##*:}" ${port} "\${u%:*}"`;
  return {
    process: proc,
    command: ['/bin/sh', '-c', script],
    count: async () => Number(await (await fetch(`http://127.0.0.1:${port}/count`)).text()),
  };
}
