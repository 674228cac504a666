import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildServerEnv } from '../src/spawner/env.ts';
import { urlEscapePath } from '../src/util/url.ts';
import { makeConfig, makeSpec } from './support/spawner-fixtures.ts';

const userEnv = { user: 'alice', home: '/tmp/alice', shell: '/bin/bash' };
const saved = { ...process.env };

beforeEach(() => {
  // only these exist in the "hub's" environment during a test; the canary must never reach a server
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', NODEHUB_CANARY: 'leaked', JUPYTERHUB_API_TOKEN: 'hub-secret' });
});
afterEach(() => {
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, saved);
});

describe('buildServerEnv', () => {
  it('builds exactly the JupyterHub environment for a default server', () => {
    const env = buildServerEnv(makeSpec('alice'), makeConfig(), 'http://127.0.0.1:40123', userEnv);
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      JUPYTERHUB_API_TOKEN: '0123456789abcdef0123456789abcdef',
      JPY_API_TOKEN: '0123456789abcdef0123456789abcdef',
      JUPYTERHUB_CLIENT_ID: 'jupyterhub-user-alice',
      JUPYTERHUB_HOST: '',
      JUPYTERHUB_OAUTH_CALLBACK_URL: '/user/alice/oauth_callback',
      JUPYTERHUB_OAUTH_SCOPES: '["access:servers!server=alice/","access:servers!user=alice"]',
      JUPYTERHUB_OAUTH_ACCESS_SCOPES: '["access:servers!server=alice/","access:servers!user=alice"]',
      JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: '[]',
      JUPYTERHUB_USER: 'alice',
      JUPYTERHUB_SERVER_NAME: '',
      JUPYTERHUB_API_URL: 'http://127.0.0.1:8081/hub/api',
      JUPYTERHUB_ACTIVITY_URL: 'http://127.0.0.1:8081/hub/api/users/alice/activity',
      JUPYTERHUB_BASE_URL: '/',
      JUPYTERHUB_SERVICE_PREFIX: '/user/alice/',
      JUPYTERHUB_SERVICE_URL: 'http://127.0.0.1:40123/user/alice/',
      USER: 'alice',
      HOME: '/tmp/alice',
      SHELL: '/bin/bash',
    });
  });

  it('builds the environment of a named server of a user with @ and a space in the name', () => {
    const spec = makeSpec('a@b c', 'my lab');
    const config = makeConfig({
      oauth_client_allowed_scopes: ['read:users'],
      notebook_dir: '/data/{username}',
      default_url: '/lab/tree/{servername}',
      debug: true,
      disable_user_config: true,
      mem_limit: '2G',
      cpu_limit: 2,
    });
    const env = buildServerEnv(spec, config, 'http://127.0.0.1:40124/', { ...userEnv, user: 'a@b c', adminAccess: true });
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      JUPYTERHUB_API_TOKEN: '0123456789abcdef0123456789abcdef',
      JPY_API_TOKEN: '0123456789abcdef0123456789abcdef',
      JUPYTERHUB_ADMIN_ACCESS: '1',
      JUPYTERHUB_CLIENT_ID: 'jupyterhub-user-a%40b%20c-my%20lab',
      JUPYTERHUB_HOST: '',
      JUPYTERHUB_OAUTH_CALLBACK_URL: '/user/a@b%20c/my%20lab/oauth_callback',
      JUPYTERHUB_OAUTH_SCOPES: '["access:servers!server=a@b c/my lab","access:servers!user=a@b c"]',
      JUPYTERHUB_OAUTH_ACCESS_SCOPES: '["access:servers!server=a@b c/my lab","access:servers!user=a@b c"]',
      JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: '["read:users"]',
      JUPYTERHUB_USER: 'a@b c',
      JUPYTERHUB_SERVER_NAME: 'my lab',
      JUPYTERHUB_API_URL: 'http://127.0.0.1:8081/hub/api',
      // JupyterHub quotes user names in paths except '@' and '~'
      JUPYTERHUB_ACTIVITY_URL: 'http://127.0.0.1:8081/hub/api/users/a@b%20c/activity',
      JUPYTERHUB_BASE_URL: '/',
      JUPYTERHUB_SERVICE_PREFIX: '/user/a@b%20c/my%20lab/',
      JUPYTERHUB_SERVICE_URL: 'http://127.0.0.1:40124/user/a@b%20c/my%20lab/',
      JUPYTERHUB_ROOT_DIR: '/data/a@b c',
      JUPYTERHUB_DEFAULT_URL: '/lab/tree/my lab',
      JUPYTERHUB_DEBUG: '1',
      JUPYTERHUB_DISABLE_USER_CONFIG: '1',
      MEM_LIMIT: String(2 * 1024 ** 3),
      CPU_LIMIT: '2.0',
      USER: 'a@b c',
      HOME: '/tmp/alice',
      SHELL: '/bin/bash',
    });
  });

  it('keeps env_keep names only when present and lets the hub and then `environment` override them', () => {
    process.env.KEEP_ME = 'kept';
    process.env.JUPYTERHUB_USER = 'from-hub-env';
    const config = makeConfig({
      env_keep: ['KEEP_ME', 'NOT_SET', 'JUPYTERHUB_USER', 'LANG'],
      environment: { LANG: 'de_DE.UTF-8', JUPYTERHUB_API_URL: 'http://hub.internal/hub/api', GREETING: 'hi {username}', HOME: '/override' },
    });
    const env = buildServerEnv(makeSpec('bob'), config, 'http://127.0.0.1:1', { ...userEnv, user: 'bob' });
    expect(env.KEEP_ME).toBe('kept');
    expect('NOT_SET' in env).toBe(false);
    expect(env.PATH).toBeUndefined(); // not in this env_keep
    expect(env.JUPYTERHUB_USER).toBe('bob'); // hub value beats env_keep
    expect(env.LANG).toBe('de_DE.UTF-8'); // environment beats env_keep
    expect(env.JUPYTERHUB_API_URL).toBe('http://hub.internal/hub/api'); // environment beats the hub
    expect(env.HOME).toBe('/override');
    expect(env.GREETING).toBe('hi bob');
    // the activity URL was derived before the override, as in JupyterHub
    expect(env.JUPYTERHUB_ACTIVITY_URL).toBe('http://127.0.0.1:8081/hub/api/users/bob/activity');
  });

  it('leaks nothing else from the hub environment', () => {
    const env = buildServerEnv(makeSpec(), makeConfig(), 'http://127.0.0.1:1', userEnv);
    expect(Object.values(env)).not.toContain('leaked');
    expect(Object.values(env)).not.toContain('hub-secret');
    expect('NODEHUB_CANARY' in env).toBe(false);
  });

  it('uses a full service URL as given', () => {
    const env = buildServerEnv(makeSpec(), makeConfig(), 'http://10.0.0.5:9999/user/alice/', userEnv);
    expect(env.JUPYTERHUB_SERVICE_URL).toBe('http://10.0.0.5:9999/user/alice/');
  });
});

describe('urlEscapePath', () => {
  it('quotes like Python quote(safe="@~")', () => {
    expect(urlEscapePath("a@b~c d/e!f'(g)*+")).toBe("a@b~c%20d%2Fe%21f%27%28g%29%2A%2B");
    expect(urlEscapePath('ünï')).toBe('%C3%BCn%C3%AF');
  });
});
