// Brings the database in line with the configuration at start: services and their tokens, api_tokens, admin users and
// load_roles. Proportional to the size of the configuration; users not named in it are never read.
import type { Hub } from './context.ts';
import { isValidScope } from '../auth/index.ts';

export function seedFromConfig(hub: Hub): void {
  const { store, config, log } = hub;
  store.transaction(() => {
    const serviceIds = new Map<string, number>();
    for (const svc of config.hub.services) {
      const rec = store.services.upsert(svc.name, svc.admin);
      serviceIds.set(svc.name, rec.id);
      if (svc.api_token) ensureToken(hub, svc.api_token, { service_id: rec.id }, `service ${svc.name}`);
    }
    store.services.deleteExcept(config.hub.services.map((s) => s.name));

    const userId = (name: string, admin = false) => {
      const u = store.users.get(name) ?? store.users.create(name, { admin });
      if (admin && !u.admin) store.users.update(u.id, { admin: true });
      return u.id;
    };
    for (const name of config.authenticator.admin_users) userId(name, true);
    for (const [token, name] of Object.entries(config.hub.api_tokens)) ensureToken(hub, token, { user_id: userId(name) }, `user ${name}`);

    const userRoles = new Map<number, string[]>();
    const groupRoles = new Map<number, string[]>();
    const serviceRoles = new Map<number, string[]>();
    const push = (m: Map<number, string[]>, id: number, role: string) => m.set(id, [...(m.get(id) ?? []), role]);
    for (const role of config.hub.load_roles) {
      const bad = role.scopes.filter((s) => !isValidScope(s));
      if (bad.length) throw new Error(`JupyterHub.load_roles: role ${role.name} has invalid scopes: ${bad.join(', ')}`);
      store.roles.upsert({ name: role.name, description: role.description ?? '', scopes: role.scopes });
      for (const u of role.users) push(userRoles, userId(u), role.name);
      for (const g of role.groups) push(groupRoles, (store.groups.get(g) ?? store.groups.create(g)).id, role.name);
      for (const s of role.services) {
        const id = serviceIds.get(s);
        if (id === undefined) throw new Error(`JupyterHub.load_roles: role ${role.name} names service ${s}, which is not in JupyterHub.services`);
        push(serviceRoles, id, role.name);
      }
    }
    for (const [id, roles] of userRoles) store.roles.setForUser(id, roles);
    for (const [id, roles] of groupRoles) store.roles.setForGroup(id, roles);
    for (const [id, roles] of serviceRoles) store.roles.setForService(id, roles);
  });
  log.debug(`Seeded ${config.hub.services.length} services and ${config.hub.load_roles.length} roles from the configuration`);
}

function ensureToken(hub: Hub, token: string, owner: { user_id?: number; service_id?: number }, who: string): void {
  const existing = hub.store.tokens.find(token);
  if (existing) {
    if ((owner.user_id ?? null) !== existing.user_id || (owner.service_id ?? null) !== existing.service_id) {
      throw new Error(`A configured api_token for ${who} is already in use by another owner`);
    }
    return;
  }
  hub.store.tokens.create({ ...owner, kind: 'api', token, note: `from config` });
}
