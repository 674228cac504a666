// Zero-to-JupyterHub (z2jh) Helm values read as nodehub configuration: the part of the chart's values that configures
// the hub (`hub.config`, `singleuser.*`, `cull.*`, `prePuller.*`, a few `hub.*` and `scheduling.*` keys) becomes the
// KubeSpawner / IdleCuller / JupyterHub settings that z2jh's own jupyterhub_config.py would set from it, with the
// chart's defaults for the keys it maps. Keys that configure Kubernetes objects of the chart rather than the hub
// (proxy, ingress, the hub's own pod, ...) are ignored with a warning: deploy/kubernetes makes those objects. Any
// other key is an error naming it. docs/z2jh-values.md has the table.
import { ConfigError, describe, nearest } from './errors.ts';
import { isPlainObject } from './traits.ts';
import { mapStorage } from './z2jh-storage.ts';

type Values = Record<string, unknown>;
export interface Z2jhConfig {
  /** nodehub configuration: class name -> trait -> value. */
  content: Record<string, Record<string, unknown>>;
  /** `Class.trait` -> ` (from <values key> in <file>)`, for the loader's messages. */
  where: Map<string, string>;
  warnings: string[];
}

/** A z2jh values file: a `jupyterhub:` key (the chart as a dependency, as 2i2c's basehub has it) or the chart's own
 *  top-level `hub:` / `singleuser:` keys. nodehub's own sections are class names, which start with a capital, so a
 *  lowercase key cannot be one of them and no flag is needed. */
export function isZ2jhValues(content: unknown): content is Values {
  return isPlainObject(content) && ('jupyterhub' in content || 'hub' in content || 'singleuser' in content);
}

// What the reader knows, by key: MAP = read below, IGNORE = chart infrastructure, a nested spec = a mapping of those.
const MAP = 'map';
const IGNORE = 'ignore';
type Spec = typeof MAP | typeof IGNORE | { [key: string]: Spec };

const hubInfra = ['image', 'resources', 'containerSecurityContext', 'podSecurityContext', 'nodeSelector', 'tolerations',
  'extraVolumes', 'extraVolumeMounts', 'extraContainers', 'initContainers', 'extraEnv', 'extraPodSpec', 'service',
  'networkPolicy', 'pdb', 'db', 'labels', 'annotations', 'deploymentStrategy', 'serviceAccount', 'livenessProbe',
  'readinessProbe', 'revisionHistoryLimit', 'lifecycle', 'existingSecret', 'command', 'args', 'cookieSecret',
  'httpRoute', 'priorityClassName', 'fsGid', 'uid'];
const fill = (keys: string[], spec: Spec): Record<string, Spec> => Object.fromEntries(keys.map((k) => [k, spec]));

