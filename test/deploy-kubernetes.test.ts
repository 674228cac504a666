// deploy/kubernetes: every object validates against the Kubernetes schema, kustomize renders the base and the
// ephemeral example, the rendered objects refer to each other correctly, the Role is the minimal one, and the
// NetworkPolicies let through exactly what they say.
import { describe, expect, it } from 'vitest';
import { relative } from 'node:path';
import { manifestErrors, partErrors } from './support/k8s-manifests.ts';
import { deployTree, find, haveKubectl, kubectl, readDocuments, render, repo } from './support/deploy-tree.ts';
import type { K8sObject } from './support/deploy-tree.ts';
import { allowed, selects } from './support/netpol.ts';
import type { Endpoint, Policy } from './support/netpol.ts';

const tree = deployTree();
const rel = (f: string) => relative(repo, f);

describe('deploy/ files', () => {
  it('are kustomizations, the nodehub configs they generate ConfigMaps from, or Kubernetes manifests', () => {
    expect(tree.kustomizations.map(rel)).toEqual([
      'deploy/examples/keycloak-vault/kustomization.yaml',
      'deploy/kubernetes/base/kustomization.yaml',
      'deploy/kubernetes/examples/2i2c-ephemeral/kustomization.yaml',
      'deploy/kubernetes/examples/ephemeral/kustomization.yaml',
      'deploy/kubernetes/examples/postgres/kustomization.yaml',
      'deploy/kubernetes/kustomization.yaml',
    ]);
    expect(tree.configs.map(rel)).toEqual([
      'deploy/examples/keycloak-vault/jupyterhub_config.mjs',
      'deploy/kubernetes/base/nodehub.yaml', 'deploy/kubernetes/examples/2i2c-ephemeral/values.yaml', 'deploy/kubernetes/examples/ephemeral/nodehub.yaml',
      'deploy/kubernetes/examples/postgres/nodehub.yaml',
    ]);
    expect(tree.manifests.map(rel)).toContain('deploy/kubernetes/base/secret.example.yaml');
    for (const file of tree.manifests) expect(readDocuments(file).length, rel(file)).toBeGreaterThan(0);
  });

  it.each(tree.manifests.map((f) => [rel(f), f]))('%s: every object validates against the Kubernetes schema', (name, file) => {
    readDocuments(file).forEach((doc, i) => expect(manifestErrors(doc, `${name}#${i}`)).toEqual([]));
  });

  it('the Secret template names the keys the Deployment reads, with placeholders the hub will not take as real', () => {
    const [secret] = readDocuments(`${repo}/deploy/kubernetes/base/secret.example.yaml`) as K8sObject[];
    expect(secret.metadata.name).toBe('nodehub-secrets');
    expect(Object.keys(secret.stringData).sort()).toEqual(['cookie-secret', 'shared-password']);
    expect(secret.stringData['cookie-secret']).not.toMatch(/^([0-9a-f]{2})+$/); // JPY_COOKIE_SECRET must be hex
  });
});

describe('the manifest check itself', () => {
  const deployment = () => readDocuments(`${repo}/deploy/kubernetes/base/deployment.yaml`)[0] as K8sObject;

  it('accepts the real Deployment and refuses a misspelt field, a wrong type, a bad label and an unknown kind', () => {
    expect(manifestErrors(deployment())).toEqual([]);
    const typo = deployment();
    typo.spec.template.spec.containers[0].volumeMounts[0].readonly = true;
    expect(manifestErrors(typo).join('\n')).toMatch(/volumeMounts\[0\]\.readonly: unknown field/);
    const wrongType = deployment();
    wrongType.spec.template.spec.containers[0].ports[0].containerPort = '8000';
    expect(manifestErrors(wrongType).join('\n')).toMatch(/containerPort must be integer/);
    const badLabel = deployment();
    badLabel.metadata.labels['app.kubernetes.io/name'] = 'node hub';
    expect(manifestErrors(badLabel).join('\n')).toMatch(/invalid label value "node hub"/);
    expect(manifestErrors({ apiVersion: 'v1', kind: 'Tea', metadata: { name: 'x' } }).join('\n')).toMatch(/no schema registered/);
    expect(manifestErrors({ ...deployment(), metadata: { name: 'Hub_1' } }).join('\n')).toMatch(/not a DNS-1123 subdomain/);
  });

  it('checks parts of a pod spec the same way', () => {
    expect(partErrors('VolumeMount', { name: 'shared', mountPath: '/home/jovyan/shared', readOnly: true })).toEqual([]);
    expect(partErrors('VolumeMount', { name: 'shared', mountPath: '/s', readonly: true }).join()).toMatch(/readonly: unknown field/);
    expect(partErrors('Toleration', { key: 'gpu', operator: 'Exists', effect: 'NoSchedule' })).toEqual([]);
    expect(partErrors('Volume', { name: 'v', persistentVolumeClaim: { readOnly: true } }).join()).toMatch(/claimName/);
  });
});

