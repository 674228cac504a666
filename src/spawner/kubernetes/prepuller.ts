// The image pre-puller (spec 3.2): DaemonSets whose init containers pull every configured image (the default, every
// profile's, their init containers', prepuller_extra_images) and then run a pause container, so a visitor's pod starts
// without a pull. Unlike z2jh, which pulls every image on every node, images are grouped by the scheduling constraint
// of the profile that uses them (node_selector, tolerations, required node affinity): one DaemonSet per distinct
// constraint, so a GPU profile's image lands only on the nodes that profile can use. Reconciled at hub start (so it
// follows the config), and its readiness (numberReady vs desiredNumberScheduled) is reported in /hub/api/info. Each
// init container also reports which jupyterhub its image holds, in its termination message, so that the image's first
// server is told its own version when it starts (versions.ts).
import { createHash } from 'node:crypto';
import type { HubConfig, KubeSpawnerConfig, ProfileConfig, SpawnerConfig } from '../../config/types.ts';
import { applyOverrides } from '../../config/index.ts';
import { apiProblem } from './client.ts';
import { sleep } from '../../util/time.ts';
import type { KubeCluster } from './cluster.ts';
import { Reflector, type KObject } from './reflector.ts';
import { readKubeTraits } from './traits.ts';
import { isVersion } from './versions.ts';

import type { V1DaemonSet, V1DaemonSetSpec, V1PodSpec } from '@kubernetes/client-node';

type Obj = Record<string, unknown>;

const PULLER_LABEL = 'nodehub/image-puller';
const HASH = 'nodehub/spec-hash';

/**
 * What each init container runs: the image is on the node once it ran at all. It then writes the jupyterhub version
 * the image's jupyterhub-singleuser imports (its `#!` interpreter's, else python3's) to the termination message, or
 * nothing; whatever the image lacks (python, jupyterhub, sed), it succeeds, as a failing init container would hold the
 * puller back. Needs /bin/sh, as z2jh's puller does.
 */
const MESSAGE_PATH = '/dev/termination-log';
export const PULL_COMMAND = [
  'echo "Pulling complete"',
  'ask="from jupyterhub._version import __version__ as v; print(v)"',
  'su=$(command -v jupyterhub-singleuser 2>/dev/null) && py=$(sed -n "1s/^#! *//p" "$su" 2>/dev/null) && [ -n "$py" ] && v=$($py -c "$ask" 2>/dev/null)',
  '[ -n "$v" ] || v=$(python3 -c "$ask" 2>/dev/null)',
  `printf %s "$v" > ${MESSAGE_PATH} 2>/dev/null`,
  'exit 0',
].join('\n');

function specHash(manifest: V1DaemonSet): string {
  return manifest.metadata!.annotations![HASH]!;
}

export interface PullGroup {
  nodeSelector: Record<string, string>;
  tolerations: Obj[];
  nodeAffinityRequired: Obj[];
  images: string[];
  /** Profiles (slugs; '' for the default config) whose images are here. */
  profiles: string[];
}

/** Stable JSON (sorted keys) so equal constraints written in another order are one group. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Obj)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Images to pre-pull, grouped by where they may run: the default config first, then each profile in order. */
export function prepullGroups(config: SpawnerConfig): PullGroup[] {
  const groups = new Map<string, PullGroup>();
  const add = (effective: SpawnerConfig, profile: string, extra: string[] = []) => {
    const t = readKubeTraits(effective);
    const constraint = { nodeSelector: t.nodeSelector, tolerations: t.tolerations, nodeAffinityRequired: t.nodeAffinityRequired };
    const key = canonical(constraint);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ...constraint, images: [], profiles: [] }));
    if (!g.profiles.includes(profile)) g.profiles.push(profile);
    const images = [t.image, ...[...t.initContainers, ...t.extraContainers].map((c) => c.image), ...extra];
    for (const image of images) if (typeof image === 'string' && image && !g.images.includes(image)) g.images.push(image);
  };
  const extra = (config as unknown as KubeSpawnerConfig).prepuller_extra_images;
  add(config, '', extra);
  for (const p of config.profile_list ?? []) {
    for (const overrides of profileVariants(p)) add(applyOverrides(config, overrides, 'KubeSpawner'), p.slug);
  }
  return [...groups.values()];
}

/**
 * The override lists whose images a profile needs (z2jh 3.2 pulls profile_options' choice images too): the profile at
 * its default choices, then each other listed choice with the remaining options at their defaults. Free-text choices
 * are never pulled: their image is whatever a visitor types.
 */
function profileVariants(p: ProfileConfig): Record<string, unknown>[][] {
  const options = Object.values(p.profile_options ?? {});
  const defaults = options.map((o) => Object.keys(o.choices).find((c) => o.choices[c]!.default));
  const withChoice = (at: number, choice?: string) => options.map((o, j) => {
    const c = j === at ? choice : defaults[j];
    return c === undefined ? {} : o.choices[c]!.kubespawner_override;
  });
  const variants = [[p.kubespawner_override, ...withChoice(-1)]];
  options.forEach((o, i) => {
    for (const c of Object.keys(o.choices)) if (c !== defaults[i]) variants.push([p.kubespawner_override, ...withChoice(i, c)]);
  });
  return variants;
}

