// Zero-to-JupyterHub values files as configuration (issue #12 item 2): what the chart's jupyterhub_config.py would set
// from them, the chart's defaults, errors naming the values key, and 2i2c's ephemeral hub (seeds 000/001) in
// deploy/kubernetes/examples/2i2c-ephemeral rendered by kustomize, validated, and serving a visitor on the simulator.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { loadConfig } from '../src/config/index.ts';
import { ConfigError } from '../src/config/errors.ts';
import { asList } from '../src/config/kube-traits.ts';
import { startHub } from '../src/hub/start.ts';
import { find, haveKubectl, kubectl, render } from './support/deploy-tree.ts';
import { manifestErrors } from './support/k8s-manifests.ts';
import { eventually, MOCK_SINGLEUSER } from './support/hub.ts';
import { IMAGE, NAMESPACE, startSim } from './support/k8s-hub.ts';
import { userOf, Visitor } from './support/scripted-visitor.ts';

const dir = mkdtempSync(join(tmpdir(), 'nodehub-z2jh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const write = (values: unknown) => {
  const file = join(dir, `values${n++}.yaml`);
  writeFileSync(file, typeof values === 'string' ? values : stringify(values));
  return file;
};
const load = (values: unknown) => loadConfig({ file: write(values), env: {} });
const failure = async (values: unknown) => {
  const err = await load(values).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
};
const none = { storage: { type: 'none' } };
const kube = (config: Awaited<ReturnType<typeof load>>) => config.sections.KubeSpawner as Record<string, any>;

describe('a z2jh values file', () => {
  it('is told apart by a jupyterhub: key or the chart\'s own hub: / singleuser: keys, and runs the kubernetes spawner', async () => {
    for (const values of [{ jupyterhub: { singleuser: none } }, { singleuser: none }, { hub: {}, singleuser: none }]) {
      const config = await load(values);
      expect(config.spawnerSection).toBe('KubeSpawner');
    }
    // nodehub's own YAML is not mistaken for one.
    expect((await load({ JupyterHub: { port: 8123 } })).hub.port).toBe(8123);
  });

  it('gets the chart\'s defaults for what it does not say: uid, fsGid, memory guarantee, tolerations, node purpose, culler', async () => {
    const config = await load({ singleuser: none });
    expect(kube(config)).toMatchObject({
      uid: 1000, fs_gid: 100, mem_guarantee: '1G', start_timeout: 300, cmd: ['jupyterhub-singleuser'], events_enabled: true,
      allow_privilege_escalation: false, extra_labels: { 'hub.jupyter.org/network-access-hub': 'true' }, prepuller_enabled: true,
    });
    expect(kube(config).tolerations.map((t: any) => t.key)).toEqual(['hub.jupyter.org/dedicated', 'hub.jupyter.org_dedicated']);
    expect(kube(config).node_affinity_preferred).toEqual([
      { weight: 100, preference: { matchExpressions: [{ key: 'hub.jupyter.org/node-purpose', operator: 'In', values: ['user'] }] } },
    ]);
    expect(asList(kube(config).volumes)).toEqual([]);
    expect(config.sections.IdleCuller).toMatchObject({ enabled: true, timeout: 3600, cull_every: 600, max_age: 0, cull_users: false });
  });

  it('maps singleuser, prePuller, cull and scheduling keys to the settings z2jh sets from them', async () => {
    const config = await load({
      hub: { baseUrl: '/jh/', concurrentSpawnLimit: 7, services: { grader: { apiToken: 'abcdefabcdef', admin: true } } },
      singleuser: {
        image: { name: 'example.org/nb', tag: '1.2', pullPolicy: 'Always', pullSecrets: ['regcred'] },
        storage: { type: 'none', extraVolumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }], extraVolumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }] },
        cpu: { limit: 2, guarantee: 0.5 }, memory: { limit: '4G', guarantee: '1G' },
        extraResource: { limits: { 'nvidia.com/gpu': '1' }, guarantees: { 'nvidia.com/gpu': '1' } },
        nodeSelector: { pool: 'users' }, extraTolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }],
        extraEnv: [{ name: 'A', value: 'b' }, { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
        cmd: 'start-notebook.sh', defaultUrl: '/lab', uid: 1001, fsGid: 101, serviceAccountName: 'nb',
        lifecycleHooks: { postStart: { exec: { command: ['true'] } } }, initContainers: [{ name: 'init', image: 'busybox' }],
        extraLabels: { team: 'a' }, extraAnnotations: { note: 'x' },
        profileList: [{ display_name: 'Small', slug: 'small', kubespawner_override: { mem_limit: '1G' } }],
        networkPolicy: { enabled: true },
      },
      prePuller: { hook: { enabled: false }, continuous: { enabled: true }, extraImages: { extra: { name: 'example.org/tool', tag: '3' } }, pause: { image: { name: 'example.org/pause', tag: '9' } } },
      cull: { enabled: false, timeout: 100, every: 10, maxAge: 1000, users: true },
      scheduling: { userPods: { nodeAffinity: { matchNodePurpose: 'require' } } },
    });
    const k = kube(config);
    expect(config.hub.base_url).toBe('/jh/');
    expect(config.hub.concurrent_spawn_limit).toBe(7);
    expect(config.hub.services).toContainEqual(expect.objectContaining({ name: 'grader', api_token: 'abcdefabcdef', admin: true }));
    expect(k).toMatchObject({
      image: 'example.org/nb:1.2', image_pull_policy: 'Always', image_pull_secrets: [{ name: 'regcred' }],
      cpu_limit: 2, cpu_guarantee: 0.5, mem_limit: '4G', mem_guarantee: '1G',
      extra_resource_limits: { 'nvidia.com/gpu': '1' }, extra_resource_guarantees: { 'nvidia.com/gpu': '1' },
      node_selector: { pool: 'users' }, cmd: ['start-notebook.sh'], default_url: '/lab', uid: 1001, fs_gid: 101,
      service_account: 'nb', lifecycle_hooks: { postStart: { exec: { command: ['true'] } } },
      extra_labels: { 'hub.jupyter.org/network-access-hub': 'true', team: 'a' }, extra_annotations: { note: 'x' },
      environment: { A: 'b', IP: { valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } } },
      prepuller_enabled: true, prepuller_extra_images: ['example.org/tool:3'], prepuller_pause_image: 'example.org/pause:9',
      node_affinity_required: [{ matchExpressions: [{ key: 'hub.jupyter.org/node-purpose', operator: 'In', values: ['user'] }] }],
      node_affinity_preferred: [],
    });
    expect(asList(k.init_containers)).toEqual([{ name: 'init', image: 'busybox' }]);
    expect(k.tolerations.map((t: any) => t.key)).toEqual(['hub.jupyter.org/dedicated', 'hub.jupyter.org_dedicated', 'gpu']);
    expect(asList(k.volumes)).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }]);
    expect(asList(k.volume_mounts)).toEqual([{ name: 'data', mountPath: '/data', readOnly: true }]);
    expect(k.profile_list.map((p: any) => p.slug)).toEqual(['small']);
    expect(config.sections.IdleCuller).toMatchObject({ enabled: false, timeout: 100, cull_every: 10, max_age: 1000, cull_users: true });
    expect(config.warnings.join('\n')).toMatch(/ignored.*singleuser\.networkPolicy/);
  });

  it('takes hub.config as nodehub configuration, over what the chart derives, and null cmd as the image\'s own', async () => {
    const config = await load({
      hub: { config: { JupyterHub: { authenticator_class: 'tmpauthenticator.TmpAuthenticator' }, TmpAuthenticator: { force_new_server: true }, KubeSpawner: { image: 'over:1' } } },
      singleuser: { ...none, image: { name: 'under', tag: '2' }, cmd: null },
    });
    expect(config.hub.authenticator_class).toBe('tmpauthenticator.TmpAuthenticator');
    expect(config.authenticator.force_new_server).toBe(true);
    expect(kube(config).image).toBe('over:1');
    expect(kube(config).cmd).toBeNull();
  });

  it('ignores chart infrastructure with a warning that names the keys', async () => {
    const config = await load({ jupyterhub: { proxy: { secretToken: 'x' }, ingress: { enabled: true }, hub: { image: { name: 'x' }, resources: {} }, singleuser: none, custom: { a: 1 } }, nfs: { enabled: true } });
    const warning = config.warnings.find((w) => w.includes('ignored'))!;
    for (const key of ['nfs', 'jupyterhub.proxy', 'jupyterhub.ingress', 'jupyterhub.hub.image', 'jupyterhub.hub.resources', 'jupyterhub.custom']) expect(warning).toContain(key);
  });
});

