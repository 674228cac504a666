// /hub/api/groups…: list, create, read and delete groups, add or remove members (spec 2.2), set properties (5.x).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import type { Store } from '../../store/types.ts';
import type { GroupRecord } from '../../store/types.ts';
import { filterFor, groupModelFields } from '../../auth/index.ts';
import { forbiddenNameChars } from '../../auth/names.ts';
import { HubError } from '../../util/errors.ts';
import { apiPrincipal, requireScopes, type Principal } from '../identity.ts';
import { groupModel } from '../models.ts';
import { bodyObject, parsedBody } from './body.ts';
import { pageReply, readPage } from './paging.ts';

/** The group model cut to the fields the caller's scopes reveal (read:groups, read:groups:name, read:roles:groups). */
async function visibleGroupModel(hub: Hub, p: Principal, g: GroupRecord): Promise<Record<string, unknown>> {
  const fields = groupModelFields(p.scopes, g.name);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(await groupModel(hub, g))) if (fields.has(k)) out[k] = v;
  return out;
}

async function findGroup(hub: Hub, name: string): Promise<GroupRecord> {
  const group = await hub.store.groups.get(name);
  if (!group) throw new HubError(404, `No such group: ${name}`);
  return group;
}

function validGroupName(name: unknown): string {
  if (typeof name !== 'string') throw new HubError(400, `group names must be strings, not ${JSON.stringify(name)}`);
  if (name === '' || name.includes('/')) throw new HubError(400, `Invalid group name: ${JSON.stringify(name)} (must be non-empty, without '/')`);
  return name;
}

const GROUP_MODEL_TYPES: Record<string, 'string' | 'list'> = { name: 'string', users: 'list', roles: 'list' };

/** JupyterHub's group-model check: known keys only, each of the right type. */
function checkGroupModel(model: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(model)) {
    const type = GROUP_MODEL_TYPES[k];
    if (!type) throw new HubError(400, `Invalid JSON keys: ${JSON.stringify(Object.keys(model))}`);
    if (type === 'list' ? !Array.isArray(v) : typeof v !== 'string') throw new HubError(400, `group.${k} must be a ${type}`);
  }
}

/** Names → user ids, normalised as the Authenticator does; an unknown name is a 400 and nothing changes. */
async function userIds(hub: Hub, names: unknown[]): Promise<number[]> {
  return Promise.all(names.map(async (raw) => {
    if (typeof raw !== 'string') throw new HubError(400, `user names must be strings, not ${JSON.stringify(raw)}`);
    const problem = forbiddenNameChars(raw);
    if (problem) throw new HubError(400, `Invalid username ${JSON.stringify(raw)}: ${problem}`);
    const name = hub.authenticator.normalizeUsername(raw);
    const user = await hub.store.users.get(name);
    if (!user) throw new HubError(400, `No such user: ${name}`);
    return user.id;
  }));
}

