// Brings the database in line with the configuration at start, in JupyterHub 5.4's order (init_users, init_groups,
// services, api_tokens, role assignment, blocked users): admin_users and allowed_users, load_groups, services and their
// tokens, api_tokens, load_roles, then blocked_users lose what they held. Proportional to the size of the
// configuration; users not named in it are never read.
import type { Hub } from './context.ts';
import type { Store } from '../store/types.ts';
import { isValidScope } from '../auth/index.ts';
import { ConfigError } from '../config/errors.ts';

export async function seedFromConfig(hub: Hub): Promise<void> {
  const { config, log, authenticator: auth } = hub;
  for (const m of auth.startupMessages()) (m.level === 'error' ? log.error : log.warn).call(log, m.text);
  await hub.store.tx(async (store) => {
    const userId = async (name: string, admin = false) => {
      const u = (await store.users.get(name)) ?? (await store.users.create(name, { admin }));
      if (admin && !u.admin) await store.users.update(u.id, { admin: true });
      return u.id;
    };
    // Normalised and checked by the authenticator already; admins are in allowedUsers too when it is not empty.
    for (const name of auth.adminUsers) await userId(name, true);
    for (const name of auth.allowedUsers) await userId(name);
    await seedGroups(hub, store, userId);

    const serviceIds = new Map<string, number>();
    for (const svc of config.hub.services) {
      const rec = await store.services.upsert(svc.name, svc.admin);
      serviceIds.set(svc.name, rec.id);
      if (svc.api_token) await ensureToken(store, svc.api_token, { service_id: rec.id }, `service ${svc.name}`);
    }
    await store.services.deleteExcept(config.hub.services.map((s) => s.name));

    for (const [token, name] of Object.entries(config.hub.api_tokens)) await ensureToken(store, token, { user_id: await userId(name) }, `user ${name}`);

    const userRoles = new Map<number, string[]>();
    const groupRoles = new Map<number, string[]>();
    const serviceRoles = new Map<number, string[]>();
    const push = (m: Map<number, string[]>, id: number, role: string) => m.set(id, [...(m.get(id) ?? []), role]);
    for (const role of config.hub.load_roles) {
      const bad = role.scopes.filter((s) => !isValidScope(s));
      if (bad.length) throw new Error(`JupyterHub.load_roles: role ${role.name} has invalid scopes: ${bad.join(', ')}`);
      await store.roles.upsert({ name: role.name, description: role.description ?? '', scopes: role.scopes });
      for (const u of role.users) push(userRoles, await userId(u), role.name);
      for (const g of role.groups) push(groupRoles, ((await store.groups.get(g)) ?? (await store.groups.create(g))).id, role.name);
      for (const s of role.services) {
        const id = serviceIds.get(s);
        if (id === undefined) throw new Error(`JupyterHub.load_roles: role ${role.name} names service ${s}, which is not in JupyterHub.services`);
        push(serviceRoles, id, role.name);
      }
    }
    for (const [id, roles] of userRoles) await store.roles.setForUser(id, roles);
    for (const [id, roles] of groupRoles) await store.roles.setForGroup(id, roles);
    for (const [id, roles] of serviceRoles) await store.roles.setForService(id, roles);
    await revokeBlocked(hub, store);
  });
  log.debug(`Seeded ${config.hub.services.length} services and ${config.hub.load_roles.length} roles from the configuration`);
}

async function ensureToken(store: Store, token: string, owner: { user_id?: number; service_id?: number }, who: string): Promise<void> {
  const existing = await store.tokens.find(token);
  if (existing) {
    if ((owner.user_id ?? null) !== existing.user_id || (owner.service_id ?? null) !== existing.service_id) {
      throw new Error(`A configured api_token for ${who} is already in use by another owner`);
    }
    return;
  }
  await store.tokens.create({ ...owner, kind: 'api', token, note: `from config` });
}

/** JupyterHub.load_groups: groups and members are only added; given properties replace the stored ones. */
async function seedGroups(hub: Hub, store: Store, userId: (name: string) => Promise<number>): Promise<void> {
  const { authenticator: auth, log } = hub;
  for (const [name, spec] of Object.entries(hub.config.hub.load_groups)) {
    if (Array.isArray(spec)) {
      log.warn("JupyterHub.load_groups: the `'groupname': [usernames]` form is deprecated in JupyterHub 3.2, use `'groupname': {'users': [usernames], ...}`");
    }
    const { users = [], properties } = Array.isArray(spec) ? { users: spec, properties: undefined } : spec;
    let group = await store.groups.get(name);
    if (!group) {
      log.info(`Creating group ${name}`);
      group = await store.groups.create(name, properties ?? {});
    } else if (properties && JSON.stringify(properties) !== JSON.stringify(group.properties)) {
      await store.groups.setProperties(group.id, properties);
    }
    const ids: number[] = [];
    for (const raw of users) {
      const member = auth.normalizeUsername(raw);
      const problem = auth.usernameProblem(member);
      if (problem) {
        throw new ConfigError(`JupyterHub.load_groups.${name}.users: user name ${JSON.stringify(member)} is not valid: ${problem}`, `JupyterHub.load_groups.${name}.users`);
      }
      ids.push(await userId(member));
    }
    await store.groups.addUsers(group.id, ids);
  }
}

/** JupyterHub 5.2+: blocked users found in the database lose admin, roles and groups, so their tokens stop working. */
async function revokeBlocked(hub: Hub, store: Store): Promise<void> {
  const { log } = hub;
  for (const name of hub.authenticator.blockedUsers) {
    const user = await store.users.get(name);
    if (!user) continue;
    if (user.admin) {
      log.warn(`Removing admin permissions from blocked user ${name}`);
      await store.users.update(user.id, { admin: false });
    }
    const roles = await store.roles.ofUser(user.id);
    if (roles.length) {
      log.warn(`Removing blocked user ${name} from roles: ${roles.join(', ')}`);
      await store.roles.setForUser(user.id, []);
    }
    const groups = await store.groups.groupsOfUser(user.id);
    if (groups.length) {
      log.warn(`Removing blocked user ${name} from groups: ${groups.join(', ')}`);
      for (const g of groups) await store.groups.removeUsers((await store.groups.get(g))!.id, [user.id]);
    }
  }
}

/** JupyterHub 5.2+: servers of blocked users are stopped at start-up instead of being re-adopted. */
export async function stopBlockedServers(hub: Hub): Promise<void> {
  for (const name of hub.authenticator.blockedUsers) {
    const running = hub.servers.ofUser(name);
    if (running.length === 0) continue;
    hub.log.warn(`Stopping ${running.length} server(s) of blocked user ${name}`);
    await Promise.all(running.map((a) => hub.servers.stop(name, a.name).catch((err: Error) => {
      hub.log.error(`Failed to stop a server of blocked user ${name}: ${err.message}`);
    })));
  }
}