describe('z2jh values nodehub cannot honour are errors naming the key', () => {
  it('an unknown key, with its full path and a suggestion', async () => {
    let err = await failure({ jupyterhub: { singleuser: { storage: { type: 'none', foo: 1 } } } });
    expect(err.key).toBe('jupyterhub.singleuser.storage.foo');
    expect(err.message).toContain('jupyterhub.singleuser.storage.foo');
    err = await failure({ singleuser: { ...none, memroy: { limit: '1G' } } });
    expect(err.key).toBe('singleuser.memroy');
    expect(err.message).toMatch(/did you mean singleuser\.memory\?/);
    expect((await failure({ jupyterhub: { singleuser: none, hubb: {} } })).key).toBe('jupyterhub.hubb');
  });

  it('hub.extraConfig (Python) points to .py and .mjs configs', async () => {
    const err = await failure({ hub: { extraConfig: { a: 'c.JupyterHub.port = 1' } }, singleuser: none });
    expect(err.key).toBe('hub.extraConfig');
    expect(err.message).toMatch(/jupyterhub_config\.py/);
    expect(err.message).toMatch(/\.mjs/);
  });

  it('per-user storage: dynamic (the chart default) makes a claim per server, static mounts one claim per user subPath', async () => {
    let k = kube(await load({ jupyterhub: { singleuser: { storage: { extraLabels: { team: 'x' }, extraVolumes: [{ name: 'data', emptyDir: {} }] } } } }));
    expect(k).toMatchObject({ storage_pvc_ensure: true, storage_capacity: '10Gi', storage_access_modes: ['ReadWriteOnce'], storage_class: null,
      pvc_name_template: 'claim-{user_server}', storage_extra_labels: { team: 'x' } });
    expect(asList(k.volumes)).toEqual([{ name: 'data', emptyDir: {} }, { name: 'volume-{user_server}', persistentVolumeClaim: { claimName: '{pvc_name}' } }]);
    expect(asList(k.volume_mounts)).toEqual([{ name: 'volume-{user_server}', mountPath: '/home/jovyan' }]);
    k = kube(await load({ singleuser: { storage: { capacity: '5Gi', homeMountPath: '/home/me', dynamic: { storageClass: 'fast', pvcNameTemplate: 'home-{username}', subPath: 'nb' } } } }));
    expect(k).toMatchObject({ storage_class: 'fast', storage_capacity: '5Gi', pvc_name_template: 'home-{username}' });
    expect(asList(k.volume_mounts)).toEqual([{ name: 'volume-{user_server}', mountPath: '/home/me', subPath: 'nb' }]);
    k = kube(await load({ singleuser: { storage: { type: 'static', static: { pvcName: 'homes' } } } }));
    expect(k.storage_pvc_ensure).toBe(false);
    expect(asList(k.volumes)).toEqual([{ name: 'home', persistentVolumeClaim: { claimName: 'homes' } }]);
    expect(asList(k.volume_mounts)).toEqual([{ name: 'home', mountPath: '/home/jovyan', subPath: '{username}' }]);
    const err = await failure({ singleuser: { storage: { type: 'static' } } });
    expect(err.key).toBe('singleuser.storage.static.pvcName');
    expect((await failure({ singleuser: { storage: { type: 'nfs' } } })).key).toBe('singleuser.storage.type');
  });

  it('a bad value is reported at the trait with the values key it came from', async () => {
    const err = await failure({ singleuser: { ...none, cpu: { limit: 'lots' } } });
    expect(err.message).toContain('singleuser.cpu.limit');
    expect((await failure({ singleuser: none, scheduling: { userPods: { nodeAffinity: { matchNodePurpose: 'always' } } } })).key)
      .toBe('scheduling.userPods.nodeAffinity.matchNodePurpose');
    expect((await failure({ singleuser: none, cull: { concurrency: 3 } })).key).toBe('cull.concurrency');
    expect((await failure({ hub: { config: { Jupyterhub: { port: 1 } } }, singleuser: none })).message).toMatch(/did you mean JupyterHub/);
  });
});

