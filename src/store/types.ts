// What the rest of nodehub may ask of the database. Every method is one prepared statement (or a short transaction);
// nothing here reads all users except the paginated listing, which reads one page through an index.
// Times are epoch milliseconds; JSON columns come back parsed.

export interface UserRecord {
  id: number;
  name: string;
  admin: boolean;
  created: number;
  last_activity: number | null;
  /** Random id the login cookie carries instead of the name, so renaming or deleting a user invalidates it. */
  cookie_id: string;
  auth_state: unknown;
  /** The auth state as a Fernet token (JUPYTERHUB_CRYPT_KEY), or null; only src/hub/auth-state.ts reads it. */
  encrypted_auth_state: string | null;
}

export interface ServerRecord {
  id: number;
  user_id: number;
  /** '' for the default server. */
  name: string;
  /** Set while the server is active (starting, running or stopping); null when stopped. */
  started: number | null;
  last_activity: number | null;
  /** Spawner state (pid, port, pod name …) so a restarted hub can re-adopt the server. */
  state: Record<string, unknown>;
  user_options: Record<string, unknown>;
  /** URL the server was reached at (e.g. http://127.0.0.1:40211), null when not running. */
  url: string | null;
}

export interface ActiveServerRecord extends ServerRecord {
  user_name: string;
}

export type TokenKind = 'api' | 'oauth';

export interface TokenRecord {
  id: number;
  user_id: number | null;
  service_id: number | null;
  /** The server this token was minted for (its `server` role token), or null for every other token. */
  server_id: number | null;
  kind: TokenKind;
  /** First 4 characters, for display; the token itself is stored only as a hash. */
  prefix: string;
  note: string;
  /** Scopes as requested at creation (unexpanded); empty means the owner's own permissions (`inherit`). */
  scopes: string[];
  session_id: string | null;
  /** OAuth client identifier; 'jupyterhub' for tokens made through the API or the token page. */
  client_id: string;
  created: number;
  last_activity: number | null;
  expires_at: number | null;
}

export interface NewToken {
  user_id?: number | null;
  service_id?: number | null;
  /** Set only by the lifecycle, for the token a spawn hands its server. */
  server_id?: number | null;
  kind: TokenKind;
  /** The plain token; only its hash is stored. */
  token: string;
  note?: string;
  scopes?: string[];
  session_id?: string | null;
  client_id?: string;
  expires_at?: number | null;
}

export interface OAuthClientRecord {
  identifier: string;
  description: string;
  redirect_uri: string;
  allowed_scopes: string[];
  /** sha256 hex of the client secret (for servers: their API token). */
  secret_hash: string;
}

export interface OAuthCodeRecord {
  client_id: string;
  user_id: number;
  scopes: string[];
  session_id: string | null;
  redirect_uri: string;
  expires_at: number;
}

export interface GroupRecord {
  id: number;
  name: string;
  properties: Record<string, unknown>;
}

export interface RoleRecord {
  name: string;
  description: string;
  scopes: string[];
}

export interface ServiceRecord {
  id: number;
  name: string;
  admin: boolean;
}

export type UserState = 'active' | 'ready' | 'inactive';

export interface UserPageQuery {
  offset: number;
  limit: number;
  /** active: has a started server; ready: has a started server with a url; inactive: no started server. */
  state?: UserState;
  /** Case-insensitive substring of the name. */
  nameFilter?: string;
  /** Restrict to these user names (a caller whose scopes are filtered to some users). */
  names?: string[];
  /** false skips the total (a plain-list reply has none): counting reads every page of an index, ~17 ms at 1M users. */
  withTotal?: boolean;
}

export interface AdminUserQuery {
  offset: number;
  limit: number;
  sort: 'name' | 'last_activity';
  dir: 'asc' | 'desc';
  /** Case-insensitive substring of the name, as the REST API's name_filter. */
  nameFilter?: string;
  /** Restrict to these user names (a caller whose scopes are filtered to some users). */
  names?: string[];
}

export interface Store {
  /** The file's schema version after migrations. */
  readonly version: number;
  transaction<T>(fn: () => T): T;
  close(): void;

  users: {
    get(name: string): UserRecord | undefined;
    getById(id: number): UserRecord | undefined;
    getByCookieId(cookieId: string): UserRecord | undefined;
    create(name: string, opts?: { admin?: boolean }): UserRecord;
    update(id: number, patch: { name?: string; admin?: boolean; auth_state?: unknown }): UserRecord;
    setEncryptedAuthState(id: number, value: string | null): void;
    /** Moves last_activity forward only. */
    touch(id: number, when: number): void;
    delete(id: number): void;
    /** `total` is left out when the query says withTotal: false. */
    page(q: UserPageQuery): { items: UserRecord[]; total?: number };
    count(): number;
    /** Non-admin users without a started server, last seen (or created) before `before`, oldest first: what the idle
     *  culler may delete. */
    listIdle(before: number, limit: number): UserRecord[];
    /** A page of the admin page's listing; `more` says whether rows follow (no total is counted). */
    adminPage(q: AdminUserQuery): { items: UserRecord[]; more: boolean };
  };

