// Start-up and shut-down of the one process: open the store, build the hub, put the hub and proxy behind one listener,
// re-adopt servers a previous process left running, and start managed services. Work here is proportional to the
// configuration and to active servers, never to the number of users.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { http, https, STATUS_CODES } from '../util/builtins.ts';
import type { Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { HubConfig } from '../config/types.ts';
import type { Hub } from './context.ts';
import { JUPYTERHUB_VERSION } from '../util/version.ts';
import { openStore, parseDbUrl } from '../store/index.ts';
import { makePrivate } from '../util/private-files.ts';
import { RouteTable, createForwarder } from '../proxy/index.ts';
import { adoptForeignServer, ServerCatchUp, ServerManager, ServerPool } from '../servers/index.ts';
import { resolveSpawnerClass, waitForHttp, type Spawner } from '../spawner/index.ts';
import { loadOrCreateCookieSecret, resolveAuthenticator, temporaryUsers } from '../auth/index.ts';
import { configureLogging, createLogger } from '../util/log.ts';
import { createMetrics } from './metrics.ts';
import { createHubApp, isStartupProbe } from './app.ts';
import { errorPage, SERVER_DOWN_MESSAGE } from './pages/index.ts';
import { seedFromConfig, stopBlockedServers } from './seed.ts';
import { ManagedServices } from './services.ts';
import { ActivityFlusher } from './activity.ts';
import { listenAddress } from './listen.ts';
import { loginLimiter, setupSharedPassword } from './web/password.ts';
import { hubLogo } from './web/assets.ts';
import { startMaintenance } from './maintenance.ts';
import { cullerSettings, startCuller } from './culler.ts';
import { HubReloader, watchConfigFile } from './reload.ts';
import type { ConfigLoader, ReloadResult } from './reload.ts';
import { ConnectionDrain, Handover, canShareListener, controlSocketPath, findPredecessor, listenForControl, requestHandover, runtimeFilePath } from './handover.ts';
import { authStateKeeper, type AuthStateKeeper } from './auth-state.ts';
import { admit, applyTlsFiles, loadTlsFiles, refuse, refuseUpgrade, serverOptions, tlsEnabled, type TlsFiles } from './tls.ts';
import { openHubListener, type HubListener } from './hub-listener.ts';

export interface RunningHub {
  hub: Hub;
  /** The URL a browser opens, e.g. http://127.0.0.1:8000/ */
  url: string;
  port: number;
  close(): Promise<void>;
  /** SIGTERM: close(), or on PostgreSQL with cleanup_servers off, let go and drain as a handover does (see start.ts). */
  terminate(): Promise<void>;
  /** Re-reads the configuration and applies what can change live (SIGHUP); see reload.ts. */
  reload(): Promise<ReloadResult>;
  /** Settles once this process handed over to a successor and finished draining: time to exit. */
  handedOver: Promise<void>;
}

export interface StartOptions {
  /** Where the shared password is read from (NODEHUB_SHARED_PASSWORD[_FILE]); process.env by default. */
  env?: Record<string, string | undefined>;
  /** Reads the configuration again for a reload; without it reload() re-applies the config the hub started with. */
  loadConfig?: ConfigLoader;
  /** The config file, watched for changes when JupyterHub.reload_on_config_change is on. */
  configFile?: string | null;
}

export async function startHub(config: HubConfig, opts: StartOptions = {}): Promise<RunningHub> {
  const t0 = performance.now();
  configureLogging(config.hub);
  const log = createLogger('nodehub');
  for (const warning of config.warnings) log.warn(warning);
  const cookieSecret = loadOrCreateCookieSecret({ secretHex: config.hub.cookie_secret || undefined, file: config.hub.cookie_secret_file });
  const authenticator = resolveAuthenticator(config.hub.authenticator_class, config.authenticator);
  if (authenticator.log) {
    const authLog = log.child('auth');
    authenticator.log = (message) => authLog.warn(message);
  }
  const spawnerClass = resolveSpawnerClass(config.hub.spawner_class);
  const cullSettings = cullerSettings(config, authenticator);
  const env = opts.env ?? process.env;
  const limiter = loginLimiter(config);
  const sharedPassword = setupSharedPassword(config, authenticator, cookieSecret, env, limiter);
  hubLogo(config);
  const { host, port } = listenAddress(config);
  const isolation = spawnerClass.isolation?.({ hubConfig: config, log, temporaryUsers: authenticator.capabilities.temporaryUsers, host })
    ?? `Isolation: as ${spawnerClass.name} provides it`;
  const dbFile = parseDbUrl(config.hub.db_url);
  if (dbFile.kind === 'sqlite' && !dbFile.memory) for (const fixed of makePrivate([dbFile.filename, `${dbFile.filename}-wal`, `${dbFile.filename}-shm`])) log.warn(fixed);
  const store = await openStore(config.hub.db_url);
  let authState: AuthStateKeeper;
  try {
    authState = authStateKeeper(config, opts.env ?? process.env, store);
  } catch (err) {
    await store.close();
    throw err;
  }
  const tls = tlsEnabled(config);
  let tlsFiles: TlsFiles | null = null;
  if (tls) {
    try {
      tlsFiles = loadTlsFiles(config);
    } catch (err) {
      await store.close();
      throw err;
    }
    for (const warning of tlsFiles.warnings) log.warn(warning);
    if (config.hub.ssl_client_ca && !config.hub.hub_port && !config.hub.hub_connect_url) {
      log.warn('JupyterHub.ssl_client_ca is set but JupyterHub.hub_port is not: servers call the hub API on the public port, '
        + 'which asks them for a client certificate they do not have; set hub_port (and hub_ip) for them');
    }
  }
  const hubPrefix = `${config.hub.base_url}hub/`;

  // The port (0 picks one) is known only once listening, and the API URL servers are given depends on it: so the
  // listener opens first, then the whole Hub is built, then the fastify app on top of it. A request in between waits
  // for the app (and then for `hub.ready`), as every request does until start-up has re-adopted servers.
  const routes = new RouteTable();
  const metrics = createMetrics();
  let hubHandler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  let appReady!: () => void;
  const appIsReady = new Promise<void>((r) => (appReady = r));
  const localTargets = new Map<string, { request(req: IncomingMessage, res: ServerResponse): void }>();
  const forwarder = createForwarder(routes, {
    localTargets,
    onError: (status, req, res) => {
      if (res.headersSent) return res.destroy();
      // A request the proxy refuses (e.g. malformed percent-encoding) may be an API call: answer it the API's way.
      if ((req.url ?? '').startsWith(`${config.hub.base_url}hub/api`)) {
        res.writeHead(status, { 'Content-Type': 'application/json', 'X-JupyterHub-Version': JUPYTERHUB_VERSION });
        res.end(JSON.stringify({ status, message: status === 400 ? 'Malformed request path' : STATUS_CODES[status] ?? 'Error' }));
        return;
      }
      const message = status === 503 ? SERVER_DOWN_MESSAGE : undefined;
      res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'X-JupyterHub-Version': JUPYTERHUB_VERSION });
      res.end(errorPage({ base: config.hub.base_url, status, message }));
    },
  });
  const server: Server = tlsFiles ? https.createServer(serverOptions(tlsFiles)) : http.createServer();
  // The running config (a reload replaces it): the client-certificate rules are read from it for every request.
  let liveConfig = (): HubConfig => config;
  /** Client-certificate admission, before anything else sees the request (tls.ts). */
  const refused = (req: IncomingMessage): string | null => {
    if (!tlsFiles) return null;
    const verdict = admit(liveConfig(), req.socket as TLSSocket);
    return verdict.ok ? null : verdict.message;
  };
  // Until start-up has re-adopted servers only the probes go through: a request for a server still being re-adopted
  // waits for its route instead of reaching the hub and being sent round through /hub/user/.
  let started = false;
  let markStarted!: () => void;
  const startedUp = new Promise<void>((r) => (markStarted = r));
  const holdBack = (url: string | undefined) => !started && !isStartupProbe(hubPrefix, url);
  // After start-up, a request for /user/<name>/… without a route may be for a server another hub started (catch-up.ts).
  let catchUp: ServerCatchUp | null = null;
  const waitFor = (url: string | undefined) => (holdBack(url) ? startedUp : catchUp?.forRequest(url) ?? null);
  const connections = new ConnectionDrain(server);
  server.on('request', (req, res) => {
    connections.request(req, res);
    const no = refused(req);
    if (no !== null) return refuse(liveConfig(), req, res, no);
    const wait = waitFor(req.url);
    if (wait) void wait.then(() => forwarder.request(req, res));
    else forwarder.request(req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    connections.upgrade(req.socket);
    const no = refused(req);
    if (no !== null) return refuseUpgrade(socket, no);
    const wait = waitFor(req.url);
    if (wait) void wait.then(() => forwarder.upgrade(req, socket, head));
    else forwarder.upgrade(req, socket, head);
  });
  // Idle keep-alive sockets of browsers must not pin memory forever.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // A hub already running on this database and port hands over to this one (handover.ts): both hold the port for a
  // moment, through SO_REUSEPORT, which every hub sets so that its successor can join.
  const control = port !== 0 ? controlSocketPath(config) : null;
  const predecessor = control ? await findPredecessor(control) : null;
  const share = canShareListener && port !== 0;
  // Without a predecessor the port must be free, as without reusePort: a plain bind says so before the shared one.
  if (share && !predecessor) await listenOn(http.createServer(), { host, port }).then((probe) => new Promise((r) => probe.close(r)));
  await listenOn(server, { host, port, reusePort: share || undefined });
  if (predecessor) {
    const asked = performance.now();
    await requestHandover(predecessor, 120_000);
    log.info(`The previous nodehub released the hub in ${Math.round(performance.now() - asked)} ms; taking over`);
  }
  const actualPort = (server.address() as AddressInfo).port;
  const scheme = tls ? 'https' : 'http';
  const loopback = host === '::' || host === '0.0.0.0' || host === '' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const hubTarget = `${scheme}://${loopback}:${actualPort}`;
  const hubRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const go = () => (hubHandler ? hubHandler(req, res) : void appIsReady.then(() => hubHandler!(req, res)));
    if (holdBack(req.url)) void startedUp.then(go);
    else go();
  };
  let hubListener: HubListener | null = null;
  if (config.hub.hub_port) {
    try {
      hubListener = await openHubListener({ host: config.hub.hub_ip, port: config.hub.hub_port, hubPrefix, reusePort: share, handle: hubRequest });
    } catch (err) {
      server.close();
      await store.close();
      throw new Error(`JupyterHub.hub_port: cannot listen on ${config.hub.hub_ip || '*'}:${config.hub.hub_port}: ${(err as Error).message}`);
    }
  }
  const apiUrl = config.hub.hub_connect_url ? `${config.hub.hub_connect_url.replace(/\/$/, '')}/hub/api`
    : hubListener?.apiUrl ?? `${hubTarget}${hubPrefix}api`;

  const servers = new ServerManager({
    config, store, routes, spawnerClass, log, hubApiUrl: apiUrl, observe: metrics, authenticator,
    authState: async (user) => { const u = await store.users.getById(user.id); return u ? authState.get(u) : null; },
  });
  // Is a server found in the database still answering? Short: a hub must not wait long on dead servers.
  const answering = async (spawner: Spawner, url: string | null) =>
    (await spawner.poll()) === null && !!url && (spawner.checkDeferred?.() === true || (await quickCheck(url)));
  if (store.dialect === 'postgres') catchUp = new ServerCatchUp({ store, servers, routes, base: config.hub.base_url, log, isAlive: answering });
  const pool = new ServerPool({ config, store, servers, users: temporaryUsers(store, authenticator), log: log.child('pool'), observe: metrics });
  // Only an authenticator that mints users can hand them pooled servers.
  const poolUsable = pool.usable;
  if (pool.enabled && !poolUsable) log.warn('Spawner.pool_size is ignored: the warm pool needs the tmp authenticator');
  const services = new ManagedServices({ config, store, routes, log, base: config.hub.base_url, apiUrl });
  let markReady!: () => void;
  let close!: (opts?: { servers?: boolean }) => Promise<void>;
  const hub: Hub = {
    config, store, routes, servers, authenticator, authState, cookieSecret, log, metrics, sharedPassword, loginLimiter: limiter,
    base: config.hub.base_url,
    hubPrefix,
    apiUrl,
    hubTarget,
    pool: poolUsable ? pool : null,
    managedServices: services,
    catchUp,
    ready: new Promise<void>((r) => (markReady = r)),
    requestShutdown: ({ servers: stopServers }) => {
      void close({ servers: stopServers }).then(() => process.emit('nodehub:shutdown' as never));
    },
  };
  const app = createHubApp(hub, (handler) => {
    hubHandler = handler;
    return server;
  });
  liveConfig = () => hub.config;
  localTargets.set(hubTarget, { request: (req, res) => (hubHandler ? hubHandler(req, res) : void appIsReady.then(() => hubHandler!(req, res))) });
  routes.add('/', hubTarget, { hub: true });
  await app.ready();
  appReady();
  metrics.setSources({
    totalUsers: () => store.users.count(),
    runningServers: () => servers.running,
    activeUsers: (ms) => store.activity.countSince(Date.now() - ms),
    poolSizes: () => hub.pool?.readyCounts() ?? {},
    queueLength: () => servers.queue.length,
  });

  await seedFromConfig(hub);
  const classContext = { hubConfig: config, log, started: hub.ready, runtimePath: (name: string) => runtimeFilePath(config, name) };
  await spawnerClass.prepare?.(classContext);
  const adoption = await hub.servers.adopt(await store.servers.listActive(), async (id) => {
    const u = await store.users.getById(id);
    return u ? { id: u.id, name: u.name, admin: u.admin } : undefined;
  }, answering);
  if (adoption.adopted || adoption.cleaned) log.info(`Re-adopted ${adoption.adopted} running servers; cleaned up ${adoption.cleaned}`);
  await stopBlockedServers(hub);
  // Servers no record names (e.g. pods of a hub that died mid-start); the states are read when the sweep looks. Not
  // awaited: the sweep may wait for an API server that is down, and the hub must serve meanwhile.
  void spawnerClass.cleanupOrphans?.({
    ...classContext,
    serverStates: () => [...hub.servers.all()].map((a) => a.spawner?.getState() ?? {}),
    // a server another hub started is taken over only if it answers where it runs (nothing is written otherwise)
    adoptServer: async (f) => (await quickCheck(f.url))
      ? adoptForeignServer(hub.servers, f, async (spawner) => (await spawner.poll()) === null)
      : `it does not answer at ${f.url}`,
  })
    .catch((err: Error) => log.warn(`Cleaning up orphaned servers failed: ${err.message}`));

  await services.startAll();
  const activity = new ActivityFlusher(hub);
  activity.start();
  const stopMaintenance = startMaintenance(hub);
  if (poolUsable) pool.start();
  const reloader = new HubReloader(
    {
      hub, pool, services, culler: cullSettings ? startCuller(hub, cullSettings) : null, env,
      // Certificates and keys are read again on every reload, changed paths or not (a renewal rewrites the files).
      listener: tlsFiles ? {
        prepare: (next) => {
          const files = loadTlsFiles(next);
          return () => {
            tlsFiles = files;
            applyTlsFiles(server as HttpsServer, files);
            for (const warning of files.warnings) log.warn(warning);
          };
        },
      } : undefined,
    },
    opts.loadConfig ?? (async () => config),
  );
  const watcher = opts.configFile && config.hub.reload_on_config_change
    ? watchConfigFile(opts.configFile, () => {
      log.info(`${opts.configFile} changed; reloading the configuration`);
      void reloader.reload();
    })
    : null;

  let closing: Promise<void> | null = null;
  // Everything that writes to the database on its own, stopped both at shut-down and when handing over.
  const stopWriters = async () => {
    // The hub's own port stops accepting with the public one (a successor has its own); open requests finish.
    hubListener?.stopAccepting();
    activity.stop();
    await activity.flush();
    stopMaintenance();
    watcher?.close();
    await hub.pool?.close();
    await reloader.culler?.stop();
    await services.stopAll();
  };
  const closeRest = async () => {
    await spawnerClass.shutdown?.(classContext);
    await forwarder.close();
    await hubListener?.close();
    server.closeAllConnections?.();
    await new Promise<void>((r) => server.close(() => r()));
    await app.close();
    await store.close();
  };
  const handover = new Handover({
    server, connections, servers: hub.servers, log, stopWriters,
    drainTimeoutMs: () => hub.config.hub.handover_drain_timeout * 1000,
    letGo: () => spawnerClass.handedOver?.(classContext),
    // A SIGTERM while draining has already closed everything (leaving the servers, which this process no longer tracks).
    finish: () => (closing ??= closeRest()),
  });
  const successor = control ? await listenForControl(control, { release: () => handover.release(), reload: () => reloader.reload() }, log) : null;

  close = (opts: { servers?: boolean } = {}) => {
    closing ??= (async () => {
      log.info('Shutting down');
      successor?.close();
      // After a handover the writers are stopped and the servers are the successor's: only the rest is closed.
      if (!handover.released) {
        await stopWriters();
        await hub.servers.shutdown(opts.servers ?? hub.config.hub.cleanup_servers);
      }
      await closeRest();
    })();
    return closing;
  };
  started = true;
  markStarted();
  markReady();
  metrics.hubStarted((performance.now() - t0) / 1000);
  const url = `${scheme}://${host === '::' || host === '0.0.0.0' ? 'localhost' : loopback}:${actualPort}${config.hub.base_url}`;
  if (isolation.startsWith('Isolation: none')) log.warn(isolation);
  else log.info(isolation);
  log.info(`nodehub is running at ${url}`);
  // Once handed over the successor owns the configuration: a reload here would restart writers it just stopped.
  const reload = (): Promise<ReloadResult> => handover.released
    ? Promise.resolve({ ok: false, error: 'this hub has handed over to its successor; reload that one', kept: [] })
    : reloader.reload();
  // A rolling update (Kubernetes, PostgreSQL): the successor runs already and adopts the servers, so SIGTERM lets go as
  // a handover does (stop accepting, stop writing, leave the servers) and drains the open websockets up to
  // handover_drain_timeout, instead of closing them. With sqlite, or when servers are to be stopped, it closes.
  const terminate = async (): Promise<void> => {
    if (dbFile.kind !== 'postgres' || hub.config.hub.cleanup_servers || handover.released) return close();
    log.info('SIGTERM on a shared database: letting go of the servers and draining open connections');
    await handover.release();
    await handover.done;
  };
  return { hub, url, port: actualPort, close: () => close(), terminate, reload, handedOver: handover.done };
}

function listenOn<S extends Server>(server: S, opts: { host: string; port: number; reusePort?: boolean }): Promise<S> {
  return new Promise<S>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Is a re-adopted server still answering? A short check: a hub restart must not wait long on dead servers. */
async function quickCheck(url: string): Promise<boolean> {
  try {
    await waitForHttp(url, { timeoutMs: 3000 });
    return true;
  } catch {
    return false;
  }
}
