// A user's auth state (JupyterHub's user.get_auth_state / save_auth_state): with Authenticator.enable_auth_state it is
// kept only encrypted (JUPYTERHUB_CRYPT_KEY, Fernet); without it the hub keeps the plain column the REST API could
// always set, as before. Also the refresh before a spawn (refresh_pre_spawn, auth_refresh_age) and manage_groups.
import type { HubConfig } from '../config/types.ts';
import { ConfigError } from '../config/errors.ts';
import { CryptKeeper } from '../auth/crypt.ts';
import type { AuthResult, Authenticator } from '../auth/types.ts';
import type { Store, UserRecord } from '../store/types.ts';

export interface AuthStateKeeper {
  readonly encrypted: boolean;
  get(user: UserRecord): Promise<unknown>;
  set(user: UserRecord, state: unknown): Promise<UserRecord>;
}

export function authStateKeeper(config: HubConfig, env: Record<string, string | undefined>, store: Store): AuthStateKeeper {
  const enabled = config.authenticator.enable_auth_state === true;
  let crypt: CryptKeeper | null;
  try {
    crypt = CryptKeeper.fromEnv(env.JUPYTERHUB_CRYPT_KEY);
  } catch (err) {
    throw new ConfigError((err as Error).message, 'JUPYTERHUB_CRYPT_KEY');
  }
  if (!enabled) {
    return {
      encrypted: false,
      get: async (user) => user.auth_state ?? null,
      set: (user, state) => store.users.update(user.id, { auth_state: state ?? null }),
    };
  }
  if (!crypt) {
    throw new ConfigError('Authenticator.enable_auth_state is true, but JUPYTERHUB_CRYPT_KEY is not set: set it to one or more '
      + "';'-separated 32-byte keys (e.g. `openssl rand -hex 32`), or turn enable_auth_state off", 'Authenticator.enable_auth_state');
  }
  const keeper = crypt;
  return {
    encrypted: true,
    async get(user) {
      const fresh = await store.users.getById(user.id);
      if (!fresh?.encrypted_auth_state) return null;
      try {
        return keeper.decrypt(fresh.encrypted_auth_state);
      } catch {
        // JupyterHub's answer to a key that no longer opens it: as if there were none, until the next login.
        return null;
      }
    },
    async set(user, state) {
      await store.users.setEncryptedAuthState(user.id, state === null || state === undefined ? null : keeper.encrypt(state));
      return (await store.users.getById(user.id))!;
    },
  };
}

/** manage_groups: the provider's groups become the user's hub groups (created when missing), no more, no less. */
export async function syncGroups(store: Store, user: UserRecord, groups: readonly string[]): Promise<void> {
  await store.tx(async (s) => {
    const want = new Set(groups);
    for (const name of await s.groups.groupsOfUser(user.id)) {
      if (!want.has(name)) await s.groups.removeUsers((await s.groups.get(name))!.id, [user.id]);
    }
    const have = new Set(await s.groups.groupsOfUser(user.id));
    for (const name of want) {
      if (have.has(name)) continue;
      const group = (await s.groups.get(name)) ?? (await s.groups.create(name));
      await s.groups.addUsers(group.id, [user.id]);
    }
  });
}

/** When each user's auth was last refreshed, in this process (JupyterHub keeps it in memory too). */
const refreshed = new WeakMap<object, Map<number, number>>();

/** Refreshes the user's auth before a spawn when refresh_pre_spawn is on or the last refresh is older than
 *  auth_refresh_age; false means the provider no longer accepts the user (log in again). */
export async function refreshBeforeSpawn(
  deps: { config: HubConfig; store: Store; authenticator: Authenticator; authState: AuthStateKeeper },
  user: UserRecord,
  apply: (result: AuthResult) => unknown,
): Promise<boolean> {
  const { authenticator: auth, config } = deps;
  if (!auth.refreshUser) return true;
  const times = refreshed.get(deps.store) ?? new Map<number, number>();
  refreshed.set(deps.store, times);
  const age = config.authenticator.auth_refresh_age;
  const last = times.get(user.id) ?? 0;
  const due = config.authenticator.refresh_pre_spawn || (age > 0 && Date.now() - last > age * 1000);
  if (!due) return true;
  const answer = await auth.refreshUser(await deps.authState.get(user));
  if (answer === false) return false;
  if (answer !== true) await apply(answer);
  times.set(user.id, Date.now());
  return true;
}

/** Marks a user's auth as fresh (at login). */
export function markRefreshed(store: Store, userId: number): void {
  const times = refreshed.get(store) ?? new Map<number, number>();
  refreshed.set(store, times);
  times.set(userId, Date.now());
}

/** What a login or refresh brings besides the name: auth state (kept when the authenticator gave one), admin, and
 *  (with manage_groups) the groups. Returns the updated user. */
export async function applyAuthResult(hub: { store: Store; authState: AuthStateKeeper; config: HubConfig }, user: UserRecord, result: AuthResult): Promise<UserRecord> {
  let out = user;
  if (result.auth_state !== undefined && result.auth_state !== null && hub.config.authenticator.enable_auth_state) out = await hub.authState.set(out, result.auth_state);
  if (result.admin !== undefined && result.admin !== out.admin) out = await hub.store.users.update(out.id, { admin: result.admin });
  if (hub.config.authenticator.manage_groups && result.groups) await syncGroups(hub.store, out, result.groups);
  return out;
}

/** refreshBeforeSpawn with the result applied; false: the user must log in again. */
export function freshAuth(hub: { config: HubConfig; store: Store; authenticator: Authenticator; authState: AuthStateKeeper }, user: UserRecord): Promise<boolean> {
  return refreshBeforeSpawn(hub, user, (result) => applyAuthResult(hub, user, result));
}
