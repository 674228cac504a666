// A server's credentials: the per-spawn API token (role `server`) and the OAuth client whose secret it is (spec 1.5).
// Created before a spawn, deleted as the last step of every stop; the lifecycle is the only caller.
import type { SpawnerConfig } from '../config/types.ts';
import type { ActiveServer, LifecycleDeps } from './lifecycle-types.ts';
import type { ServerSpec } from '../spawner/types.ts';
import { serverClientId, serverAccessScopes, serverTokenScopes } from './naming.ts';
import { newApiToken } from '../auth/tokens.ts';

export async function createServerCredentials(deps: LifecycleDeps, active: ActiveServer, options: Record<string, unknown>,
  spawnConfig: SpawnerConfig): Promise<ServerSpec> {
  const { store, config } = deps;
  const { user, name } = active;
  const apiToken = newApiToken();
  await store.tokens.create({
    user_id: user.id, server_id: active.recordId, kind: 'api', token: apiToken, note: `Server at ${active.prefix}`,
    scopes: serverTokenScopes(user.name),
  });
  const clientId = serverClientId(user.name, name);
  const callback = `${active.prefix}oauth_callback`;
  await store.oauth.upsertClient({
    identifier: clientId, description: `Server at ${active.prefix}`, redirect_uri: callback,
    // The server's own access scope first: the authorize endpoint checks the visitor holds it (JupyterHub 3 does the same).
    allowed_scopes: [`access:servers!server=${user.name}/${name}`, ...spawnConfig.oauth_client_allowed_scopes], secret: apiToken,
  });
  return {
    user, serverName: name, prefix: active.prefix, apiToken, hubApiUrl: deps.hubApiUrl,
    baseUrl: config.hub.base_url, oauthClientId: clientId, oauthCallbackUrl: callback,
    oauthAccessScopes: serverAccessScopes(user.name, name), userOptions: options,
  };
}

/**
 * Deletes a stopped server's token and OAuth client (its tokens go with it) and marks its record stopped, keeping only
 * the state its spawner keeps across stops (`kept`; undefined when no spawner ever wrote the record's state).
 */
export async function releaseServerCredentials(deps: LifecycleDeps, userName: string, serverName: string, recordId: number,
  kept?: Record<string, unknown>): Promise<void> {
  await deps.store.tx(async (s) => {
    await s.oauth.deleteClient(serverClientId(userName, serverName));
    await s.tokens.deleteForServer(recordId);
    await s.servers.update(recordId, { started: null, url: null, ...(kept ? { state: kept } : {}) });
    await s.servers.touch(recordId, Date.now());
  });
}
