// Starts a real nodehub in this test process (its own temp dir, database and free port) from a config object in
// JupyterHub's class/trait names, and gives back its URL, an admin service token and a close() that leaves nothing running.
// The database is a sqlite file in the hub's dir, or in the suite's PostgreSQL pass (NODEHUB_TEST_DB=postgresql) a
// PostgreSQL database of its own (test/support/postgres.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/index.ts';
import { startHub, type RunningHub } from '../../src/hub/start.ts';
import { dropHubDatabases, hubDbUrl } from './postgres.ts';

export const MOCK_SINGLEUSER = new URL('./mock-singleuser.mjs', import.meta.url).pathname;

export interface TestHub {
  url: string;
  /** http://127.0.0.1:PORT without base_url */
  origin: string;
  dir: string;
  /** The hub's db_url (sqlite file or PostgreSQL database): open it with openStore() to look at what the hub stored. */
  dbUrl: string;
  adminToken: string;
  running: RunningHub;
  api(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  close(): Promise<void>;
}

type Sections = Record<string, Record<string, unknown>>;

/** Deep-merges config sections: the test's own keys win over the defaults below. */
function merge(base: Sections, extra: Sections): Sections {
  const out: Sections = { ...base };
  for (const [k, v] of Object.entries(extra)) out[k] = { ...(base[k] ?? {}), ...v };
  return out;
}

export function testConfig(dir: string, adminToken: string, extra: Sections = {}): Sections {
  return merge({
    JupyterHub: {
      ip: '127.0.0.1', port: 0, db_url: hubDbUrl(dir),
      cookie_secret_file: join(dir, 'cookie_secret'), authenticator_class: 'dummy',
      services: [{ name: 'admin-svc', api_token: adminToken, admin: true }],
      log_level: 'warn',
    },
    Spawner: { cmd: [process.execPath, MOCK_SINGLEUSER], http_timeout: 20, start_timeout: 20 },
    // Servers run as the test runner's user (uid_range null) in the test's private temp dir; the isolation defaults
    // are covered by test/security-isolation*.test.ts.
    LocalProcessSpawner: {
      home_dir_template: join(dir, 'home', '{username}'), interrupt_timeout: 2, term_timeout: 2, kill_timeout: 2,
      uid_range: null, allow_unisolated: true,
    },
  }, extra);
}

export async function startTestHub(
  extra: Sections = {}, opts: { dir?: string; adminToken?: string; env?: Record<string, string | undefined> } = {},
): Promise<TestHub> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'nodehub-test-'));
  const adminToken = opts.adminToken ?? randomBytes(16).toString('hex');
  const file = join(dir, 'nodehub.json');
  // In-process hubs log into the suite's own output, where the access log's 4xx warnings would drown it.
  const quiet = { JupyterHub: { log_level: process.env.NODEHUB_TEST_LOG_LEVEL ?? 'error' } };
  writeFileSync(file, JSON.stringify(testConfig(dir, adminToken, merge(quiet, extra))));
  const config = await loadConfig({ file, env: {} });
  // The hub reads its shared password from here, never from the test runner's own environment.
  const running = await startHub(config, { env: opts.env ?? {} });
  const dbUrl = config.hub.db_url;
  const origin = `http://127.0.0.1:${running.port}`;
  const hub: TestHub = {
    url: `${origin}${config.hub.base_url}`,
    origin,
    dir,
    dbUrl,
    adminToken,
    running,
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      const token = init.token === undefined ? adminToken : init.token;
      if (token) headers.set('authorization', `token ${token}`);
      return fetch(`${origin}${config.hub.base_url}hub/api${path}`, { ...init, headers, redirect: 'manual' });
    },
    async close() {
      await running.close();
      if (opts.dir) return; // the caller's dir: another hub may start on it and its database
      rmSync(dir, { recursive: true, force: true });
      await dropHubDatabases(dbUrl);
    },
  };
  return hub;
}

export { eventually } from './eventually.ts';
