// deploy/examples/keycloak-vault (seed 003, issue #14 acceptance): rendered with kustomize into objects valid against
// the Kubernetes schema; its jupyterhub_config.mjs, with the environment the Deployment gives it (settings.env and the
// Secret's keys), loads with no unknown key; the CUDA profile's pod and the user's claim it would make validate too.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PersistentVolumeClaim, Pod } from 'kubernetes-models/v1';
import { loadConfig } from '../src/config/index.ts';
import { effectiveSpawnerConfig } from '../src/servers/profiles.ts';
import { makePod } from '../src/spawner/kubernetes/pod.ts';
import { expandTemplate, templateFields } from '../src/spawner/kubernetes/slugs.ts';
import { makePvc } from '../src/spawner/kubernetes/storage.ts';
import { readKubeTraits } from '../src/spawner/kubernetes/traits.ts';
import type { SpawnerConfig } from '../src/spawner/types.ts';
import { find, haveKubectl, render, repo } from './support/deploy-tree.ts';
import { manifestErrors } from './support/k8s-manifests.ts';

const example = 'deploy/examples/keycloak-vault';
const dir = mkdtempSync(join(tmpdir(), 'nodehub-keycloak-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Loads the config as the hub in the Deployment would, with `env` as its process environment (the .mjs reads it). */
async function loadWith(source: string, env: Record<string, string>) {
  const file = join(dir, `jupyterhub_config${n++}.mjs`);
  writeFileSync(file, source);
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await loadConfig({ file, env: { ...process.env } });
  } finally {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

const settings = Object.fromEntries(readFileSync(join(repo, example, 'settings.env'), 'utf8').split('\n')
  .filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const secrets = { JUPYTERHUB_OIDC_CLIENT_SECRET: 'client-secret', JUPYTERHUB_CRYPT_KEY: 'a'.repeat(64), JPY_COOKIE_SECRET: 'b'.repeat(64) };

describe.skipIf(!haveKubectl)(`seed 003's hub (${example})`, () => {
  const objects = haveKubectl ? render(example) : [];

  it('renders with kustomize into valid objects: the .mjs as the config, environment from settings and the Secret', () => {
    objects.forEach((o, i) => expect(manifestErrors(o, `${example}#${i}`)).toEqual([]));
    const container = find(objects, 'Deployment', 'nodehub').spec.template.spec.containers[0];
    expect(container.args.slice(0, 2)).toEqual(['-f', '/etc/nodehub/jupyterhub_config.mjs']);
    expect(container.env.map((e: any) => e.name)).toEqual(['POD_NAMESPACE', 'JPY_COOKIE_SECRET', 'JUPYTERHUB_OIDC_CLIENT_SECRET', 'JUPYTERHUB_CRYPT_KEY']);
    const envName = container.envFrom[0].configMapRef.name;
    expect(find(objects, 'ConfigMap', envName).data).toMatchObject({ KEYCLOAK_REALM: 'buunstack', JUPYTER_PROFILE_DATASCIENCE_ENABLED: 'true' });
    const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.data?.['jupyterhub_config.mjs'])!;
    expect(find(objects, 'Deployment', 'nodehub').spec.template.spec.volumes.find((v: any) => v.name === 'config').configMap.name).toBe(configMap.metadata.name);
    // the Role lets the hub make and delete the users' claims
    expect(find(objects, 'Role', 'nodehub').rules).toContainEqual({ apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'create', 'delete'] });
  });

  it('loads its config with no unknown key; the CUDA profile\'s pod and the user\'s claim are valid Kubernetes objects', async () => {
    const source = objects.find((o) => o.kind === 'ConfigMap' && o.data?.['jupyterhub_config.mjs'])!.data['jupyterhub_config.mjs'] as string;
    const config = await loadWith(source, { ...settings, ...secrets, JUPYTER_PROFILE_BUUN_STACK_CUDA_ENABLED: 'true' });
    expect(config.sections.GenericOAuthenticator).toMatchObject({
      client_id: 'jupyterhub', client_secret: 'client-secret', login_service: 'Keycloak',
      authorize_url: 'https://auth.example.org/realms/buunstack/protocol/openid-connect/auth', admin_groups: ['jupyterhub-admins'],
    });
    const spawner = config.spawner as Record<string, any>;
    expect(spawner.profile_list.map((p: any) => p.slug)).toEqual(['datascience', 'buun-stack-cuda']);
    expect(spawner).toMatchObject({ storage_pvc_ensure: true, storage_capacity: '10Gi', storage_class: null });
    const effective = effectiveSpawnerConfig(config.spawner, { profile: 'buun-stack-cuda' }, config.spawnerSection) as SpawnerConfig;
    const traits = readKubeTraits(effective);
    const fields = templateFields({ userName: 'alice', userId: 1, serverName: '', namespace: 'jupyter' });
    fields.pod_name = expandTemplate(traits.podNameTemplate, fields);
    fields.pvc_name = expandTemplate(traits.storage.nameTemplate, fields);
    const spec = {
      user: { id: 1, name: 'alice', admin: false }, serverName: '', prefix: '/user/alice/', apiToken: 't', hubApiUrl: 'http://nodehub:8000/hub/api', baseUrl: '/',
      oauthClientId: 'jupyterhub-user-alice', oauthCallbackUrl: '/user/alice/oauth_callback', oauthAccessScopes: [], userOptions: {},
    };
    const pod = makePod({ traits, config: effective, spec, podName: fields.pod_name, fields }) as any;
    expect(() => new Pod(pod).validate()).not.toThrow();
    expect(pod.spec.containers[0].resources.limits).toMatchObject({ 'nvidia.com/gpu': '1' });
    expect(pod.spec.volumes).toContainEqual({ name: 'home', persistentVolumeClaim: { claimName: 'claim-alice' } });
    expect(() => new PersistentVolumeClaim(makePvc(traits, spec, fields.pvc_name, fields) as any).validate()).not.toThrow();

    // NFS homes instead of claims: one export, a directory per user
    const nfs = (await loadWith(source, { ...settings, ...secrets, JUPYTERHUB_NFS_PV_ENABLED: 'true' })).spawner as Record<string, any>;
    expect(nfs.storage_pvc_ensure).toBe(false);
    expect(nfs.volumes.home).toEqual({ name: 'home', nfs: { server: '192.168.10.1', path: '/volume1/drive1/jupyter' } });
  });
});
