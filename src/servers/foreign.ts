// Taking over a server another hub started (a KubeSpawner hub's pod, switching over): this hub writes the user and the
// server record, learns the server's own token (so the running server keeps working with the token it was started
// with) and its OAuth client, then re-adopts it exactly as after a restart of its own (routed, watched, stoppable).
import type { ForeignServer, Spawner } from '../spawner/types.ts';
import type { ServerManager } from './lifecycle.ts';
import { serverClientId, serverPrefix, serverTokenScopes } from './naming.ts';

/** Resolves null once the server is this hub's, else why it was not taken (nothing is written then). */
export async function adoptForeignServer(servers: ServerManager, f: ForeignServer,
  isAlive: (spawner: Spawner, url: string | null) => Promise<boolean>): Promise<string | null> {
  const { store, config } = servers.deps;
  const prefix = serverPrefix(config.hub.base_url, f.userName, f.serverName);
  // the server serves under its prefix and names its OAuth client: both must be what this hub routes and knows
  if (f.prefix !== prefix) return `it serves ${f.prefix}, and this hub would route it at ${prefix} (JupyterHub.base_url differs)`;
  const clientId = serverClientId(f.userName, f.serverName);
  if (f.oauthClientId !== clientId) return `its OAuth client is ${f.oauthClientId}, not ${clientId}`;
  if (servers.get(f.userName, f.serverName)) return 'this hub already runs that server';
  if (await store.tokens.find(f.apiToken)) return 'its API token is already known to this hub';
  const user = (await store.users.get(f.userName)) ?? (await store.users.create(f.userName));
  const rec = await store.servers.ensure(user.id, f.serverName);
  if (rec.started !== null) return 'a record of this hub names another pod for that server';
  await store.tx(async (s) => {
    await s.servers.update(rec.id, { started: f.started, url: f.url, state: f.state, user_options: {} });
    await s.tokens.create({
      user_id: user.id, server_id: rec.id, kind: 'api', token: f.apiToken,
      note: `Server at ${prefix} (taken over from a KubeSpawner hub)`, scopes: serverTokenScopes(user.name),
    });
    await s.oauth.upsertClient({
      identifier: clientId, description: `Server at ${prefix}`, redirect_uri: `${prefix}oauth_callback`,
      allowed_scopes: [`access:servers!server=${user.name}/${f.serverName}`, ...config.spawner.oauth_client_allowed_scopes], secret: f.apiToken,
    });
  });
  const record = { ...(await store.servers.get(user.id, f.serverName))!, user_name: user.name };
  const { adopted } = await servers.adopt([record], async (id) => (id === user.id ? { id, name: user.name, admin: user.admin } : undefined), isAlive);
  return adopted ? null : 'it stopped answering while being taken over';
}
