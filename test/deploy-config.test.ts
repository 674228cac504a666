// The nodehub configuration files in deploy/ (the ConfigMaps' content): they load with the hub's own loader, their
// Kubernetes parts (volumes, mounts) validate against the Kubernetes schema, they agree with the manifests around
// them, and the ephemeral example is seed 000's hub. Also the KubeSpawner trait types they rely on.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ConfigError, loadConfig, traitsOf } from '../src/config/index.ts';
import type { HubConfig, KubeSpawnerConfig } from '../src/config/index.ts';
import { asList } from '../src/config/kube-traits.ts';
import { partErrors } from './support/k8s-manifests.ts';
import type { PartType } from './support/k8s-manifests.ts';
import { deployTree, readDocuments, repo } from './support/deploy-tree.ts';
import type { K8sObject } from './support/deploy-tree.ts';

const noEnv = {};
const load = (file: string) => loadConfig({ file, env: noEnv });
const spawnerOf = (c: HubConfig) => c.spawner as KubeSpawnerConfig;
const baseFile = join(repo, 'deploy/kubernetes/base/nodehub.yaml');
const ephemeralFile = join(repo, 'deploy/kubernetes/examples/ephemeral/nodehub.yaml');
const manifest = (name: string) => readDocuments(join(repo, 'deploy/kubernetes/base', name))[0] as K8sObject;

// KubeSpawner traits holding Kubernetes objects, and the type each entry must be.
const objectTraits: Record<string, PartType> = {
  volumes: 'Volume', volume_mounts: 'VolumeMount', tolerations: 'Toleration', init_containers: 'Container',
  node_affinity_required: 'NodeSelectorTerm', node_affinity_preferred: 'PreferredSchedulingTerm',
  pod_affinity_required: 'PodAffinityTerm', pod_affinity_preferred: 'WeightedPodAffinityTerm',
  pod_anti_affinity_required: 'PodAffinityTerm', pod_anti_affinity_preferred: 'WeightedPodAffinityTerm',
};

function kubernetesPartErrors(traits: Record<string, unknown>, where: string): string[] {
  const errors: string[] = [];
  for (const [trait, type] of Object.entries(objectTraits)) {
    asList(traits[trait]).forEach((item, i) => errors.push(...partErrors(type, item, `${where}.${trait}[${i}]`)));
  }
  const hooks = traits.lifecycle_hooks as Record<string, unknown> | undefined;
  if (hooks && Object.keys(hooks).length > 0) errors.push(...partErrors('Lifecycle', hooks, `${where}.lifecycle_hooks`));
  ((traits.image_pull_secrets as unknown[]) ?? []).forEach((ref, i) => {
    errors.push(...partErrors('LocalObjectReference', ref, `${where}.image_pull_secrets[${i}]`));
  });
  return errors;
}

