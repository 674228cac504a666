// A server deleted for good (its user deleted, a named server removed): after it stopped, its spawner class releases
// what outlived its stops (JupyterHub's Spawner.delete_forever; KubeSpawner deletes the user's claim). A failure is
// logged, never a reason to keep the user: what is left behind is named in the log for the admin.
import type { ServerRecord } from '../store/types.ts';
import type { LifecycleDeps } from './lifecycle-types.ts';

export async function forgetServers(deps: Pick<LifecycleDeps, 'spawnerClass' | 'config' | 'log'>, user: { id: number; name: string },
  records: readonly ServerRecord[]): Promise<void> {
  const forever = deps.spawnerClass.deleteForever;
  if (!forever) return;
  await Promise.all(records.map(async (rec) => {
    try {
      await forever.call(deps.spawnerClass, { hubConfig: deps.config, log: deps.log, user, serverName: rec.name, state: rec.state });
    } catch (err) {
      deps.log.warn(`Deleting ${user.name}'s server${rec.name ? ` ${rec.name}` : ''} for good left something behind: ${(err as Error).message}`);
    }
  }));
}
