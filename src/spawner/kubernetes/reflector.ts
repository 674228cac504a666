// A supervised list+watch cache of one kind of object in one namespace (the hub's pods, one pod's events, the
// pre-puller's DaemonSets). client-node's own informer stops for good on a 500 or a network error, reports "connected"
// before it has listed, resurrects itself when stopped, and never notices a silent stream (spec 6.10); this loop
// instead:
// - lists (paged) and marks itself synced only after a list succeeded;
// - watches from the list's resourceVersion with bookmarks and a server-side timeout, and reconnects from the last seen
//   resourceVersion when the stream ends;
// - relists on 410 Gone (as an ERROR event or as the HTTP status);
// - restarts after any other error with jittered exponential back-off, forever, until stop();
// - restarts a stream that has said nothing (no event, no bookmark) for `stallMs`, since the server ends every
//   stream after its timeout and a healthy stream therefore always says something.
import { EventEmitter } from 'node:events';
import type { Logger } from '../../util/log.ts';
import { apiProblem, withTimeout, type KubeClient } from './client.ts';
import { sleep } from '../../util/time.ts';

export type KObject = { metadata?: { name?: string; resourceVersion?: string; uid?: string } & Record<string, any> } & Record<string, any>;

export interface ListResult {
  items: KObject[];
  metadata?: { resourceVersion?: string; _continue?: string };
}

export interface ReflectorOptions {
  /** For logs and stats, e.g. "pods". */
  name: string;
  client: KubeClient;
  /** Watch path, e.g. /api/v1/namespaces/jhub/pods */
  path: string;
  list(params: { labelSelector?: string; fieldSelector?: string; limit: number; _continue?: string }): Promise<ListResult>;
  labelSelector?: string;
  fieldSelector?: string;
  /** Server-side end of each watch (timeoutSeconds). */
  watchTimeoutSeconds: number;
  /** A stream that said nothing for this long is dead. Must exceed watchTimeoutSeconds. */
  stallMs: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  requestTimeoutMs?: number;
  /** Items per list page (limit/continue). */
  pageSize?: number;
  log: Logger;
}

export interface ReflectorStats {
  synced: boolean;
  watching: boolean;
  objects: number;
  lists: number;
  watches: number;
  restarts: number;
  errors: number;
  lastError: string | null;
  /** ms since the last event, bookmark or list; null before the first. */
  idleMs: number | null;
}

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

class Gone extends Error {}
class Stalled extends Error {}
class Stopped extends Error {}

const PAGE = 500;

/** Emits 'change' (type, object, old?) for every change to the cache, and 'synced' after each successful list. */
export class Reflector extends EventEmitter {
  readonly opts: ReflectorOptions;
  readonly #cache = new Map<string, KObject>();
  #rv: string | null = null;
  #synced = false;
  #stopped = true;
  #loop: Promise<void> | null = null;
  #cancel: (() => void) | null = null;
  #wake = new AbortController();
  #lastActivity = 0;
  #watching = false;
  readonly #stats = { lists: 0, watches: 0, restarts: 0, errors: 0, lastError: null as string | null };

  constructor(opts: ReflectorOptions) {
    super();
    this.setMaxListeners(0);
    this.opts = opts;
  }

  get synced(): boolean {
    return this.#synced;
  }

  get(name: string): KObject | undefined {
    return this.#cache.get(name);
  }

