// Reload in place (SIGHUP, `nodehub reload`, a changed config file): read the configuration again and hand it to each
// part that can take it while running. The new config is checked whole before anything changes; a bad one is refused
// with its exact key and the running one kept. Settings only a new listener or database could honour are named in
// one log line and kept as they were. Nothing running is stopped: servers keep what they were started with.
// See docs/reload.md for what changes live.
import { readFileSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { HubConfig } from '../config/types.ts';
import type { Hub } from './context.ts';
import type { ServerPool } from '../servers/index.ts';
import type { ManagedServices } from './services.ts';
import type { Authenticator } from '../auth/index.ts';
import { resolveAuthenticator } from '../auth/index.ts';
import { PASSWORD_ENV, loadSharedPassword } from '../auth/shared-password.ts';
import { setLogLevel } from '../util/log.ts';
import { seedFromConfig } from './seed.ts';
import { cullerSettings, startCuller } from './culler.ts';
import type { IdleCuller } from './culler.ts';

/** Read fresh from the same sources as at start; `pin` holds class names to keep (command-line form). */
export type ConfigLoader = (pin?: Record<string, string>) => Promise<HubConfig>;

/**
 * Settings read once at start (the listener, the database, cookie signing, the classes in use, what the password gate
 * and activity flusher were built with): a change waits for a restart or an upgrade by handover.
 */
export const RESTART_ONLY: Record<string, readonly string[]> = {
  JupyterHub: [
    'ip', 'port', 'bind_url', 'base_url', 'hub_connect_url', 'hub_ip', 'hub_port', 'db_url', 'cookie_secret',
    'cookie_secret_file', 'cookie_max_age_days', 'trusted_downstream_ips', 'last_activity_interval', 'log_style',
    'pid_file', 'reload_on_config_change', 'authenticator_class', 'spawner_class',
  ],
  SharedPassword: ['max_wrong_tries', 'wrong_try_window', 'allow_open_hub'],
};

export interface ReloadParts {
  hub: Hub;
  /** The pool object exists even when it was empty at start, so a reload can give it a size. */
  pool: ServerPool;
  services: ManagedServices;
  culler: IdleCuller | null;
  env: Record<string, string | undefined>;
  /** The https listener: `prepare` reads and checks its files (throwing refuses the reload), the function it returns puts them in. */
  listener?: { prepare(next: HubConfig): () => void };
}

export interface ReloadResult {
  ok: boolean;
  /** Why the new config was refused (ok false). */
  error?: string;
  /** `Section.trait` of changed settings that wait for a restart. */
  kept: string[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b) && typeof a === typeof b;

export class HubReloader {
  private readonly parts: ReloadParts;
  private readonly load: ConfigLoader;
  private running: Promise<ReloadResult> | null = null;
  private again = false;

  constructor(parts: ReloadParts, load: ConfigLoader) {
    this.parts = parts;
    this.load = load;
  }

  get culler(): IdleCuller | null {
    return this.parts.culler;
  }

  /** One reload at a time; one asked for meanwhile runs after it (it must see the latest file). */
  reload(): Promise<ReloadResult> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let result: ReloadResult;
      do {
        this.again = false;
        result = await this.reloadOnce();
      } while (this.again);
      return result;
    })().finally(() => (this.running = null));
    return this.running;
  }

  private async reloadOnce(): Promise<ReloadResult> {
    const { hub, env } = this.parts;
    const log = hub.log;
    const current = hub.config;
    let next: HubConfig;
    let authenticator: Authenticator;
    let password: string | null | undefined;
    let culling: ReturnType<typeof cullerSettings>;
    try {
      // A changed class changes how the Spawner/Authenticator sections merge: read again with the running classes.
      const pin: Record<string, string> = {};
      next = await this.load();
      if (next.hub.spawner_class !== current.hub.spawner_class) pin['JupyterHub.spawner_class'] = current.hub.spawner_class;
      if (next.hub.authenticator_class !== current.hub.authenticator_class) pin['JupyterHub.authenticator_class'] = current.hub.authenticator_class;
      const kept = keepRestartOnly(current, next);
      if (Object.keys(pin).length) {
        next = await this.load(pin);
        keepRestartOnly(current, next);
      }
      authenticator = resolveAuthenticator(next.hub.authenticator_class, next.authenticator);
      culling = cullerSettings(next, authenticator);
      // The variable is fixed for the life of the process; only the file behind NODEHUB_SHARED_PASSWORD_FILE can change.
      password = env[PASSWORD_ENV] ? undefined : loadSharedPassword(env);
      if (password !== undefined && (password === null) !== !hub.sharedPassword) {
        kept.push(hub.sharedPassword ? 'the shared password (its file is now unset)' : 'the shared password (none was set at start)');
        password = undefined;
      }
      const applyListener = this.parts.listener?.prepare(next);
      // Services and roles in the database: one transaction, so a refusal here leaves the old ones whole.
      await seedFromConfig({ ...hub, config: next });
      this.apply(next, authenticator, culling, password);
      applyListener?.();
      if (kept.length) log.warn(`Config reloaded; these changed settings need a restart and keep their running values: ${kept.join(', ')}`);
      else log.info('Config reloaded');
      return { ok: true, kept };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.error(`Config reload refused, the running configuration is kept: ${message}`);
      return { ok: false, error: message, kept: [] };
    }
  }

  private apply(next: HubConfig, authenticator: Authenticator, culling: ReturnType<typeof cullerSettings>,
    password: string | null | undefined): void {
    const { hub, pool, services } = this.parts;
    hub.config = next;
    hub.authenticator = authenticator;
    hub.servers.applyConfig(next);
    if (authenticator.capabilities.temporaryUsers) {
      pool.applyConfig(next);
      if (pool.enabled) hub.pool = pool;
    } else if (next.spawner.pool_size > 0) {
      hub.log.warn('Spawner.pool_size is ignored: the warm pool needs the tmp authenticator');
    }
    void services.applyConfig(next).catch((err: Error) => hub.log.error(`Applying services failed: ${err.message}`));
    const old = this.parts.culler;
    if (!same(old?.settings ?? null, culling)) {
      this.parts.culler = culling ? startCuller(hub, culling) : null;
      void old?.stop();
    }
    if (password && hub.sharedPassword?.replace(password)) hub.log.info('The shared password changed; earlier pass cookies no longer open the hub');
    setLogLevel(next.hub.log_level);
  }
}

