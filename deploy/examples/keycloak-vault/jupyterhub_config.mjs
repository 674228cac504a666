// Seed 003's hub: Keycloak OIDC login, admin groups, profiles switched by JUPYTER_PROFILE_*_ENABLED, a CUDA profile,
// and a pre-spawn hook that exchanges the user's access token for a per-user secret-store (Vault) token.
const env = process.env;
const realm = `${env.KEYCLOAK_URL ?? 'https://keycloak.example.org'}/realms/${env.KEYCLOAK_REALM ?? 'buunstack'}/protocol/openid-connect`;
const registry = env.IMAGE_REGISTRY ?? 'localhost:30500';
const tag = env.JUPYTER_PYTHON_KERNEL_TAG ?? 'python-3.12-1';
const enabled = (name, byDefault = false) => (env[`JUPYTER_PROFILE_${name}_ENABLED`] ?? String(byDefault)) === 'true';

const profiles = [
  ['MINIMAL', 'minimal', 'Minimal', 'jupyter/minimal-notebook:latest'],
  ['BASE', 'base', 'Base', 'jupyter/base-notebook:latest'],
  ['DATASCIENCE', 'datascience', 'Data science', 'jupyter/datascience-notebook:latest', true],
  ['PYSPARK', 'pyspark', 'PySpark', 'jupyter/pyspark-notebook:latest'],
  ['PYTORCH', 'pytorch', 'PyTorch', 'jupyter/pytorch-notebook:latest'],
  ['TENSORFLOW', 'tensorflow', 'TensorFlow', 'jupyter/tensorflow-notebook:latest'],
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

export default {
  JupyterHub: { authenticator_class: 'generic-oauth', spawner_class: 'kubernetes' },
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
  KubeSpawner: { profile_list: profiles },
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
