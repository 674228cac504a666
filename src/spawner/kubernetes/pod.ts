// The pod manifest of one user server, as KubeSpawner's get_pod_manifest/make_pod build it (spec 1.2-1.9): a pure
// function of the traits and the server, so every rule here is unit-tested and every result schema-validated.
import { buildServerEnv } from '../env.ts';
import type { ServerSpec, SpawnerConfig } from '../types.ts';
import { expandAll, expandTemplate, isValidLabel, safeSlug } from './slugs.ts';
import type { KubeTraits } from './traits.ts';

import { JUPYTERHUB_VERSION } from '../../util/version.ts';
import type { V1Container, V1Pod, V1PodSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';

type Obj = Record<string, unknown>;

export interface PodInput {
  traits: KubeTraits;
  /** The effective spawner config (for the JupyterHub environment: env_keep, notebook_dir, default_url …). */
  config: SpawnerConfig;
  spec: ServerSpec;
  podName: string;
  /** KubeSpawner's template fields for this user and server (slugs.templateFields). */
  fields: Record<string, string>;
  adminAccess?: boolean;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: Obj;
}

/** Labels every pod of this server carries, in KubeSpawner's order (later wins), plus this hub's instance label. */
export function podLabels(traits: KubeTraits, userName: string, serverName: string, fields: Record<string, string>): Record<string, string> {
  return {
    'hub.jupyter.org/username': safeSlug(userName, isValidLabel),
    ...expandAll(traits.extraLabels, fields),
    ...traits.commonLabels,
    release: traits.commonLabels.release ?? traits.hubInstance,
    'app.kubernetes.io/instance': traits.hubInstance,
    'app.kubernetes.io/component': traits.componentLabel,
    component: traits.componentLabel,
    'hub.jupyter.org/servername': safeSlug(serverName, isValidLabel),
  };
}

/**
 * The informer's label selector: every user server pod in the namespace, by KubeSpawner's legacy `component` label as
 * its own reflector selects them, so pods a KubeSpawner hub started are seen too (isHubPod says which are this hub's).
 */
export function hubPodSelector(traits: Pick<KubeTraits, 'componentLabel'>): string {
  return `component=${traits.componentLabel}`;
}

type PodMeta = { metadata?: Record<string, any> };

/**
 * Whether a server pod is this hub's to adopt or sweep: its instance label (nodehub's, and z2jh's) or else its release
 * label names this hub; a pod with neither was started by a plain KubeSpawner hub in this namespace, which this hub
 * replaces. Pods of another hub instance are left alone.
 */
export function isHubPod(pod: PodMeta, traits: Pick<KubeTraits, 'hubInstance'>): boolean {
  const labels = pod.metadata?.labels ?? {};
  const instance = labels['app.kubernetes.io/instance'] ?? labels.release;
  return instance === undefined || instance === traits.hubInstance;
}

/** A plain value of the notebook container's environment (JupyterHub's variables are written as plain values). */
export function notebookEnv(pod: object | undefined, name: string): string | undefined {
  const containers: Array<{ name?: string; env?: Array<{ name: string; value?: unknown }> }> = (pod as { spec?: any } | undefined)?.spec?.containers ?? [];
  const c = containers.find((x) => x.name === 'notebook') ?? containers[0];
  const value = c?.env?.find((v) => v.name === name)?.value;
  return typeof value === 'string' ? value : undefined;
}

/** KubeSpawner (not nodehub) made this pod: it writes its version annotation. */
export function startedByKubeSpawner(pod: PodMeta): boolean {
  return pod.metadata?.annotations?.['hub.jupyter.org/kubespawner-version'] !== undefined;
}

/**
 * The server's environment as EnvVars: JupyterHub's variables (JUPYTERHUB_SERVICE_URL binds `ip:port`), the image, then
 * the admin's `environment` (template-expanded, EnvVar objects allowed). Sorted by name, except that a variable
 * referring to others with $(NAME) comes after them, so Kubernetes can expand the reference.
 */
export function podEnv(input: PodInput): EnvVar[] {
  const { traits, spec, config } = input;
  const host = traits.ip.includes(':') && !traits.ip.startsWith('[') ? `[${traits.ip}]` : traits.ip;
  const base = buildServerEnv(spec, { ...config, environment: {}, env_keep: Array.isArray(config.env_keep) ? config.env_keep : [] },
    'http://0.0.0.0', { user: spec.user.name, home: '', shell: '', adminAccess: input.adminAccess });
  // Written out, not parsed: `ip` may be a Kubernetes reference such as $(POD_IP), which a URL parser would mangle.
  base.JUPYTERHUB_SERVICE_URL = `http://${host}:${traits.port}${spec.prefix}`;
  // Local-process variables; a pod's user, home and shell come from its image.
  delete base.USER;
  delete base.HOME;
  delete base.SHELL;
  if (traits.memGuarantee) base.MEM_GUARANTEE = traits.memGuarantee;
  if (traits.cpuGuarantee !== null) base.CPU_GUARANTEE = pythonFloat(traits.cpuGuarantee);
  if (traits.cpuLimit !== null) base.CPU_LIMIT = pythonFloat(traits.cpuLimit);
  if (traits.memLimit) base.MEM_LIMIT = traits.memLimit;
  base.JUPYTER_IMAGE_SPEC = traits.image;
  base.JUPYTER_IMAGE = traits.image;
  const vars = new Map<string, EnvVar>();
  for (const [name, value] of Object.entries(base)) vars.set(name, { name, value });
  for (const [key, raw] of Object.entries(traits.environment)) {
    const value = expandAll(raw, input.fields);
    if (typeof value === 'string') vars.set(key, { name: key, value });
    else vars.set(String(value.name ?? key), { ...(value as Obj), name: String(value.name ?? key) } as EnvVar);
  }
  return sortEnv([...vars.values()]);
}

/** As JupyterHub writes CPU values: Python's str(float), so 1 is `1.0`. */
function pythonFloat(n: number | string): string {
  return typeof n === 'number' && Number.isInteger(n) ? n.toFixed(1) : String(n);
}

function sortEnv(unsorted: EnvVar[]): EnvVar[] {
  const deps = new Map<EnvVar, Set<string>>();
  for (const e of unsorted) {
    const refs = new Set([...(e.value ?? '').matchAll(/\$\(([^)]+)\)/g)].map((m) => m[1]!));
    refs.delete(e.name);
    deps.set(e, refs);
  }
  const byName = (a: EnvVar, b: EnvVar) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const sorted: EnvVar[] = [];
  let left = [...unsorted];
  for (;;) {
    const resolved = new Set(sorted.map((e) => e.name));
    const ready = left.filter((e) => [...deps.get(e)!].every((d) => resolved.has(d)));
    if (ready.length === 0) {
      sorted.push(...left.sort(byName)); // circular or unknown references: best effort
      return sorted;
    }
    sorted.push(...ready.sort(byName));
    left = left.filter((e) => !ready.includes(e));
    if (left.length === 0) return sorted;
  }
}

