// Shared inputs for spawner tests: a ServerSpec, a complete SpawnerConfig with JupyterHub's defaults, a quiet logger.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HubConfig, SpawnerConfig } from '../../src/config/types.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { ServerSpec, SpawnerInit } from '../../src/spawner/types.ts';
import type { Logger } from '../../src/util/log.ts';

export const mockSingleuserPath = fileURLToPath(new URL('./mock-singleuser.mjs', import.meta.url));

export function makeSpec(user = 'alice', serverName = '', over: Partial<ServerSpec> = {}): ServerSpec {
  const q = (s: string) => encodeURIComponent(s).replace(/%40/g, '@');
  const prefix = `/user/${q(user)}/${serverName ? `${q(serverName)}/` : ''}`;
  return {
    user: { id: 1, name: user, admin: false },
    serverName,
    prefix,
    apiToken: '0123456789abcdef0123456789abcdef',
    hubApiUrl: 'http://127.0.0.1:8081/hub/api',
    baseUrl: '/',
    oauthClientId: `jupyterhub-user-${encodeURIComponent(user)}${serverName ? `-${encodeURIComponent(serverName)}` : ''}`,
    oauthCallbackUrl: `${prefix}oauth_callback`,
    oauthAccessScopes: [`access:servers!server=${user}/${serverName}`, `access:servers!user=${user}`],
    userOptions: {},
    ...over,
  };
}

// Every spawner setting at its declared default, as the loader fills them (the local process spawner's too).
const defaults = (await loadConfig({ file: null, env: {} })).spawner;

export function makeConfig(over: Partial<SpawnerConfig> = {}): SpawnerConfig {
  return { ...structuredClone(defaults), ...over } as SpawnerConfig;
}

export const quietLog: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => quietLog,
};

/** A spawner init for the mock single-user server, working directories under `root`, short stop timeouts. */
export function mockInit(
  root: string,
  over: Omit<Partial<SpawnerInit>, 'config'> & { config?: Partial<SpawnerConfig> } = {},
): SpawnerInit {
  const { config, ...rest } = over;
  return {
    spec: makeSpec(),
    config: makeConfig({
      cmd: [process.execPath, mockSingleuserPath],
      home_dir_template: path.join(root, '{username}'),
      interrupt_timeout: 0.3,
      term_timeout: 0.3,
      kill_timeout: 1,
      http_timeout: 10,
      // as the test runner's user unless a test asks for uid_range (the default range needs searchable parents)
      uid_range: null,
      ...config,
    }),
    hubConfig: { hub: { admin_access: false } } as unknown as HubConfig,
    state: {},
    log: quietLog,
    onExit: () => {},
    ...rest,
  };
}

export const tmpRoot = () => path.join(os.tmpdir(), `nodehub-spawner-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
