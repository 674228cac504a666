// LocalProcessSpawner as the registry knows it: its names, its isolation check, and the fork servers (preloading, and
// the plain launcher) that start and end with the hub.
import { buildServerEnv } from '../env.ts';
import type { SpawnerClass, SpawnerClassContext } from '../types.ts';
import { LocalProcessSpawner } from './spawner.ts';
import { readTraits } from './traits.ts';
import { closePreloadServers, preloadServersFor, type PreloadServers } from './preload/servers.ts';
import { closeLauncher, launcherFor } from './preload/launcher.ts';
import { checkLocalIsolation } from './isolation.ts';
import { forgetUidLocks } from './uid-lock-registry.ts';

export const localProcessSpawnerClass: SpawnerClass = {
  name: 'LocalProcessSpawner',
  classPath: 'jupyterhub.spawner.LocalProcessSpawner',
  sections: ['Spawner', 'LocalProcessSpawner'],
  create: (init) => new LocalProcessSpawner(init),
  isolation: (ctx) => checkLocalIsolation(ctx.hubConfig, ctx.temporaryUsers, ctx.host),
  // The fork server starts with the hub, so the first visitor after a start or restart finds it ready; but only once
  // start-up is done: its interpreter's imports (~0.5 s of CPU) would otherwise compete with start-up and the first
  // probes on a small machine. A spawn that comes earlier starts it (or waits for it) itself (preload/servers.ts).
  prepare: async (ctx) => {
    // taken now: a hub closed before the warm-up has closed this one, and it then starts nothing
    const servers = preloadServersFor(ctx.hubConfig);
    // A preloading fork server outlives a killed hub for a while, for its successor to take over (servers.ts): at
    // once, a connect costs nothing.
    servers.adoptFrom(ctx.runtimePath?.('preload') ?? null);
    await warmPreload(ctx, servers, true).catch((err: Error) => ctx.log.debug(`Taking over the preload server failed: ${err.message}`));
    const launcher = launcherFor(ctx.hubConfig);
    void (ctx.started ?? Promise.resolve()).then(() => new Promise((r) => setImmediate(r)))
      // the launcher first: it is up in tens of milliseconds, and every spawn not preloaded goes through it
      .then(() => launcher.warm(ctx.log))
      .then(() => warmPreload(ctx, servers))
      .catch((err: Error) => ctx.log.debug(`Starting the preload server early failed: ${err.message}`));
  },
  // the fork servers and the launcher go; the servers they started keep running, as servers spawned directly do
  shutdown: async (ctx) => {
    await Promise.all([closePreloadServers(ctx.hubConfig), closeLauncher(ctx.hubConfig)]);
  },
  // the uid locks of the servers now belong to the successor, which claims them when it adopts the servers
  handedOver: (ctx) => forgetUidLocks(ctx.hubConfig),
};

/** Starts the fork server a default spawn will use: the same command and, where it matters, the same environment. */
async function warmPreload(ctx: SpawnerClassContext, servers: PreloadServers, takeOverOnly = false): Promise<boolean> {
  const traits = readTraits(ctx.hubConfig.spawner);
  if (!traits.preload || !traits.cmd[0]) return false;
  // Only the interpreter's variables and PATH choose the fork server; a made-up user stands in for the rest.
  const user = { id: 0, name: 'nodehub-preload', admin: false };
  const env = buildServerEnv({
    user, serverName: '', prefix: '/user/nodehub-preload/', apiToken: '', hubApiUrl: 'http://127.0.0.1/hub/api', baseUrl: '/',
    oauthClientId: '', oauthCallbackUrl: '', oauthAccessScopes: [], userOptions: {},
  }, ctx.hubConfig.spawner, 'http://127.0.0.1:0', { user: user.name, home: '/nonexistent', shell: '/bin/bash', adminAccess: false });
  return takeOverOnly ? servers.takeOver(traits.cmd[0], env, ctx.log) : servers.warm(traits.cmd[0], env, ctx.log);
}
