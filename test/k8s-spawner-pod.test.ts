// The Kubernetes spawner's pure parts: KubeSpawner's slugs and names, the pod manifest (every pod validated against the
// official schema with kubernetes-models), profile overrides merged as KubeSpawner merges them, and the pod-status rules
// behind fail-fast and poll().
import { describe, expect, it } from 'vitest';
import { Pod } from 'kubernetes-models/v1';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { escapeSlug, expandTemplate, isValidLabel, multiSlug, safeSlug, SLUG_MAX_LENGTH, templateFields } from '../src/spawner/kubernetes/slugs.ts';
import { hubPodSelector, isHubPod, makePod, podEnv, type EnvVar } from '../src/spawner/kubernetes/pod.ts';
import { JUPYTERHUB_VERSION } from '../src/util/version.ts';
import { readKubeTraits } from '../src/spawner/kubernetes/traits.ts';
import { classifyStartingPod, isPodRunning, podUrl, pollPod } from '../src/spawner/kubernetes/classify.ts';
import { daemonSetName, makeDaemonSet, prepullGroups } from '../src/spawner/kubernetes/prepuller.ts';
import { effectiveSpawnerConfig } from '../src/servers/profiles.ts';
import type { ServerSpec, SpawnerConfig } from '../src/spawner/types.ts';
import { loadConfig } from '../src/config/index.ts';

// Every KubeSpawner default as the loader fills it, with the image this file's pods use.
const loadedDefaults = (await loadConfig({ file: null, env: {}, overrides: { 'JupyterHub.spawner_class': 'kubernetes' } })).spawner as Record<string, unknown>;
const base = {
  ...loadedDefaults,
  ip: '0.0.0.0', port: 8888, image: 'quay.io/jupyter/minimal-notebook:2025-01-01', image_pull_policy: 'IfNotPresent',
} as unknown as SpawnerConfig;

function spec(user = 'alice', serverName = ''): ServerSpec {
  const prefix = `/user/${user}/${serverName ? `${serverName}/` : ''}`;
  return {
    user: { id: 7, name: user, admin: false }, serverName, prefix, apiToken: 'secret-token', hubApiUrl: 'http://hub:8081/hub/api', baseUrl: '/',
    oauthClientId: `jupyterhub-user-${user}`, oauthCallbackUrl: `${prefix}oauth_callback`, oauthAccessScopes: [`access:servers!server=${user}/`], userOptions: {},
  };
}

function build(extra: Record<string, unknown> = {}, s = spec()) {
  const config = { ...base, ...extra } as unknown as SpawnerConfig;
  const traits = readKubeTraits(config);
  const fields = templateFields({ userName: s.user.name, userId: s.user.id, serverName: s.serverName, namespace: 'jhub' });
  const podName = expandTemplate(traits.podNameTemplate, fields);
  const pod = makePod({ traits, config, spec: s, podName, fields }) as any;
  new Pod(pod).validate(); // throws on any schema violation
  return pod;
}

const envOf = (pod: any): Record<string, string> => Object.fromEntries(pod.spec.containers[0].env.map((e: EnvVar) => [e.name, e.value]));

