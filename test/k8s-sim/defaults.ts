// Defaults and admission the API server applies to a new Pod (what a GET returns that the client never sent).
import { randomInt } from 'node:crypto';
import { containerRequests } from './quantity.ts';
import type { KObject } from './types.ts';

/** The apiserver's alphabet for generated suffixes (no vowels, no confusable digits). */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5): string {
  let out = '';
  for (let i = 0; i < n; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** Always for ":latest" or an untagged reference without digest, IfNotPresent otherwise. */
export function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  const tag = lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: any): void {
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (c.image) c.imagePullPolicy ??= defaultPullPolicy(c.image);
  c.resources ??= {};
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
}

function qosClass(spec: any): string {
  const all = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  const any = all.some((c) => Object.keys(containerRequests(c)).length > 0);
  if (!any) return 'BestEffort';
  const guaranteed = all.every((c) => {
    const limits = c.resources?.limits ?? {};
    const requests = { ...limits, ...(c.resources?.requests ?? {}) };
    return ['cpu', 'memory'].every((r) => limits[r] !== undefined && String(requests[r]) === String(limits[r]));
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Pod spec defaults; shared by pods created through the API and by the DaemonSet controller. */
export function defaultPodSpec(spec: any): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  spec.serviceAccount = spec.serviceAccountName;
  (spec.containers ?? []).forEach(defaultContainer);
  (spec.initContainers ?? []).forEach(defaultContainer);
}

/** Admission plugins: service-account token volume (unless automount is off) and the default NoExecute tolerations. */
export function admitPod(pod: KObject): void {
  const spec = pod.spec;
  if (spec.automountServiceAccountToken !== false) {
    const volumeName = `kube-api-access-${randomSuffix()}`;
    spec.volumes = [
      ...(spec.volumes ?? []),
      {
        name: volumeName,
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      },
    ];
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      c.volumeMounts = [
        ...(c.volumeMounts ?? []),
        { name: volumeName, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
      ];
    }
  }
  const tolerations: any[] = spec.tolerations ?? [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerations.some((t) => t.key === key || (t.operator === 'Exists' && !t.key))) {
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
    }
  }
  spec.tolerations = tolerations;
  pod.status = { phase: 'Pending', qosClass: qosClass(spec) };
}
