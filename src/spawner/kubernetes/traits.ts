// KubeSpawner's settings as the pod builder uses them, read from the effective spawner config (Spawner, KubeSpawner,
// then a profile's kubespawner_override). The loader checked and defaulted every value against ./settings.ts, profile
// overrides included, so this only converts: list-or-dict traits to lists in KubeSpawner's order, JupyterHub's byte
// sizes to Kubernetes quantities, seconds to milliseconds, "unset" spellings (0, '', {}) to null.
import type { KubeSpawnerConfig, SpawnerConfig } from '../../config/types.ts';
import { asList } from '../../config/kube-traits.ts';

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
  storage: StorageTraits;
}

/** KubeSpawner's per-user claim (storage_* traits). */
export interface StorageTraits {
  ensure: boolean;
  nameTemplate: string;
  rememberName: boolean;
  deleteWithServer: boolean;
  capacity: string | null;
  /** null: the cluster's default class; '' asks for a volume without class. */
  className: string | null;
  accessModes: string[];
  selector: Obj;
  extraLabels: Record<string, string>;
  extraAnnotations: Record<string, string>;
}

const BYTE_UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** JupyterHub's ByteSpecification (`1G` = 1024³ bytes) as a byte count; a Kubernetes quantity (`512Mi`) as it is. */
function quantity(v: number | string | null): string | null {
  if (v === null || v === '' || v === 0) return null;
  if (typeof v === 'number') return String(Math.trunc(v));
  const m = /^(\d+(?:\.\d+)?)([KMGT])$/.exec(v);
  return m ? String(Math.trunc(Number(m[1]) * BYTE_UNITS[m[2]!]!)) : v;
}

const none = <T>(v: T | '' | 0 | null): T | null => (v === '' || v === 0 || v === null ? null : v);

export function readKubeTraits(spawnerConfig: SpawnerConfig): KubeTraits {
  const c = spawnerConfig as unknown as KubeSpawnerConfig;
  const labels = c.common_labels;
  return {
    namespace: c.namespace,
    image: c.image,
    imagePullPolicy: none(c.image_pull_policy),
    imagePullSecrets: c.image_pull_secrets,
    podNameTemplate: c.pod_name_template,
    slugScheme: c.slug_scheme,
    cmd: c.cmd?.length ? c.cmd : null,
    args: c.args,
    ip: c.ip,
    port: c.port || 8888,
    environment: c.environment,
    cpuLimit: none(c.cpu_limit),
    cpuGuarantee: none(c.cpu_guarantee),
    memLimit: quantity(c.mem_limit),
    memGuarantee: quantity(c.mem_guarantee),
    extraResourceLimits: c.extra_resource_limits,
    extraResourceGuarantees: c.extra_resource_guarantees,
    nodeSelector: c.node_selector,
    tolerations: asList(c.tolerations),
    nodeAffinityRequired: asList(c.node_affinity_required),
    nodeAffinityPreferred: asList(c.node_affinity_preferred),
    podAffinityRequired: asList(c.pod_affinity_required),
    podAffinityPreferred: asList(c.pod_affinity_preferred),
    podAntiAffinityRequired: asList(c.pod_anti_affinity_required),
    podAntiAffinityPreferred: asList(c.pod_anti_affinity_preferred),
    uid: c.uid,
    gid: c.gid,
    fsGid: c.fs_gid,
    supplementalGids: c.supplemental_gids,
    privileged: c.privileged,
    allowPrivilegeEscalation: c.allow_privilege_escalation,
    containerSecurityContext: c.container_security_context,
    podSecurityContext: c.pod_security_context,
    serviceAccount: none(c.service_account),
    automountServiceAccountToken: c.automount_service_account_token,
    extraLabels: c.extra_labels,
    extraAnnotations: c.extra_annotations,
    commonLabels: labels,
    componentLabel: c.component_label,
    hubInstance: c.hub_instance || labels['app.kubernetes.io/instance'] || labels.release || 'nodehub',
    volumes: asList(c.volumes),
    volumeMounts: asList(c.volume_mounts),
    initContainers: asList(c.init_containers),
    extraContainers: asList(c.extra_containers),
    lifecycleHooks: Object.keys(c.lifecycle_hooks).length ? c.lifecycle_hooks : null,
    extraContainerConfig: c.extra_container_config,
    extraPodConfig: c.extra_pod_config,
    workingDir: none(c.working_dir),
    schedulerName: none(c.scheduler_name),
    priorityClassName: none(c.priority_class_name),
    podConnectIp: none(c.pod_connect_ip),
    deleteGracePeriod: c.delete_grace_period,
    deleteStoppedPods: c.delete_stopped_pods,
    eventsEnabled: c.events_enabled,
    startTimeoutMs: c.start_timeout * 1000,
    httpTimeoutMs: c.http_timeout * 1000,
    requestTimeoutMs: c.k8s_api_request_timeout * 1000,
    requestRetryTimeoutMs: c.k8s_api_request_retry_timeout * 1000,
    unschedulableTimeoutMs: c.unschedulable_timeout * 1000,
    storage: {
      ensure: c.storage_pvc_ensure,
      nameTemplate: c.pvc_name_template,
      rememberName: c.remember_pvc_name,
      deleteWithServer: c.delete_pvc,
      capacity: c.storage_capacity === '' ? null : c.storage_capacity,
      className: c.storage_class,
      accessModes: c.storage_access_modes,
      selector: c.storage_selector,
      extraLabels: c.storage_extra_labels,
      extraAnnotations: c.storage_extra_annotations,
    },
  };
}
