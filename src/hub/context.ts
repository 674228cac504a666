// The hub's shared state, built once at start and handed to every handler. Nothing here is global, so tests can run
// several hubs in one process.
import type { HubConfig } from '../config/types.ts';
import type { Store } from '../store/types.ts';
import type { RouteTable } from '../proxy/index.ts';
import type { ServerCatchUp, ServerManager, ServerPool } from '../servers/index.ts';
import type { Authenticator } from '../auth/index.ts';
import type { Logger } from '../util/log.ts';
import type { HubMetrics } from './metrics.ts';
import type { AuthStateKeeper } from './auth-state.ts';
import type { AttemptLimiter, SharedPassword } from '../auth/shared-password.ts';

export interface Hub {
  config: HubConfig;
  store: Store;
  routes: RouteTable;
  servers: ServerManager;
  authenticator: Authenticator;
  /** Users' auth state, encrypted at rest with enable_auth_state. */
  authState: AuthStateKeeper;
  cookieSecret: Buffer;
  log: Logger;
  metrics: HubMetrics;
  /** base_url, e.g. '/' */
  base: string;
  /** base_url + 'hub/' */
  hubPrefix: string;
  /** Where spawned servers and services reach the API (JUPYTERHUB_API_URL). */
  apiUrl: string;
  /** The URL the proxy treats as the hub (target of the default route, answered in-process). */
  hubTarget: string;
  /** The event's shared password (NODEHUB_SHARED_PASSWORD); null when the hub is not gated. */
  sharedPassword?: SharedPassword | null;
  /** Wrong passwords per client address, shared by the password gate and the login form (SharedPassword.max_wrong_tries). */
  loginLimiter?: AttemptLimiter;
  /** The warm pool of ready servers for new `tmp` visitors; absent when pool_size is 0 everywhere. */
  pool?: ServerPool | null;
  /** On PostgreSQL: finds servers another hub on the database started (src/servers/catch-up.ts); null on sqlite. */
  catchUp?: ServerCatchUp | null;
  /** Services the hub runs itself (those with a `command`). */
  managedServices?: { pid(name: string): number };
  /**
   * Settles once start-up has re-adopted running servers. The listener opens before that (its port must be known to
   * build the API URL), so requests wait on this instead of seeing a hub without its servers.
   */
  ready: Promise<void>;
  /** Asks the process to shut down (POST /hub/api/shutdown). */
  requestShutdown(opts: { servers: boolean }): void;
}
