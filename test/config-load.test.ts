import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nodehub-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const noEnv = {};

describe('loadConfig: files', () => {
  it('fills every trait with its default when there is no file', async () => {
    const c = await loadConfig({ file: null, env: noEnv });
    expect(c.source).toBeNull();
    expect(c.hub).toMatchObject({
      ip: '127.0.0.1', port: 8000, base_url: '/', bind_url: 'http://127.0.0.1:8000/', db_url: 'sqlite:///nodehub.sqlite',
      cookie_secret: '', cookie_secret_file: 'nodehub_cookie_secret', authenticator_class: 'tmp',
      spawner_class: 'localprocess', concurrent_spawn_limit: 100, active_server_limit: 0, cookie_max_age_days: 14,
      last_activity_interval: 300, api_page_default_limit: 50, api_page_max_limit: 200, user_redirect_limit: 4,
      slow_spawn_timeout: 10, log_level: 'INFO', services: [], load_roles: [], api_tokens: {},
    });
    expect(c.spawner).toMatchObject({
      cmd: ['jupyterhub-singleuser'], args: [], start_timeout: 60, http_timeout: 30, poll_interval: 30,
      ip: '127.0.0.1', port: 0, pool_size: 0, mem_limit: null, cpu_limit: null, pre_spawn_hook: null,
      // the default class is localprocess, so its own traits are merged in
      interrupt_timeout: 10, term_timeout: 5, kill_timeout: 5, remove_home_dir: true, uid_range: [2000000000, 2000099999], allow_unisolated: false,
    });
    expect(c.spawner.env_keep).toContain('PATH');
    expect(c.spawner.home_dir_template).toContain('{username}');
    expect(c.authenticator).toEqual({
      allowed_users: [], admin_users: [], blocked_users: [], allow_all: null, allow_existing_users: null, any_allow_config: null,
      username_pattern: '', username_map: {}, auto_login: false, enable_auth_state: false, manage_groups: false, refresh_pre_spawn: false,
      auth_refresh_age: 300, force_new_server: false,
    });
    expect(c.sections.IdleCuller).toEqual({ enabled: null, timeout: 600, cull_every: 0, max_age: 0, cull_users: null });
  });

  it('reads YAML and keeps the source path', async () => {
    const file = write('nodehub.yaml', 'JupyterHub:\n  port: 8123\n  allow_named_servers: true\nSpawner:\n  start_timeout: 5\n');
    const c = await loadConfig({ file, env: noEnv });
    expect(c.hub.port).toBe(8123);
    expect(c.hub.allow_named_servers).toBe(true);
    expect(c.spawner.start_timeout).toBe(5);
    expect(c.source).toBe(file);
  });

  it('reads JSON, a relative path resolved against cwd', async () => {
    write('hub.json', JSON.stringify({ JupyterHub: { base_url: '/jh/' }, Authenticator: { admin_users: ['ada', 'ada', 'bob'] } }));
    const c = await loadConfig({ file: 'hub.json', cwd: dir, env: noEnv });
    expect(c.hub.base_url).toBe('/jh/');
    expect(c.authenticator.admin_users).toEqual(['ada', 'bob']); // a Set in JupyterHub: duplicates go
  });

  it('reads an .mjs module whose default export may carry hook functions', async () => {
    const file = write(
      'nodehub.mjs',
      `export default {
        Spawner: { pre_spawn_hook: (spawner) => 'hooked ' + spawner.name, environment: { A: 'b' } },
        Authenticator: { allowed_users: new Set(['x']) },
      };\n`,
    );
    const c = await loadConfig({ file, env: noEnv });
    expect(typeof c.spawner.pre_spawn_hook).toBe('function');
    expect(c.spawner.pre_spawn_hook!({ name: 'alice' })).toBe('hooked alice');
    expect(c.spawner.post_stop_hook).toBeNull();
    expect(c.spawner.environment).toEqual({ A: 'b' });
    expect(c.authenticator.allowed_users).toEqual(['x']);
  });

  it('takes a Zero-to-JupyterHub hub.config block as is', async () => {
    const file = write(
      'z2jh.yaml',
      `JupyterHub:
  authenticator_class: tmp
  admin_access: true
  services:
    - name: idle-culler
      admin: true
      command: [python3, -m, jupyterhub_idle_culler, --timeout=3600]
  load_roles:
    - name: culler
      scopes: [list:users, read:users:activity, delete:servers]
      services: [idle-culler]
Spawner:
  cmd: [jupyterhub-singleuser, --SingleUserNotebookApp.default_url=/lab]
  environment:
    NBGITPULLER_DEPTH: 1
    LANG: C.UTF-8
  mem_limit: 1G
  cpu_limit: 0.5
ConfigurableHTTPProxy:
  should_start: false
  api_url: http://proxy-api:8001
`,
    );
    const c = await loadConfig({ file, env: noEnv });
    expect(c.hub.authenticator_class).toBe('tmp');
    expect(c.hub.services).toEqual([
      {
        name: 'idle-culler', admin: true, command: ['python3', '-m', 'jupyterhub_idle_culler', '--timeout=3600'],
        url: '', environment: {}, oauth_no_confirm: false, display: true, info: {}, oauth_client_allowed_scopes: [], oauth_roles: [],
      },
    ]);
    expect(c.hub.load_roles).toEqual([
      { name: 'culler', scopes: ['list:users', 'read:users:activity', 'delete:servers'], users: [], groups: [], services: ['idle-culler'] },
    ]);
    expect(c.spawner.cmd).toEqual(['jupyterhub-singleuser', '--SingleUserNotebookApp.default_url=/lab']);
    // YAML reads `1` as a number; an environment value is a string
    expect(c.spawner.environment).toEqual({ NBGITPULLER_DEPTH: '1', LANG: 'C.UTF-8' });
    expect(c.spawner.mem_limit).toBe('1G');
    expect(c.spawner.cpu_limit).toBe(0.5);
    expect(c.sections.ConfigurableHTTPProxy.should_start).toBe(false);
  });

  it('accepts an empty file and an empty section', async () => {
    expect((await loadConfig({ file: write('empty.yaml', ''), env: noEnv })).hub.port).toBe(8000);
    expect((await loadConfig({ file: write('s.yaml', 'Spawner:\nJupyterHub:\n  port: 9\n'), env: noEnv })).hub.port).toBe(9);
  });

  it('derives profile slugs from display names and fills profile defaults', async () => {
    const file = write(
      'p.yaml',
      `Spawner:
  profile_list:
    - display_name: "Small (1 CPU)"
      default: true
    - display_name: GPU
      slug: gpu-big
      kubespawner_override: {cpu_limit: 4}
`,
    );
    const c = await loadConfig({ file, env: noEnv });
    expect(c.spawner.profile_list).toEqual([
      { display_name: 'Small (1 CPU)', slug: 'small-1-cpu', description: '', default: true, kubespawner_override: {} },
      { display_name: 'GPU', slug: 'gpu-big', description: '', default: false, kubespawner_override: { cpu_limit: 4 } },
    ]);
  });

  it('uses $NODEHUB_CONFIG when no file is given, but not when file is null', async () => {
    const file = write('env.yaml', 'JupyterHub:\n  port: 8555\n');
    expect((await loadConfig({ env: { NODEHUB_CONFIG: file } })).hub.port).toBe(8555);
    expect((await loadConfig({ file: null, env: { NODEHUB_CONFIG: file } })).hub.port).toBe(8000);
  });
});

