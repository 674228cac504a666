// Seed 003's hub: Keycloak OIDC login, admin groups, profiles switched by JUPYTER_PROFILE_*_ENABLED, a CUDA profile,
// a pre-spawn hook that exchanges the user's access token for a per-user secret-store (Vault) token, and homes on a
// claim per user (z2jh's dynamic storage) or, with JUPYTERHUB_NFS_PV_ENABLED, on the NFS export (a directory per
// user). kustomization.yaml deploys it on deploy/kubernetes/base; settings.env holds the environment it reads.
const env = process.env;
const realm = `${env.KEYCLOAK_URL ?? 'https://keycloak.example.org'}/realms/${env.KEYCLOAK_REALM ?? 'buunstack'}/protocol/openid-connect`;
const registry = env.IMAGE_REGISTRY ?? 'localhost:30500';
const tag = env.JUPYTER_PYTHON_KERNEL_TAG ?? 'python-3.12-6';
// The Jupyter Docker Stacks images by a pinned date tag, so that pre-pulling pays off (the seed used :latest).
const jupyterTag = env.JUPYTER_STACKS_TAG ?? '2026-07-20';
const enabled = (name, byDefault = false) => (env[`JUPYTER_PROFILE_${name}_ENABLED`] ?? String(byDefault)) === 'true';

const profiles = [
  ['MINIMAL', 'minimal', 'Minimal', `quay.io/jupyter/minimal-notebook:${jupyterTag}`],
  ['BASE', 'base', 'Base', `quay.io/jupyter/base-notebook:${jupyterTag}`],
  ['DATASCIENCE', 'datascience', 'Data science', `quay.io/jupyter/datascience-notebook:${jupyterTag}`, true],
  ['PYSPARK', 'pyspark', 'PySpark', `quay.io/jupyter/pyspark-notebook:${jupyterTag}`],
  ['PYTORCH', 'pytorch', 'PyTorch', `quay.io/jupyter/pytorch-notebook:${jupyterTag}`],
  ['TENSORFLOW', 'tensorflow', 'TensorFlow', `quay.io/jupyter/tensorflow-notebook:${jupyterTag}`],
  ['BUUN_STACK', 'buun-stack', 'Buun-stack', `${registry}/buun-stack-notebook:${tag}`],
].filter(([name, , , , on]) => enabled(name, on)).map(([, slug, display_name, image]) => ({
  slug, display_name, default: slug === 'datascience', kubespawner_override: { image },
}));
if (enabled('BUUN_STACK_CUDA')) {
  profiles.push({
    slug: 'buun-stack-cuda', display_name: 'Buun-stack (CUDA)',
    kubespawner_override: {
      image: `${registry}/buun-stack-cuda-notebook:${tag}`,
      extra_resource_limits: { 'nvidia.com/gpu': '1' },
      node_selector: { 'nvidia.com/gpu.present': 'true' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    },
  });
}

// Homes: KubeSpawner's per-user claim (kept across stops, deleted with the user), or one NFS export with a
// sub-directory per user.
const home = env.JUPYTERHUB_NFS_PV_ENABLED === 'true'
  ? {
      volumes: { home: { name: 'home', nfs: { server: env.JUPYTER_NFS_IP, path: env.JUPYTER_NFS_PATH } } },
      volume_mounts: { home: { name: 'home', mountPath: '/home/jovyan', subPath: '{username}' } },
    }
  : {
      storage_pvc_ensure: true,
      storage_capacity: env.JUPYTERHUB_STORAGE_CAPACITY || '10Gi',
      storage_class: env.JUPYTERHUB_STORAGE_CLASS || null,
      volumes: { home: { name: 'home', persistentVolumeClaim: { claimName: '{pvc_name}' } } },
      volume_mounts: { home: { name: 'home', mountPath: '/home/jovyan' } },
    };

export default {
  JupyterHub: {
    authenticator_class: 'generic-oauth', spawner_class: 'kubernetes',
    ip: '0.0.0.0', port: 8000, db_url: 'sqlite:////srv/nodehub/nodehub.sqlite', hub_connect_url: 'http://nodehub',
    // user pods outlive a hub restart or upgrade and are adopted again
    cleanup_servers: false,
  },
  Authenticator: { enable_auth_state: true, manage_groups: true, refresh_pre_spawn: true, auto_login: true },
  GenericOAuthenticator: {
    client_id: env.JUPYTERHUB_OIDC_CLIENT_ID ?? 'jupyterhub',
    client_secret: env.JUPYTERHUB_OIDC_CLIENT_SECRET ?? '',
    oauth_callback_url: `https://${env.JUPYTERHUB_HOST ?? 'jupyter.example.org'}/hub/oauth_callback`,
    authorize_url: `${realm}/auth`, token_url: `${realm}/token`, userdata_url: `${realm}/userinfo`,
    scope: ['openid', 'profile', 'email', 'groups'],
    username_claim: 'preferred_username', login_service: 'Keycloak',
    allowed_groups: ['jupyterhub-users', 'jupyterhub-admins'], admin_groups: ['jupyterhub-admins'],
    auth_state_groups_key: 'oauth_user.groups',
    logout_redirect_url: `${realm}/logout?client_id=${env.JUPYTERHUB_OIDC_CLIENT_ID ?? 'jupyterhub'}`,
  },
  KubeSpawner: {
    profile_list: profiles, image: `quay.io/jupyter/minimal-notebook:${jupyterTag}`, cmd: ['jupyterhub-singleuser'],
    uid: 1000, fs_gid: 100, start_timeout: 300, image_pull_policy: 'IfNotPresent', automount_service_account_token: false,
    ...home,
  },
  Spawner: {
    environment: { VAULT_ADDR: env.VAULT_ADDR ?? 'http://vault.vault.svc:8200', BUUNSTACK_LOG_LEVEL: 'info' },
    // The user's access token is exchanged for their own secret-store token (the exchange service checks it with
    // Keycloak and answers a token whose policy reaches only that user's secrets).
    pre_spawn_hook: async (spawner) => {
      if (env.JUPYTERHUB_VAULT_INTEGRATION_ENABLED !== 'true') return;
      const token = spawner.auth_state?.access_token;
      if (!token) throw new Error(`no auth state for ${spawner.user.name}: log in again`);
      const res = await fetch(env.VAULT_TOKEN_EXCHANGE_URL ?? `${env.VAULT_ADDR}/v1/auth/jwt/login`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'jupyter-user', jwt: token }),
      });
      if (!res.ok) throw new Error(`secret-store token exchange failed: ${res.status}`);
      const body = await res.json();
      spawner.environment = { ...spawner.environment, NOTEBOOK_VAULT_TOKEN: body.token ?? body.auth?.client_token };
    },
  },
};