describe('KubeSpawner slugs (values computed with KubeSpawner 7 slugs.py)', () => {
  it('keeps valid names, hashes the rest, and never lets two names collide', () => {
    expect(safeSlug('alice', undefined, SLUG_MAX_LENGTH)).toBe('alice');
    expect(safeSlug('0b0e5e8c-2f5a-4d0e-9a8e-7e1c6b7b9a1c', undefined, SLUG_MAX_LENGTH)).toBe('x-0b0e5e8c-2f5a-4d0e-9a8e-7e1c6b7b9a1---13bddcbc');
    expect(safeSlug('0b0e5e8c-2f5a-4d0e-9a8e-7e1c6b7b9a1c', isValidLabel)).toBe('0b0e5e8c-2f5a-4d0e-9a8e-7e1c6b7b9a1c');
    expect(safeSlug('Alice@Example.com', undefined, SLUG_MAX_LENGTH)).toBe('alice-example-com---f8db6f2f');
    expect(safeSlug('a--b', undefined, SLUG_MAX_LENGTH)).toBe('a-b---90827a2e');
    expect(safeSlug('x'.repeat(60), undefined, SLUG_MAX_LENGTH)).toBe(`${'x'.repeat(37)}---42f2d973`);
    expect(safeSlug('émile', undefined, SLUG_MAX_LENGTH)).toBe('mile---a56b363c');
    expect(safeSlug('', isValidLabel)).toBe('');
    expect(multiSlug(['a'.repeat(40), 'server-with-long-name'])).toBe('aaaaaaaaaaaaaaaaa--server-with-long---524c8275');
    expect(escapeSlug('Ab-c')).toBe('-41b-2dc');
  });

  it('names pods jupyter-{user_server}: user, user--server, and a joint hash when too long', () => {
    const name = (user: string, server = '') => expandTemplate('jupyter-{user_server}', templateFields({ userName: user, userId: 1, serverName: server, namespace: 'default' }));
    expect(name('alice')).toBe('jupyter-alice');
    expect(name('alice', 'My Server')).toBe('jupyter-alice--my-server---c2d9a82f');
    expect(name('a'.repeat(40), 'server-with-long-name')).toBe('jupyter-aaaaaaaaaaaaaaaaa--server-with-long---524c8275');
    // the legacy template leaves a trailing '--' for the default server: stripped, as KubeSpawner does
    expect(expandTemplate('jupyter-{username}--{servername}', templateFields({ userName: 'bob', userId: 1, serverName: '', namespace: 'default' }))).toBe('jupyter-bob');
    expect(templateFields({ userName: 'bob', userId: 1, serverName: '', namespace: 'default' }).hubnamespace).toBe('user');
  });
});

