// KubeSpawner's traits, read from the effective spawner config (Spawner, KubeSpawner, then a profile's
// kubespawner_override). Profile overrides are not schema-checked by the loader, so every value is checked here and a
// bad one is a clear error that fails the start, never a crash.
import type { SpawnerConfig } from '../types.ts';

type Obj = Record<string, unknown>;

export interface KubeTraits {
  namespace: string;
  image: string;
  imagePullPolicy: string | null;
  imagePullSecrets: { name: string }[];
  podNameTemplate: string;
  slugScheme: 'safe' | 'escape';
  /** null: the image's own CMD runs (and Spawner.args are dropped, as in KubeSpawner). */
  cmd: string[] | null;
  args: string[];
  ip: string;
  port: number;
  /** Values are strings or full EnvVar objects (KubeSpawner's `environment`). */
  environment: Record<string, string | Obj>;
  cpuLimit: number | string | null;
  cpuGuarantee: number | string | null;
  memLimit: string | null;
  memGuarantee: string | null;
  extraResourceLimits: Record<string, string>;
  extraResourceGuarantees: Record<string, string>;
  nodeSelector: Record<string, string>;
  tolerations: Obj[];
  nodeAffinityRequired: Obj[];
  nodeAffinityPreferred: Obj[];
  podAffinityRequired: Obj[];
  podAffinityPreferred: Obj[];
  podAntiAffinityRequired: Obj[];
  podAntiAffinityPreferred: Obj[];
  uid: number | null;
  gid: number | null;
  fsGid: number | null;
  supplementalGids: number[];
  privileged: boolean;
  allowPrivilegeEscalation: boolean | null;
  containerSecurityContext: Obj;
  podSecurityContext: Obj;
  serviceAccount: string | null;
  automountServiceAccountToken: boolean | null;
  extraLabels: Record<string, string>;
  extraAnnotations: Record<string, string>;
  commonLabels: Record<string, string>;
  componentLabel: string;
  /** nodehub: names this hub's pods (label app.kubernetes.io/instance) so its orphan sweep never touches another hub's. */
  hubInstance: string;
  volumes: Obj[];
  volumeMounts: Obj[];
  initContainers: Obj[];
  extraContainers: Obj[];
  lifecycleHooks: Obj | null;
  extraContainerConfig: Obj;
  extraPodConfig: Obj;
  workingDir: string | null;
  schedulerName: string | null;
  priorityClassName: string | null;
  podConnectIp: string | null;
  deleteGracePeriod: number;
  deleteStoppedPods: boolean;
  eventsEnabled: boolean;
  startTimeoutMs: number;
  httpTimeoutMs: number;
  requestTimeoutMs: number;
  requestRetryTimeoutMs: number;
  /** nodehub: how long a pod may stay unschedulable (with no scale-up on its way) before the start fails. */
  unschedulableTimeoutMs: number;
}

const has = (c: Obj, k: string) => c[k] !== undefined;

function fail(trait: string, expected: string, value: unknown): never {
  throw new Error(`KubeSpawner.${trait} must be ${expected}, got ${JSON.stringify(value)}`);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(c: Obj, k: string, def: string): string {
  const v = c[k];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'string') fail(k, 'a string', v);
  return v;
}

function optStr(c: Obj, k: string): string | null {
  const v = c[k];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') fail(k, 'a string or null', v);
  return v;
}

function bool(c: Obj, k: string, def: boolean): boolean {
  const v = c[k];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'boolean') fail(k, 'true or false', v);
  return v;
}

function optBool(c: Obj, k: string, def: boolean | null): boolean | null {
  return has(c, k) && c[k] === null ? null : has(c, k) ? bool(c, k, false) : def;
}

function num(c: Obj, k: string, def: number, min = 0): number {
  const v = c[k];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) fail(k, `a number of at least ${min}`, v);
  return v;
}

function optInt(c: Obj, k: string): number | null {
  const v = c[k];
  if (v === undefined || v === null) return null;
  if (!Number.isSafeInteger(v) || (v as number) < 0) fail(k, 'a non-negative integer or null', v);
  return v as number;
}

function strings(c: Obj, k: string): string[] | null {
  const v = c[k];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) fail(k, 'a list of strings', v);
  return [...v];
}