export function daemonSetName(hubInstance: string, group: PullGroup, index: number): string {
  if (index === 0) return `${hubInstance}-image-puller`;
  const hash = createHash('sha256').update(canonical([group.nodeSelector, group.tolerations, group.nodeAffinityRequired])).digest('hex');
  return `${hubInstance}-image-puller-${hash.slice(0, 8)}`;
}

/** The DaemonSet of one group (plain JSON); `nodehub/spec-hash` tells the reconciler whether it changed. */
export function makeDaemonSet(group: PullGroup, opts: { name: string; hubInstance: string; pauseImage: string }): V1DaemonSet {
  const labels = {
    app: 'jupyterhub',
    component: 'image-puller',
    'app.kubernetes.io/component': 'image-puller',
    'app.kubernetes.io/instance': opts.hubInstance,
    [PULLER_LABEL]: opts.name,
  };
  // Non-root, no privileges: the containers only prove the image is on the node.
  const securityContext = { runAsUser: 65534, runAsGroup: 65534, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
  const small = { requests: { cpu: '0', memory: '0' } };
  const podSpec: V1PodSpec = {
    initContainers: group.images.map((image, i) => ({
      name: `image-pull-${i}`,
      image,
      imagePullPolicy: 'IfNotPresent',
      command: ['/bin/sh', '-c', PULL_COMMAND],
      terminationMessagePath: MESSAGE_PATH,
      terminationMessagePolicy: 'File',
      resources: small,
      securityContext,
    })),
    containers: [{ name: 'pause', image: opts.pauseImage, resources: small, securityContext }],
    terminationGracePeriodSeconds: 0,
    automountServiceAccountToken: false,
  };
  if (Object.keys(group.nodeSelector).length) podSpec.nodeSelector = group.nodeSelector;
  if (group.tolerations.length) podSpec.tolerations = group.tolerations;
  if (group.nodeAffinityRequired.length) {
    podSpec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: group.nodeAffinityRequired } } };
  }
  const spec: V1DaemonSetSpec = {
    selector: { matchLabels: { component: 'image-puller', 'app.kubernetes.io/instance': opts.hubInstance, [PULLER_LABEL]: opts.name } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%' } },
    template: { metadata: { labels }, spec: podSpec },
  };
  const hash = createHash('sha256').update(canonical(spec)).digest('hex').slice(0, 16);
  return { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: opts.name, labels, annotations: { [HASH]: hash } }, spec };
}

export interface PrepullerStatus {
  /** Every DaemonSet has a ready pod of its current spec on every node it targets (and reports on that spec). */
  ready: boolean;
  daemonsets: { name: string; images: string[]; profiles: string[]; desired: number; current: number; ready: number; updated: number }[];
  error: string | null;
}

export class Prepuller {
  readonly #cluster: KubeCluster;
  readonly #wanted: { name: string; manifest: V1DaemonSet; group: PullGroup }[] = [];
  readonly #reflector: Reflector;
  /** The puller pods, for the versions their init containers report. */
  readonly #pods: Reflector;
  readonly #stop = new AbortController();
  #error: string | null = null;
  #reconciled = false;
  #reconciledAt = 0;
  /** KubeSpawner.prepuller_scheduling_wait: seconds to insist on every eligible node; -1 = forever. */
  readonly #wait: number;
  #running: Promise<void> | null = null;