describe('pod manifest', () => {
  it('has KubeSpawner labels and annotations, and this hub\'s instance label for its informer', () => {
    const pod = build({}, spec('Alice@Example.com', 'gpu'));
    expect(pod.metadata.name).toBe('jupyter-alice-example-com---f8db6f2f--gpu');
    // KubeSpawner 7's labels exactly, plus nodehub's release/instance (which z2jh's common labels also carry)
    expect(pod.metadata.labels).toEqual({
      component: 'singleuser-server', 'app.kubernetes.io/component': 'singleuser-server', app: 'jupyterhub', heritage: 'jupyterhub',
      'app.kubernetes.io/name': 'jupyterhub', 'app.kubernetes.io/managed-by': 'kubespawner',
      release: 'nodehub', 'app.kubernetes.io/instance': 'nodehub', 'hub.jupyter.org/username': 'alice-example-com---f8db6f2f',
      'hub.jupyter.org/servername': 'gpu',
    });
    expect(pod.metadata.annotations).toEqual({ 'hub.jupyter.org/username': 'Alice@Example.com', 'hub.jupyter.org/servername': 'gpu', 'hub.jupyter.org/jupyterhub-version': JUPYTERHUB_VERSION });
    expect(hubPodSelector(readKubeTraits(base))).toBe('component=singleuser-server');
    // the declared default leaves the pull policy to Kubernetes, as KubeSpawner does
    expect(build({ image_pull_policy: loadedDefaults.image_pull_policy }).spec.containers[0].imagePullPolicy).toBeUndefined();
    // whose pods: this hub's instance (or release), or a plain KubeSpawner hub's (neither label); never another instance's
    const t = readKubeTraits(base);
    expect(isHubPod(pod, t)).toBe(true);
    expect(isHubPod({ metadata: { labels: { component: 'singleuser-server', app: 'jupyterhub' } } }, t)).toBe(true);
    expect(isHubPod({ metadata: { labels: { component: 'singleuser-server', release: 'other' } } }, t)).toBe(false);
    expect(isHubPod({ metadata: { labels: { component: 'singleuser-server', 'app.kubernetes.io/instance': 'other', release: 'nodehub' } } }, t)).toBe(false);
    // z2jh's common labels: release comes from them, and the instance follows it
    const z2jh = build({ common_labels: { app: 'jupyterhub', release: 'jhub', chart: 'jupyterhub-4.0.0' }, extra_labels: { 'hub.jupyter.org/network-access-hub': 'true', user: '{username}' } });
    expect(z2jh.metadata.labels).toMatchObject({ release: 'jhub', 'app.kubernetes.io/instance': 'jhub', chart: 'jupyterhub-4.0.0', 'hub.jupyter.org/network-access-hub': 'true', user: 'alice' });
  });

  it('runs cmd+args as the container args (the image ENTRYPOINT stays), one notebook-port, JupyterHub env binding ip:port', () => {
    const pod = build({ cmd: ['jupyterhub-singleuser'], args: ['--debug'], environment: { GREETING: 'hi {username}' } });
    const c = pod.spec.containers[0];
    expect(c.name).toBe('notebook');
    expect(c.command).toBeUndefined();
    expect(c.args).toEqual(['jupyterhub-singleuser', '--debug']);
    expect(c.ports).toEqual([{ name: 'notebook-port', containerPort: 8888 }]);
    expect(pod.spec.restartPolicy).toBe('OnFailure');
    const env = envOf(pod);
    expect(env).toMatchObject({
      JUPYTERHUB_API_TOKEN: 'secret-token', JUPYTERHUB_API_URL: 'http://hub:8081/hub/api', JUPYTERHUB_USER: 'alice',
      JUPYTERHUB_SERVICE_URL: 'http://0.0.0.0:8888/user/alice/', JUPYTERHUB_SERVICE_PREFIX: '/user/alice/', JUPYTERHUB_CLIENT_ID: 'jupyterhub-user-alice',
      JUPYTER_IMAGE: base.image, JUPYTER_IMAGE_SPEC: base.image, GREETING: 'hi alice',
    });
    // nothing of the hub's own environment, and no local-process variables
    for (const k of ['PATH', 'HOME', 'USER', 'SHELL']) expect(env[k]).toBeUndefined();
    // no cmd: the image's CMD runs and Spawner.args are dropped
    const implicit = build({ cmd: null, args: ['--debug'] });
    expect(implicit.spec.containers[0].args).toBeUndefined();
    // port 0 means KubeSpawner's 8888
    expect(build({ port: 0 }).spec.containers[0].ports[0].containerPort).toBe(8888);
  });

  it('sorts env by name but puts a $(VAR) reference after what it names; EnvVar objects pass through', () => {
    const config = { ...base, ip: '$(POD_IP)', environment: { POD_IP: { valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }, AAA: '$(ZZZ)-x', ZZZ: 'z' } } as unknown as SpawnerConfig;
    const traits = readKubeTraits(config);
    const env = podEnv({ traits, config, spec: spec(), podName: 'jupyter-alice', fields: {} });
    const names = env.map((e) => e.name);
    expect(names.indexOf('POD_IP')).toBeLessThan(names.indexOf('JUPYTERHUB_SERVICE_URL'));
    expect(names.indexOf('ZZZ')).toBeLessThan(names.indexOf('AAA'));
    expect(env.find((e) => e.name === 'JUPYTERHUB_SERVICE_URL')!.value).toBe('http://$(POD_IP):8888/user/alice/');
    expect(env.find((e) => e.name === 'POD_IP')).toEqual({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
    const independent = env.filter((e) => !/\$\(/.test(e.value ?? '') && e.name !== 'POD_IP').map((e) => e.name);
    expect(independent).toEqual([...independent].sort());
  });

  it('maps resources, scheduling, security and service account as KubeSpawner does', () => {
    const pod = build({
      cpu_limit: 2, cpu_guarantee: 0.5, mem_limit: '2G', mem_guarantee: '1G',
      extra_resource_limits: { 'nvidia.com/gpu': '1' }, extra_resource_guarantees: { 'nvidia.com/gpu': '1' },
      node_selector: { 'hub.jupyter.org/node-purpose': 'user' },
      tolerations: { b: { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }, a: { key: 'hub.jupyter.org/dedicated', operator: 'Equal', value: 'user', effect: 'NoSchedule' }, c: null },
      node_affinity_required: [{ matchExpressions: [{ key: 'gpu', operator: 'In', values: ['true'] }] }],
      pod_anti_affinity_preferred: [{ weight: 1, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { component: 'singleuser-server' } } } }],
      uid: 1000, gid: 100, fs_gid: 100, supplemental_gids: [4],
      image_pull_secrets: [{ name: 'regcred' }], image_pull_policy: 'Always',
      lifecycle_hooks: { postStart: { exec: { command: ['sh', '-c', 'echo hi'] } } },
      init_containers: [{ name: 'prepare', image: 'busybox:1.36', command: ['sh', '-c', 'true'] }],
      scheduler_name: 'jhub-user-scheduler', priority_class_name: 'jhub-default-priority',
    });
    const c = pod.spec.containers[0];
    expect(c.resources).toEqual({
      requests: { cpu: '0.5', memory: String(1024 ** 3), 'nvidia.com/gpu': '1' },
      limits: { cpu: '2', memory: String(2 * 1024 ** 3), 'nvidia.com/gpu': '1' },
    });
    expect(envOf(pod)).toMatchObject({ MEM_LIMIT: String(2 * 1024 ** 3), MEM_GUARANTEE: String(1024 ** 3), CPU_LIMIT: '2.0', CPU_GUARANTEE: '0.5' });
    expect(pod.spec.nodeSelector).toEqual({ 'hub.jupyter.org/node-purpose': 'user' });
    expect(pod.spec.tolerations.map((t: any) => t.key)).toEqual(['hub.jupyter.org/dedicated', 'nvidia.com/gpu']);
    expect(pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key).toBe('gpu');
    expect(pod.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight).toBe(1);
    expect(c.securityContext).toEqual({ runAsUser: 1000, runAsGroup: 100, allowPrivilegeEscalation: false });
    expect(pod.spec.securityContext).toEqual({ fsGroup: 100, supplementalGroups: [4] });
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(c.imagePullPolicy).toBe('Always');
    expect(c.lifecycle.postStart.exec.command).toEqual(['sh', '-c', 'echo hi']);
    expect(pod.spec.initContainers[0].name).toBe('prepare');
    expect(pod.spec.schedulerName).toBe('jhub-user-scheduler');
    expect(pod.spec.priorityClassName).toBe('jhub-default-priority');
    // a named service account gets its token unless told otherwise
    const sa = build({ service_account: 'notebook-sa' });
    expect(sa.spec.serviceAccountName).toBe('notebook-sa');
    expect(sa.spec.automountServiceAccountToken).toBeUndefined();
    expect(build({ service_account: 'notebook-sa', automount_service_account_token: false }).spec.automountServiceAccountToken).toBe(false);
  });

  it("mounts seed 000's shared directory read-only by configuration alone, and never adds storage of its own", () => {
    const none = build();
    expect(none.spec.volumes).toEqual([]);
    expect(none.spec.containers[0].volumeMounts).toEqual([]);
    const pod = build({
      volumes: [{ name: 'shared', persistentVolumeClaim: { claimName: 'home-nfs', readOnly: true } }],
      volume_mounts: [{ name: 'shared', mountPath: '/home/jovyan/shared', subPath: '_shared', readOnly: true }],
    });
    expect(pod.spec.volumes).toEqual([{ name: 'shared', persistentVolumeClaim: { claimName: 'home-nfs', readOnly: true } }]);
    expect(pod.spec.containers[0].volumeMounts).toEqual([{ name: 'shared', mountPath: '/home/jovyan/shared', subPath: '_shared', readOnly: true }]);
  });

  it('refuses bad settings at load, with the setting named', async () => {
    const load = (o: Record<string, string>) => loadConfig({ file: null, env: {}, overrides: { 'JupyterHub.spawner_class': 'kubernetes', ...o } });
    await expect(load({ 'KubeSpawner.cpu_limit': 'lots' })).rejects.toThrow(/KubeSpawner.cpu_limit must be/);
    await expect(load({ 'KubeSpawner.tolerations': '"none"' })).rejects.toThrow(/KubeSpawner.tolerations must be/);
    await expect(load({ 'KubeSpawner.container_security_context': '{"run_as_user": 0}' })).rejects.toThrow(/camelCase key/);
    await expect(load({ 'KubeSpawner.storage_access_modes': '"ReadWriteOnce"' })).rejects.toThrow(/KubeSpawner.storage_access_modes must be/);
  });
});

describe('profile_list kubespawner_override', () => {
  const config = {
    ...base,
    node_selector: { pool: 'user', zone: 'a' },
    environment: { COMMON: '1', DROP: 'x' },
    profile_list: [
      { display_name: 'Minimal', slug: 'minimal', description: '', default: true, kubespawner_override: {} },
      {
        display_name: 'GPU', slug: 'cuda', description: '', default: false,
        kubespawner_override: {
          image: 'quay.io/jupyter/pytorch-notebook:cuda12-2025-01-01', node_selector: { gpu: 'true', zone: null },
          environment: { DROP: null, CUDA: '1' }, extra_resource_limits: { 'nvidia.com/gpu': '1' },
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
        },
      },
    ],
  } as unknown as SpawnerConfig;

  it('merges mappings recursively (null removes a key) and replaces other values', () => {
    const eff = effectiveSpawnerConfig(config, { profile: 'cuda' }, 'KubeSpawner');
    expect(eff.node_selector).toEqual({ pool: 'user', gpu: 'true' });
    expect(eff.environment).toEqual({ COMMON: '1', CUDA: '1' });
    expect(eff.image).toBe('quay.io/jupyter/pytorch-notebook:cuda12-2025-01-01');
    expect(config.node_selector).toEqual({ pool: 'user', zone: 'a' }); // the base config is not changed
    const pod = build(eff);
    expect(pod.spec.containers[0].resources.limits).toEqual({ 'nvidia.com/gpu': '1' });
    expect(envOf(pod)).toMatchObject({ COMMON: '1', CUDA: '1', JUPYTER_IMAGE: 'quay.io/jupyter/pytorch-notebook:cuda12-2025-01-01' });
  });

  it('pre-pulls the GPU image only where the GPU profile may run: one DaemonSet per scheduling constraint', () => {
    const groups = prepullGroups({ ...config, prepuller_extra_images: ['busybox:1.36'] } as SpawnerConfig);
    expect(groups).toHaveLength(2);
    expect(groups[0]).toMatchObject({ nodeSelector: { pool: 'user', zone: 'a' }, images: [base.image, 'busybox:1.36'], profiles: ['', 'minimal'] });
    expect(groups[1]).toMatchObject({ nodeSelector: { pool: 'user', gpu: 'true' }, images: ['quay.io/jupyter/pytorch-notebook:cuda12-2025-01-01'], profiles: ['cuda'] });
    const names = groups.map((g, i) => daemonSetName('nodehub', g, i));
    expect(names[0]).toBe('nodehub-image-puller');
    expect(names[1]).toMatch(/^nodehub-image-puller-[0-9a-f]{8}$/);
    const ds = makeDaemonSet(groups[1]!, { name: names[1]!, hubInstance: 'nodehub', pauseImage: 'registry.k8s.io/pause:3.10' }) as any;
    new DaemonSet(ds).validate();
    expect(ds.spec.template.spec.initContainers.map((c: any) => c.image)).toEqual(['quay.io/jupyter/pytorch-notebook:cuda12-2025-01-01']);
    expect(ds.spec.template.spec.containers).toMatchObject([{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }]);
    expect(ds.spec.template.spec.nodeSelector).toEqual({ pool: 'user', gpu: 'true' });
    expect(ds.spec.template.spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(ds.spec.selector.matchLabels).toEqual(Object.fromEntries(Object.entries(ds.spec.template.metadata.labels).filter(([k]) => k in ds.spec.selector.matchLabels)));
    // a changed image changes the spec hash the reconciler compares
    const other = makeDaemonSet({ ...groups[1]!, images: ['other:1'] }, { name: names[1]!, hubInstance: 'nodehub', pauseImage: 'p:1' }) as any;
    expect(other.metadata.annotations['nodehub/spec-hash']).not.toBe(ds.metadata.annotations['nodehub/spec-hash']);
  });
});

describe('pod status rules', () => {
  const pod = (status: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({
    metadata: { name: 'jupyter-alice', uid: 'u1', ...metadata }, spec: { containers: [{ name: 'notebook', ports: [{ name: 'notebook-port', containerPort: 8888 }] }] }, status,
  });
  const running = { phase: 'Running', podIP: '10.0.0.5', containerStatuses: [{ name: 'notebook', ready: true, state: { running: {} } }] };

  it('is running only when Running, with an IP, every container ready, and not being deleted', () => {
    expect(isPodRunning(pod(running))).toBe(true);
    expect(isPodRunning(pod({ ...running, podIP: undefined }))).toBe(false);
    expect(isPodRunning(pod({ ...running, containerStatuses: [{ name: 'notebook', ready: false, state: { running: {} } }] }))).toBe(false);
    expect(isPodRunning(pod(running, { deletionTimestamp: '2026-01-01T00:00:00Z' }))).toBe(false);
    expect(podUrl(pod(running), null)).toBe('http://10.0.0.5:8888');
    expect(podUrl(pod({ ...running, podIP: 'fd00::5' }), null)).toBe('http://[fd00::5]:8888');
  });

  it('fails fast on pull errors, hopeless configs, crash loops and failed pods; waits on transient pull errors', () => {
    const waiting = (reason: string, message = '') => pod({ phase: 'Pending', containerStatuses: [{ name: 'notebook', image: 'nope:1', ready: false, restartCount: 0, state: { waiting: { reason, message } } }] });
    expect(classifyStartingPod(waiting('ContainerCreating'))).toBeNull();
    expect(classifyStartingPod(waiting('ErrImagePull', 'rpc error: i/o timeout'))).toBeNull();
    expect(classifyStartingPod(waiting('ErrImagePull', 'failed to resolve reference "nope:1": not found'))).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/Could not pull image "nope:1".*not found/) });
    expect(classifyStartingPod(waiting('ImagePullBackOff', 'Back-off pulling image "nope:1"'), 'Failed to pull image "nope:1": 401 unauthorized'))
      .toEqual({ kind: 'failed', reason: 'Could not pull image "nope:1" for the server container (ImagePullBackOff): Failed to pull image "nope:1": 401 unauthorized' });
    expect(classifyStartingPod(waiting('CreateContainerConfigError', 'secret "x" not found'))).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/secret "x" not found/) });
    const crash = pod({ phase: 'Running', containerStatuses: [{ name: 'notebook', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } }] });
    expect(classifyStartingPod(crash)).toEqual({ kind: 'failed', reason: 'The server container keeps crashing (exit code 1, Error; restarted 3 times, CrashLoopBackOff)' });
    const initCrash = pod({ phase: 'Pending', initContainerStatuses: [{ name: 'prepare', ready: false, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 2 } } }] });
    expect(classifyStartingPod(initCrash)?.reason).toMatch(/Init container "prepare" keeps crashing/);
    expect(classifyStartingPod(pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory. ' }))).toEqual({ kind: 'failed', reason: 'The pod failed (Evicted): The node was low on resource: memory.' });
    const unschedulable = pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.' }] });
    expect(classifyStartingPod(unschedulable)).toEqual({ kind: 'unschedulable', reason: 'The pod cannot be scheduled: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu.' });
    // preempting lower-priority pods (user placeholders) makes room: not a failure
    expect(classifyStartingPod({ ...unschedulable, status: { ...unschedulable.status, nominatedNodeName: 'node-2' } })).toBeNull();
  });

  it("poll() follows KubeSpawner's table", () => {
    expect(pollPod(undefined)).toEqual({ status: 1, terminated: false });
    expect(pollPod(pod({ phase: 'Pending' }))).toEqual({ status: null, terminated: false });
    expect(pollPod(pod({ phase: 'Failed', reason: 'Evicted' }))).toEqual({ status: 1, terminated: false });
    expect(pollPod(pod(running))).toEqual({ status: null, terminated: false });
    expect(pollPod(pod({ phase: 'Succeeded', containerStatuses: [{ name: 'notebook', state: { terminated: { exitCode: 0 } } }] }))).toEqual({ status: 0, terminated: true });
    expect(pollPod(pod({ phase: 'Failed', containerStatuses: [{ name: 'notebook', state: { terminated: { exitCode: 137 } } }] }))).toEqual({ status: 137, terminated: true });
  });
});