describe('loadConfig: overrides, environment and derived values', () => {
  it('applies command-line overrides over the file, JSON where it parses and text otherwise', async () => {
    const file = write('o.yaml', 'JupyterHub:\n  port: 8100\n  ip: 10.0.0.1\n');
    const c = await loadConfig({
      file,
      env: noEnv,
      overrides: {
        'JupyterHub.port': '8200',
        'JupyterHub.ip': '127.0.0.1',
        'JupyterHub.base_url': '123', // a string trait keeps the text, even when it looks like JSON
        'JupyterHub.allow_named_servers': 'True', // Python spelling, as traitlets takes it
        'Spawner.cmd': '["python3", "-m", "jupyterhub.singleuser"]',
        'Spawner.environment': '{"X": "1"}',
        'Spawner.cpu_limit': 'None',
        'DummyAuthenticator.password': 'secret',
      },
    });
    expect(c.hub.port).toBe(8200);
    expect(c.hub.ip).toBe('127.0.0.1');
    expect(c.hub.base_url).toBe('/123/');
    expect(c.hub.allow_named_servers).toBe(true);
    expect(c.spawner.cmd).toEqual(['python3', '-m', 'jupyterhub.singleuser']);
    expect(c.spawner.environment).toEqual({ X: '1' });
    expect(c.spawner.cpu_limit).toBeNull();
    expect(c.sections.DummyAuthenticator.password).toBe('secret');
  });

  it('reads JPY_COOKIE_SECRET as hex, but a configured secret wins', async () => {
    const secret = 'ab'.repeat(32);
    expect((await loadConfig({ file: null, env: { JPY_COOKIE_SECRET: secret } })).hub.cookie_secret).toBe(secret);
    const configured = await loadConfig({ file: null, env: { JPY_COOKIE_SECRET: secret }, overrides: { 'JupyterHub.cookie_secret': 'cd'.repeat(32) } });
    expect(configured.hub.cookie_secret).toBe('cd'.repeat(32));
    await expect(loadConfig({ file: null, env: { JPY_COOKIE_SECRET: 'not hex!' } })).rejects.toMatchObject({
      name: 'ConfigError',
      key: 'JupyterHub.cookie_secret',
      message: expect.stringContaining('JPY_COOKIE_SECRET must be a hex string'),
    });
  });

  it.each([
    ['', '/'],
    ['jh', '/jh/'],
    ['/jh', '/jh/'],
    ['jh/', '/jh/'],
    ['/a/b/', '/a/b/'],
  ])('normalises base_url %j to %j', async (given, want) => {
    const c = await loadConfig({ file: null, env: noEnv, overrides: { 'JupyterHub.base_url': given } });
    expect(c.hub.base_url).toBe(want);
    expect(c.hub.bind_url).toBe(`http://127.0.0.1:8000${want}`);
  });

  it('lets bind_url override ip, port and base_url', async () => {
    const file = write('b.yaml', 'JupyterHub:\n  ip: 10.1.1.1\n  port: 1\n  base_url: /x/\n  bind_url: http://127.0.0.1:8765/prefix\n');
    const c = await loadConfig({ file, env: noEnv });
    expect(c.hub).toMatchObject({ ip: '127.0.0.1', port: 8765, base_url: '/prefix/', bind_url: 'http://127.0.0.1:8765/prefix/' });
    const empty = await loadConfig({ file: null, env: noEnv, overrides: { 'JupyterHub.bind_url': 'http://:9000' } });
    expect(empty.hub).toMatchObject({ ip: '', port: 9000, base_url: '/' });
    const v6 = await loadConfig({ file: null, env: noEnv, overrides: { 'JupyterHub.bind_url': 'https://[::1]/' } });
    expect(v6.hub).toMatchObject({ ip: '::1', port: 443 });
    await expect(loadConfig({ file: null, env: noEnv, overrides: { 'JupyterHub.bind_url': 'ftp://x' } })).rejects.toMatchObject({
      key: 'JupyterHub.bind_url',
    });
  });

  it('builds bind_url from ip and port, https when ssl_cert is set', async () => {
    const c = await loadConfig({ file: null, env: noEnv, overrides: { 'JupyterHub.ip': '::1', 'JupyterHub.port': '0', 'JupyterHub.ssl_cert': '/c.pem' } });
    expect(c.hub.bind_url).toBe('https://[::1]:0/');
  });
});

