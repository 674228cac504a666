// /hub/api/users…: list, create, read, modify and delete users, and the activity reports single-user servers send.
import { forgetServers } from '../../servers/forget.ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import type { UserRecord, UserState } from '../../store/types.ts';
import { forbiddenNameChars } from '../../auth/names.ts';
import { HubError } from '../../util/errors.ts';
import { parseIsoTime } from '../../util/time.ts';
import { apiPrincipal, requireScopes, type Principal } from '../identity.ts';
import { userFacts, userModel } from '../models.ts';
import { pageReply, readPage } from './paging.ts';
import { filterFor } from '../../auth/index.ts';
import { bodyObject, flag, queryArg } from './body.ts';

export async function findUser(hub: Hub, name: string): Promise<UserRecord> {
  const user = await hub.store.users.get(name);
  if (!user) throw new HubError(404, `No such user: ${name}`);
  return user;
}

/** Scope check against one user, with the user's groups so group-filtered scopes apply. */
export async function requireUserScope(hub: Hub, req: FastifyRequest, scopes: string[], name: string, server?: string): Promise<Principal> {
  const user = await hub.store.users.get(name);
  const userGroups = user ? await hub.store.groups.groupsOfUser(user.id) : [];
  const p = requireScopes(await apiPrincipal(hub, req), scopes, { user: name, userGroups, server: server === undefined ? undefined : `${name}/${server}` });
  return p;
}

function validNewName(hub: Hub, raw: unknown): string {
  if (typeof raw !== 'string') throw new HubError(400, 'User names must be strings');
  const name = hub.authenticator.normalizeUsername(raw);
  // Checked on the name as sent too: normalising (lowercasing) must not be what makes a bad name look acceptable.
  const problem = forbiddenNameChars(raw) ?? hub.authenticator.usernameProblem(name);
  if (problem) throw new HubError(400, `Invalid username ${JSON.stringify(raw)}: ${problem}`);
  return name;
}

export function registerUserApi(app: FastifyInstance, hub: Hub): void {
  const api = `${hub.hubPrefix}api`;
  const param = (req: FastifyRequest) => (req.params as { name: string }).name;

  app.get(`${api}/users`, async (req) => {
    const p = requireScopes(await apiPrincipal(hub, req), ['list:users']);
    const state = queryArg(req.query, 'state');
    if (state !== undefined && state !== 'active' && state !== 'ready' && state !== 'inactive') {
      throw new HubError(400, `Unrecognized state filter: ${JSON.stringify(state)}. Must be one of active, ready, inactive`);
    }
    const page = readPage(hub, req);
    const f = filterFor(p.scopes, 'list:users');
    let names: string[] | undefined;
    if (!('all' in f && f.all)) {
      const set = new Set<string>('users' in f ? f.users : []);
      for (const g of 'groups' in f ? f.groups : []) {
        const group = await hub.store.groups.get(g);
        if (group) for (const m of await hub.store.groups.memberNames(group.id)) set.add(m);
      }
      names = [...set];
    }
    const includeStopped = flag(queryArg(req.query, 'include_stopped_servers'));
    // Groups, servers and roles of the whole page are read at once (three queries, not three per user). Only the
    // paginated envelope carries a total, so a plain list does not count the users.
    const { items, total } = await hub.store.users.page({
      offset: page.offset, limit: page.limit, state: state as UserState | undefined, nameFilter: queryArg(req.query, 'name_filter') || undefined, names,
      withTotal: page.envelope,
    });
    const facts = await userFacts(hub, p, items);
    return pageReply(req, page, await Promise.all(items.map((u) => userModel(hub, p, u, { includeStopped, facts: facts(u) }))), total ?? items.length);
  });

  app.post(`${api}/users`, async (req, reply) => {
    const p = requireScopes(await apiPrincipal(hub, req), ['admin:users']);
    const body = bodyObject(req.body);
    if (!Array.isArray(body.usernames) || body.usernames.length === 0) throw new HubError(400, 'Must specify at least one user to create');
    if (body.admin !== undefined && typeof body.admin !== 'boolean') throw new HubError(400, 'admin must be a boolean');
    const names = [...new Set(body.usernames.map((n) => validNewName(hub, n)))];
    const fresh: string[] = [];
    for (const n of names) if (!(await hub.store.users.get(n))) fresh.push(n);
    if (fresh.length === 0) throw new HubError(409, `All ${names.length} users already exist`);
    const created = await hub.store.tx(async (s) => {
      const made = [];
      for (const n of fresh) made.push(await s.users.create(n, { admin: body.admin === true }));
      return made;
    });
    reply.code(201);
    return Promise.all(created.map((u) => userModel(hub, p, u)));
  });

  app.get(`${api}/users/:name`, async (req) => {
    const name = param(req);
    const p = await requireUserScope(hub, req, ['read:users', 'read:users:name', 'read:servers', 'read:users:groups', 'read:users:activity', 'read:roles:users'], name);
    return await userModel(hub, p, await findUser(hub, name), { includeStopped: flag(queryArg(req.query, 'include_stopped_servers')) });
  });

  app.post(`${api}/users/:name`, async (req, reply) => {
    const name = param(req);
    const p = requireScopes(await apiPrincipal(hub, req), ['admin:users']);
    const body = bodyObject(req.body);
    if (body.admin !== undefined && typeof body.admin !== 'boolean') throw new HubError(400, 'admin must be a boolean');
    const valid = validNewName(hub, name);
    if (await hub.store.users.get(valid)) throw new HubError(409, `User ${valid} already exists`);
    const user = await hub.store.users.create(valid, { admin: body.admin === true });
    reply.code(201);
    return await userModel(hub, p, user);
  });

  app.patch(`${api}/users/:name`, async (req) => {
    const name = param(req);
    const p = await requireUserScope(hub, req, ['admin:users'], name);
    const user = await findUser(hub, name);
    const body = bodyObject(req.body);
    const allowed = new Set(['name', 'admin', 'groups', 'roles', 'auth_state']);
    for (const k of Object.keys(body)) if (!allowed.has(k)) throw new HubError(400, `Unknown field in user model: ${k}`);
    if (body.admin !== undefined && typeof body.admin !== 'boolean') throw new HubError(400, 'admin must be a boolean');
    for (const k of ['groups', 'roles'] as const) {
      if (body[k] !== undefined && (!Array.isArray(body[k]) || !body[k].every((x) => typeof x === 'string'))) throw new HubError(400, `${k} must be a list of strings`);
    }
    const state = body.auth_state;
    if (state !== undefined && (typeof state !== 'object' || state === null || Array.isArray(state))) throw new HubError(400, 'auth_state must be a dict');
    const patch: { name?: string; admin?: boolean; auth_state?: unknown } = {};
    if (body.name !== undefined) {
      const newName = validNewName(hub, body.name);
      if (newName !== user.name && await hub.store.users.get(newName)) throw new HubError(400, `User ${newName} already exists, username must be unique`);
      if (hub.servers.ofUser(user.name).length) throw new HubError(400, `Can't rename ${user.name} while a server is running`);
      patch.name = newName;
    }
    if (body.admin !== undefined) patch.admin = body.admin as boolean;
    if (body.auth_state !== undefined) {
      requireScopes(p, ['admin:auth_state'], { user: name });
      if (!hub.authState.encrypted) patch.auth_state = body.auth_state;
    }
    let updated = await hub.store.users.update(user.id, patch);
    if (body.auth_state !== undefined && hub.authState.encrypted) updated = await hub.authState.set(updated, body.auth_state);
    return { ...(await userModel(hub, p, updated)), auth_state: (await hub.authState.get(updated)) ?? null };
  });

  app.delete(`${api}/users/:name`, async (req, reply) => {
    const name = param(req);
    const p = await requireUserScope(hub, req, ['delete:users'], name);
    const user = await findUser(hub, name);
    if (p.user?.id === user.id) throw new HubError(400, "Can't delete yourself");
    await hub.catchUp?.user(user.name, true); // servers another hub started are stopped too
    for (const a of hub.servers.ofUser(user.name)) {
      if (a.phase === 'spawning') throw new HubError(400, `${user.name}'s server is in the process of spawning. Wait for it to finish first.`);
    }
    await Promise.all(hub.servers.ofUser(user.name).map((a) => hub.servers.stop(user.name, a.name)));
    await forgetServers(hub.servers.deps, user, await hub.store.servers.listForUser(user.id));
    await hub.store.users.delete(user.id);
    return reply.code(204).header('content-type', 'text/plain').send();
  });

  app.post(`${api}/users/:name/activity`, async (req, reply) => {
    const name = param(req);
    await requireUserScope(hub, req, ['users:activity'], name);
    const user = await findUser(hub, name);
    await applyActivity(hub, user, req.body);
    reply.code(200).header('content-type', 'application/json');
    return '';
  });
}