const SPEC: Record<string, Spec> = {
  hub: {
    ...fill(hubInfra, IGNORE),
    config: MAP,
    extraConfig: MAP,
    ...fill(['baseUrl', 'concurrentSpawnLimit', 'activeServerLimit', 'allowNamedServers', 'namedServerLimitPerUser',
      'authenticatePrometheus', 'redirectToServer', 'shutdownOnLogout', 'templateVars', 'services', 'loadRoles'], MAP),
  },
  singleuser: {
    image: { name: MAP, tag: MAP, pullPolicy: MAP, pullSecrets: MAP },
    storage: {
      type: MAP, extraVolumes: MAP, extraVolumeMounts: MAP, capacity: MAP, homeMountPath: MAP, extraLabels: MAP,
      dynamic: { storageClass: MAP, pvcNameTemplate: MAP, volumeNameTemplate: MAP, storageAccessModes: MAP, subPath: MAP },
      static: { pvcName: MAP, subPath: MAP },
    },
    cpu: { limit: MAP, guarantee: MAP },
    memory: { limit: MAP, guarantee: MAP },
    extraResource: { limits: MAP, guarantees: MAP },
    extraNodeAffinity: { required: MAP, preferred: MAP },
    extraPodAffinity: { required: MAP, preferred: MAP },
    extraPodAntiAffinity: { required: MAP, preferred: MAP },
    ...fill(['profileList', 'nodeSelector', 'extraTolerations', 'extraEnv', 'cmd', 'defaultUrl', 'uid', 'fsGid',
      'serviceAccountName', 'lifecycleHooks', 'initContainers', 'extraContainers', 'extraLabels', 'extraAnnotations',
      'startTimeout', 'events', 'allowPrivilegeEscalation', 'extraPodConfig', 'podNameTemplate'], MAP),
    // Objects of the chart: the singleuser NetworkPolicy (deploy/kubernetes has its own), the iptables init container
    // that blocks the cloud metadata server (the NetworkPolicy does that here).
    ...fill(['networkPolicy', 'cloudMetadata', 'networkTools'], IGNORE),
  },
  prePuller: {
    hook: { enabled: MAP, ...fill(['pullOnlyOnChanges', 'image', 'containerSecurityContext', 'podSchedulingWaitDuration',
      'nodeSelector', 'tolerations', 'resources', 'serviceAccount', 'serviceAccountImagePuller', 'daemonsetAnnotations'], IGNORE) },
    continuous: { enabled: MAP, ...fill(['serviceAccount', 'daemonsetAnnotations'], IGNORE) },
    extraImages: MAP,
    pause: { image: { name: MAP, tag: MAP, ...fill(['pullPolicy', 'pullSecrets'], IGNORE) }, containerSecurityContext: IGNORE },
    pullProfileListImages: MAP,
    ...fill(['revisionHistoryLimit', 'labels', 'annotations', 'resources', 'containerSecurityContext'], IGNORE),
  },
  cull: { enabled: MAP, timeout: MAP, every: MAP, maxAge: MAP, users: MAP, adminUsers: MAP, removeNamedServers: MAP, concurrency: MAP },
  scheduling: {
    userPods: { nodeAffinity: { matchNodePurpose: MAP }, tolerations: MAP },
    ...fill(['userScheduler', 'podPriority', 'userPlaceholder', 'corePods'], IGNORE),
  },
  debug: { enabled: MAP },
  imagePullSecrets: MAP,
  ...fill(['fullnameOverride', 'nameOverride', 'enabled', 'custom', 'imagePullSecret', 'rbac', 'proxy', 'ingress',
    'httpRoute', 'global'], IGNORE),
};

// The chart's defaults for the keys read here (z2jh values.yaml), under the file's values as Helm merges them.
const DEFAULTS: Values = {
  singleuser: {
    image: { pullSecrets: [] },
    storage: { type: 'dynamic', capacity: '10Gi', homeMountPath: '/home/jovyan', static: { subPath: '{username}' },
      dynamic: { volumeNameTemplate: 'volume-{user_server}', storageAccessModes: ['ReadWriteOnce'] } },
    extraLabels: { 'hub.jupyter.org/network-access-hub': 'true' },
    uid: 1000,
    fsGid: 100,
    startTimeout: 300,
    memory: { guarantee: '1G' },
    cmd: 'jupyterhub-singleuser',
    events: true,
    allowPrivilegeEscalation: false,
  },
  prePuller: { hook: { enabled: true }, continuous: { enabled: true }, pullProfileListImages: true },
  cull: { enabled: true, users: false, adminUsers: true, removeNamedServers: false, timeout: 3600, every: 600, concurrency: 10, maxAge: 0 },
  scheduling: {
    userPods: {
      tolerations: ['hub.jupyter.org/dedicated', 'hub.jupyter.org_dedicated'].map((key) => ({ key, operator: 'Equal', value: 'user', effect: 'NoSchedule' })),
      nodeAffinity: { matchNodePurpose: 'prefer' },
    },
  },
};

/** Helm's merge of values over defaults: mappings merge key by key, anything else replaces, null deletes. */
function merge(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key];
    else if (isPlainObject(value) && isPlainObject(out[key])) out[key] = merge(out[key] as Values, value);
    else out[key] = value;
  }
  return out;
}

function check(values: unknown, spec: Record<string, Spec>, path: string, where: string, ignored: string[]): void {
  if (values === null || values === undefined) return;
  if (!isPlainObject(values)) throw new ConfigError(`${path} must be a mapping, got ${describe(values)}${where}`, path);
  for (const [key, value] of Object.entries(values)) {
    const at = `${path}.${key}`;
    const known = spec[key];
    if (known === undefined) {
      const near = nearest(key, Object.keys(spec));
      throw new ConfigError(`Unknown or unsupported Zero-to-JupyterHub key ${at}${where}${near ? `; did you mean ${path}.${near}?` : ''} (docs/z2jh-values.md lists what nodehub reads)`, at);
    }
    if (known === IGNORE) ignored.push(at);
    else if (known !== MAP) check(value, known, at, where, ignored);
  }
}

