// Shapes shared by the simulator's parts. Objects are kept as plain JSON (as the API server stores them), so the
// types are loose on purpose: the simulator reads the few fields it needs and passes the rest through untouched.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
  [key: string]: unknown;
}

/** Any stored Kubernetes object. */
export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: any;
  status?: any;
  [key: string]: unknown;
}

export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One write in the store's history; `old` is the state before it (absent for ADDED). */
export interface Change {
  rv: number;
  resource: string;
  type: WatchType;
  object: KObject;
  old?: KObject;
}

/** Delays of the simulated control plane, in milliseconds; small by default so tests run fast. */
export interface Timing {
  /** scheduler reaction time after a pod appears or the cluster changes */
  scheduleMs: number;
  /** How long the scheduler places pods in one turn of the event loop before it lets other work run. */
  scheduleSliceMs: number;
  /** default pull time of an image not present on the node (per image: `images[...].pullMs`) */
  pullMs: number;
  /** first back-off after a failed pull (doubles up to maxBackoffMs) */
  imagePullBackoffMs: number;
  /** back-off before restarting a crashed container (first restart is immediate, as the kubelet does) */
  crashBackoffMs: number;
  maxBackoffMs: number;
  /** how often a failing volume mount is retried (each retry repeats the FailedMount event) */
  mountRetryMs: number;
  /** readiness probe period (probes' own periodSeconds are ignored to keep tests fast) */
  probeMs: number;
  /** idle BOOKMARK period for watches that asked for bookmarks */
  bookmarkMs: number;
  /** watch duration when the client gives no timeoutSeconds (the real server picks 30-60 min) */
  watchTimeoutMs: number;
  /** Event objects expire after this long */
  eventTtlMs: number;
  /** how long a provisioner takes to make a claim's volume (per class: storageClasses[...].provisionMs) */
  provisionMs: number;
  /** first back-off after a failed provisioning (doubles up to maxBackoffMs) */
  provisionRetryMs: number;
}

export interface ImageConfig {
  /** pull duration when not cached on the node */
  pullMs?: number;
  /** if set, every pull of this image fails with this runtime message */
  pullError?: string;
  sizeBytes?: number;
  /** the image's ENTRYPOINT, used when the container gives no `command` */
  entrypoint?: string[];
  /** the image's CMD, used when the container gives neither `command` nor `args` */
  cmd?: string[];
  /** the image's environment (PATH etc. come from the host unless set here) */
  env?: Record<string, string>;
}

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface NodeConfig {
  name: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  /** allocatable resources; defaults cpu "4", memory "16Gi", pods "110" */
  allocatable?: Record<string, string>;
  /** images already in the node's cache */
  images?: string[];
}

/** An RBAC-like rule: verbs on resources ("pods", "pods/log") of API groups ("" = core), optionally per namespace. */
export interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  namespaces?: string[];
}

export interface Identity {
  /** user name as reported in 403 messages, e.g. system:serviceaccount:jhub:hub */
  user: string;
  /** absent = allowed everything */
  rules?: Rule[];
}