const MAX_FUTURE_MS = 59 * 60 * 1000;

function activityTime(v: unknown, where: string): number {
  if (typeof v !== 'string') throw new HubError(400, `${where}: last_activity must be an ISO8601 timestamp string`);
  const t = parseIsoTime(v);
  if (Number.isNaN(t)) throw new HubError(400, `${where}: invalid timestamp ${JSON.stringify(v)}`);
  if (t - Date.now() > MAX_FUTURE_MS) throw new HubError(400, `${where}: last_activity ${v} is in the future`);
  return t;
}

/** Validates the whole body first so a bad entry changes nothing (no half-applied report). */
async function applyActivity(hub: Hub, user: UserRecord, raw: unknown): Promise<void> {
  const body = bodyObject(raw);
  if (body.last_activity === undefined && body.servers === undefined) {
    throw new HubError(400, 'body must contain at least one of `last_activity` or `servers`');
  }
  const userTime = body.last_activity === undefined ? null : activityTime(body.last_activity, 'activity');
  const updates: [number, number][] = [];
  if (body.servers !== undefined) {
    if (typeof body.servers !== 'object' || body.servers === null || Array.isArray(body.servers)) throw new HubError(400, 'servers must be a dict');
    for (const [sn, entry] of Object.entries(body.servers as Record<string, unknown>)) {
      const rec = await hub.store.servers.get(user.id, sn);
      if (!rec) throw new HubError(400, `No such server '${sn}' for user ${user.name}`);
      if (typeof entry !== 'object' || entry === null) throw new HubError(400, `servers.${sn} must be a dict`);
      const t = activityTime((entry as Record<string, unknown>).last_activity, `servers.${sn}`);
      updates.push([rec.id, t]);
    }
  }
  await hub.store.tx(async (s) => {
    let latest = userTime ?? 0;
    for (const [id, t] of updates) {
      await s.servers.touch(id, t);
      latest = Math.max(latest, t);
    }
    if (latest) {
      await s.users.touch(user.id, latest);
      await s.activity.record(user.name, latest);
    }
  });
}