  list(): KObject[] {
    return [...this.#cache.values()];
  }

  stats(): ReflectorStats {
    return {
      synced: this.#synced, watching: this.#watching, objects: this.#cache.size, ...this.#stats,
      idleMs: this.#lastActivity ? Date.now() - this.#lastActivity : null,
    };
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#wake = new AbortController();
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake.abort();
    this.#cancel?.();
    await this.#loop;
    this.#loop = null;
  }

  /** Drops the current stream and relists now (e.g. when something expected is missing from the cache). */
  restart(): void {
    this.#rv = null;
    this.#cancel?.();
  }

  /** Resolves once a list has succeeded; rejects after `ms` with the last error. */
  waitSynced(ms: number): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('synced', done);
        const why = this.#stats.lastError ? `: ${this.#stats.lastError}` : '';
        reject(new Error(`Could not list ${this.opts.name} from the Kubernetes API at ${this.opts.client.server} within ${ms / 1000} s${why}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once('synced', done);
    });
  }

  async #run(): Promise<void> {
    const min = this.opts.minBackoffMs ?? 100;
    const max = this.opts.maxBackoffMs ?? 30_000;
    let backoff = min;
    while (!this.#stopped) {
      try {
        if (this.#rv === null) await this.#relist();
        const began = Date.now();
        await this.#watchOnce(this.#rv!);
        // A server that ends streams at once must not get a tight reconnect loop.
        if (Date.now() - began < 1000) await sleep(backoff, this.#wake.signal);
        else backoff = min;
      } catch (err) {
        if (this.#stopped || err instanceof Stopped) continue;
        this.#stats.restarts++;
        if (err instanceof Gone) {
          this.opts.log.debug(`${this.opts.name}: resourceVersion too old; relisting`);
          this.#rv = null;
          // the first relist is immediate; repeated 410s back off like any other error
          if (backoff > min) await sleep(jitter(backoff), this.#wake.signal);
          backoff = Math.min(backoff * 2, max);
          continue;
        }
        const message = err instanceof Stalled ? err.message : apiProblem(err).message;
        this.#stats.errors++;
        this.#stats.lastError = message;
        this.opts.log.warn(`${this.opts.name} watch failed (${message}); restarting in ${Math.round(backoff)} ms`);
        await sleep(jitter(backoff), this.#wake.signal);
        backoff = Math.min(backoff * 2, max);
      }
    }
    this.#watching = false;
  }

  async #relist(): Promise<void> {
    const { labelSelector, fieldSelector } = this.opts;
    const items: KObject[] = [];
    let rv = '';
    let token: string | undefined;
    do {
      let page: ListResult;
      try {
        const call = withTimeout(this.opts.list({ labelSelector, fieldSelector, limit: this.opts.pageSize ?? PAGE, _continue: token }),
          this.opts.requestTimeoutMs ?? 30_000, `Listing ${this.opts.name}`);
        // stop() must not wait for a list that hangs (an API outage)
        page = await raceAbort(call, this.#wake.signal);
      } catch (err) {
        if (apiProblem(err).code === 410) throw new Gone('continue token expired');
        throw err;
      }
      items.push(...page.items);
      if (!token) rv = page.metadata?.resourceVersion ?? '';
      token = page.metadata?._continue || undefined;
    } while (token && !this.#stopped);
    if (this.#stopped) throw new Stopped();
    this.#stats.lists++;
    this.#lastActivity = Date.now();
    this.#replace(items);
    this.#rv = rv;
    this.#synced = true;
    this.emit('synced');
  }

  #replace(items: KObject[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const name = obj.metadata?.name ?? '';
      seen.add(name);
      const old = this.#cache.get(name);
      this.#cache.set(name, obj);
      if (!old) this.emit('change', 'ADDED', obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit('change', 'MODIFIED', obj, old);
    }
    for (const [name, obj] of [...this.#cache]) {
      if (seen.has(name)) continue;
      this.#cache.delete(name);
      this.emit('change', 'DELETED', obj);
    }
  }

  #apply(type: string, obj: KObject): void {
    const name = obj.metadata?.name ?? '';
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.#rv = rv;
    if (type === 'DELETED') {
      const old = this.#cache.get(name);
      this.#cache.delete(name);
      this.emit('change', 'DELETED', obj, old);
      return;
    }
    const old = this.#cache.get(name);
    this.#cache.set(name, obj);
    this.emit('change', old ? 'MODIFIED' : 'ADDED', obj, old);
  }

  #watchOnce(rv: string): Promise<void> {
    const { client, path, labelSelector, fieldSelector, watchTimeoutSeconds, stallMs } = this.opts;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let controller: AbortController | null = null;
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        this.#cancel = null;
        this.#watching = false;
        controller?.abort();
        if (err) reject(err);
        else resolve();
      };
      // stop() may have come between the list and this watch (nothing to cancel then): do not open a stream it misses
      if (this.#stopped) return reject(new Stopped());
      this.#cancel = () => finish(new Stopped());
      this.#lastActivity = Date.now();
      this.#watching = true;
      this.#stats.watches++;
      const timer = setInterval(() => {
        if (Date.now() - this.#lastActivity > stallMs) finish(new Stalled(`no event or bookmark for ${Math.round(stallMs / 1000)} s`));
      }, Math.min(1000, Math.max(50, stallMs / 4)));
      // Jitter keeps many hubs (or many reflectors) from reconnecting in step.
      const timeoutSeconds = Math.max(1, Math.round(watchTimeoutSeconds * (0.9 + Math.random() * 0.2)));
      const query = { resourceVersion: rv, labelSelector, fieldSelector, allowWatchBookmarks: true, timeoutSeconds };
      client.watch.watch(path, query, (type: string, obj: KObject) => {
        if (settled) return;
        this.#lastActivity = Date.now();
        if (type === 'ERROR') {
          const code = (obj as { code?: number }).code;
          finish(code === 410 ? new Gone(String(obj.message)) : Object.assign(new Error(String(obj.message ?? 'watch error')), { code }));
        } else if (type === 'BOOKMARK') {
          if (obj.metadata?.resourceVersion) this.#rv = obj.metadata.resourceVersion;
        } else if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
          this.#apply(type, obj);
        }
      }, (err: unknown) => {
        if (err && apiProblem(err).code === 410) finish(new Gone('watch answered 410'));
        else finish(err ?? undefined);
      }).then((c) => {
        controller = c;
        if (settled) c.abort();
      }, (err) => finish(err));
    });
  }
}

/** `call`, or a Stopped rejection as soon as `signal` aborts; the listener is removed either way (lists repeat). */
function raceAbort<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Stopped());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Stopped());
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function jitter(ms: number): number {
  return ms * (0.5 + Math.random() * 0.5);
}
