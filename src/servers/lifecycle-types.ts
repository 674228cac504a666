// Types of the server lifecycle (see lifecycle.ts): what an active server is, and what the lifecycle needs and tells.
import type { Authenticator } from '../auth/types.ts';
import type { EventEmitter } from 'node:events';
import type { HubConfig } from '../config/types.ts';
import type { Store } from '../store/types.ts';
import type { RouteTable } from '../proxy/index.ts';
import type { Logger } from '../util/log.ts';
import type { ProgressEvent, Spawner, SpawnerClass } from '../spawner/types.ts';

export type Phase = 'spawning' | 'ready' | 'stopping';

/** JupyterHub's `pending` of a server: what it is busy doing, or null when it is ready or not running. */
export function pendingOf(active: { phase: Phase } | null | undefined): 'spawn' | 'stop' | null {
  if (active?.phase === 'spawning') return 'spawn';
  if (active?.phase === 'stopping') return 'stop';
  return null;
}

export interface HubEvent extends ProgressEvent {
  ready?: boolean;
  failed?: boolean;
  url?: string;
}

export interface UserRef {
  id: number;
  name: string;
  admin: boolean;
}

/** A server that is not stopped: starting, running or stopping. */
export interface ActiveServer {
  user: UserRef;
  name: string;
  recordId: number;
  /** Settles once the record is marked started (a stop waits for it before releasing the record). */
  recorded?: Promise<void>;
  prefix: string;
  phase: Phase;
  spawner: Spawner | null;
  url: string | null;
  started: number;
  /** Every event of the current spawn, so a late subscriber sees the bar where it is. */
  events: HubEvent[];
  emitter: EventEmitter;
  /** Settles when the spawn ends (ready or failed); never rejects. */
  spawned: Promise<boolean>;
  stopped: Promise<void> | null;
  /** Started by the warm pool and not yet handed to a visitor: outside the limits, and not idle in the culler's sense. */
  pooled?: boolean;
  /** Its spawner only waits for a node an autoscaler is adding (SpawnerInit.waitingForCapacity): outside
   *  concurrent_spawn_limit until the node is there. */
  waitingForCapacity?: boolean;
}

export interface LifecycleDeps {
  config: HubConfig;
  store: Store;
  routes: RouteTable;
  spawnerClass: SpawnerClass;
  log: Logger;
  /** How spawned servers reach the hub API, e.g. http://127.0.0.1:8000/hub/api */
  hubApiUrl: string;
  observe?: LifecycleObserver;
  /** The authenticator's say in spawning: whether its users are system users, and its pre_spawn_start /
   *  post_spawn_stop hooks (PAM sessions, create_system_users). */
  authenticator?: Pick<Authenticator, 'capabilities' | 'preSpawnStart' | 'postSpawnStop'>;
  /** The user's decrypted auth state, for auth_state_hook and pre_spawn_hook. */
  authState?: (user: UserRef) => Promise<unknown>;
}

/** Metrics and other listeners; all optional. */
export interface LifecycleObserver {
  spawnFinished?(status: 'success' | 'failure' | 'throttled' | 'too-many-users' | 'already-pending', seconds: number): void;
  stopFinished?(status: 'success' | 'failure', seconds: number): void;
}