describe('loadConfig: merging class sections', () => {
  const layered = `Spawner:
  start_timeout: 11
  http_timeout: 12
LocalProcessSpawner:
  start_timeout: 21
  kill_timeout: 2
KubeSpawner:
  start_timeout: 31
  namespace: jh
Authenticator:
  admin_users: [root]
  auto_login: true
DummyAuthenticator:
  password: pw
  admin_users: [ada]
`;

  it.each(['localprocess', 'jupyterhub.spawner.LocalProcessSpawner', 'jupyterhub.spawner.SimpleLocalProcessSpawner'])(
    'spawner_class %s reads Spawner, then LocalProcessSpawner',
    async (cls) => {
      const c = await loadConfig({ file: write('m.yaml', layered), env: noEnv, overrides: { 'JupyterHub.spawner_class': cls } });
      expect(c.hub.spawner_class).toBe(cls); // kept as given; the hub resolves it
      expect(c.spawner).toMatchObject({ start_timeout: 21, http_timeout: 12, kill_timeout: 2 });
      expect(c.spawner.namespace).toBeUndefined();
      expect(c.spawner).toBe(c.sections.LocalProcessSpawner);
    },
  );

  it.each(['kubernetes', 'kubespawner.KubeSpawner'])('spawner_class %s reads Spawner, then KubeSpawner', async (cls) => {
    const c = await loadConfig({ file: write('m.yaml', layered), env: noEnv, overrides: { 'JupyterHub.spawner_class': cls } });
    expect(c.spawner).toMatchObject({ start_timeout: 31, http_timeout: 12, namespace: 'jh' });
    expect(c.spawner.kill_timeout).toBeUndefined();
  });

  it('an unknown spawner class stops loading, naming the key and the known classes', async () => {
    await expect(loadConfig({ file: write('m.yaml', layered), env: noEnv, overrides: { 'JupyterHub.spawner_class': 'my.Spawner' } }))
      .rejects.toMatchObject({ key: 'JupyterHub.spawner_class', message: expect.stringMatching(/known spawners: localprocess/) });
  });

  it.each(['dummy', 'jupyterhub.auth.DummyAuthenticator'])('authenticator_class %s reads Authenticator, then DummyAuthenticator', async (cls) => {
    const c = await loadConfig({ file: write('m.yaml', layered), env: noEnv, overrides: { 'JupyterHub.authenticator_class': cls } });
    expect(c.authenticator).toMatchObject({ password: 'pw', admin_users: ['ada'], auto_login: true });
  });

  it('the default tmp authenticator reads Authenticator then TmpAuthenticator; null turns auto_login on', async () => {
    const tmp = await loadConfig({ file: write('m.yaml', layered), env: noEnv });
    expect(tmp.authenticator).toMatchObject({ admin_users: ['root'], force_new_server: false });
    expect(tmp.authenticator.password).toBeUndefined();
    const nul = await loadConfig({ file: null, env: noEnv, overrides: { 'JupyterHub.authenticator_class': 'null' } });
    expect(nul.authenticator.auto_login).toBe(true);
  });

  it('a class default does not hide a value given for its parent class', async () => {
    // NullAuthenticator re-declares auto_login's default; an explicit Authenticator value still applies to it
    const file = write('n.yaml', 'JupyterHub:\n  authenticator_class: "null"\nAuthenticator:\n  auto_login: false\n');
    const c = await loadConfig({ file, env: noEnv });
    expect(c.hub.authenticator_class).toBe('null');
    expect(c.authenticator.auto_login).toBe(false);
  });
});