/** A mapping of names to strings (numbers are turned into strings, as YAML reads `1` as a number). */
function stringMap(c: Obj, k: string, def: Record<string, string> = {}): Record<string, string> {
  const v = c[k];
  if (v === undefined || v === null) return { ...def };
  if (!isObj(v)) fail(k, 'a mapping of names to strings', v);
  const out: Record<string, string> = {};
  for (const [key, val] of Object.entries(v)) {
    if (val === null) continue; // a profile's `None` removes a key (spec 2.1)
    if (typeof val === 'string') out[key] = val;
    else if (typeof val === 'number' || typeof val === 'boolean') out[key] = String(val);
    else fail(`${k}.${key}`, 'a string', val);
  }
  return out;
}

function obj(c: Obj, k: string): Obj {
  const v = c[k];
  if (v === undefined || v === null) return {};
  if (!isObj(v)) fail(k, 'a mapping', v);
  return v;
}

/** A list of objects, or a dict of them taken in the order of its sorted keys (KubeSpawner's _sorted_dict_values). */
function objects(c: Obj, k: string): Obj[] {
  const v = c[k];
  if (v === undefined || v === null) return [];
  // null entries of a mapping are how a profile's override removes one
  const list = isObj(v) ? Object.keys(v).sort().map((key) => v[key]).filter((x) => x !== null) : v;
  if (!Array.isArray(list) || !list.every(isObj)) fail(k, 'a list (or dict) of mappings', v);
  return list as Obj[];
}

const BYTE_UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** JupyterHub's ByteSpecification (`1G` = 1024³ bytes) as a byte count; also accepts Kubernetes quantities (`512Mi`). */
function bytes(c: Obj, k: string): string | null {
  const v = c[k];
  if (v === undefined || v === null || v === '' || v === 0) return null;
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return String(Math.trunc(v));
  if (typeof v === 'string') {
    const m = /^(\d+(?:\.\d+)?)([KMGT])$/.exec(v);
    if (m) return String(Math.trunc(Number(m[1]) * BYTE_UNITS[m[2]!]!));
    if (/^\d+(\.\d+)?([EPTGMk]i?|Ki|m)?$/.test(v)) return v;
  }
  return fail(k, 'a byte size such as 1073741824, "1G" or "512Mi"', v);
}

function cpu(c: Obj, k: string): number | string | null {
  const v = c[k];
  if (v === undefined || v === null || v === 0 || v === '') return null;
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  if (typeof v === 'string' && /^\d+(\.\d+)?m?$/.test(v)) return v;
  return fail(k, 'a number of CPUs such as 0.5 or "500m"', v);
}

function pullSecrets(c: Obj): { name: string }[] {
  const v = c.image_pull_secrets;
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail('image_pull_secrets', 'a list of names or {name} mappings', v);
  return v.map((s) => {
    if (typeof s === 'string') return { name: s };
    if (isObj(s) && typeof s.name === 'string') return { name: s.name };
    return fail('image_pull_secrets', 'a list of names or {name} mappings', v);
  });
}

function environment(c: Obj): Record<string, string | Obj> {
  const v = c.environment;
  if (v === undefined || v === null) return {};
  if (!isObj(v)) fail('environment', 'a mapping', v);
  const out: Record<string, string | Obj> = {};
  for (const [key, val] of Object.entries(v)) {
    if (val === null || val === undefined) continue;
    if (typeof val === 'string' || isObj(val)) out[key] = val;
    else if (typeof val === 'number' || typeof val === 'boolean') out[key] = String(val);
    else fail(`environment.${key}`, 'a string or an EnvVar mapping', val);
  }
  return out;
}

