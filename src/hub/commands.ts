// What the command line runs: the hub itself, `nodehub token USER`, and `nodehub upgrade-db`.
import { readFileSync } from 'node:fs';
import type { HubConfig } from '../config/types.ts';
import { openStore, pendingMigrationsFor } from '../store/index.ts';
import { newApiToken } from '../auth/index.ts';
import { startHub as start } from './start.ts';
import type { RunningHub, StartOptions } from './start.ts';
import { askToReload, controlSocketPath } from './handover.ts';

export async function startHub(config: HubConfig, opts: StartOptions = {}): Promise<RunningHub> {
  return start(config, opts);
}

/**
 * `nodehub reload`: asks the hub running on this configuration's database to reload, through its control socket (the
 * answer says what was applied or why it was refused), or failing that sends SIGHUP to the pid in JupyterHub.pid_file.
 */
export async function reloadRunningHub(config: HubConfig): Promise<{ code: number; message: string }> {
  const control = controlSocketPath(config);
  const result = control ? await askToReload(control) : null;
  if (result) {
    if (!result.ok) return { code: 1, message: `The running hub refused the new configuration: ${String(result.error)}` };
    const kept = result.kept as string[];
    return { code: 0, message: kept.length ? `Reloaded; these need a restart and were left as they were: ${kept.join(', ')}` : 'Reloaded' };
  }
  const pidFile = config.hub.pid_file;
  if (!pidFile) return { code: 1, message: `No running nodehub answers at ${control ?? '(no control socket for this db_url)'}, and JupyterHub.pid_file is not set` };
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch (err) {
    return { code: 1, message: `Cannot read the pid file ${pidFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  if (!Number.isInteger(pid) || pid <= 0) return { code: 1, message: `The pid file ${pidFile} holds no process id` };
  try {
    process.kill(pid, 'SIGHUP');
  } catch (err) {
    return { code: 1, message: `Cannot signal nodehub (pid ${pid} from ${pidFile}): ${(err as NodeJS.ErrnoException).code}` };
  }
  return { code: 0, message: `Sent SIGHUP to nodehub (pid ${pid}); its log says what changed` };
}

/** A new API token for USER (created if missing), like `jupyterhub token USER`. */
export async function createUserToken(config: HubConfig, name: string): Promise<string> {
  const store = await openStore(config.hub.db_url);
  try {
    const user = (await store.users.get(name)) ?? (await store.users.create(name));
    const token = newApiToken();
    await store.tokens.create({ user_id: user.id, kind: 'api', token, note: 'Requested via nodehub token' });
    return token;
  } finally {
    await store.close();
  }
}

export async function upgradeDb(config: HubConfig): Promise<string> {
  const pending = await pendingMigrationsFor(config.hub.db_url);
  if (pending.length === 0) return 'The database is up to date.';
  const store = await openStore(config.hub.db_url);
  const version = store.version;
  await store.close();
  return `Applied ${pending.length} migration(s); the database is at version ${version}.`;
}
