// Re-adoption: a restarted hub takes back the servers its predecessor left running, from the store's active records
// (proportional to active servers, never a scan of users). Alive and answering → routed again as ready; dead or never
// ready → whatever still runs is stopped and the record let go; spawns the dead hub had begun are handed back to be
// started again. The lifecycle (lifecycle.ts) calls this once at start-up and owns what it returns.
// The same adoption takes in, while running, a server another hub on the same database started (catch-up.ts): then
// only answering servers are taken, and nothing else is touched (that hub may still own, start or stop it).
import { EventEmitter } from 'node:events';
import type { ActiveServer, LifecycleDeps, UserRef } from './lifecycle-types.ts';
import type { ServerRecord } from '../store/types.ts';
import type { Spawner } from '../spawner/types.ts';
import { describeServer, serverPrefix, serverClientId, serverAccessScopes } from './naming.ts';
import { releaseServerCredentials } from './credentials.ts';
import { effectiveSpawnerConfig } from './profiles.ts';

/** What re-adoption needs of the lifecycle: its deps, a way to take a server in as ready, and its crash handling. */
export interface AdoptionHost {
  deps: LifecycleDeps;
  /** Records an answering server as active and ready (the lifecycle's map); the route is added by `readopt`. */
  admit(active: ActiveServer): void;
  crashed(active: ActiveServer, reason: string): void;
}

/** A spawn the dead hub had begun: started again, before anyone still in line. */
export interface InterruptedSpawn {
  user: UserRef;
  serverName: string;
  options: Record<string, unknown> | undefined;
  started: number;
}

export async function readopt(host: AdoptionHost, records: (ServerRecord & { user_name: string })[],
  users: (id: number) => Promise<UserRef | undefined>, isAlive: (spawner: Spawner, url: string | null) => Promise<boolean>,
  opts: { onlyAnswering?: boolean; stillUnknown?: (rec: ServerRecord & { user_name: string }) => boolean } = {},
): Promise<{ adopted: number; cleaned: number; interrupted: InterruptedSpawn[] }> {
  const { deps } = host;
  let adopted = 0;
  let cleaned = 0;
  const interrupted: InterruptedSpawn[] = [];
  await Promise.all(records.map(async (rec) => {
    const user = await users(rec.user_id);
    if (!user) return;
    const prefix = serverPrefix(deps.config.hub.base_url, user.name, rec.name);
    const emitter = new EventEmitter();
    emitter.setMaxListeners(0);
    const active: ActiveServer = {
      user, name: rec.name, recordId: rec.id, prefix, phase: 'ready', spawner: null, url: rec.url,
      started: rec.started ?? Date.now(), events: [], emitter, spawned: Promise.resolve(true), stopped: null,
    };
    let spawnConfig = deps.config.spawner;
    try {
      spawnConfig = effectiveSpawnerConfig(spawnConfig, rec.user_options, deps.config.spawnerSection);
    } catch (err) {
      // The profile or choice the server was started with has left the config since. The server still runs and is
      // still the user's: adopt it under the plain settings rather than let one old record stop the hub starting.
      deps.log.warn(`Server ${describeServer(user.name, rec.name)} was started with options the config no longer has `
        + `(${(err as Error).message}); adopting it with the plain spawner settings`);
    }
    const spawner = deps.spawnerClass.create({
      spec: { user, serverName: rec.name, prefix, apiToken: '', hubApiUrl: deps.hubApiUrl, baseUrl: deps.config.hub.base_url,
        oauthClientId: serverClientId(user.name, rec.name), oauthCallbackUrl: `${prefix}oauth_callback`,
        oauthAccessScopes: serverAccessScopes(user.name, rec.name), userOptions: rec.user_options },
      config: spawnConfig, hubConfig: deps.config, state: rec.state, log: deps.log.child(`${user.name}/${rec.name}`),
      systemUsers: deps.authenticator?.capabilities.systemUsers === true,
      onExit: (reason) => host.crashed(active, reason),
    });
    active.spawner = spawner;
    let alive = false;
    try {
      alive = rec.url !== null && (await isAlive(spawner, rec.url));
    } catch {
      alive = false;
    }
    if (opts.onlyAnswering && !(alive && rec.url && (opts.stillUnknown?.(rec) ?? true))) return;
    if (alive && rec.url) {
      host.admit(active);
      deps.routes.add(prefix, rec.url, { user: user.name, server_name: rec.name });
      active.events.push({ progress: 100, ready: true, message: `Server ready at ${prefix}`, url: prefix });
      adopted++;
    } else {
      // Not answering (or never ready: the hub died while it started): whatever of it still runs is stopped, and
      // found dead, before the record is let go.
      let how = 'stopped while the hub was down';
      try {
        await spawner.stop();
      } catch (err) {
        how = `not answering, and stopping it failed (${(err as Error).message})`;
      }
      if (rec.url === null) {
        how = 'was still starting when the hub went down; stopped it and starts it again';
        interrupted.push({ user, serverName: rec.name, options: rec.user_options ?? undefined, started: rec.started ?? 0 });
      }
      deps.log.info(`Server ${describeServer(user.name, rec.name)} ${how}; cleaned up`);
      await releaseServerCredentials(deps, user.name, rec.name, rec.id, spawner.keptState?.() ?? {});
      cleaned++;
    }
  }));
  return { adopted, cleaned, interrupted };
}