describe.each(deployTree().configs.map((f) => [relative(repo, f), f]))('%s', (_name, file) => {
  it('loads as a Kubernetes-spawner hub whose Kubernetes parts validate, profile overrides included', async () => {
    const config = await load(file);
    expect(config.hub.spawner_class).toBe('kubernetes');
    expect(config.spawner).toBe(config.sections.KubeSpawner);
    const spawner = spawnerOf(config);
    expect(kubernetesPartErrors(spawner, 'KubeSpawner')).toEqual([]);
    const known = traitsOf('KubeSpawner');
    for (const profile of spawner.profile_list) {
      for (const trait of Object.keys(profile.kubespawner_override)) expect(known.has(trait), `${profile.slug}: ${trait}`).toBe(true);
      expect(kubernetesPartErrors(profile.kubespawner_override, `profile ${profile.slug}`)).toEqual([]);
    }
  });

  it('fits the manifests: port, database volume, Service address, namespace, and the images are pinned', async () => {
    const config = await load(file);
    const deployment = manifest('deployment.yaml');
    const [hub] = deployment.spec.template.spec.containers;
    expect(hub.ports).toContainEqual(expect.objectContaining({ name: 'http', containerPort: config.hub.port }));
    expect(config.hub.ip).toBe('0.0.0.0');
    const dbMount = hub.volumeMounts.find((m: { name: string }) => m.name === 'db').mountPath;
    // the PostgreSQL example keeps its database elsewhere (and its password out of the file)
    if (file.includes('examples/postgres')) expect(config.hub.db_url).toMatch(/^postgresql:\/\/[^:@]+@[^/]+\/\w+$/);
    else expect(config.hub.db_url).toBe(`sqlite:///${dbMount}/nodehub.sqlite`);
    const service = manifest('service.yaml');
    expect(config.hub.hub_connect_url).toBe(`http://${service.metadata.name}`); // port 80, the hub's own namespace
    expect(service.spec.ports[0].port).toBe(80);
    expect(config.hub.cleanup_servers).toBe(false);
    const spawner = spawnerOf(config);
    expect(spawner.namespace).toBe(''); // the hub's own: no namespace written into the config
    expect(spawner.automount_service_account_token).toBe(false);
    expect(spawner.ip).toBe('0.0.0.0');
    expect(spawner.port).toBe(8888);
    expect(spawner.env_keep).toEqual([]);
    const images = [spawner.image, ...spawner.profile_list.map((p) => p.kubespawner_override.image).filter(Boolean)];
    const pinned = /^[^:@]+(:(?!latest$)[\w][\w.-]*|@sha256:[0-9a-f]{64})$/; // a tag other than latest, or a digest
    for (const image of images) expect(image, 'a pinned tag, so pre-pulling pays off').toMatch(pinned);
    // Unset (KubeSpawner's default) or IfNotPresent: either way a pinned tag is pulled only when the node lacks it.
    expect([null, 'IfNotPresent']).toContain(spawner.image_pull_policy);
  });

  it('every example reserves less than its limits: a cpu_limit without cpu_guarantee would make each pod request it all', async () => {
    for (const file of [baseFile, ephemeralFile]) {
      const spawner = spawnerOf(await load(file)) as Record<string, any>;
      for (const [limit, guarantee] of [['cpu_limit', 'cpu_guarantee'], ['mem_limit', 'mem_guarantee']]) {
        if (spawner[limit] !== null) expect(spawner[guarantee], `${file}: ${guarantee}`).not.toBeNull();
      }
      expect(Number(spawner.cpu_guarantee)).toBeLessThan(Number(spawner.cpu_limit));
    }
  });
});

describe('the ephemeral example is seed 000\'s hub', () => {
  it('temporary users behind the shared password, fresh servers on return, idle servers and users culled', async () => {
    const config = await load(ephemeralFile);
    expect(config.hub.authenticator_class).toBe('tmp');
    expect(config.authenticator.force_new_server).toBe(true);
    expect(config.sections.IdleCuller).toMatchObject({ enabled: true, cull_users: true });
    const secretEnv = manifest('deployment.yaml').spec.template.spec.containers[0].env.map((e: { name: string }) => e.name);
    expect(secretEnv).toContain('NODEHUB_SHARED_PASSWORD');
  });

  it('no storage but the shared directory: claim home-nfs, subPath _shared, read-only on volume and mount', async () => {
    const spawner = spawnerOf(await load(ephemeralFile));
    const volumes = asList(spawner.volumes);
    const mounts = asList(spawner.volume_mounts);
    expect(volumes).toEqual([{ name: 'shared-dir-pvc', persistentVolumeClaim: { claimName: 'home-nfs', readOnly: true } }]);
    expect(mounts).toEqual([{ name: 'shared-dir-pvc', mountPath: '/home/jovyan/shared', subPath: '_shared', readOnly: true }]);
    // Nothing that would give a user writable storage elsewhere.
    expect(spawner.init_containers).toEqual([]);
    for (const profile of spawner.profile_list) {
      expect(profile.kubespawner_override.volumes, profile.slug).toBeUndefined();
      expect(profile.kubespawner_override.volume_mounts, profile.slug).toBeUndefined();
    }
  });

  it('offers two profiles with different images, one of them the default, and the default image among them', async () => {
    const spawner = spawnerOf(await load(ephemeralFile));
    expect(spawner.profile_list.map((p) => p.slug)).toEqual(['python', 'scipy']);
    expect(spawner.profile_list.filter((p) => p.default).map((p) => p.slug)).toEqual(['python']);
    const images = spawner.profile_list.map((p) => p.kubespawner_override.image);
    expect(new Set(images).size).toBe(2);
    expect(images).toContain(spawner.image);
  });

  it('the base has no volumes at all', async () => {
    const spawner = spawnerOf(await load(baseFile));
    expect(asList(spawner.volumes)).toEqual([]);
    expect(asList(spawner.volume_mounts)).toEqual([]);
  });
});

