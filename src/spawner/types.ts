// The Spawner interface. A spawner runs one user server somewhere (a local process, a pod) and reports on it; the
// lifecycle (src/servers/lifecycle.ts) is the only caller and owns everything around it: tokens, routes, records.
import type { HubConfig, SpawnerConfig } from '../config/types.ts';
import type { Logger } from '../util/log.ts';

/** What the hub tells a spawner about the server to run. Everything needed for the JupyterHub environment (spec 1.2). */
export interface ServerSpec {
  user: { id: number; name: string; admin: boolean };
  /** '' for the default server. */
  serverName: string;
  /** The server's URL prefix with base_url, leading and trailing slash: /user/alice/ or /user/alice/foo/. */
  prefix: string;
  /** The server's own API token (JUPYTERHUB_API_TOKEN); also its OAuth client secret. */
  apiToken: string;
  /** e.g. http://127.0.0.1:8000/hub/api */
  hubApiUrl: string;
  /** The hub's base_url, e.g. '/'. */
  baseUrl: string;
  oauthClientId: string;
  oauthCallbackUrl: string;
  /** JUPYTERHUB_OAUTH_ACCESS_SCOPES */
  oauthAccessScopes: string[];
  userOptions: Record<string, unknown>;
}

export interface ProgressEvent {
  progress?: number;
  message: string;
  html_message?: string;
  /** The source object behind the message, as KubeSpawner sends a pod's Kubernetes Event (JSON as the API wrote it). */
  raw_event?: unknown;
}

export interface SpawnerInit {
  spec: ServerSpec;
  /** Effective spawner config: Spawner traits, the class's own section, then a profile's overrides. */
  config: SpawnerConfig;
  hubConfig: HubConfig;
  /** State saved by an earlier hub (pid, port …), empty for a fresh server. */
  state: Record<string, unknown>;
  log: Logger;
  /**
   * Called by the spawner the moment it learns the server died on its own (child exit, pod gone), so the hub
   * notices a crash at once instead of on its next poll.
   */
  onExit: (reason: string) => void;
  /**
   * Writes the spawner's state to the server's record at once, while it is still starting. A spawner calls it with
   * what finds its process again (a pid) before that process may run, so a hub killed at any moment of a spawn leaves
   * no server its successor cannot find: the record is written first, then the process is let go.
   */
  recordState?: (state: Record<string, unknown>) => void;
  /**
   * The spawn is (true) or is no longer (false) only waiting for capacity the cluster has promised to add (a pod no node
   * fits, for which an autoscaler announced a scale-up). The hub does not count such a spawn against
   * concurrent_spawn_limit, so the spawns queued behind it create their pods and the autoscaler sees the whole demand.
   */
  waitingForCapacity?: (waiting: boolean) => void;
  /** The authenticator's users are system users (capabilities.systemUsers): a local server runs as the user's passwd
   *  entry. */
  systemUsers?: boolean;
}

export interface Spawner {
  /** Starts the server; resolves with the URL the hub and proxy reach it at (http://ip:port). */
  start(): Promise<string>;
  /** Stops it (gracefully, then by force) and releases what it used. Idempotent. */
  stop(): Promise<void>;
  /** null while running, else an exit status (JupyterHub's convention). */
  poll(): Promise<number | null>;
  /** Spawner-specific progress while starting; optional. Ends when start() settles. */
  progress?(): AsyncIterable<ProgressEvent>;
  /**
   * True when poll()'s null came from the recorded state only, because the server cannot be seen right now (the
   * Kubernetes API is down). The spawner checks by itself once it can, and calls onExit if the server is gone; a hub
   * re-adopting such a server routes it on the record without probing it (a probe that failed would have to stop it,
   * which needs the same API).
   */
  checkDeferred?(): boolean;
  /** What to persist so a restarted hub can find the server again. */
  getState(): Record<string, unknown>;
  /**
   * A report from inside the running server's job (batchspawner's `POST /hub/api/batchspawner`, made with the server's
   * own token), e.g. `{port}` picked on a compute node. Only spawners whose servers choose where they listen take one;
   * throws (the caller answers 400) when the data is unusable.
   */
  acceptReport?(data: Record<string, unknown>): void;
  /**
   * The part of the state that outlives a stop and is given back (as `state`) to the server's next spawner, as
   * JupyterHub keeps what a spawner's clear_state leaves: KubeSpawner's claim name. None by default.
   */
  keptState?(): Record<string, unknown>;
}