  constructor(cluster: KubeCluster, hubConfig: HubConfig) {
    this.#cluster = cluster;
    const config = hubConfig.spawner as unknown as KubeSpawnerConfig;
    this.#wait = config.prepuller_scheduling_wait;
    const hubInstance = cluster.traits.hubInstance;
    const pauseImage = config.prepuller_pause_image;
    prepullGroups(hubConfig.spawner).forEach((group, i) => {
      const name = daemonSetName(hubInstance, group, i);
      this.#wanted.push({ name, group, manifest: makeDaemonSet(group, { name, hubInstance, pauseImage }) });
    });
    const { apps } = cluster.client;
    const namespace = cluster.namespace;
    this.#reflector = new Reflector({
      name: `image pullers in ${namespace}`,
      client: cluster.client,
      path: `/apis/apps/v1/namespaces/${namespace}/daemonsets`,
      list: (p) => apps.listNamespacedDaemonSet({ namespace, ...p }),
      labelSelector: `component=image-puller,app.kubernetes.io/instance=${hubInstance}`,
      ...cluster.watch,
      log: cluster.log.child('prepuller'),
    });
    const { core } = cluster.client;
    this.#pods = new Reflector({
      name: `image puller pods in ${namespace}`,
      client: cluster.client,
      path: `/api/v1/namespaces/${namespace}/pods`,
      list: (p) => core.listNamespacedPod({ namespace, ...p }),
      labelSelector: `component=image-puller,app.kubernetes.io/instance=${hubInstance}`,
      ...cluster.watch,
      log: cluster.log.child('prepuller'),
    });
    this.#pods.on('change', (type: string, pod: KObject) => {
      if (type !== 'DELETED') this.#readVersions(pod);
    });
  }

  /** The versions a puller pod's init containers found in their images (their termination messages). */
  #readVersions(pod: KObject): void {
    const images = new Map<string, string>((pod.spec?.initContainers ?? []).map((c: { name: string; image: string }) => [c.name, c.image]));
    for (const s of pod.status?.initContainerStatuses ?? []) {
      const message: unknown = s.state?.terminated?.message ?? s.lastState?.terminated?.message;
      const image = images.get(s.name);
      const version = typeof message === 'string' ? message.trim() : '';
      if (image && isVersion(version)) this.#cluster.versions.fromPuller(image, version);
    }
  }

  /** Starts reconciling in the background (retried until it succeeds), and watching the DaemonSets' status. */
  start(): void {
    if (this.#running) return;
    this.#reflector.start();
    this.#pods.start();
    this.#running = this.#reconcileUntilDone();
  }

  async #reconcileUntilDone(): Promise<void> {
    for (let delay = 500; !this.#stop.signal.aborted; delay = Math.min(delay * 2, 30_000)) {
      try {
        await this.#reconcile();
        this.#error = null;
        this.#reconciled = true;
        this.#reconciledAt = Date.now();
        return;
      } catch (err) {
        this.#error = apiProblem(err).message;
        this.#cluster.log.warn(`Image pre-puller: ${this.#error}; retrying`);
        await sleep(delay, this.#stop.signal);
      }
    }
  }

  async #reconcile(): Promise<void> {
    const { apps } = this.#cluster.client;
    const namespace = this.#cluster.namespace;
    const existing = await apps.listNamespacedDaemonSet({
      namespace, labelSelector: `component=image-puller,app.kubernetes.io/instance=${this.#cluster.traits.hubInstance}`,
    });
    const byName = new Map(existing.items.map((d) => [d.metadata?.name ?? '', d]));
    for (const { name, manifest } of this.#wanted) {
      const current = byName.get(name);
      byName.delete(name);
      const hash = specHash(manifest);
      if (!current) {
        await apps.createNamespacedDaemonSet({ namespace, body: manifest });
        this.#cluster.log.info(`Image pre-puller ${name} created`);
      } else if (current.metadata?.annotations?.[HASH] !== hash) {
        const body: V1DaemonSet = { ...manifest, metadata: { ...manifest.metadata, resourceVersion: current.metadata?.resourceVersion } };
        await apps.replaceNamespacedDaemonSet({ name, namespace, body });
        this.#cluster.log.info(`Image pre-puller ${name} updated to the current config`);
      }
    }
    // Groups no longer configured (a profile removed or changed its constraint)
    for (const name of byName.keys()) {
      await apps.deleteNamespacedDaemonSet({ name, namespace }).catch((err) => {
        if (apiProblem(err).code !== 404) throw err;
      });
      this.#cluster.log.info(`Image pre-puller ${name} deleted (no longer configured)`);
    }
  }

  status(): PrepullerStatus {
    const daemonsets = this.#wanted.map(({ name, group, manifest }) => {
      const ds: KObject | undefined = this.#reflector.get(name);
      const s = ds?.status ?? {};
      // counters of an older spec say nothing about the images wanted now
      const upToDate = !!ds && ds.metadata?.annotations?.[HASH] === specHash(manifest) && (s.observedGeneration ?? 0) >= (ds.metadata?.generation ?? 1);
      return {
        name, images: group.images, profiles: group.profiles, upToDate,
        desired: s.desiredNumberScheduled ?? 0, current: s.currentNumberScheduled ?? 0, ready: s.numberReady ?? 0,
        updated: s.updatedNumberScheduled ?? 0,
      };
    });
    // z2jh's image-awaiter rule: every eligible node at first; after the scheduling wait, every node that could take a
    // puller pod, so a full node does not hold readiness back forever.
    const waited = this.#wait >= 0 && this.#reconciledAt > 0 && Date.now() - this.#reconciledAt > this.#wait * 1000;
    // numberReady also counts pods of the previous spec still running during a rollout: as `kubectl rollout status`
    // does, the pods must be the updated ones too (updatedNumberScheduled)
    const ready = this.#reconciled && daemonsets.every((d) => d.upToDate
      && ((d.ready >= d.desired && d.updated >= d.desired) || (waited && d.ready >= d.current && d.updated >= d.current)));
    return { ready, daemonsets: daemonsets.map(({ upToDate: _, ...d }) => d), error: this.#error };
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#running;
    await this.#reflector.stop();
    await this.#pods.stop();
  }
}