export function readKubeTraits(config: SpawnerConfig): KubeTraits {
  const c = config as Obj;
  const slugScheme = str(c, 'slug_scheme', 'safe');
  if (slugScheme !== 'safe' && slugScheme !== 'escape') fail('slug_scheme', "'safe' or 'escape'", slugScheme);
  const port = num(c, 'port', 0);
  if (!Number.isInteger(port) || port > 65535) fail('port', 'a port number', port);
  if (c.storage_pvc_ensure === true) {
    throw new Error('KubeSpawner.storage_pvc_ensure is not supported: nodehub pods have no per-user storage (mount an existing claim with volumes/volume_mounts)');
  }
  const cmd = strings(c, 'cmd');
  const commonLabels = stringMap(c, 'common_labels', {
    'app.kubernetes.io/name': 'jupyterhub',
    'app.kubernetes.io/managed-by': 'nodehub',
    app: 'jupyterhub',
    heritage: 'jupyterhub',
  });
  const hubInstance = optStr(c, 'hub_instance') ?? commonLabels['app.kubernetes.io/instance'] ?? commonLabels.release ?? 'nodehub';
  const startTimeout = num(c, 'start_timeout', 60);
  return {
    namespace: str(c, 'namespace', ''),
    image: str(c, 'image', 'quay.io/jupyterhub/singleuser:latest'),
    imagePullPolicy: optStr(c, 'image_pull_policy'),
    imagePullSecrets: pullSecrets(c),
    podNameTemplate: str(c, 'pod_name_template', 'jupyter-{user_server}'),
    slugScheme,
    cmd: cmd && cmd.length ? cmd : null,
    args: strings(c, 'args') ?? [],
    ip: str(c, 'ip', '0.0.0.0'),
    port: port || 8888,
    environment: environment(c),
    cpuLimit: cpu(c, 'cpu_limit'),
    cpuGuarantee: cpu(c, 'cpu_guarantee'),
    memLimit: bytes(c, 'mem_limit'),
    memGuarantee: bytes(c, 'mem_guarantee'),
    extraResourceLimits: stringMap(c, 'extra_resource_limits'),
    extraResourceGuarantees: stringMap(c, 'extra_resource_guarantees'),
    nodeSelector: stringMap(c, 'node_selector'),
    tolerations: objects(c, 'tolerations'),
    nodeAffinityRequired: objects(c, 'node_affinity_required'),
    nodeAffinityPreferred: objects(c, 'node_affinity_preferred'),
    podAffinityRequired: objects(c, 'pod_affinity_required'),
    podAffinityPreferred: objects(c, 'pod_affinity_preferred'),
    podAntiAffinityRequired: objects(c, 'pod_anti_affinity_required'),
    podAntiAffinityPreferred: objects(c, 'pod_anti_affinity_preferred'),
    uid: optInt(c, 'uid'),
    gid: optInt(c, 'gid'),
    fsGid: optInt(c, 'fs_gid'),
    supplementalGids: (() => {
      const v = c.supplemental_gids;
      if (v === undefined || v === null) return [];
      if (!Array.isArray(v) || !v.every((g) => Number.isSafeInteger(g))) fail('supplemental_gids', 'a list of integers', v);
      return v as number[];
    })(),
    privileged: bool(c, 'privileged', false),
    allowPrivilegeEscalation: optBool(c, 'allow_privilege_escalation', false),
    containerSecurityContext: camelKeys('container_security_context', obj(c, 'container_security_context')),
    podSecurityContext: camelKeys('pod_security_context', obj(c, 'pod_security_context')),
    serviceAccount: optStr(c, 'service_account'),
    automountServiceAccountToken: optBool(c, 'automount_service_account_token', null),
    extraLabels: stringMap(c, 'extra_labels'),
    extraAnnotations: stringMap(c, 'extra_annotations'),
    commonLabels,
    componentLabel: str(c, 'component_label', 'singleuser-server'),
    hubInstance,
    volumes: objects(c, 'volumes'),
    volumeMounts: objects(c, 'volume_mounts'),
    initContainers: objects(c, 'init_containers'),
    extraContainers: objects(c, 'extra_containers'),
    lifecycleHooks: isObj(c.lifecycle_hooks) && Object.keys(c.lifecycle_hooks).length ? c.lifecycle_hooks : null,
    extraContainerConfig: obj(c, 'extra_container_config'),
    extraPodConfig: obj(c, 'extra_pod_config'),
    workingDir: optStr(c, 'working_dir'),
    schedulerName: optStr(c, 'scheduler_name'),
    priorityClassName: optStr(c, 'priority_class_name'),
    podConnectIp: optStr(c, 'pod_connect_ip'),
    deleteGracePeriod: num(c, 'delete_grace_period', 1),
    deleteStoppedPods: bool(c, 'delete_stopped_pods', true),
    eventsEnabled: bool(c, 'events_enabled', true),
    startTimeoutMs: startTimeout * 1000,
    httpTimeoutMs: num(c, 'http_timeout', 30) * 1000,
    requestTimeoutMs: num(c, 'k8s_api_request_timeout', 3) * 1000,
    requestRetryTimeoutMs: num(c, 'k8s_api_request_retry_timeout', 30) * 1000,
    unschedulableTimeoutMs: num(c, 'unschedulable_timeout', 5) * 1000,
  };
}

/** KubeSpawner refuses snake_case keys in the raw security contexts: they would be silently ignored by Kubernetes. */
function camelKeys(trait: string, value: Obj): Obj {
  for (const key of Object.keys(value)) {
    if (key.includes('_')) fail(trait, `a mapping with Kubernetes camelCase keys (not '${key}')`, value);
  }
  return value;
}
