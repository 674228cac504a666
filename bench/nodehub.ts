// The system under test: nodehub (hub and proxy in one Node process) started from its CLI with a YAML config in
// JupyterHub's Class.trait names, set up like the reference (dummy authenticator, local process spawner, admin service
// token, sqlite in a fresh temp dir), so the two differ only in the hub itself.
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePort } from './lib/ports.ts';
import { makeTempDir, startProcess } from './lib/procs.ts';
import { whenUp, type HubOptions, type RunningHub } from './reference.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const NODEHUB_NODE = join(REPO_ROOT, 'node_modules', '.bin', 'node');
/** The `nodehub` command as npm installs it (it runs src/cli.ts with Node's compile cache on). */
export const NODEHUB_CLI = join(REPO_ROOT, 'bin', 'nodehub.mjs');
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export async function startNodehub(opts: HubOptions): Promise<RunningHub> {
  for (const file of [NODEHUB_NODE, NODEHUB_CLI]) {
    if (!existsSync(file)) throw new Error(`nodehub is not runnable yet: ${file} is missing`);
  }
  const dir = makeTempDir('nodehub');
  const port = await freePort();
  const token = randomBytes(32).toString('hex');
  const config = {
    JupyterHub: {
      ip: '127.0.0.1',
      port,
      db_url: `sqlite:///${join(dir, 'nodehub.sqlite')}`,
      authenticator_class: 'dummy',
      services: [{ name: 'bench', api_token: token, admin: true }],
      log_level: process.env.BENCH_LOG_LEVEL ?? 'INFO',
    },
    Spawner: { cmd: [opts.node, opts.mock] },
    // Like for like with the reference's SimpleLocalProcessSpawner: servers as the hub's user, in the bench's own
    // private temp dir (which per-user uids could not enter).
    LocalProcessSpawner: { home_dir_template: join(dir, 'home', '{username}'), uid_range: null, allow_unisolated: true },
  } as Record<string, Record<string, unknown>>;
  for (const [section, values] of Object.entries(opts.nodehubConfig ?? {})) config[section] = { ...config[section], ...values };
  const configPath = join(dir, 'nodehub.yaml');
  writeFileSync(configPath, stringify(config));

  const t0 = performance.now();
  const proc = startProcess({
    name: 'nodehub',
    command: NODEHUB_NODE,
    args: [NODEHUB_CLI, '-f', configPath],
    cwd: dir,
    env: { PATH: SYSTEM_PATH, HOME: dir, LANG: 'C.UTF-8', ...opts.env },
  });
  return whenUp('nodehub', proc, `http://127.0.0.1:${port}`, token, t0, opts);
}
