// Managed services: a service with a `command` is run by the hub with the environment JupyterHub gives it, and
// restarted (with a growing pause) if it dies, so jupyterhub-idle-culler runs exactly as its README shows.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { childProcess } from '../util/builtins.ts';
import type { Hub } from './context.ts';

/** What running services needs of the hub; built before the Hub itself, which then holds it. */
export type ServiceDeps = Pick<Hub, 'config' | 'store' | 'routes' | 'log' | 'base' | 'apiUrl'>;
import type { HubConfig, ServiceConfig } from '../config/types.ts';
import { newApiToken } from '../auth/index.ts';

const MANAGED_TOKEN_NOTE = 'Managed service token';
const KEEP = ['PATH', 'PYTHONPATH', 'LANG', 'LC_ALL', 'HOME', 'VIRTUAL_ENV', 'CONDA_ROOT', 'CONDA_DEFAULT_ENV'];
/** util-linux's setpriv (in every Debian, being essential) execs the service after asking the kernel for a SIGTERM when
 *  its parent dies. A hub killed with SIGKILL or by the OOM killer then takes its services with it, rather than
 *  leaving a culler running with a revoked token beside the one the next hub starts. Without setpriv (not Linux, a
 *  minimal image) services run as JupyterHub runs them and outlive a killed hub. */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

interface Running {
  config: ServiceConfig;
  child: ChildProcess | null;
  token: string;
  restarts: number;
  timer: NodeJS.Timeout | null;
  /** Stopped on its own (a reload removed or changed it): not restarted when it exits. */
  stopped?: boolean;
}

export class ManagedServices {
  private readonly hub: ServiceDeps;
  private readonly running = new Map<string, Running>();
  private stopping = false;

  constructor(hub: ServiceDeps) {
    this.hub = hub;
  }

  pid(name: string): number {
    return this.running.get(name)?.child?.pid ?? 0;
  }

  async startAll(): Promise<void> {
    for (const svc of this.hub.config.hub.services) await this.startOne(svc);
  }

  /**
   * A config reload (after the store was seeded from the new config): services that are new get their route and
   * process, removed ones lose them, and a changed one is stopped and started again with its new settings.
   */
  async applyConfig(config: HubConfig): Promise<void> {
    const before = new Map(this.hub.config.hub.services.map((s) => [s.name, s]));
    const after = new Map(config.hub.services.map((s) => [s.name, s]));
    this.hub.config = config;
    const same = (a: ServiceConfig, b: ServiceConfig) => JSON.stringify(a) === JSON.stringify(b);
    const gone = [...before.values()].filter((s) => !after.has(s.name) || !same(s, after.get(s.name)!));
    for (const svc of gone) {
      if (svc.url) this.hub.routes.remove(`${this.hub.base}services/${svc.name}`);
      const r = this.running.get(svc.name);
      this.running.delete(svc.name);
      if (r) await this.stopOne(r);
      this.hub.log.info(`Service ${svc.name} ${after.has(svc.name) ? 'changed' : 'removed'} by the config reload`);
    }
    for (const svc of after.values()) {
      if (!before.has(svc.name) || gone.includes(before.get(svc.name)!)) await this.startOne(svc);
    }
  }

  private async startOne(svc: ServiceConfig): Promise<void> {
    if (svc.url) {
      this.hub.routes.add(`${this.hub.base}services/${svc.name}`, svc.url, { service: svc.name });
    }
    if (!svc.command.length) return;
    const rec = (await this.hub.store.services.get(svc.name))!;
    // A service without a configured token gets a fresh one each start; it lives only in its environment.
    let token = svc.api_token;
    if (!token) {
      // Only the process started now may act as the service: a copy a killed hub left running loses its power.
      for (const t of await this.hub.store.tokens.listForService(rec.id)) {
        if (t.note === MANAGED_TOKEN_NOTE) await this.hub.store.tokens.delete(t.id);
      }
      token = newApiToken();
      await this.hub.store.tokens.create({ service_id: rec.id, kind: 'api', token, note: MANAGED_TOKEN_NOTE });
    }
    const r: Running = { config: svc, child: null, token, restarts: 0, timer: null };
    this.running.set(svc.name, r);
    this.launch(r);
  }

  private env(svc: ServiceConfig, token: string): Record<string, string> {
    const env: Record<string, string> = {};
    for (const k of KEEP) if (process.env[k] !== undefined) env[k] = process.env[k]!;
    Object.assign(env, {
      JUPYTERHUB_SERVICE_NAME: svc.name,
      JUPYTERHUB_API_TOKEN: token,
      JPY_API_TOKEN: token,
      JUPYTERHUB_API_URL: this.hub.apiUrl,
      JUPYTERHUB_BASE_URL: this.hub.base,
      JUPYTERHUB_CLIENT_ID: `service-${svc.name}`,
    });
    if (svc.url) {
      env.JUPYTERHUB_SERVICE_URL = svc.url;
      env.JUPYTERHUB_SERVICE_PREFIX = `${this.hub.base}services/${svc.name}/`;
    }
    return { ...env, ...svc.environment };
  }

  private launch(r: Running): void {
    const { log } = this.hub;
    const [cmd, ...args] = SETPRIV ? [SETPRIV, '--pdeathsig', 'TERM', '--', ...r.config.command] : r.config.command;
    const child = childProcess.spawn(cmd!, args, { env: this.env(r.config, r.token), cwd: r.config.cwd || undefined, stdio: ['ignore', 'inherit', 'inherit'] });
    r.child = child;
    const started = Date.now();
    child.on('error', (err) => log.error(`Service ${r.config.name} could not start: ${err.message}`));
    // 'close', not 'exit': a command that cannot be run (ENOENT, EACCES) never emits 'exit', and it must be retried
    // like a service that died, not left down for good.
    child.on('close', (code, signal) => {
      r.child = null;
      if (this.stopping || r.stopped) return;
      // A service that ran a while before dying starts again at once; one that keeps dying waits longer each time.
      r.restarts = Date.now() - started > 60_000 ? 0 : r.restarts + 1;
      const delay = Math.min(1000 * 2 ** r.restarts, 60_000);
      // Through setpriv, a command that cannot be run is an exit 127 (setpriv says why on stderr) instead of 'error'.
      const how = signal ?? (code === 127 && SETPRIV ? '127: its command could not be run' : code);
      log.warn(`Service ${r.config.name} exited (${how}); restarting in ${delay / 1000} s`);
      r.timer = setTimeout(() => this.launch(r), delay);
      r.timer.unref();
    });
    log.info(`Started service ${r.config.name} (pid ${child.pid})`);
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.running.values()].map((r) => this.stopOne(r)));
  }

  private stopOne(r: Running): Promise<void> {
    r.stopped = true;
    return new Promise<void>((resolve) => {
      if (r.timer) clearTimeout(r.timer);
      const child = r.child;
      if (!child || child.exitCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      // 'close' again: a command that failed to run has no 'exit' to wait for.
      child.once('close', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