/**
 * A running server another hub started that this hub can take over: a KubeSpawner hub's pod no record names. Read from
 * the pod itself (its annotations and the JupyterHub environment KubeSpawner wrote into it), so no database is needed.
 */
export interface ForeignServer {
  userName: string;
  serverName: string;
  /** Where it answers, e.g. http://10.0.3.7:8888 */
  url: string;
  /** Its JUPYTERHUB_API_TOKEN, which it keeps using (activity, OAuth): this hub learns it instead of issuing another. */
  apiToken: string;
  /** Its JUPYTERHUB_SERVICE_PREFIX and JUPYTERHUB_CLIENT_ID, which must be what this hub would use for it. */
  prefix: string;
  oauthClientId: string;
  /** The spawner state that finds it again (pod_name …). */
  state: Record<string, unknown>;
  started: number;
  /** For the log, e.g. "pod jhub/jupyter-alice". */
  where: string;
}

/** What class-wide hooks get: they may keep state per hub (several hubs can share a process), keyed by hubConfig. */
export interface SpawnerClassContext {
  hubConfig: HubConfig;
  log: Logger;
  /** Resolves once the hub has finished starting (listening, servers re-adopted); for work that may wait till then. */
  started?: Promise<void>;
  /** A path for a runtime file that this hub's successor finds again (`<sqlite file>.<name>`), or null. */
  runtimePath?: (name: string) => string | null;
}

export interface SpawnerClass {
  /** The class, as its config section is named ('LocalProcessSpawner'); the names that select it are in
   *  src/config/classes.ts. */
  readonly name: string;
  /** The Python class path JupyterHub would report for it (GET /hub/api/info). */
  readonly classPath: string;
  /** Config section names whose traits apply, most general first, e.g. ['Spawner', 'LocalProcessSpawner']. */
  readonly sections: readonly string[];
  create(init: SpawnerInit): Spawner;
  /** Hub start-up, before any spawner is created: load what the class needs, connect, start class-wide watches. */
  prepare?(ctx: SpawnerClassContext): Promise<void>;
  /**
   * Hub start-up, after re-adoption: remove servers no record names any more (a pod left by a hub that lost its
   * database or died mid-start). `serverStates` returns the getState() of every server the hub now knows, read at the
   * moment of the sweep so that a start begun meanwhile is kept.
   */
  cleanupOrphans?(ctx: SpawnerClassContext & {
    serverStates: () => Iterable<Record<string, unknown>>;
    /** Takes over a server another hub started; resolves null once it is this hub's, else why it was not taken. */
    adoptServer?: (server: ForeignServer) => Promise<string | null>;
  }): Promise<void>;
  /** After a handover (handover.ts): this process no longer owns the servers; drop what it holds on their behalf without
   *  undoing it (the successor takes it over). */
  handedOver?(ctx: SpawnerClassContext): void;
  /** Hub shut-down: release class-wide resources (watches, timers). Servers are not stopped here. */
  shutdown?(ctx: SpawnerClassContext): Promise<void>;
  /**
   * Hub start-up, before listening: the one log line saying how servers are kept apart from the hub and from each
   * other; throws (with the setting to change) when that isolation is too weak for what the hub is about to serve.
   */
  isolation?(ctx: SpawnerClassContext & { temporaryUsers: boolean; host: string }): string;
  /**
   * A server is deleted for good (its user deleted, or a named server removed), after it stopped: release what outlived
   * its stops, as JupyterHub's Spawner.delete_forever does (KubeSpawner: the user's claim, with delete_pvc). `state` is
   * what the server's record kept (keptState).
   */
  deleteForever?(ctx: SpawnerClassContext & { user: { id: number; name: string }; serverName: string; state: Record<string, unknown> }): Promise<void>;
  /** Extra keys for /hub/api/info (e.g. the Kubernetes pre-puller's readiness). */
  info?(ctx: SpawnerClassContext): Record<string, unknown>;
  /** The jupyterhub version to tell an untokened `GET /hub/api` from `address` when it is a server's start-up probe
   *  (src/spawner/kubernetes/versions.ts); undefined: not known. Runs on every such request: a Map lookup. */
  probeVersion?(hubConfig: HubConfig, address: string | undefined): string | undefined;
}

export type { SpawnerConfig };