const renderTitle = `kubectl kustomize${haveKubectl ? '' : ` (skipped: ${kubectl} not found)`}`;

describe.skipIf(!haveKubectl)(renderTitle, () => {
  const base = haveKubectl ? render('deploy/kubernetes') : [];
  const ephemeral = haveKubectl ? render('deploy/kubernetes/examples/ephemeral') : [];
  const values2i2c = haveKubectl ? render('deploy/kubernetes/examples/2i2c-ephemeral') : [];
  // configMapGenerator appends a 10-character hash of the content to the ConfigMap's name.
  const unhashed = (o: K8sObject) => (o.kind === 'ConfigMap' ? o.metadata.name.replace(/-[a-z0-9]{10}$/, '-<hash>') : o.metadata.name);
  const kinds = (objects: K8sObject[]) => objects.map((o) => `${o.kind}/${unhashed(o)}`).sort();

  it.each([
    ['deploy/kubernetes', base],
    ['deploy/kubernetes/examples/ephemeral', ephemeral],
    ['deploy/kubernetes/examples/2i2c-ephemeral', values2i2c],
  ])('%s renders the hub, and every rendered object validates', (dir, objects) => {
    expect(kinds(objects)).toEqual([
      'ConfigMap/nodehub-config-<hash>', 'Deployment/nodehub', 'NetworkPolicy/nodehub-hub', 'NetworkPolicy/nodehub-singleuser',
      'PersistentVolumeClaim/nodehub-db', 'Role/nodehub', 'RoleBinding/nodehub', 'Service/nodehub', 'ServiceAccount/nodehub',
    ]);
    objects.forEach((o, i) => expect(manifestErrors(o, `${dir}#${i}`)).toEqual([]));
    for (const o of objects) expect(o.metadata.labels['app.kubernetes.io/part-of'], `${o.kind} ${o.metadata.name}`).toBe('nodehub');
  });

  it('the hub Deployment refers to what exists: ConfigMap, claim, Secret keys, service account, its own port', () => {
    const deployment = find(base, 'Deployment', 'nodehub');
    const pod = deployment.spec.template.spec;
    const [hub] = pod.containers;
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    expect(selects(deployment.spec.selector, deployment.spec.template.metadata.labels)).toBe(true);
    expect(pod.serviceAccountName).toBe(find(base, 'ServiceAccount').metadata.name);

    const volumes = new Map<string, any>(pod.volumes.map((v: any) => [v.name, v]));
    expect(volumes.get('config').configMap.name).toBe(find(base, 'ConfigMap').metadata.name); // the hashed name
    expect(volumes.get('db').persistentVolumeClaim.claimName).toBe(find(base, 'PersistentVolumeClaim').metadata.name);
    for (const m of hub.volumeMounts) expect(volumes.has(m.name), m.name).toBe(true);
    const mounts = Object.fromEntries(hub.volumeMounts.map((m: any) => [m.mountPath, m]));
    expect(mounts['/etc/nodehub']).toMatchObject({ name: 'config', readOnly: true });
    expect(mounts['/srv/nodehub'].name).toBe('db');
    expect(Object.keys(find(base, 'ConfigMap').data)).toEqual(['nodehub.yaml']);
    expect(hub.args).toEqual(['-f', '/etc/nodehub/nodehub.yaml', '--ip', '0.0.0.0']);

    const fromSecret = hub.env.filter((e: any) => e.valueFrom?.secretKeyRef);
    const secretRefs = Object.fromEntries(fromSecret.map((e: any) => [e.name, e.valueFrom.secretKeyRef]));
    expect(secretRefs).toEqual({
      NODEHUB_SHARED_PASSWORD: { name: 'nodehub-secrets', key: 'shared-password' },
      JPY_COOKIE_SECRET: { name: 'nodehub-secrets', key: 'cookie-secret' },
    });

    const portNames = hub.ports.map((p: any) => p.name);
    for (const probe of [hub.startupProbe, hub.readinessProbe, hub.livenessProbe]) {
      // readiness waits for the adoption of running servers (?ready), the others only for the process to answer
      expect(probe.httpGet.path).toBe(probe === hub.readinessProbe ? '/hub/health?ready' : '/hub/health');
      expect(portNames).toContain(probe.httpGet.port);
    }
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(hub.securityContext).toMatchObject({
      readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] },
    });
    expect(hub.resources.requests).toBeDefined();
    expect(hub.resources.limits.memory).toBeDefined();
  });

  it('the Service sends port 80 to the hub pod\'s http port', () => {
    const service = find(base, 'Service', 'nodehub');
    const template = find(base, 'Deployment').spec.template;
    expect(service.spec.type).toBe('ClusterIP');
    expect(selects({ matchLabels: service.spec.selector }, template.metadata.labels)).toBe(true);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    expect(template.spec.containers[0].ports).toContainEqual({ name: 'http', containerPort: 8000, protocol: 'TCP' });
  });

  it('the Role grants pods, claims, events and daemonsets, nothing else, to the hub\'s service account', () => {
    const role = find(base, 'Role', 'nodehub');
    const grants = role.rules.flatMap((r: any) =>
      r.apiGroups.flatMap((g: string) => r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${g || 'core'}/${res}:${v}`))),
    );
    expect(grants.sort()).toEqual(
      [
        ...['get', 'list', 'watch', 'create', 'delete'].map((v) => `core/pods:${v}`),
        ...['get', 'create', 'delete'].map((v) => `core/persistentvolumeclaims:${v}`),
        ...['list', 'watch'].map((v) => `core/events:${v}`),
        ...['list', 'watch', 'create', 'update', 'delete'].map((v) => `apps/daemonsets:${v}`),
      ].sort(),
    );
    const binding = find(base, 'RoleBinding', 'nodehub');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: find(base, 'ServiceAccount').metadata.name }]);
  });

  it('the ephemeral example changes only the nodehub config (and so the ConfigMap name the hub mounts)', () => {
    const strip = (objects: K8sObject[]) =>
      (JSON.parse(JSON.stringify(objects).replace(/nodehub-config-[a-z0-9]{10}/g, 'nodehub-config')) as K8sObject[])
        .filter((o) => o.kind !== 'ConfigMap');
    expect(strip(ephemeral)).toEqual(strip(base));
    const data = (objects: K8sObject[]) => find(objects, 'ConfigMap').data['nodehub.yaml'];
    expect(data(ephemeral)).not.toEqual(data(base));
    expect(data(ephemeral)).toContain('claimName: home-nfs');
  });

  describe('NetworkPolicies', () => {
    const policies = base.filter((o) => o.kind === 'NetworkPolicy') as unknown as Policy[];
    const ns = { namespace: 'hub', namespaceLabels: { 'kubernetes.io/metadata.name': 'hub' } };
    const hubLabels = haveKubectl ? find(base, 'Deployment').spec.template.metadata.labels : {};
    const hub: Endpoint = { ip: '10.8.0.10', pod: { ...ns, labels: hubLabels, ports: { http: 8000 } } };
    // The labels KubeSpawner puts on a user pod (spec 1.2).
    const userLabels = {
      component: 'singleuser-server', 'app.kubernetes.io/component': 'singleuser-server', app: 'jupyterhub',
      'app.kubernetes.io/name': 'jupyterhub', 'app.kubernetes.io/managed-by': 'kubespawner', heritage: 'jupyterhub',
      'hub.jupyter.org/username': 'a1b2c3', 'hub.jupyter.org/servername': '',
    };
    const user: Endpoint = { ip: '10.8.1.20', pod: { ...ns, labels: userLabels, ports: { 'notebook-port': 8888 } } };
    const otherUserLabels = { ...userLabels, 'hub.jupyter.org/username': 'd4e5' };
    const otherUser: Endpoint = { ip: '10.8.2.30', pod: { ...ns, labels: otherUserLabels, ports: { 'notebook-port': 8888 } } };
    const database: Endpoint = { ip: '10.8.3.40', pod: { ...ns, labels: { app: 'postgres' }, ports: { pg: 5432 } } };
    const kubeSystem = { namespace: 'kube-system', namespaceLabels: { 'kubernetes.io/metadata.name': 'kube-system' } };
    const dns: Endpoint = { ip: '10.8.4.2', pod: { ...kubeSystem, labels: { 'k8s-app': 'kube-dns' } } };
    const internet: Endpoint = { ip: '151.101.0.223' };
    const metadata: Endpoint = { ip: '169.254.169.254' };
    const apiServer: Endpoint = { ip: '172.18.0.2' };

    it('select the hub pod and user pods, and not each other', () => {
      const [hubPolicy, userPolicy] = ['nodehub-hub', 'nodehub-singleuser'].map((n) => find(base, 'NetworkPolicy', n).spec.podSelector);
      expect([selects(hubPolicy, hubLabels), selects(hubPolicy, userLabels)]).toEqual([true, false]);
      expect([selects(userPolicy, userLabels), selects(userPolicy, hubLabels)]).toEqual([true, false]);
    });

    it('a user server reaches the hub, DNS and the internet; not the metadata service, private addresses or other pods', () => {
      expect(allowed(policies, user, hub, 8000)).toBe(true);
      expect(allowed(policies, user, dns, 53, 'UDP')).toBe(true);
      expect(allowed(policies, user, dns, 53, 'TCP')).toBe(true);
      expect(allowed(policies, user, internet, 443)).toBe(true);
      expect(allowed(policies, user, internet, 80)).toBe(true);
      expect(allowed(policies, user, metadata, 80)).toBe(false);
      expect(allowed(policies, user, { ip: '10.20.30.40' }, 443)).toBe(false);
      expect(allowed(policies, user, { ip: '172.20.0.1' }, 443)).toBe(false);
      expect(allowed(policies, user, { ip: '192.168.1.1' }, 22)).toBe(false);
      expect(allowed(policies, user, database, 5432)).toBe(false);
      expect(allowed(policies, user, otherUser, 8888)).toBe(false);
      expect(allowed(policies, user, hub, 8081)).toBe(false);
      expect(allowed(policies, user, dns, 8080)).toBe(false);
    });

    it('only the hub reaches a user server, and only on its notebook port', () => {
      expect(allowed(policies, hub, user, 8888)).toBe(true);
      expect(allowed(policies, hub, user, 22)).toBe(false);
      expect(allowed(policies, database, user, 8888)).toBe(false);
      expect(allowed(policies, internet, user, 8888)).toBe(false);
    });

    it('the hub is open on its port to everyone, reaches DNS and the API server, and nothing else in the cluster', () => {
      expect(allowed(policies, internet, hub, 8000)).toBe(true);
      expect(allowed(policies, database, hub, 8000)).toBe(true);
      expect(allowed(policies, internet, hub, 9000)).toBe(false);
      expect(allowed(policies, hub, dns, 53, 'UDP')).toBe(true);
      expect(allowed(policies, hub, apiServer, 6443)).toBe(true);
      expect(allowed(policies, hub, { ip: '34.120.1.2' }, 443)).toBe(true);
      expect(allowed(policies, hub, database, 5432)).toBe(false);
      expect(allowed(policies, hub, metadata, 80)).toBe(false);
    });
  });
});