const example = 'deploy/kubernetes/examples/2i2c-ephemeral';
describe.skipIf(!haveKubectl)(`2i2c's ephemeral hub as values (${example})${haveKubectl ? '' : ` (skipped: ${kubectl} not found)`}`, () => {
  const objects = haveKubectl ? render(example) : [];
  const values = () => find(objects, 'ConfigMap').data['nodehub.yaml'] as string;

  it('renders with kustomize into valid objects, the values file as the config the hub Deployment reads', () => {
    objects.forEach((o, i) => expect(manifestErrors(o, `${example}#${i}`)).toEqual([]));
    const pod = find(objects, 'Deployment', 'nodehub').spec.template.spec;
    const configVolume = pod.volumes.find((v: any) => v.name === 'config');
    expect(configVolume.configMap.name).toBe(find(objects, 'ConfigMap').metadata.name);
    expect(pod.containers[0].args.slice(0, 2)).toEqual(['-f', '/etc/nodehub/nodehub.yaml']);
    expect(parseYaml(values()).jupyterhub.singleuser.storage.type).toBe('none');
  });

  it('serves a visitor on the simulator: no per-user storage, the shared directory read-only at /home/jovyan/shared', async () => {
    const s = await startSim();
    const file = join(s.dir, 'nodehub.yaml');
    writeFileSync(file, values());
    // The simulator's claim for the source hub's NFS share.
    s.sim.create('persistentvolumeclaims', NAMESPACE, { metadata: { name: 'home-nfs' }, spec: { accessModes: ['ReadOnlyMany'] } });
    const overrides: Record<string, string> = {
      'JupyterHub.ip': '127.0.0.1', 'JupyterHub.port': '0', 'JupyterHub.hub_connect_url': '',
      'JupyterHub.db_url': `sqlite:///${join(s.dir, 'hub.sqlite')}`, 'JupyterHub.cookie_secret_file': join(s.dir, 'cookie_secret'),
      'JupyterHub.log_level': 'WARN',
      'KubeSpawner.kubeconfig': s.kubeconfig, 'KubeSpawner.namespace': NAMESPACE, 'KubeSpawner.image': IMAGE,
      'KubeSpawner.cmd': JSON.stringify([process.execPath, MOCK_SINGLEUSER]), 'KubeSpawner.ip': '$(POD_IP)',
      'KubeSpawner.environment': JSON.stringify({ POD_IP: { valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } } }),
      'KubeSpawner.prepuller_enabled': 'false', 'KubeSpawner.start_timeout': '20',
    };
    const config = await loadConfig({ file, overrides, env: {} });
    const hub = await startHub(config, { env: { NODEHUB_SHARED_PASSWORD: '' } });
    try {
      const visitor = new Visitor(`http://127.0.0.1:${hub.port}`);
      const first = await visitor.go('/hub/');
      expect(first.status).toBe(200);
      // A pod starts in the background: the visitor may see the pending page first, then their server.
      const user = /^\/(?:user|hub\/spawn-pending)\/([0-9a-f-]{36})[/?]/.exec(first.url)?.[1];
      expect(user, first.url).toBeDefined();
      const page = await eventually(async () => {
        const p = await visitor.go(`/user/${user}/`);
        return userOf(p.url) === user && p.status === 200 ? p : null;
      }, 30_000, 200);
      expect(page!.url).toBe(`/user/${user}/tree/`);
      const pod = s.sim.list('pods', NAMESPACE).find((p) => p.metadata.annotations?.['hub.jupyter.org/username'] === user)!;
      expect(pod.spec.volumes.filter((v: any) => v.persistentVolumeClaim).map((v: any) => v.persistentVolumeClaim.claimName)).toEqual(['home-nfs']);
      const container = pod.spec.containers[0];
      expect(container.volumeMounts.filter((m: any) => !m.mountPath.startsWith('/var/run/secrets'))).toEqual([
        { name: 'shared-dir-pvc', mountPath: '/home/jovyan/shared', subPath: '_shared', readOnly: true },
      ]);
      expect(pod.spec.tolerations.map((t: any) => t.key)).toContain('hub.jupyter.org/dedicated');
    } finally {
      await hub.close();
      await s.sim.close();
      rmSync(s.dir, { recursive: true, force: true });
    }
  });
});
