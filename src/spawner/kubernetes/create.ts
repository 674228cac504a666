// Creating a server's pod against an API server that may be slow, flaky or hold a stale pod of the same name. Kept
// apart from the spawner because its retry rules (which answers are final, which pod is ours) stand on their own.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../util/log.ts';
import { sleep } from '../../util/time.ts';
import { apiProblem, TimeoutError, withTimeout } from './client.ts';
import type { KubeCluster } from './cluster.ts';
import { notebookEnv } from './pod.ts';
import type { KObject } from './reflector.ts';
import type { KubeTraits } from './traits.ts';

export interface PodCreation {
  cluster: KubeCluster;
  traits: KubeTraits;
  podName: string;
  log: Logger;
  push(message: string): void;
  /** Deletes a stale pod of this name (grace 0) and waits until it is gone. */
  deleteStale(signal: AbortSignal): Promise<void>;
  /** Set once an attempt timed out or lost its connection: the pod may exist although no answer said so. */
  uncertain: boolean;
}

/** Creates the pod and returns its uid; a 409 means a stale pod of the same name: it is deleted and the create retried. */
export async function createPod(c: PodCreation, manifest: V1Pod, signal: AbortSignal): Promise<string> {
  const { cluster, traits: t } = c;
  const deadline = Date.now() + t.requestRetryTimeoutMs;
  for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
    if (signal.aborted) throw new Error('aborted');
    try {
      const created = await withTimeout(cluster.client.core.createNamespacedPod({ namespace: cluster.namespace, body: manifest }),
        t.requestTimeoutMs, `Creating pod ${c.podName}`);
      return created.metadata?.uid ?? '';
    } catch (err) {
      const p = apiProblem(err);
      // An earlier attempt that timed out may have created the pod after all: it carries this spawn's own token,
      // so it is taken as created instead of being deleted and made again (which, with a slow API, never ends).
      const ours = p.code === 409 && c.uncertain ? await findCreated(c, manifest) : null;
      if (ours !== null) return ours;
      if (p.code === 409 && Date.now() < deadline) {
        c.push(`A pod named ${c.podName} already exists (left over from an earlier start); replacing it`);
        await c.deleteStale(signal);
        continue;
      }
      if (err instanceof TimeoutError || p.code === 0) c.uncertain = true;
      const transient = err instanceof TimeoutError || p.code === 0 || p.code === 429 || p.code >= 500;
      if (transient && Date.now() < deadline) {
        await sleep(delay, signal);
        continue;
      }
      throw new Error(`Kubernetes did not create pod ${c.podName}: ${p.message}`);
    }
  }
}

/** The uid of the pod of this name if it is the one `manifest` describes (same server token), else null. */
async function findCreated(c: PodCreation, manifest: V1Pod): Promise<string | null> {
  const { cluster } = c;
  const token = (pod: object | undefined) => notebookEnv(pod, 'JUPYTERHUB_API_TOKEN');
  const want = token(manifest);
  if (!want) return null;
  let pod: KObject | undefined = cluster.pods.get(c.podName);
  if (token(pod) !== want) {
    try {
      pod = await withTimeout(cluster.client.core.readNamespacedPod({ name: c.podName, namespace: cluster.namespace }),
        c.traits.requestTimeoutMs, `Reading pod ${c.podName}`) as KObject;
    } catch {
      return null;
    }
  }
  if (token(pod) !== want || pod?.metadata?.deletionTimestamp) return null;
  c.log.info(`Pod ${c.podName} was created by an earlier attempt whose answer was lost; using it`);
  return pod?.metadata?.uid ?? '';
}
