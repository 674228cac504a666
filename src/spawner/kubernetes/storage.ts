// KubeSpawner's per-user storage (spec 1.9, 1.10 step 5): with storage_pvc_ensure the claim is created before the pod
// (a 409 means it is already there), kept when the server stops and across hub restarts (its name in the server's
// state, remember_pvc_name), and deleted only when the server is deleted for good (delete_pvc). The pod mounts it
// through `{pvc_name}` in `volumes`.
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { ServerSpec } from '../types.ts';
import { sleep } from '../../util/time.ts';
import { apiProblem, TimeoutError, withTimeout } from './client.ts';
import type { KubeCluster } from './cluster.ts';
import { StartEvents, type PodEvent } from './events.ts';
import { podLabels } from './pod.ts';
import { expandAll, expandTemplate, templateFields } from './slugs.ts';
import type { KubeTraits } from './traits.ts';
import { JUPYTERHUB_VERSION } from '../../util/version.ts';

/** The claim as KubeSpawner's get_pvc_manifest makes it: common labels with component singleuser-storage. */
export function makePvc(t: KubeTraits, spec: Pick<ServerSpec, 'user' | 'serverName'>, name: string, fields: Record<string, string>): V1PersistentVolumeClaim {
  const s = t.storage;
  const labels = podLabels({ ...t, extraLabels: s.extraLabels }, spec.user.name, spec.serverName, fields);
  // KubeSpawner's claim labels have no servername label, and keep `component: singleuser-storage` beside the
  // app.kubernetes.io/component of the pods.
  delete labels['hub.jupyter.org/servername'];
  labels.component = 'singleuser-storage';
  const annotations: Record<string, string> = { 'hub.jupyter.org/username': spec.user.name };
  if (spec.serverName) annotations['hub.jupyter.org/servername'] = spec.serverName;
  annotations['hub.jupyter.org/jupyterhub-version'] = JUPYTERHUB_VERSION;
  Object.assign(annotations, expandAll(s.extraAnnotations, fields));
  const pvc: V1PersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, labels, annotations },
    spec: { accessModes: s.accessModes, resources: { requests: { storage: s.capacity ?? '' } } },
  };
  if (s.className !== null) {
    annotations['volume.beta.kubernetes.io/storage-class'] = s.className;
    pvc.spec!.storageClassName = s.className;
  }
  const selector = expandAll(s.selector, fields);
  if (Object.keys(selector).length) pvc.spec!.selector = selector;
  return pvc;
}

export interface Claim {
  uid: string;
  /** Pending until a volume is bound to it. */
  phase: string;
}

/**
 * Creates the claim unless it exists. 409: it does (read for its uid and phase). 403: maybe a quota that counts the
 * existing claim too, so a claim that can be read is taken, as KubeSpawner does. Timeouts and 5xx are retried for
 * k8s_api_request_retry_timeout.
 */
export async function ensureClaim(cluster: KubeCluster, t: KubeTraits, pvc: V1PersistentVolumeClaim, signal: AbortSignal): Promise<Claim> {
  const name = pvc.metadata!.name!;
  const namespace = cluster.namespace;
  const deadline = Date.now() + t.requestRetryTimeoutMs;
  const read = async (): Promise<Claim> => {
    const got = await withTimeout(cluster.client.core.readNamespacedPersistentVolumeClaim({ name, namespace }), t.requestTimeoutMs, `Reading claim ${name}`);
    return { uid: got.metadata?.uid ?? '', phase: got.status?.phase ?? 'Pending' };
  };
  for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
    if (signal.aborted) throw new Error('aborted');
    try {
      const created = await withTimeout(cluster.client.core.createNamespacedPersistentVolumeClaim({ namespace, body: pvc }),
        t.requestTimeoutMs, `Creating claim ${name}`);
      return { uid: created.metadata?.uid ?? '', phase: created.status?.phase ?? 'Pending' };
    } catch (err) {
      let problem = err;
      if (apiProblem(err).code === 409 || apiProblem(err).code === 403) {
        try {
          return await read();
        } catch (readErr) {
          // a 403 whose claim cannot be read either is the 403 (e.g. a quota); a failed read after a 409 is the read's
          if (apiProblem(err).code === 409 || isTransient(readErr)) problem = readErr;
        }
      }
      if (isTransient(problem) && Date.now() < deadline) {
        await sleep(delay, signal);
        continue;
      }
      throw new Error(`Kubernetes did not create claim ${name}: ${apiProblem(problem).message}`);
    }
  }
}

