// `spawner_class: kubernetes` (also kubespawner.KubeSpawner): servers as Kubernetes pods. The class-wide hooks run the
// hub's shared Kubernetes state: connecting and starting the pod informer and the image pre-puller before servers are
// re-adopted, the orphan sweep after, the informer's health in /hub/api/info, a deleted user's claim (delete_pvc), and
// closing every watch with the hub.
import { ConfigError } from '../../config/errors.ts';
import type { SpawnerClass } from '../types.ts';

type Runtime = typeof import('./runtime.ts');
let runtime: Runtime | null = null;

export const kubeSpawnerClass: SpawnerClass = {
  name: 'KubeSpawner',
  classPath: 'kubespawner.KubeSpawner',
  sections: ['Spawner', 'KubeSpawner'],
  create(init) {
    if (!runtime) throw new Error('The Kubernetes spawner was used before the hub prepared it');
    return new runtime.KubeSpawner(init);
  },
  async prepare({ hubConfig, log }) {
    const c = hubConfig.spawner as Record<string, unknown>;
    if (c.storage_pvc_ensure === true && !c.storage_capacity) {
      throw new ConfigError('KubeSpawner.storage_capacity must be set (e.g. "10Gi") when KubeSpawner.storage_pvc_ensure is on: it is the size of each user\'s claim', 'KubeSpawner.storage_capacity');
    }
    runtime ??= await import('./runtime.ts');
    // Fails the hub's start when there is no cluster configuration at all; an API that is down is waited for later.
    const cluster = runtime.clusterFor(hubConfig, log.child('kubernetes'));
    cluster.prepuller?.start();
  },
  async cleanupOrphans({ hubConfig, log, serverStates, adoptServer }) {
    if (!runtime) return;
    const cluster = runtime.clusterFor(hubConfig, log.child('kubernetes'));
    const names = () => {
      const out: string[] = [];
      for (const state of serverStates()) if (typeof state.pod_name === 'string') out.push(state.pod_name);
      return out;
    };
    const deleted = await cluster.sweepOrphans(names, adoptServer);
    if (deleted.length) log.info(`Deleted ${deleted.length} orphaned pods`);
  },
  async deleteForever({ hubConfig, log, user, serverName, state }) {
    runtime ??= await import('./runtime.ts');
    await runtime.deleteServerClaim(runtime.clusterFor(hubConfig, log.child('kubernetes')), user, serverName, state);
  },
  async shutdown({ hubConfig }) {
    await runtime?.closeCluster(hubConfig);
  },
  probeVersion(hubConfig, address) {
    return runtime?.existingCluster(hubConfig)?.versions.forAddress(address);
  },
  info({ hubConfig }) {
    const cluster = runtime?.existingCluster(hubConfig);
    if (!cluster) return {};
    const { prepuller, ...kubernetes } = cluster.info();
    return { prepuller, kubernetes };
  },
};
