// A user pod a KubeSpawner hub started, as a server this hub can take over when it replaces that hub (docs/kubernetes.md,
// switching over). Everything comes from the pod: who and which server from KubeSpawner's annotations (the raw names;
// labels hold slugs), and the JupyterHub environment KubeSpawner writes as plain values into the notebook container,
// including the server's API token, so the server keeps working with the token it has.
import type { ForeignServer } from '../types.ts';
import { isPodRunning, podUrl } from './classify.ts';
import { notebookEnv } from './pod.ts';
import type { KObject } from './reflector.ts';

/** The server a KubeSpawner pod runs, or why it cannot be taken over. */
export function foreignServer(pod: KObject, namespace: string): ForeignServer | string {
  const a = pod.metadata?.annotations ?? {};
  const env = (name: string) => notebookEnv(pod, name);
  const userName = a['hub.jupyter.org/username'] ?? env('JUPYTERHUB_USER');
  const serverName = a['hub.jupyter.org/servername'] ?? env('JUPYTERHUB_SERVER_NAME') ?? '';
  const apiToken = env('JUPYTERHUB_API_TOKEN');
  const prefix = env('JUPYTERHUB_SERVICE_PREFIX');
  const oauthClientId = env('JUPYTERHUB_CLIENT_ID');
  if (!userName) return 'it names no user (no hub.jupyter.org/username annotation, no JUPYTERHUB_USER)';
  if (!isPodRunning(pod)) return `it is not running and ready (phase ${pod.status?.phase ?? 'unknown'})`;
  // a token from a Secret (valueFrom) cannot be read with the hub's Role, and another token would not reach the server
  if (!apiToken) return 'its JUPYTERHUB_API_TOKEN is not a plain value in its environment';
  if (!prefix || !oauthClientId) return 'its environment has no JUPYTERHUB_SERVICE_PREFIX or JUPYTERHUB_CLIENT_ID';
  let url: string;
  try {
    url = podUrl(pod, null);
  } catch (err) {
    return (err as Error).message;
  }
  const name = pod.metadata?.name ?? '';
  const since = pod.status?.startTime ?? pod.metadata?.creationTimestamp;
  const started = since ? new Date(since).getTime() : Date.now();
  return {
    userName, serverName, url, apiToken, prefix, oauthClientId,
    state: { pod_name: name, namespace, pod_uid: pod.metadata?.uid ?? null },
    started: Number.isFinite(started) ? started : Date.now(),
    where: `pod ${namespace}/${name}`,
  };
}
