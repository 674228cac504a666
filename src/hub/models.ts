// JSON models of the REST API (spec 2.3), with fields cut to what the caller's scopes allow.
import type { Hub } from './context.ts';
import type { Principal } from './identity.ts';
import type { GroupRecord, ServerRecord, ServiceRecord, TokenRecord, UserRecord } from '../store/types.ts';
import { isoTime } from '../util/time.ts';
import { serviceScopes, tokenScopes, userScopes } from './identity.ts';
import { checkAccess, parseScopes, userModelFields, type ParsedScopes } from '../auth/index.ts';
import { pendingOf, serverPrefix } from '../servers/index.ts';
import { urlEscapePath } from '../util/url.ts';

export function serverModel(hub: Hub, user: UserRecord, rec: ServerRecord, withState: boolean): Record<string, unknown> {
  const active = hub.servers.get(user.name, rec.name);
  const ready = active?.phase === 'ready';
  const pending = pendingOf(active);
  const userPath = urlEscapePath(user.name);
  const model: Record<string, unknown> = {
    name: rec.name,
    full_name: `${user.name}/${rec.name}`,
    last_activity: isoTime(rec.last_activity),
    started: isoTime(rec.started),
    pending,
    ready,
    stopped: !active,
    url: serverPrefix(hub.base, user.name, rec.name),
    user_options: rec.user_options,
    progress_url: rec.name
      ? `${hub.hubPrefix}api/users/${userPath}/servers/${urlEscapePath(rec.name)}/progress`
      : `${hub.hubPrefix}api/users/${userPath}/server/progress`,
    // Absolute URLs come only from JupyterHub.public_url or subdomains, neither of which nodehub has: null as in 5.4.
    full_url: null,
    full_progress_url: null,
  };
  if (withState) model.state = active ? rec.state : {};
  return model;
}

/** What a user model needs besides the user record; a listing reads it for the whole page at once (userFacts). */
export interface UserFacts {
  groups: string[];
  servers: ServerRecord[];
  roles: string[];
  /** The caller's scopes, parsed once for the page rather than twice per user. */
  scopes: ParsedScopes;
}

/** UserFacts for a page of users: three queries in all instead of three per user. */
export async function userFacts(hub: Hub, p: Principal, users: readonly UserRecord[]): Promise<(user: UserRecord) => UserFacts> {
  const ids = users.map((u) => u.id);
  const groups = await hub.store.groups.groupsOfUsers(ids);
  const servers = await hub.store.servers.listForUsers(ids);
  const roles = await hub.store.roles.ofUsers(ids);
  const scopes = parseScopes(p.scopes);
  return (u) => ({ groups: groups.get(u.id) ?? [], servers: servers.get(u.id) ?? [], roles: roles.get(u.id) ?? [], scopes });
}

export async function userModel(hub: Hub, p: Principal, user: UserRecord,
  opts: { includeStopped?: boolean; facts?: UserFacts } = {}): Promise<Record<string, unknown>> {
  const held = opts.facts?.scopes ?? p.scopes;
  const groups = opts.facts?.groups ?? await hub.store.groups.groupsOfUser(user.id);
  const fields = userModelFields(held, user.name, groups);
  const records = opts.facts?.servers ?? await hub.store.servers.listForUser(user.id);
  const def = records.find((r) => r.name === '');
  const defActive = hub.servers.get(user.name, '');
  const full: Record<string, unknown> = {
    kind: 'user',
    name: user.name,
    admin: user.admin,
    roles: userRoles(user, opts.facts?.roles ?? await hub.store.roles.ofUser(user.id)),
    groups,
    server: defActive?.phase === 'ready' ? serverPrefix(hub.base, user.name, '') : null,
    pending: pendingOf(defActive),
    created: isoTime(user.created),
    last_activity: isoTime(user.last_activity),
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(full)) if (fields.has(k)) out[k] = v;
  out.kind = 'user';
  out.name = user.name;
  if (fields.has('auth_state')) out.auth_state = (await hub.authState.get(user)) ?? null;
  if (fields.has('servers')) {
    const withState = checkAccess(held, ['admin:server_state'], { user: user.name, server: `${user.name}/`, userGroups: groups }) === 'ok';
    const servers: Record<string, unknown> = {};
    for (const rec of records) {
      const active = hub.servers.get(user.name, rec.name);
      if (!active && !opts.includeStopped) continue;
      if (!active && rec.name === '' && !def) continue;
      servers[rec.name] = serverModel(hub, user, rec, withState);
    }
    out.servers = servers;
  }
  return out;
}

function userRoles(user: UserRecord, held: string[]): string[] {
  const roles = new Set(['user', ...held]);
  if (user.admin) roles.add('admin');
  return [...roles].sort();
}

export async function tokenModel(hub: Hub, t: TokenRecord): Promise<Record<string, unknown>> {
  const owner: Record<string, unknown> = {};
  if (t.user_id !== null) {
    const u = await hub.store.users.getById(t.user_id);
    owner.user = u?.name ?? null;
  } else if (t.service_id !== null) {
    owner.service = (await hub.store.services.getById(t.service_id))?.name ?? null;
  }
  // Expanded and cut to what the owner holds now, as JupyterHub shows them.
  let scopes: string[] = t.scopes;
  if (t.user_id !== null) {
    const u = await hub.store.users.getById(t.user_id);
    if (u) scopes = [...tokenScopes(await userScopes(hub, u), t, { kind: 'user', name: u.name })].sort();
  } else if (t.service_id !== null) {
    const s = await hub.store.services.getById(t.service_id);
    if (s) scopes = [...tokenScopes(await serviceScopes(hub, s), t, { kind: 'service', name: s.name })].sort();
  }
  const client = t.client_id === 'jupyterhub' ? 'JupyterHub' : (await hub.store.oauth.getClient(t.client_id))?.description ?? t.client_id;
  return {
    ...owner,
    id: `a${t.id}`,
    kind: 'api_token',
    roles: [],
    scopes,
    created: isoTime(t.created),
    last_activity: isoTime(t.last_activity),
    expires_at: isoTime(t.expires_at),
    note: t.note,
    session_id: t.session_id,
    oauth_client: client,
  };
}

export async function groupModel(hub: Hub, g: GroupRecord): Promise<Record<string, unknown>> {
  return { kind: 'group', name: g.name, users: await hub.store.groups.memberNames(g.id), roles: await hub.store.roles.ofGroup(g.id), properties: g.properties };
}

export async function serviceModel(hub: Hub, s: ServiceRecord): Promise<Record<string, unknown>> {
  const cfg = hub.config.hub.services.find((x) => x.name === s.name);
  const roles = new Set(await hub.store.roles.ofService(s.id));
  if (s.admin) roles.add('admin');
  const running = hub.managedServices?.pid(s.name) ?? 0;
  return {
    kind: 'service',
    name: s.name,
    admin: s.admin,
    roles: [...roles].sort(),
    url: cfg?.url ?? '',
    prefix: cfg?.url ? `${hub.base}services/${s.name}/` : '',
    command: cfg?.command ?? [],
    pid: running,
    info: {},
    display: cfg?.display ?? true,
  };
}
