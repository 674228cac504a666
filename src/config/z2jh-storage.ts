// z2jh's `singleuser.storage`, as the chart's jupyterhub_config.py turns it into KubeSpawner settings: `dynamic` (the
// chart's default) makes a claim per user server (storage_pvc_ensure, pvc_name_template, storage_class,
// storage_access_modes, storage_capacity) mounted at homeMountPath through `{pvc_name}`; `static` mounts one existing
// claim with a per-user subPath; `none` mounts nothing. extraVolumes / extraVolumeMounts are added in every mode, by
// name (volumes) and by `<index>-<name>` (mounts), as the chart keys them so that profiles can merge into them.
import { describe } from './errors.ts';
import { isPlainObject } from './traits.ts';

type Values = Record<string, unknown>;

export interface StorageContext {
  get(path: string): unknown;
  givenAt(path: string): unknown;
  set(cls: string, trait: string, value: unknown, from: string): void;
  refuse(key: string, why: string): never;
}

export function mapStorage({ get, givenAt, set, refuse }: StorageContext): void {
  const K = 'KubeSpawner';
  const type = get('singleuser.storage.type');
  const mountPath = get('singleuser.storage.homeMountPath');
  const volumes: Values = {};
  const mounts: Values = {};
  const mount = (name: string, subPath: unknown): Values => ({
    mountPath, name, ...(subPath === undefined || subPath === null || subPath === '' ? {} : { subPath }),
  });
  if (type === 'dynamic') {
    const implied = givenAt('singleuser.storage.type') === undefined ? " (z2jh's default)" : '';
    const template = get('singleuser.storage.dynamic.pvcNameTemplate');
    if (template != null && template !== '') set(K, 'pvc_name_template', template, 'singleuser.storage.dynamic.pvcNameTemplate');
    const volume = get('singleuser.storage.dynamic.volumeNameTemplate');
    if (typeof volume !== 'string' || volume === '') refuse('singleuser.storage.dynamic.volumeNameTemplate', `must be a volume name template, got ${describe(volume)}`);
    set(K, 'storage_pvc_ensure', true, `singleuser.storage.type${implied}`);
    const cls = get('singleuser.storage.dynamic.storageClass');
    if (cls != null) set(K, 'storage_class', cls, 'singleuser.storage.dynamic.storageClass');
    const modes = get('singleuser.storage.dynamic.storageAccessModes');
    if (modes != null) set(K, 'storage_access_modes', modes, 'singleuser.storage.dynamic.storageAccessModes');
    const capacity = get('singleuser.storage.capacity');
    if (capacity != null) set(K, 'storage_capacity', typeof capacity === 'number' ? String(capacity) : capacity, 'singleuser.storage.capacity');
    volumes[volume as string] = { name: volume, persistentVolumeClaim: { claimName: '{pvc_name}' } };
    mounts[volume as string] = mount(volume as string, get('singleuser.storage.dynamic.subPath'));
  } else if (type === 'static') {
    const claim = get('singleuser.storage.static.pvcName');
    if (typeof claim !== 'string' || claim === '') refuse('singleuser.storage.static.pvcName', `must name the existing PersistentVolumeClaim that holds every home (storage type static), got ${describe(claim)}`);
    volumes.home = { name: 'home', persistentVolumeClaim: { claimName: claim } };
    mounts.home = mount('home', get('singleuser.storage.static.subPath'));
  } else if (type !== 'none') refuse('singleuser.storage.type', `must be none, dynamic or static, got ${describe(type)}`);
  const labels = get('singleuser.storage.extraLabels');
  if (isPlainObject(labels) && Object.keys(labels).length) set(K, 'storage_extra_labels', labels, 'singleuser.storage.extraLabels');

  const extraVolumes = get('singleuser.storage.extraVolumes');
  if (Array.isArray(extraVolumes)) {
    extraVolumes.forEach((vol, i) => {
      if (!isPlainObject(vol) || typeof vol.name !== 'string') refuse(`singleuser.storage.extraVolumes[${i}]`, 'must be a Kubernetes Volume with a name');
      volumes[vol.name as string] = vol;
    });
  } else if (isPlainObject(extraVolumes)) Object.assign(volumes, extraVolumes);
  else if (extraVolumes != null) refuse('singleuser.storage.extraVolumes', `must be a list or mapping of Kubernetes Volumes, got ${describe(extraVolumes)}`);
  const extraMounts = get('singleuser.storage.extraVolumeMounts');
  if (Array.isArray(extraMounts)) extraMounts.forEach((m, i) => (mounts[`${i}-${isPlainObject(m) ? m.name : i}`] = m));
  else if (isPlainObject(extraMounts)) Object.assign(mounts, extraMounts);
  else if (extraMounts != null) refuse('singleuser.storage.extraVolumeMounts', `must be a list or mapping of Kubernetes VolumeMounts, got ${describe(extraMounts)}`);
  if (Object.keys(volumes).length) set(K, 'volumes', volumes, type === 'none' ? 'singleuser.storage.extraVolumes' : 'singleuser.storage.type');
  if (Object.keys(mounts).length) set(K, 'volume_mounts', mounts, type === 'none' ? 'singleuser.storage.extraVolumeMounts' : 'singleuser.storage.type');
}
