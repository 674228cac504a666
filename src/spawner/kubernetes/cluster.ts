// What all Kubernetes spawners of one hub share: the API connection, the ONE pod informer (label selector of this
// hub's server pods) with per-pod wake-ups, the orphan sweep at start-up, and the image pre-puller. One per hub
// (keyed by the hub's config object, so several hubs in one test process stay apart), closed with the hub.
import type { HubConfig } from '../../config/types.ts';
import type { Logger } from '../../util/log.ts';
import { apiProblem, connect, withTimeout, type KubeClient } from './client.ts';
import { sleep } from '../../util/time.ts';
import { hubPodSelector, isHubPod, startedByKubeSpawner } from './pod.ts';
import { Prepuller } from './prepuller.ts';
import { foreignServer } from './foreign.ts';
import type { ForeignServer } from '../types.ts';
import { Reflector, type ChangeType, type KObject, type ReflectorStats } from './reflector.ts';
import { readKubeTraits, type KubeTraits } from './traits.ts';
import { ImageVersions } from './versions.ts';

export type PodListener = (type: ChangeType, pod: KObject | undefined) => void;

export interface WatchSettings {
  watchTimeoutSeconds: number;
  stallMs: number;
}

/** nodehub's informer settings: each watch ends after `watch_timeout` s; silence for 1.5× that (+1 s) is a stall. */
export function watchSettings(config: Record<string, unknown>): WatchSettings {
  const t = typeof config.watch_timeout === 'number' && config.watch_timeout > 0 ? config.watch_timeout : 60;
  return { watchTimeoutSeconds: t, stallMs: (t * 1.5 + 1) * 1000 };
}

export class KubeCluster {
  readonly client: KubeClient;
  readonly traits: KubeTraits;
  readonly pods: Reflector;
  readonly watch: WatchSettings;
  readonly log: Logger;
  readonly prepuller: Prepuller | null;
  /** Each image's jupyterhub version and the pod IPs of servers, for their start-up probes (versions.ts). */
  readonly versions: ImageVersions;
  /** Aborted when the hub closes: starts still waiting give up (their pods stay for the next hub to adopt or sweep). */
  readonly closing = new AbortController();
  readonly #listeners = new Map<string, Set<PodListener>>();
  readonly #adoptForeign: boolean;