/** Puts the running values of restart-only settings into `next`; returns the `Section.trait` of those that differ. */
function keepRestartOnly(current: HubConfig, next: HubConfig): string[] {
  const kept: string[] = [];
  for (const [section, traits] of Object.entries(RESTART_ONLY)) {
    const cur = current.sections[section as keyof HubConfig['sections']] as unknown as Record<string, unknown>;
    const nxt = next.sections[section as keyof HubConfig['sections']] as unknown as Record<string, unknown>;
    for (const t of traits) {
      if (same(cur[t], nxt[t])) continue;
      kept.push(`${section}.${t}`);
      nxt[t] = cur[t];
    }
  }
  // A new certificate or key is taken live (ReloadParts.listener); turning https on or off needs another listener.
  const https = (c: HubConfig) => Boolean(c.hub.ssl_cert && c.hub.ssl_key);
  if (https(current) !== https(next)) {
    kept.push(`JupyterHub.ssl_cert and ssl_key (turning https ${https(next) ? 'on' : 'off'})`);
    next.hub.ssl_cert = current.hub.ssl_cert;
    next.hub.ssl_key = current.hub.ssl_key;
  }
  // bind_url is derived from ip, port and base_url when not given itself: name it only when it alone changed.
  const listener = ['JupyterHub.ip', 'JupyterHub.port', 'JupyterHub.base_url'];
  if (kept.some((k) => listener.includes(k))) return kept.filter((k) => k !== 'JupyterHub.bind_url');
  return kept;
}

/**
 * Calls `onChange` when the config file's content changes, debounced. The directory is watched, not the file: editors
 * and Kubernetes replace the file (a ConfigMap swaps a `..data` symlink) rather than writing into it.
 */
export function watchConfigFile(file: string, onChange: () => void, debounceMs = 1000): { close(): void } {
  const path = resolve(file);
  const hash = (content: Buffer) => createHash('sha256').update(content).digest('hex');
  const digest = async () => hash(await readFile(path).catch(() => Buffer.alloc(0)));
  // The content the hub started from, read now: a change right after start must not be taken for the start state.
  let last: Promise<string> = Promise.resolve(hash((() => {
    try {
      return readFileSync(path);
    } catch {
      return Buffer.alloc(0);
    }
  })()));
  let timer: NodeJS.Timeout | null = null;
  let watcher: FSWatcher | null = null;
  const check = () => {
    timer = null;
    const before = last;
    last = digest();
    void Promise.all([before, last]).then(([a, b]) => a !== b && onChange());
  };
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
      // Kubernetes touches `..data` and friends, not the file's own name.
      if (name && name !== basename(path) && !String(name).startsWith('..')) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(check, debounceMs);
      timer.unref();
    });
  } catch {
    watcher = null;
  }
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher?.close();
    },
  };
}