function resources(t: KubeTraits): Obj {
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (t.cpuGuarantee !== null) requests.cpu = String(t.cpuGuarantee);
  if (t.memGuarantee) requests.memory = t.memGuarantee;
  Object.assign(requests, t.extraResourceGuarantees);
  if (t.cpuLimit !== null) limits.cpu = String(t.cpuLimit);
  if (t.memLimit) limits.memory = t.memLimit;
  Object.assign(limits, t.extraResourceLimits);
  return { requests, limits };
}

function securityContexts(t: KubeTraits): { pod: Obj | null; container: Obj | null } {
  const pod: Obj = {};
  if (t.fsGid !== null) pod.fsGroup = t.fsGid;
  if (t.supplementalGids.length) pod.supplementalGroups = t.supplementalGids;
  Object.assign(pod, t.podSecurityContext);
  const container: Obj = {};
  if (t.uid !== null) container.runAsUser = t.uid;
  if (t.gid !== null) container.runAsGroup = t.gid;
  if (t.privileged) container.privileged = true;
  if (t.allowPrivilegeEscalation !== null) container.allowPrivilegeEscalation = t.allowPrivilegeEscalation;
  Object.assign(container, t.containerSecurityContext);
  return { pod: Object.keys(pod).length ? pod : null, container: Object.keys(container).length ? container : null };
}