describe('KubeSpawner trait types', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodehub-deploy-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const loadText = (text: string) => {
    const file = join(dir, `c${n++}.yaml`);
    writeFileSync(file, `JupyterHub:\n  spawner_class: kubernetes\n${text}`);
    return load(file);
  };
  const failure = async (text: string) => {
    const err = await loadText(text).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  };

  it('defaults as KubeSpawner: no volumes, the hub\'s namespace, jupyter-{user_server}, listening on 0.0.0.0:8888', async () => {
    const spawner = spawnerOf(await loadText(''));
    expect(spawner).toMatchObject({
      volumes: [], volume_mounts: [], tolerations: [], image_pull_secrets: [], namespace: '', pod_name_template: 'jupyter-{user_server}',
      uid: null, fs_gid: null, automount_service_account_token: null, extra_resource_limits: {}, ip: '0.0.0.0', port: 8888, env_keep: [],
    });
  });

  it('keeps a mapping as given, and asList takes its values in key order without the nulls', async () => {
    const text = 'KubeSpawner:\n  volumes:\n    b: {name: b, emptyDir: {}}\n    a: {name: a, emptyDir: {}}\n    c: null\n';
    const spawner = spawnerOf(await loadText(text));
    expect(spawner.volumes).toEqual({ b: { name: 'b', emptyDir: {} }, a: { name: 'a', emptyDir: {} }, c: null });
    expect(asList(spawner.volumes).map((v) => v.name)).toEqual(['a', 'b']);
  });

  it('normalises pull secrets and quantities', async () => {
    const text = 'KubeSpawner:\n  image_pull_secrets: [regcred, {name: other}]\n  extra_resource_limits: {nvidia.com/gpu: 1}\n';
    const spawner = spawnerOf(await loadText(text));
    expect(spawner.image_pull_secrets).toEqual([{ name: 'regcred' }, { name: 'other' }]);
    expect(spawner.extra_resource_limits).toEqual({ 'nvidia.com/gpu': '1' });
  });

  it('names the key of a bad value', async () => {
    expect((await failure('KubeSpawner:\n  volumes: shared\n')).key).toBe('KubeSpawner.volumes');
    expect((await failure('KubeSpawner:\n  volume_mounts: [{name: x}, 3]\n')).key).toBe('KubeSpawner.volume_mounts[1]');
    expect((await failure('KubeSpawner:\n  tolerations: {gpu: yes}\n')).key).toBe('KubeSpawner.tolerations.gpu');
    expect((await failure('KubeSpawner:\n  image_pull_secrets: [{secret: x}]\n')).key).toBe('KubeSpawner.image_pull_secrets[0]');
    expect((await failure('KubeSpawner:\n  extra_resource_limits: {cpu: lots}\n')).key).toBe('KubeSpawner.extra_resource_limits.cpu');
    expect((await failure('KubeSpawner:\n  uid: "1000"\n')).key).toBe('KubeSpawner.uid');
    expect((await failure('KubeSpawner:\n  storage: none\n')).message).toMatch(/KubeSpawner\.storage/);
  });
});