export function registerGroupApi(app: FastifyInstance, hub: Hub): void {
  const api = `${hub.hubPrefix}api`;
  const param = (req: FastifyRequest) => (req.params as { name: string }).name;
  // An Authenticator that manages groups owns membership; the API must not fight it.
  const checkManaged = () => {
    if (hub.config.authenticator.manage_groups === true) throw new HubError(400, 'Group management via API is disabled');
  };
  const createGroup = async (s: Store, name: string, ids: number[]): Promise<GroupRecord> => {
    const g = await s.groups.create(name);
    if (ids.length) await s.groups.addUsers(g.id, ids);
    return g;
  };

  app.get(`${api}/groups`, async (req) => {
    const p = requireScopes(await apiPrincipal(hub, req), ['list:groups']);
    const page = readPage(hub, req);
    const f = filterFor(p.scopes, 'list:groups');
    let names: string[] | undefined;
    if (!f.all) {
      // Only !group= can narrow a group listing; another filter must not widen into "all groups".
      if (f.users.size || f.servers.size || f.services.size) throw new HubError(403, 'Forbidden');
      names = [...f.groups];
    }
    const { items, total } = await hub.store.groups.page({ offset: page.offset, limit: page.limit, names });
    return pageReply(req, page, await Promise.all(items.map((g) => visibleGroupModel(hub, p, g))), total);
  });

  app.post(`${api}/groups`, async (req, reply) => {
    const p = requireScopes(await apiPrincipal(hub, req), ['admin:groups']);
    checkManaged();
    const { groups, ...model } = bodyObject(req.body);
    if (!Array.isArray(groups) || groups.length === 0) throw new HubError(400, 'Must specify at least one group to create');
    checkGroupModel(model);
    const names = [...new Set(groups.map(validGroupName))];
    for (const name of names) if (await hub.store.groups.get(name)) throw new HubError(409, `Group ${name} already exists`);
    const ids = await userIds(hub, (model.users as unknown[] | undefined) ?? []);
    const created = await hub.store.tx(async (s) => {
      const made = [];
      for (const name of names) made.push(await createGroup(s, name, ids));
      return made;
    });
    hub.log.info(`Created groups ${names.join(', ')} with ${ids.length} users`);
    reply.code(201);
    return Promise.all(created.map((g) => visibleGroupModel(hub, p, g)));
  });

  app.get(`${api}/groups/:name`, async (req) => {
    const name = param(req);
    const p = requireScopes(await apiPrincipal(hub, req), ['read:groups', 'read:groups:name', 'read:roles:groups'], { group: name });
    return visibleGroupModel(hub, p, await findGroup(hub, name));
  });

  app.post(`${api}/groups/:name`, async (req, reply) => {
    const name = param(req);
    const p = requireScopes(await apiPrincipal(hub, req), ['admin:groups'], { group: name });
    checkManaged();
    const model = bodyObject(req.body);
    checkGroupModel(model);
    validGroupName(name);
    if (await hub.store.groups.get(name)) throw new HubError(409, `Group ${name} already exists`);
    const ids = await userIds(hub, (model.users as unknown[] | undefined) ?? []);
    const group = await hub.store.tx((s) => createGroup(s, name, ids));
    hub.log.info(`Created group ${name} with ${ids.length} users`);
    reply.code(201);
    return visibleGroupModel(hub, p, group);
  });

  app.delete(`${api}/groups/:name`, async (req, reply) => {
    const name = param(req);
    requireScopes(await apiPrincipal(hub, req), ['delete:groups'], { group: name });
    checkManaged();
    const group = await findGroup(hub, name);
    await hub.store.groups.delete(group.id);
    hub.log.info(`Deleted group ${name}`);
    // No payload at all: fastify drops the content type of a 204 that carries one, and JupyterHub sends text/plain.
    return reply.code(204).header('content-type', 'text/plain').send();
  });

  const members = (verb: 'add' | 'delete') => async (req: FastifyRequest) => {
    const name = param(req);
    const p = requireScopes(await apiPrincipal(hub, req), ['groups'], { group: name });
    checkManaged();
    const group = await findGroup(hub, name);
    if (req.body === undefined || req.body === null) throw new HubError(400, 'Invalid JSON data: request body is empty');
    const model = bodyObject(req.body);
    checkGroupModel(model);
    if (!Array.isArray(model.users)) throw new HubError(400, `Must specify users to ${verb}`);
    const ids = await userIds(hub, model.users);
    if (verb === 'add') await hub.store.groups.addUsers(group.id, ids);
    else await hub.store.groups.removeUsers(group.id, ids);
    return visibleGroupModel(hub, p, group);
  };
  // Replaces the properties whole (any JSON object), as 5.x does; membership management does not forbid it.
  app.put(`${api}/groups/:name/properties`, async (req) => {
    const name = param(req);
    const p = requireScopes(await apiPrincipal(hub, req), ['groups'], { group: name });
    const group = await findGroup(hub, name);
    const body = parsedBody(req.body);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HubError(400, 'Must specify properties');
    hub.log.info(`Updating properties of group ${name}`);
    return visibleGroupModel(hub, p, await hub.store.groups.setProperties(group.id, body as Record<string, unknown>));
  });
  app.post(`${api}/groups/:name/users`, members('add'));
  app.delete(`${api}/groups/:name/users`, members('delete'));
}
