// /hub/api/users/{name}/server[s/{server}] and their progress event streams.
import { forgetServers } from '../../servers/forget.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import type { UserRecord } from '../../store/types.ts';
import { HubError } from '../../util/errors.ts';
import { findUser, requireUserScope } from './users.ts';
import { bodyObject } from './body.ts';
import { streamProgress } from '../progress.ts';
import { effectiveSpawnerConfig } from '../../servers/index.ts';
import { freshAuth } from '../auth-state.ts';

export function validServerName(name: string): string {
  if (name.includes('/')) throw new HubError(400, `Invalid server name: ${name}`);
  return name;
}

/** Starts a server for the API or a page; returns the active server. Named-server limits checked here, and the
 *  options against the profile list, so a bad choice is a 400 before anything starts. */
export function startServer(hub: Hub, user: UserRecord, serverName: string, options: Record<string, unknown> | undefined) {
  // Checked in full (profile, choices, free text and the settings they make) so a bad option is a 400 before anything starts.
  if (options) effectiveSpawnerConfig(hub.config.spawner, options, hub.config.spawnerSection);
  if (serverName) {
    if (!hub.config.hub.allow_named_servers) throw new HubError(400, 'Named servers are not enabled.');
    const limit = hub.config.hub.named_server_limit_per_user;
    if (limit > 0 && !hub.servers.get(user.name, serverName)) {
      const named = hub.servers.ofUser(user.name).filter((a) => a.name !== '').length;
      if (named >= limit) throw new HubError(400, `User ${user.name} already has the maximum of ${limit} named servers.  One must be deleted before a new server can be created`);
    }
  }
  return hub.servers.start({ id: user.id, name: user.name, admin: user.admin }, serverName, options);
}

/** The server this hub holds; on PostgreSQL, after looking for one another hub on the database started (catch-up.ts). */
export async function heldServer(hub: Hub, userName: string, serverName: string, fresh = true) {
  const active = hub.servers.get(userName, serverName);
  if (active || !hub.catchUp) return active;
  await hub.catchUp.user(userName, fresh);
  return hub.servers.get(userName, serverName);
}

async function postServer(hub: Hub, req: FastifyRequest, reply: FastifyReply, name: string, serverName: string) {
  await requireUserScope(hub, req, ['servers'], name, serverName);
  const user = await findUser(hub, name);
  validServerName(serverName);
  const existing = await heldServer(hub, user.name, serverName);
  if (existing?.phase === 'ready') throw new HubError(400, `${name}'s server${serverName ? ' ' + serverName : ''} is already running`);
  const body = req.body === undefined || req.body === null || req.body === '' ? undefined : bodyObject(req.body);
  if (!(await freshAuth(hub, user))) throw new HubError(403, `auth has expired for ${user.name}, login again`);
  const active = startServer(hub, user, serverName, body);
  const ready = await hub.servers.waitReady(active, hub.config.hub.slow_spawn_timeout * 1000);
  // a spawn that failed has left the active servers (its phase still reads 'spawning'): JupyterHub answers 500 then
  if (!ready && (active.phase !== 'spawning' || hub.servers.get(user.name, serverName) !== active)) {
    const failure = hub.servers.lastFailure(user.name, serverName);
    throw new HubError(500, `Spawn failed: ${failure ?? 'unknown reason'}`);
  }
  return reply.code(ready ? 201 : 202).header('content-type', 'text/plain').send();
}

async function deleteServer(hub: Hub, req: FastifyRequest, reply: FastifyReply, name: string, serverName: string) {
  await requireUserScope(hub, req, ['delete:servers'], name, serverName);
  const user = await findUser(hub, name);
  const body = bodyObject(req.body);
  const remove = body.remove === true;
  if (serverName === '' && remove) throw new HubError(400, 'Cannot delete the default server');
  if (serverName !== '' && !await hub.store.servers.get(user.id, serverName)) throw new HubError(404, `${name} has no server named ${serverName}`);
  const active = await heldServer(hub, user.name, serverName);
  if (active?.phase === 'spawning') {
    throw new HubError(400, `${name}'s server${serverName ? ' ' + serverName : ''} is pending spawn. Wait for it to finish before stopping.`);
  }
  const stopping = hub.servers.stop(user.name, serverName);
  const done = await Promise.race([stopping.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000).unref())]);
  if (remove) {
    void stopping.then(async () => {
      const rec = await hub.store.servers.get(user.id, serverName);
      if (!rec) return;
      await forgetServers(hub.servers.deps, user, [rec]);
      await hub.store.servers.delete(rec.id);
    });
  }
  return reply.code(done ? 204 : 202).header('content-type', 'text/plain').send();
}

async function progress(hub: Hub, req: FastifyRequest, reply: FastifyReply, name: string, serverName: string) {
  await requireUserScope(hub, req, ['read:servers'], name, serverName);
  const user = await findUser(hub, name);
  if (serverName && !await hub.store.servers.get(user.id, serverName)) throw new HubError(404, `${name} has no server named ${serverName}`);
  const active = hub.servers.get(user.name, serverName);
  const failure = hub.servers.lastFailure(user.name, serverName);
  if (!active && !failure) throw new HubError(400, `${name}'s server${serverName ? ' ' + serverName : ''} is not starting`);
  streamProgress(hub, req, reply, active, failure);
  return reply;
}

export function registerServerApi(app: FastifyInstance, hub: Hub): void {
  const api = `${hub.hubPrefix}api`;
  type P = { name: string; server_name?: string };
  const names = (req: FastifyRequest) => {
    const p = req.params as P;
    return [p.name, p.server_name ?? ''] as const;
  };
  app.post(`${api}/users/:name/server`, (req, reply) => postServer(hub, req, reply, ...names(req)));
  app.post(`${api}/users/:name/servers/:server_name`, (req, reply) => postServer(hub, req, reply, ...names(req)));
  app.post(`${api}/users/:name/servers/`, (req, reply) => postServer(hub, req, reply, names(req)[0], ''));
  app.delete(`${api}/users/:name/server`, (req, reply) => deleteServer(hub, req, reply, ...names(req)));
  app.delete(`${api}/users/:name/servers/:server_name`, (req, reply) => deleteServer(hub, req, reply, ...names(req)));
  app.get(`${api}/users/:name/server/progress`, (req, reply) => progress(hub, req, reply, ...names(req)));
  app.get(`${api}/users/:name/servers/:server_name/progress`, (req, reply) => progress(hub, req, reply, ...names(req)));
}