  servers: {
    get(userId: number, name: string): ServerRecord | undefined;
    listForUser(userId: number): ServerRecord[];
    /** listForUser for a page of users in one query; users without a server record are absent from the map. */
    listForUsers(userIds: readonly number[]): Map<number, ServerRecord[]>;
    /** Creates the record if missing (a server record exists for every server the user ever asked for). */
    ensure(userId: number, name: string): ServerRecord;
    update(id: number, patch: Partial<Omit<ServerRecord, 'id' | 'user_id' | 'name'>>): void;
    /** Moves last_activity forward only. */
    touch(id: number, when: number): void;
    delete(id: number): void;
    /** Servers with started != null, joined with their user's name: what a restarted hub must re-adopt. */
    listActive(): ActiveServerRecord[];
    countActive(): number;
  };

  /** Places in the spawn queue, in arrival order (src/servers/queue.ts writes through to it). */
  spawnQueue: {
    /** Joins at the back; a place already held keeps its position and takes the new options. */
    add(userId: number, serverName: string, options: Record<string, unknown> | undefined, enqueued: number): void;
    remove(userId: number, serverName: string): void;
    list(): { user: { id: number; name: string; admin: boolean }; serverName: string; options: Record<string, unknown> | undefined; enqueued: number }[];
    clear(): void;
  };

  tokens: {
    create(t: NewToken): TokenRecord;
    /** The unexpired token whose hash matches, or undefined. */
    find(token: string): TokenRecord | undefined;
    get(id: number): TokenRecord | undefined;
    listForUser(userId: number): TokenRecord[];
    listForService(serviceId: number): TokenRecord[];
    touch(id: number, when: number): void;
    delete(id: number): void;
    deleteForClient(clientId: string, userId?: number): void;
    deleteForSession(sessionId: string): void;
    /** The tokens minted for this server record. */
    deleteForServer(serverId: number): void;
    purgeExpired(now: number): number;
  };

  oauth: {
    upsertClient(c: Omit<OAuthClientRecord, 'secret_hash'> & { secret: string }): void;
    getClient(identifier: string): OAuthClientRecord | undefined;
    /** Also deletes the client's tokens and codes. */
    deleteClient(identifier: string): void;
    /** Stores a code (hashed) valid until expires_at. */
    createCode(code: string, rec: OAuthCodeRecord): void;
    /** Returns and deletes the code in one step, so a code can be used once; undefined if unknown or expired. */
    consumeCode(code: string, now: number): OAuthCodeRecord | undefined;
  };

  groups: {
    get(name: string): GroupRecord | undefined;
    page(q: { offset: number; limit: number; names?: string[] }): { items: GroupRecord[]; total: number };
    create(name: string, properties?: Record<string, unknown>): GroupRecord;
    /** Replaces the group's properties (JupyterHub 3.2+ PUT /groups/:name/properties); the updated record. */
    setProperties(id: number, properties: Record<string, unknown>): GroupRecord;
    delete(id: number): void;
    addUsers(groupId: number, userIds: number[]): void;
    removeUsers(groupId: number, userIds: number[]): void;
    memberNames(groupId: number): string[];
    groupsOfUser(userId: number): string[];
    /** groupsOfUser for a page of users in one query; users in no group are absent from the map. */
    groupsOfUsers(userIds: readonly number[]): Map<number, string[]>;
  };

  roles: {
    /** Creates or replaces a role definition. */
    upsert(r: RoleRecord): void;
    get(name: string): RoleRecord | undefined;
    list(): RoleRecord[];
    /** Replaces the roles held by a user / group / service. */
    setForUser(userId: number, roles: string[]): void;
    setForGroup(groupId: number, roles: string[]): void;
    setForService(serviceId: number, roles: string[]): void;
    addToUser(userId: number, role: string): void;
    ofUser(userId: number): string[];
    /** ofUser for a page of users in one query; users holding no role are absent from the map. */
    ofUsers(userIds: readonly number[]): Map<number, string[]>;
    ofGroup(groupId: number): string[];
    ofService(serviceId: number): string[];
  };

  services: {
    upsert(name: string, admin: boolean): ServiceRecord;
    get(name: string): ServiceRecord | undefined;
    getById(id: number): ServiceRecord | undefined;
    list(): ServiceRecord[];
    /** Removes services no longer in the configuration. */
    deleteExcept(names: string[]): void;
  };

  /** Compact activity record: counts users active in a window even after the user is deleted (issue: culling). */
  activity: {
    record(userName: string, when: number): void;
    countSince(since: number): number;
    prune(before: number): void;
  };
}