function isTransient(err: unknown): boolean {
  const code = apiProblem(err).code;
  return err instanceof TimeoutError || code === 0 || code === 429 || code >= 500;
}

/** Deletes a claim; 404 counts as done; retried on timeouts and 5xx. */
export async function deleteClaim(cluster: KubeCluster, t: KubeTraits, name: string): Promise<void> {
  const deadline = Date.now() + t.requestRetryTimeoutMs;
  for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
    try {
      await withTimeout(cluster.client.core.deleteNamespacedPersistentVolumeClaim({ name, namespace: cluster.namespace }),
        t.requestTimeoutMs, `Deleting claim ${name}`);
      return;
    } catch (err) {
      if (apiProblem(err).code === 404) return;
      if (!isTransient(err) || Date.now() > deadline) throw new Error(`Could not delete claim ${name}: ${apiProblem(err).message}`);
      await sleep(delay);
    }
  }
}

/**
 * The claim a deleted server leaves behind, to delete with it (KubeSpawner's delete_forever), or null: delete_pvc is
 * off, no claim of this hub's is known for it, or it is the default server's claim that a named server shares.
 */
export function claimToDelete(t: KubeTraits, serverName: string, state: Record<string, unknown>, templateName: string, defaultServerName: string): string | null {
  if (!t.storage.deleteWithServer) return null;
  // Without a remembered name, only a hub that makes claims owns the template's; one that never made claims must not
  // ask the API (its Role may not allow it) about claims that are not its own.
  const name = typeof state.pvc_name === 'string' && state.pvc_name ? state.pvc_name : t.storage.ensure ? templateName : null;
  if (name && serverName && name === defaultServerName) return null;
  return name;
}

/** KubeSpawner's delete_forever for one server of a deleted user (or a removed named server). */
export async function deleteServerClaim(cluster: KubeCluster, user: { id: number; name: string }, serverName: string,
  state: Record<string, unknown>): Promise<void> {
  const t = cluster.traits;
  const fields = templateFields({ userName: user.name, userId: user.id, serverName, namespace: cluster.namespace, scheme: t.slugScheme });
  fields.pod_name = expandTemplate(t.podNameTemplate, fields);
  const defaults = templateFields({ userName: user.name, userId: user.id, serverName: '', namespace: cluster.namespace, scheme: t.slugScheme });
  defaults.pod_name = expandTemplate(t.podNameTemplate, defaults);
  const name = claimToDelete(t, serverName, state, expandTemplate(t.storage.nameTemplate, fields), expandTemplate(t.storage.nameTemplate, defaults));
  if (!name) return;
  cluster.log.info(`Deleting claim ${cluster.namespace}/${name} of ${user.name}${serverName ? `/${serverName}` : ''}`);
  await deleteClaim(cluster, t, name);
}

/**
 * A start's claim: made (or found) before the pod; `exists` runs once it is known to exist. A claim not yet bound is
 * watched while the server starts (returned): its events are progress, and one that cannot bind fails the start.
 */
export async function startClaim(cluster: KubeCluster, t: KubeTraits, spec: Pick<ServerSpec, 'user' | 'serverName'>, name: string,
  fields: Record<string, string>, signal: AbortSignal, onEvent: (e: PodEvent) => void, exists: () => void): Promise<StartEvents | null> {
  if (!t.storage.capacity) throw new Error('KubeSpawner.storage_pvc_ensure is on but KubeSpawner.storage_capacity is not set: the claim needs a size');
  const found = await ensureClaim(cluster, t, makePvc(t, spec, name, fields), signal);
  exists();
  if (found.phase === 'Bound') return null;
  const events = new StartEvents(cluster, name, onEvent, 'PersistentVolumeClaim');
  events.setUid(found.uid);
  return events;
}