function affinity(t: KubeTraits): Obj | null {
  const out: Obj = {};
  if (t.nodeAffinityRequired.length || t.nodeAffinityPreferred.length) {
    const node: Obj = {};
    if (t.nodeAffinityRequired.length) node.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: t.nodeAffinityRequired };
    if (t.nodeAffinityPreferred.length) node.preferredDuringSchedulingIgnoredDuringExecution = t.nodeAffinityPreferred;
    out.nodeAffinity = node;
  }
  for (const [key, required, preferred] of [
    ['podAffinity', t.podAffinityRequired, t.podAffinityPreferred],
    ['podAntiAffinity', t.podAntiAffinityRequired, t.podAntiAffinityPreferred],
  ] as const) {
    if (!required.length && !preferred.length) continue;
    const a: Obj = {};
    if (required.length) a.requiredDuringSchedulingIgnoredDuringExecution = required;
    if (preferred.length) a.preferredDuringSchedulingIgnoredDuringExecution = preferred;
    out[key] = a;
  }
  return Object.keys(out).length ? out : null;
}

/** The Pod object (plain JSON, camelCase as the API takes it). Never a PVC: storage is whatever `volumes` names. */
export function makePod(input: PodInput): V1Pod {
  const { traits: t, spec, fields } = input;
  const annotations: Record<string, string> = { 'hub.jupyter.org/username': spec.user.name };
  if (spec.serverName) annotations['hub.jupyter.org/servername'] = spec.serverName;
  annotations['hub.jupyter.org/jupyterhub-version'] = JUPYTERHUB_VERSION;
  Object.assign(annotations, expandAll(t.extraAnnotations, fields));

  const security = securityContexts(t);
  let notebook: V1Container = {
    name: 'notebook',
    image: t.image,
    ports: [{ name: 'notebook-port', containerPort: t.port }],
    env: podEnv(input),
    resources: resources(t),
    // The traits hold the admin's JSON in the API's own shape; the API server is what checks it.
    volumeMounts: expandAll(t.volumeMounts, fields) as unknown as V1VolumeMount[],
  };
  // KubeSpawner passes cmd+args as `args`, never `command`, so the image's ENTRYPOINT (e.g. tini) stays in front.
  if (t.cmd) notebook.args = [...t.cmd, ...t.args];
  if (t.imagePullPolicy) notebook.imagePullPolicy = t.imagePullPolicy;
  if (t.workingDir) notebook.workingDir = expandTemplate(t.workingDir, fields);
  if (t.lifecycleHooks) notebook.lifecycle = t.lifecycleHooks;
  if (security.container) notebook.securityContext = security.container;
  // extra_container_config is the admin's own JSON, taken as a container's fields.
  notebook = { ...notebook, ...(t.extraContainerConfig as Partial<V1Container>) };

  let podSpec: V1PodSpec = {
    restartPolicy: 'OnFailure',
    containers: [notebook, ...(expandAll(t.extraContainers, fields) as unknown as V1Container[])],
    volumes: expandAll(t.volumes, fields) as unknown as V1Volume[],
  };
  if (t.imagePullSecrets.length) podSpec.imagePullSecrets = t.imagePullSecrets;
  if (Object.keys(t.nodeSelector).length) podSpec.nodeSelector = t.nodeSelector;
  if (security.pod) podSpec.securityContext = security.pod;
  if (t.serviceAccount !== null) podSpec.serviceAccountName = expandTemplate(t.serviceAccount, fields);
  // No service account named and nothing said: no API credentials in user pods.
  if (t.automountServiceAccountToken === null) {
    if (t.serviceAccount === null) podSpec.automountServiceAccountToken = false;
  } else podSpec.automountServiceAccountToken = t.automountServiceAccountToken;
  if (t.tolerations.length) podSpec.tolerations = t.tolerations;
  if (t.initContainers.length) podSpec.initContainers = expandAll(t.initContainers, fields) as unknown as V1Container[];
  if (t.schedulerName) podSpec.schedulerName = t.schedulerName;
  const aff = affinity(t);
  if (aff) podSpec.affinity = aff;
  if (t.priorityClassName) podSpec.priorityClassName = t.priorityClassName;
  podSpec = { ...podSpec, ...(expandAll(t.extraPodConfig, fields) as Partial<V1PodSpec>) };

  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: input.podName, labels: podLabels(t, spec.user.name, spec.serverName, fields), annotations },
    spec: podSpec,
  };
}