  constructor(hubConfig: HubConfig, log: Logger) {
    this.log = log;
    this.traits = readKubeTraits(hubConfig.spawner);
    const cfg = hubConfig.spawner as Record<string, unknown>;
    this.client = connect({ kubeconfig: typeof cfg.kubeconfig === 'string' ? cfg.kubeconfig : '', namespace: this.traits.namespace });
    this.watch = watchSettings(cfg);
    const { core } = this.client;
    const namespace = this.client.namespace;
    this.pods = new Reflector({
      name: `pods in ${namespace}`,
      client: this.client,
      path: `/api/v1/namespaces/${namespace}/pods`,
      list: (p) => core.listNamespacedPod({ namespace, ...p }),
      labelSelector: hubPodSelector(this.traits),
      ...this.watch,
      requestTimeoutMs: this.traits.requestRetryTimeoutMs,
      log: log.child('informer'),
    });
    this.pods.on('change', (type: ChangeType, pod: KObject) => {
      const listeners = this.#listeners.get(pod.metadata?.name ?? '');
      if (listeners) for (const l of [...listeners]) l(type, type === 'DELETED' ? undefined : pod);
    });
    // A relist may have changed anything: everyone looks again.
    this.pods.on('synced', () => {
      for (const [name, listeners] of this.#listeners) for (const l of [...listeners]) l('MODIFIED', this.pods.get(name));
    });
    this.pods.start();
    this.#adoptForeign = cfg.adopt_kubespawner_pods !== false;
    this.versions = new ImageVersions(log.child('versions'));
    this.prepuller = cfg.prepuller_enabled === false ? null : new Prepuller(this, hubConfig);
  }

  get namespace(): string {
    return this.client.namespace;
  }

  /** Calls `listener` on every change to the pod called `name` (undefined = gone); returns the unsubscribe. */
  onPod(name: string, listener: PodListener): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(name) === set) this.#listeners.delete(name);
    };
  }

  /** Resolves once the informer has listed (bounded, so a dead API fails a start with the reason). */
  ready(ms: number): Promise<void> {
    return this.pods.waitSynced(ms);
  }

  /**
   * Deletes this hub's server pods that no server record names (a previous hub's leftovers: its database was lost, or
   * it died between creating a pod and saving it). `keep` is read in the same tick as the informer's snapshot, so a
   * pod created by a start running right now is never mistaken for an orphan. Pods a KubeSpawner hub started are never
   * deleted: a record naming one adopts it; without, it is left running
   * (its user's work) and listed in the log.
   */
  async sweepOrphans(keep: () => Iterable<string>, adopt?: (server: ForeignServer) => Promise<string | null>): Promise<string[]> {
    // However long the API is down: the sweep runs in the background, once the informer has listed.
    await this.#listedOrClosed();
    if (this.closing.signal.aborted) return [];
    const wanted = new Set(keep());
    const unnamed = this.pods.list().filter((p) => isHubPod(p, this.traits) && !wanted.has(p.metadata?.name ?? '') && !p.metadata?.deletionTimestamp);
    await Promise.all(unnamed.filter(startedByKubeSpawner).map(async (p) => {
      const a = p.metadata?.annotations ?? {};
      const who = `${a['hub.jupyter.org/username'] ?? '?'}${a['hub.jupyter.org/servername'] ? `/${a['hub.jupyter.org/servername']}` : ''}`;
      let why = adopt && this.#adoptForeign ? null : 'KubeSpawner.adopt_kubespawner_pods is off';
      if (!why) {
        const server = foreignServer(p, this.namespace);
        why = typeof server === 'string' ? server : await adopt!(server).catch((err: Error) => err.message);
        if (!why) return this.log.info(`Took over pod ${this.namespace}/${p.metadata?.name} of ${who}, started by a KubeSpawner hub`);
      }
      this.log.warn(`Pod ${this.namespace}/${p.metadata?.name} of ${who} was started by KubeSpawner and no server record names it; not taken over (${why}): left running (docs/kubernetes.md, switching over)`);
    }));
    const orphans = unnamed.filter((p) => !startedByKubeSpawner(p));
    const deleted: string[] = [];
    await Promise.all(orphans.map(async (p) => {
      const name = p.metadata!.name!;
      try {
        await this.deletePod(name, this.traits.deleteGracePeriod);
        deleted.push(name);
        this.log.info(`Deleted orphaned pod ${this.namespace}/${name} (no server record names it)`);
      } catch (err) {
        this.log.warn(`Could not delete orphaned pod ${this.namespace}/${name}: ${apiProblem(err).message}`);
      }
    }));
    return deleted;
  }

  #listedOrClosed(): Promise<void> {
    if (this.pods.synced) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        this.pods.off('synced', done);
        this.closing.signal.removeEventListener('abort', done);
        resolve();
      };
      this.pods.once('synced', done);
      this.closing.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** DELETE with a grace period (query and body, as KubeSpawner sends it); 404 counts as done; retried on timeouts/5xx. */
  async deletePod(name: string, grace: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.traits.requestRetryTimeoutMs;
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      try {
        await withTimeout(this.client.core.deleteNamespacedPod({
          name, namespace: this.namespace, gracePeriodSeconds: grace, body: { gracePeriodSeconds: grace },
        }), this.traits.requestTimeoutMs, `Deleting pod ${name}`);
        return;
      } catch (err) {
        const p = apiProblem(err);
        if (p.code === 404) return;
        const retry = p.code === 0 || p.code === 429 || p.code >= 500;
        if (!retry || Date.now() > deadline || signal?.aborted) throw new Error(`Could not delete pod ${name}: ${p.message}`);
        await sleep(delay, signal);
      }
    }
  }

  /** Resolves once the informer no longer has pod `name` (with `uid`, if given); after `timeoutMs` asks the API itself. */
  waitPodGone(name: string, uid: string | null, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const gone = () => {
      const pod = this.pods.get(name);
      return !pod || (uid !== null && pod.metadata?.uid !== uid);
    };
    if (this.pods.synced && gone()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(async () => {
        unsubscribe();
        // The informer may be the one that is stuck: ask the API directly, and relist.
        this.pods.restart();
        try {
          await this.client.core.readNamespacedPod({ name, namespace: this.namespace });
          reject(new Error(`Pod ${name} was still there ${timeoutMs / 1000} s after it was deleted`));
        } catch (err) {
          if (apiProblem(err).code === 404) resolve();
          else reject(new Error(`Could not check that pod ${name} is gone: ${apiProblem(err).message}`));
        }
      }, timeoutMs);
      const unsubscribe = this.onPod(name, () => {
        if (!this.pods.synced || !gone()) return;
        clearTimeout(timer);
        unsubscribe();
        resolve();
      });
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        unsubscribe();
        resolve();
      }, { once: true });
    });
  }

  info(): { namespace: string; informer: ReflectorStats; prepuller: unknown; image_versions: unknown } {
    return { namespace: this.namespace, informer: this.pods.stats(), prepuller: this.prepuller?.status() ?? null, image_versions: this.versions.known() };
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.prepuller?.close();
    await this.pods.stop();
    this.#listeners.clear();
  }
}

const clusters = new WeakMap<HubConfig, KubeCluster>();

/** The hub's shared Kubernetes state, created on first use. Throws (with the reason) when there is no cluster. */
export function clusterFor(hubConfig: HubConfig, log: Logger): KubeCluster {
  let c = clusters.get(hubConfig);
  if (!c) {
    c = new KubeCluster(hubConfig, log);
    clusters.set(hubConfig, c);
  }
  return c;
}

export function existingCluster(hubConfig: HubConfig): KubeCluster | undefined {
  return clusters.get(hubConfig);
}

export async function closeCluster(hubConfig: HubConfig): Promise<void> {
  const c = clusters.get(hubConfig);
  clusters.delete(hubConfig);
  await c?.close();
}
