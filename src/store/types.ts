// What the rest of nodehub may ask of the database, the same on sqlite and PostgreSQL; every method is asynchronous
// (PostgreSQL answers over the network). Every method is one prepared statement (or a short transaction);
// nothing here reads all users except the paginated listing, which reads one page through an index.
// Times are epoch milliseconds; JSON columns come back parsed.

export interface NewUserOptions {
  admin?: boolean;
  /** Epoch ms; null (never active) unless given. */
  lastActivity?: number;
}

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
  /** The schema version after migrations (the same numbers on sqlite and PostgreSQL). */
  readonly version: number;
  readonly dialect: 'sqlite' | 'postgres';
  /** Where the data lives, for logs: the sqlite file, or the PostgreSQL URL without its password. */
  readonly location: string;
  /**
   * Runs fn in one transaction, all or nothing, with `s` the store bound to it: use `s`, not the outer store, inside
   * (on PostgreSQL the outer store is another connection, outside the transaction).
   */
  tx<T>(fn: (s: Store) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Does the database answer right now (one short query, not retried)? The readiness probe asks; sqlite always does. */
  available(): Promise<boolean>;

  users: {
    get(name: string): Promise<UserRecord | undefined>;
    getById(id: number): Promise<UserRecord | undefined>;
    getByCookieId(cookieId: string): Promise<UserRecord | undefined>;
    /** Throws when the name is taken. `lastActivity` is for a user created by a login, which is activity. */
    create(name: string, opts?: NewUserOptions): Promise<UserRecord>;
    /** create, but a taken name gives undefined (one statement, nothing aborted). */
    add(name: string, opts?: NewUserOptions): Promise<UserRecord | undefined>;
    update(id: number, patch: { name?: string; admin?: boolean; auth_state?: unknown }): Promise<UserRecord>;
    setEncryptedAuthState(id: number, value: string | null): Promise<void>;
    /** Moves last_activity forward only. */
    touch(id: number, when: number): Promise<void>;
    delete(id: number): Promise<void>;
    /** `total` is left out when the query says withTotal: false. */
    page(q: UserPageQuery): Promise<{ items: UserRecord[]; total?: number }>;
    count(): Promise<number>;
    /** Non-admin users without a started server, last seen (or created) before `before`, oldest first: what the idle
     *  culler may delete. */
    listIdle(before: number, limit: number): Promise<UserRecord[]>;
    /** A page of the admin page's listing; `more` says whether rows follow (no total is counted). */
    adminPage(q: AdminUserQuery): Promise<{ items: UserRecord[]; more: boolean }>;
  };

  servers: {
    get(userId: number, name: string): Promise<ServerRecord | undefined>;
    listForUser(userId: number): Promise<ServerRecord[]>;
    /** listForUser for a page of users in one query; users without a server record are absent from the map. */
    listForUsers(userIds: readonly number[]): Promise<Map<number, ServerRecord[]>>;
    /** Creates the record if missing (a server record exists for every server the user ever asked for). */
    ensure(userId: number, name: string): Promise<ServerRecord>;
    update(id: number, patch: Partial<Omit<ServerRecord, 'id' | 'user_id' | 'name'>>): Promise<void>;
    /** Moves last_activity forward only. */
    touch(id: number, when: number): Promise<void>;
    delete(id: number): Promise<void>;
    /** Servers with started != null, joined with their user's name: what a restarted hub must re-adopt. */
    listActive(): Promise<ActiveServerRecord[]>;
    /** One user's servers with started != null (one indexed look-up by name): what a hub that missed a route asks. */
    listActiveOfUser(userName: string): Promise<ActiveServerRecord[]>;
    countActive(): Promise<number>;
  };

  /** Places in the spawn queue, in arrival order (src/servers/queue.ts writes through to it). */
  spawnQueue: {
    /** Joins at the back; a place already held keeps its position and takes the new options. */
    add(userId: number, serverName: string, options: Record<string, unknown> | undefined, enqueued: number): Promise<void>;
    remove(userId: number, serverName: string): Promise<void>;
    list(): Promise<{ user: { id: number; name: string; admin: boolean }; serverName: string; options: Record<string, unknown> | undefined; enqueued: number }[]>;
    clear(): Promise<void>;
  };

  tokens: {
    create(t: NewToken): Promise<TokenRecord>;
    /** The unexpired token whose hash matches, or undefined. */
    find(token: string): Promise<TokenRecord | undefined>;
    get(id: number): Promise<TokenRecord | undefined>;
    listForUser(userId: number): Promise<TokenRecord[]>;
    listForService(serviceId: number): Promise<TokenRecord[]>;
    touch(id: number, when: number): Promise<void>;
    delete(id: number): Promise<void>;
    deleteForClient(clientId: string, userId?: number): Promise<void>;
    deleteForSession(sessionId: string): Promise<void>;
    /** The tokens minted for this server record. */
    deleteForServer(serverId: number): Promise<void>;
    purgeExpired(now: number): Promise<number>;
  };

  oauth: {
    upsertClient(c: Omit<OAuthClientRecord, 'secret_hash'> & { secret: string }): Promise<void>;
    getClient(identifier: string): Promise<OAuthClientRecord | undefined>;
    /** Also deletes the client's tokens and codes. */
    deleteClient(identifier: string): Promise<void>;
    /** Stores a code (hashed) valid until expires_at. */
    createCode(code: string, rec: OAuthCodeRecord): Promise<void>;
    /** Returns and deletes the code in one step, so a code can be used once; undefined if unknown or expired. */
    consumeCode(code: string, now: number): Promise<OAuthCodeRecord | undefined>;
    /** Deletes codes that expired unused; returns how many. */
    purgeExpiredCodes(now: number): Promise<number>;
  };

  groups: {
    get(name: string): Promise<GroupRecord | undefined>;
    page(q: { offset: number; limit: number; names?: string[] }): Promise<{ items: GroupRecord[]; total: number }>;
    create(name: string, properties?: Record<string, unknown>): Promise<GroupRecord>;
    /** Replaces the group's properties (JupyterHub 3.2+ PUT /groups/:name/properties); the updated record. */
    setProperties(id: number, properties: Record<string, unknown>): Promise<GroupRecord>;
    delete(id: number): Promise<void>;
    addUsers(groupId: number, userIds: number[]): Promise<void>;
    removeUsers(groupId: number, userIds: number[]): Promise<void>;
    memberNames(groupId: number): Promise<string[]>;
    groupsOfUser(userId: number): Promise<string[]>;
    /** groupsOfUser for a page of users in one query; users in no group are absent from the map. */
    groupsOfUsers(userIds: readonly number[]): Promise<Map<number, string[]>>;
  };

  roles: {
    /** Creates or replaces a role definition. */
    upsert(r: RoleRecord): Promise<void>;
    get(name: string): Promise<RoleRecord | undefined>;
    list(): Promise<RoleRecord[]>;
    /** Deletes a role definition; holders lose it through the foreign keys. */
    delete(name: string): Promise<void>;
    /** Replaces the roles held by a user / group / service. */
    setForUser(userId: number, roles: string[]): Promise<void>;
    setForGroup(groupId: number, roles: string[]): Promise<void>;
    setForService(serviceId: number, roles: string[]): Promise<void>;
    addToUser(userId: number, role: string): Promise<void>;
    ofUser(userId: number): Promise<string[]>;
    /** ofUser for a page of users in one query; users holding no role are absent from the map. */
    ofUsers(userIds: readonly number[]): Promise<Map<number, string[]>>;
    ofGroup(groupId: number): Promise<string[]>;
    ofService(serviceId: number): Promise<string[]>;
  };

  services: {
    upsert(name: string, admin: boolean): Promise<ServiceRecord>;
    get(name: string): Promise<ServiceRecord | undefined>;
    getById(id: number): Promise<ServiceRecord | undefined>;
    list(): Promise<ServiceRecord[]>;
    /** Removes services no longer in the configuration. */
    deleteExcept(names: string[]): Promise<void>;
  };

  /** Compact activity record: counts users active in a window even after the user is deleted (issue: culling). */
  activity: {
    record(userName: string, when: number): Promise<void>;
    countSince(since: number): Promise<number>;
    prune(before: number): Promise<void>;
  };
}