export function fromZ2jhValues(file: Values, source: string): Z2jhConfig {
  const nested = 'jupyterhub' in file;
  const prefix = nested ? 'jupyterhub' : '';
  const fileWhere = ` (in ${source})`;
  const warnings: string[] = [];
  const ignored: string[] = [];
  let given: unknown = file;
  if (nested) {
    // Beside `jupyterhub:`, a parent chart's values configure its other subcharts (2i2c: nfs, dex, ...).
    for (const key of Object.keys(file)) if (key !== 'jupyterhub') ignored.push(key);
    given = file.jupyterhub ?? {};
  }
  const name = (key: string) => (prefix ? `${prefix}.${key}` : key);
  if (!isPlainObject(given)) throw new ConfigError(`${name('')} must be a mapping of Zero-to-JupyterHub values, got ${describe(given)}${fileWhere}`, prefix || null);
  // The check walks the file's own values, so that its messages name the file's keys, never the defaults.
  for (const [key, value] of Object.entries(given)) {
    const known = SPEC[key];
    if (known === undefined) {
      const near = nearest(key, Object.keys(SPEC));
      throw new ConfigError(`Unknown or unsupported Zero-to-JupyterHub key ${name(key)}${fileWhere}${near ? `; did you mean ${name(near)}?` : ''} (docs/z2jh-values.md lists what nodehub reads)`, name(key));
    }
    if (known === IGNORE) ignored.push(name(key));
    else if (known !== MAP) check(value, known, name(key), fileWhere, ignored);
  }
  if (ignored.length) warnings.push(`Zero-to-JupyterHub keys that configure Kubernetes objects, not the hub, are ignored (deploy/kubernetes makes those objects)${fileWhere}: ${ignored.join(', ')}`);

  const v = merge(DEFAULTS, given);
  const at = (from: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (isPlainObject(o) ? o[k] : undefined), from);
  const get = (path: string) => at(v, path);
  const givenAt = (path: string) => at(given, path);
  const content: Record<string, Record<string, unknown>> = {};
  const where = new Map<string, string>();
  const set = (cls: string, trait: string, value: unknown, from: string) => {
    (content[cls] ??= {})[trait] = value;
    where.set(`${cls}.${trait}`, ` (from ${name(from)}${fileWhere.slice(1)}`);
  };
  const refuse = (key: string, why: string): never => {
    throw new ConfigError(`${name(key)}${fileWhere}: ${why}`, name(key));
  };
  const pass = (cls: string, trait: string, key: string) => {
    const value = get(key);
    if (value !== undefined && value !== null) set(cls, trait, value, key);
  };

  const extraConfig = get('hub.extraConfig');
  if (isPlainObject(extraConfig) ? Object.keys(extraConfig).length > 0 : extraConfig !== undefined && extraConfig !== '') {
    refuse('hub.extraConfig', 'is Python code, which a values file cannot run in nodehub; put it in a jupyterhub_config.py (nodehub -f jupyterhub_config.py) or an .mjs config, or say it with hub.config');
  }

  set('JupyterHub', 'spawner_class', 'kubernetes', 'singleuser');
  // As the chart's jupyterhub_config.py: user pods outlive a hub restart (an upgrade) and are adopted again.
  set('JupyterHub', 'cleanup_servers', false, 'hub');
  for (const [key, trait] of [['baseUrl', 'base_url'], ['concurrentSpawnLimit', 'concurrent_spawn_limit'], ['activeServerLimit', 'active_server_limit'],
    ['allowNamedServers', 'allow_named_servers'], ['namedServerLimitPerUser', 'named_server_limit_per_user'],
    ['authenticatePrometheus', 'authenticate_prometheus'], ['redirectToServer', 'redirect_to_server'],
    ['shutdownOnLogout', 'shutdown_on_logout'], ['templateVars', 'template_vars']]) pass('JupyterHub', trait, `hub.${key}`);
  // The chart writes services and roles as mappings by name, so that values files can merge into them.
  for (const [key, trait] of [['services', 'services'], ['loadRoles', 'load_roles']]) {
    const byName = get(`hub.${key}`);
    if (byName === undefined || byName === null) continue;
    if (!isPlainObject(byName)) refuse(`hub.${key}`, `must be a mapping of names to ${key === 'services' ? 'services' : 'roles'}, got ${describe(byName)}`);
    set('JupyterHub', trait, Object.entries(byName as Values).map(([n, item]) => {
      if (!isPlainObject(item)) refuse(`hub.${key}.${n}`, `must be a mapping, got ${describe(item)}`);
      const { apiToken, ...rest } = item as Values;
      return { name: n, ...rest, ...(apiToken === undefined ? {} : { api_token: apiToken }) };
    }), `hub.${key}`);
  }

  // singleuser.*: the traits z2jh sets from them (jupyterhub_config.py's table, camelCase key -> snake_case trait).
  const K = 'KubeSpawner';
  for (const [key, trait] of [['podNameTemplate', 'pod_name_template'], ['startTimeout', 'start_timeout'],
    ['image.pullPolicy', 'image_pull_policy'], ['events', 'events_enabled'], ['extraLabels', 'extra_labels'],
    ['extraAnnotations', 'extra_annotations'], ['uid', 'uid'], ['fsGid', 'fs_gid'], ['serviceAccountName', 'service_account'],
    ['nodeSelector', 'node_selector'], ['extraNodeAffinity.required', 'node_affinity_required'],
    ['extraNodeAffinity.preferred', 'node_affinity_preferred'], ['extraPodAffinity.required', 'pod_affinity_required'],
    ['extraPodAffinity.preferred', 'pod_affinity_preferred'], ['extraPodAntiAffinity.required', 'pod_anti_affinity_required'],
    ['extraPodAntiAffinity.preferred', 'pod_anti_affinity_preferred'], ['lifecycleHooks', 'lifecycle_hooks'],
    ['initContainers', 'init_containers'], ['extraContainers', 'extra_containers'], ['memory.limit', 'mem_limit'],
    ['memory.guarantee', 'mem_guarantee'], ['cpu.limit', 'cpu_limit'], ['cpu.guarantee', 'cpu_guarantee'],
    ['extraResource.limits', 'extra_resource_limits'], ['extraResource.guarantees', 'extra_resource_guarantees'],
    ['profileList', 'profile_list'], ['extraPodConfig', 'extra_pod_config'], ['defaultUrl', 'default_url']]) pass(K, trait, `singleuser.${key}`);
  // z2jh sets allow_privilege_escalation even to null, which leaves the field unset.
  if (get('singleuser.allowPrivilegeEscalation') !== undefined) set(K, 'allow_privilege_escalation', get('singleuser.allowPrivilegeEscalation') ?? null, 'singleuser.allowPrivilegeEscalation');
  // An unset cmd (null) runs the image's own command, as in z2jh; a string is one word.
  const cmd = get('singleuser.cmd');
  set(K, 'cmd', typeof cmd === 'string' ? [cmd] : cmd ?? null, 'singleuser.cmd');
  const extraEnv = get('singleuser.extraEnv');
  if (Array.isArray(extraEnv)) {
    set(K, 'environment', Object.fromEntries(extraEnv.map((e, i) => {
      if (!isPlainObject(e) || typeof e.name !== 'string') refuse(`singleuser.extraEnv[${i}]`, `must be a Kubernetes EnvVar with a name, got ${describe(e)}`);
      const { name: n, ...rest } = e as Values;
      return [n, 'value' in rest ? rest.value : rest];
    })), 'singleuser.extraEnv');
  } else pass(K, 'environment', 'singleuser.extraEnv');

  const image = get('singleuser.image.name');
  if (image !== undefined && image !== null) {
    if (typeof image !== 'string' || image === '') refuse('singleuser.image.name', `must be an image name, got ${describe(image)}`);
    const tag = get('singleuser.image.tag');
    set(K, 'image', tag === undefined || tag === null || tag === '' ? image : `${image}:${tag}`, 'singleuser.image.name');
  }
  const pullSecrets = [get('imagePullSecrets'), get('singleuser.image.pullSecrets')].flatMap((s) => (Array.isArray(s) ? s : s == null ? [] : [s]));
  if (pullSecrets.length) set(K, 'image_pull_secrets', pullSecrets, 'singleuser.image.pullSecrets');

  const purpose = get('scheduling.userPods.nodeAffinity.matchNodePurpose');
  const nodePurpose = { matchExpressions: [{ key: 'hub.jupyter.org/node-purpose', operator: 'In', values: ['user'] }] };
  const appendTo = (trait: string, item: unknown) => {
    const have = content[K]?.[trait];
    set(K, trait, [...(Array.isArray(have) ? have : []), item], 'scheduling.userPods.nodeAffinity.matchNodePurpose');
  };
  if (purpose === 'prefer') appendTo('node_affinity_preferred', { weight: 100, preference: nodePurpose });
  else if (purpose === 'require') appendTo('node_affinity_required', nodePurpose);
  else if (purpose !== 'ignore' && purpose !== undefined && purpose !== null) {
    refuse('scheduling.userPods.nodeAffinity.matchNodePurpose', `must be prefer, require or ignore, got ${describe(purpose)}`);
  }
  const tolerations = [get('scheduling.userPods.tolerations'), get('singleuser.extraTolerations')].flatMap((t) => (Array.isArray(t) ? t : []));
  if (tolerations.length) set(K, 'tolerations', tolerations, 'singleuser.extraTolerations');

  mapStorage({ get, givenAt, set, refuse });

  // prePuller: z2jh's hook (before a helm upgrade) and continuous (a DaemonSet) are both nodehub's one pre-puller,
  // which the hub keeps itself.
  const hook = get('prePuller.hook.enabled');
  const continuous = get('prePuller.continuous.enabled');
  set(K, 'prepuller_enabled', hook === true || continuous === true, 'prePuller.continuous.enabled');
  if (get('prePuller.pullProfileListImages') !== true) refuse('prePuller.pullProfileListImages', 'nodehub always pre-pulls the profile list\'s images; only true is supported');
  const extraImages = get('prePuller.extraImages');
  if (extraImages != null) {
    if (!isPlainObject(extraImages)) refuse('prePuller.extraImages', `must be a mapping of names to {name, tag}, got ${describe(extraImages)}`);
    set(K, 'prepuller_extra_images', Object.entries(extraImages as Values).map(([n, img]) => {
      if (!isPlainObject(img) || typeof img.name !== 'string') refuse(`prePuller.extraImages.${n}`, 'must be a mapping with name (and tag)');
      const { name: iname, tag } = img as Values;
      return tag == null || tag === '' ? iname : `${iname}:${tag}`;
    }), 'prePuller.extraImages');
  }
  const pause = get('prePuller.pause.image.name');
  if (pause != null) {
    const tag = get('prePuller.pause.image.tag');
    set(K, 'prepuller_pause_image', tag == null || tag === '' ? pause : `${pause}:${tag}`, 'prePuller.pause.image.name');
  }

  // cull: the built-in culler, with the jupyterhub-idle-culler flags z2jh passes. Flags it has no setting for are
  // accepted at the chart's default only.
  set('IdleCuller', 'enabled', get('cull.enabled') === true, 'cull.enabled');
  pass('IdleCuller', 'timeout', 'cull.timeout');
  pass('IdleCuller', 'cull_every', 'cull.every');
  pass('IdleCuller', 'max_age', 'cull.maxAge');
  pass('IdleCuller', 'cull_users', 'cull.users');
  for (const [key, dflt] of [['adminUsers', true], ['removeNamedServers', false], ['concurrency', 10]] as const) {
    if (get(`cull.${key}`) !== dflt && get(`cull.${key}`) !== undefined) refuse(`cull.${key}`, `nodehub's culler has no such setting; only the chart's default ${String(dflt)} is accepted`);
  }
  if (get('debug.enabled') === true) {
    set('JupyterHub', 'log_level', 'DEBUG', 'debug.enabled');
    set(K, 'debug', true, 'debug.enabled');
  }

  // hub.config last: it is nodehub (traitlets) configuration as it is, and wins over what the chart derived.
  const config = get('hub.config');
  if (config != null) {
    if (!isPlainObject(config)) refuse('hub.config', `must be a mapping of class names to settings, got ${describe(config)}`);
    for (const [cls, traits] of Object.entries(config as Values)) {
      if (traits === null) continue;
      if (!isPlainObject(traits)) refuse(`hub.config.${cls}`, `must be a mapping of settings, got ${describe(traits)}`);
      for (const [trait, value] of Object.entries(traits as Values)) set(cls, trait, value, `hub.config.${cls}.${trait}`);
    }
  }
  return { content, where, warnings };
}
